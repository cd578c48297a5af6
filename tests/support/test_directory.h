// A directory of one's own for a test that uses the real file system.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace cairn::test {

// TempDir()/<prefix><suite>.<test name>_<process id>, emptied: no file of an earlier run is left
// in it; tests of the same name in two suites, and the same test run by another binary (the
// sanitized build runs every unit test again) at the same time, use directories of their own.
inline std::string fresh_test_directory(std::string_view prefix) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string directory = ::testing::TempDir() + "/" + std::string(prefix) +
                                test->test_suite_name() + "." + test->name() + "_" +
                                std::to_string(::getpid());
  std::filesystem::remove_all(directory);
  return directory;
}

}  // namespace cairn::test
