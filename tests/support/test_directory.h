// A directory of one's own for a test that uses the real file system.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace cairn::test {

// TempDir()/<prefix><test name>_<process id>, emptied: no file of an earlier run is left in it,
// and the same test of another suite (the sanitized build runs every unit test again) running at
// the same time uses a directory of its own.
inline std::string fresh_test_directory(std::string_view prefix) {
  const std::string directory = ::testing::TempDir() + "/" + std::string(prefix) +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                                "_" + std::to_string(::getpid());
  std::filesystem::remove_all(directory);
  return directory;
}

}  // namespace cairn::test
