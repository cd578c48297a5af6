// Helpers the database tests share: opening a database on a test's options, numbered keys that
// sort in number order, reading a key as a plain string, and listing the files of one kind in a
// directory.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/env.h"
#include "storage/database.h"

namespace cairn::test {

// The opened database, or null (with a test failure) if it does not open.
inline std::unique_ptr<Database> open_database(const Options& options,
                                               const std::string& directory = "/db") {
  auto database = Database::open(options, directory);
  EXPECT_TRUE(database.is_ok()) << database.status().to_string();
  return database.is_ok() ? std::move(database).value() : nullptr;
}

// "key000042" for 42: keys that sort as their numbers do, up to 999999.
inline std::string key_of(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "key%06d", i);
  return buffer;
}

// The value of `key` (at `snapshot`, if given), or "(absent)"; an error is a test failure.
inline std::string get_or_absent(Database& database, std::string_view key,
                                 const Snapshot* snapshot = nullptr) {
  ReadOptions read;
  read.snapshot = snapshot;
  auto value = database.get(read, key);
  EXPECT_TRUE(value.is_ok()) << value.status().to_string();
  return value.is_ok() && value->has_value() ? **value : "(absent)";
}

// The names (not paths) of the files in `directory` ending with `suffix`, sorted.
inline std::vector<std::string> files_ending_with(Env& env, const std::string& directory,
                                                  std::string_view suffix) {
  const Result<std::vector<std::string>> names = env.list_dir(directory);
  EXPECT_TRUE(names.is_ok()) << names.status().to_string();
  std::vector<std::string> matching;
  if (!names.is_ok()) return matching;
  for (const std::string& name : *names) {
    if (name.ends_with(suffix)) matching.push_back(name);
  }
  std::sort(matching.begin(), matching.end());
  return matching;
}

}  // namespace cairn::test
