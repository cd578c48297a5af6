// A fixture for tests of a Database on the real file system: a fresh directory under the test
// temporary directory, named after the test, and the database in it, closed (which must
// succeed) and removed after the test.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "storage/database.h"
#include "support/test_directory.h"

namespace cairn::test {

class DiskDatabaseTest : public ::testing::Test {
 protected:
  // Opens db_ with `options` in fresh_test_directory(prefix); a failure fails the test.
  void open_database(const Options& options, std::string_view prefix) {
    directory_ = fresh_test_directory(prefix);
    auto opened = Database::open(options, directory_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    db_ = std::move(opened).value();
  }

  void TearDown() override {
    if (db_) {
      EXPECT_TRUE(db_->close().is_ok());
    }
    db_.reset();
    if (!directory_.empty()) std::filesystem::remove_all(directory_);
  }

  std::string directory_;
  std::unique_ptr<Database> db_;
};

}  // namespace cairn::test
