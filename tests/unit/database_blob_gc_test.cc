// Blob garbage collection in the database: live values move out of mostly dead blob files,
// which are then deleted; files above the threshold and a database with collection off are left
// alone; values only a snapshot sees move too; a value bigger than the copy buffer moves intact.
#include <gtest/gtest.h>

#include <algorithm>

#include "io/fault_env.h"
#include "io/random.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"

namespace cairn {
namespace {

constexpr int kKeys = 40;
constexpr size_t kValueBytes = 1000;

std::string key_of(int i) { return "key" + std::to_string(100 + i); }

class DatabaseBlobGcTest : public ::testing::Test {
 protected:
  DatabaseBlobGcTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.blob_value_threshold_bytes = 100;
    options_.blob_file_size_bytes = 8 << 10;  // about eight values per file
    options_.compaction.level0_compaction_trigger = 1;
  }

  std::unique_ptr<Database> open() { return test::open_database(options_); }

  static std::string get(Database& database, std::string_view key,
                         const Snapshot* snapshot = nullptr) {
    return test::get_or_absent(database, key, snapshot);
  }

  std::vector<std::string> blob_files() { return test::files_ending_with(env_, "/db", ".blob"); }

  // Writes kKeys large values, flushed and compacted, then reopens so that every blob file is
  // sealed. Returns the database and fills expected_.
  std::unique_ptr<Database> write_large_values_and_reopen() {
    auto database = open();
    for (int i = 0; i < kKeys; i++) {
      expected_[key_of(i)] = random_.bytes(kValueBytes);
      EXPECT_TRUE(database->put(key_of(i), expected_[key_of(i)]).is_ok());
    }
    EXPECT_TRUE(database->flush().is_ok());
    EXPECT_TRUE(database->wait_for_compactions().is_ok());
    database.reset();
    return open();
  }

  // Overwrites the keys `pick` chooses with small values kept in the tree, then settles.
  void overwrite_inline(Database& database, bool (*pick)(int)) {
    for (int i = 0; i < kKeys; i++) {
      if (!pick(i)) continue;
      expected_[key_of(i)] = "small" + std::to_string(i);
      ASSERT_TRUE(database.put(key_of(i), expected_[key_of(i)]).is_ok());
    }
    ASSERT_TRUE(database.flush().is_ok());
    ASSERT_TRUE(database.wait_for_compactions().is_ok());
  }

  void expect_every_value(Database& database) {
    for (const auto& [key, value] : expected_) EXPECT_EQ(get(database, key), value) << key;
  }

  FaultEnv env_{7};
  InlineScheduler scheduler_;
  Options options_;
  Random random_{11};
  std::map<std::string, std::string> expected_;
};

bool three_in_four(int i) { return i % 4 != 0; }
bool one_in_four(int i) { return i % 4 == 0; }

// Three values in four overwritten: every old file is 25% live, so its live values are copied
// to new files and it is deleted. Values read the same before and after a reopen.
TEST_F(DatabaseBlobGcTest, LiveValuesMoveOutOfMostlyDeadFiles) {
  auto database = write_large_values_and_reopen();
  const std::vector<std::string> old_files = blob_files();
  ASSERT_GE(old_files.size(), 4u);
  overwrite_inline(*database, three_in_four);

  const DatabaseStats stats = database->stats();
  EXPECT_GT(stats.blob_gc_count, 0u);
  EXPECT_EQ(stats.blob_relocated_bytes, kKeys / 4 * kValueBytes) << "each live value, once";
  const std::vector<std::string> files = blob_files();
  for (const std::string& file : old_files) {
    EXPECT_FALSE(std::binary_search(files.begin(), files.end(), file)) << file;
  }
  EXPECT_LE(files.size(), 2u) << "ten values fit in two files";
  EXPECT_NE(format_stats(stats).find("relocated"), std::string::npos);
  expect_every_value(*database);
  database.reset();
  database = open();
  expect_every_value(*database);
}

// A quarter overwritten leaves files 75% live: nothing moves, every file stays.
TEST_F(DatabaseBlobGcTest, FilesAboveTheThresholdStay) {
  auto database = write_large_values_and_reopen();
  const std::vector<std::string> old_files = blob_files();
  overwrite_inline(*database, one_in_four);
  EXPECT_EQ(database->stats().blob_gc_count, 0u);
  EXPECT_EQ(blob_files(), old_files);
  expect_every_value(*database);
}

// With collection turned off, even mostly dead files stay.
TEST_F(DatabaseBlobGcTest, CollectionTurnedOffLeavesMostlyDeadFiles) {
  options_.blob_gc_live_fraction_min = 0;
  auto database = write_large_values_and_reopen();
  const std::vector<std::string> old_files = blob_files();
  overwrite_inline(*database, three_in_four);
  EXPECT_EQ(database->stats().blob_gc_count, 0u);
  EXPECT_EQ(blob_files(), old_files);
  expect_every_value(*database);
}

// A value only a snapshot still sees is live: it moves with the others, and the snapshot reads
// it from its new file after the old one is deleted.
TEST_F(DatabaseBlobGcTest, ValuesOnlyASnapshotSeesMoveToo) {
  auto database = write_large_values_and_reopen();
  const std::vector<std::string> old_files = blob_files();
  for (int i = 0; i < kKeys; i++) {
    if (three_in_four(i)) {
      ASSERT_TRUE(database->remove(key_of(i)).is_ok());
      expected_.erase(key_of(i));
    }
  }
  const Snapshot* snapshot = database->get_snapshot();
  const std::map<std::string, std::string> seen_by_snapshot = expected_;
  overwrite_inline(*database, one_in_four);

  EXPECT_GT(database->stats().blob_gc_count, 0u);
  const std::vector<std::string> files = blob_files();
  for (const std::string& file : old_files) {
    EXPECT_FALSE(std::binary_search(files.begin(), files.end(), file)) << file;
  }
  for (const auto& [key, value] : seen_by_snapshot) {
    EXPECT_EQ(get(*database, key, snapshot), value) << key;
  }
  expect_every_value(*database);
  database->release_snapshot(snapshot);
}

// A value of several MiB moves through the copy buffer in pieces and arrives intact.
TEST_F(DatabaseBlobGcTest, AValueLargerThanTheCopyBufferMovesIntact) {
  options_.blob_file_size_bytes = 64 << 20;
  auto database = open();
  const std::string kept = random_.bytes((3 << 20) + 12345);
  ASSERT_TRUE(database->put("kept", kept).is_ok());
  ASSERT_TRUE(database->put("dropped", random_.bytes(10 << 20)).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  database.reset();
  database = open();
  const std::vector<std::string> old_files = blob_files();
  ASSERT_EQ(old_files.size(), 1u);
  ASSERT_TRUE(database->remove("dropped").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());

  EXPECT_EQ(database->stats().blob_relocated_bytes, kept.size());
  ASSERT_EQ(blob_files().size(), 1u);
  EXPECT_NE(blob_files()[0], old_files[0]);
  EXPECT_EQ(get(*database, "kept"), kept);
}

}  // namespace
}  // namespace cairn
