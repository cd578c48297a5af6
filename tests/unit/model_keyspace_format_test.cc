// Proves the move of a format-1 keyspace (records at [slot][user key]) to format 2 (data_key):
// every record, inline or in a blob file, ends under its data key with its bytes, whichever step
// the move was stopped at (the database closed and reopened there, as after a crash), including
// a blob value copied but not yet deleted; a fresh database just gets the marker; an unknown
// marker or a record under a slot that is not its key's is Corruption.
#include "model/keyspace_format.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "model/engine_key.h"
#include "model/slot.h"
#include "support/disk_database_test.h"

namespace cairn {
namespace {

using namespace std::string_literals;

constexpr size_t kBlobThresholdBytes = 1024;

std::string format1_key(std::string_view user_key) {
  const uint16_t slot = key_slot(user_key);
  std::string out{static_cast<char>(slot >> 8), static_cast<char>(slot & 0xFF)};
  out.append(user_key);
  return out;
}

class KeyspaceFormatTest : public test::DiskDatabaseTest {
 protected:
  void SetUp() override { open_database(options(), "keyspace_format_"); }

  static Options options() {
    Options options;
    options.blob_value_threshold_bytes = kBlobThresholdBytes;
    options.fsync = FsyncPolicy::kNever;
    return options;
  }

  // Closes and opens the database again: what a restart after a crash between steps sees.
  void reopen() {
    ASSERT_TRUE(db_->close().is_ok());
    db_.reset();
    auto opened = Database::open(options(), directory_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    db_ = std::move(opened).value();
  }

  // Writes format-1 records: keys that begin with the bytes of a tag, the empty key, a hash tag,
  // and values inline and in blob files. Returns user key -> value.
  std::map<std::string, std::string> write_format1(int count) {
    std::map<std::string, std::string> records;
    records[""] = "empty key";
    records["\x00starts-with-zero"s] = "z";
    records["\x01" "starts-with-one"s] = "o";
    records["{user}:1"] = "tagged";
    for (int i = 0; i < count; i++) {
      const std::string key = "key:" + std::to_string(i);
      records[key] = i % 7 == 0 ? std::string(kBlobThresholdBytes * 3 + i, static_cast<char>('a' + i % 26))
                                : "value " + std::to_string(i);
    }
    for (const auto& [key, value] : records) {
      EXPECT_TRUE(db_->put(format1_key(key), value).is_ok());
    }
    EXPECT_TRUE(db_->put(expiry_index_key(1234, "key:1"), "").is_ok());
    return records;
  }

  // Every engine key: after the move, exactly the records' data keys, the expiry index entry and
  // the marker.
  void expect_format2(const std::map<std::string, std::string>& records) {
    auto marker = db_->get(ReadOptions(), keyspace_format_marker_key());
    ASSERT_TRUE(marker.is_ok());
    EXPECT_EQ(marker->value_or("none"), "2");
    std::map<std::string, std::string> expected;
    for (const auto& [key, value] : records) expected[data_key(key)] = value;
    expected[expiry_index_key(1234, "key:1")] = "";
    expected[keyspace_format_marker_key()] = "2";
    std::map<std::string, std::string> found;
    auto it = db_->new_iterator(ReadOptions());
    for (it->seek_to_first(); it->valid(); it->next()) found[std::string(it->key())] = it->value();
    ASSERT_TRUE(it->status().is_ok());
    EXPECT_EQ(found.size(), expected.size());
    EXPECT_TRUE(found == expected);
  }
};

TEST_F(KeyspaceFormatTest, MovesEveryRecordToItsDataKey) {
  const auto records = write_format1(40);
  ASSERT_TRUE(db_->flush().is_ok());  // some from a table, some from the memtable
  ASSERT_TRUE(db_->put(format1_key("late"), "in the memtable").is_ok());
  auto all = records;
  all["late"] = "in the memtable";
  ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
  expect_format2(all);
  ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());  // once there, nothing moves
  expect_format2(all);
  reopen();
  expect_format2(all);
}

TEST_F(KeyspaceFormatTest, ResumesAfterAStopBetweenSteps) {
  const auto records = write_format1(30);
  // Steps of 4 records: phase 1 takes 9 steps and its marker one, phase 2 the same.
  for (int stop_after = 1; stop_after <= 21; stop_after += 2) {
    SCOPED_TRACE("stopped after step " + std::to_string(stop_after));
    TearDown();
    SetUp();
    write_format1(30);
    KeyspaceFormatMigration migration(*db_);
    for (int step = 0; step < stop_after; step++) {
      auto done = migration.step(4);
      ASSERT_TRUE(done.is_ok()) << done.status().to_string();
    }
    reopen();
    ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
    expect_format2(records);
  }
}

TEST_F(KeyspaceFormatTest, BlobCopiedButNotDeletedMovesOnce) {
  auto records = write_format1(5);
  // A crash between a blob value's streamed copy and the batch deleting its original.
  const std::string blob_key = "key:0";
  ASSERT_GT(records[blob_key].size(), kBlobThresholdBytes);
  ASSERT_TRUE(db_->put("\xFF" "M"s + format1_key(blob_key), records[blob_key]).is_ok());
  ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
  expect_format2(records);
}

TEST_F(KeyspaceFormatTest, FreshDatabaseGetsTheMarker) {
  ASSERT_TRUE(db_->put(expiry_index_key(1234, "key:1"), "").is_ok());  // not a record: stays
  ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
  expect_format2({});
  // Records written in format 2 afterwards are never moved again.
  ASSERT_TRUE(db_->put(data_key("\x00k"s), "v").is_ok());
  reopen();
  ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
  auto value = db_->get(ReadOptions(), data_key("\x00k"s));
  ASSERT_TRUE(value.is_ok());
  EXPECT_EQ(value->value_or("none"), "v");
}

TEST_F(KeyspaceFormatTest, UnknownFormatIsCorruption) {
  ASSERT_TRUE(db_->put(keyspace_format_marker_key(), "3").is_ok());
  const Status status = ensure_keyspace_format(*db_);
  EXPECT_TRUE(status.is_corruption()) << status.to_string();
}

TEST_F(KeyspaceFormatTest, RecordUnderAnotherSlotIsCorruption) {
  std::string key = format1_key("k");
  key[1] = static_cast<char>(key[1] ^ 1);
  ASSERT_TRUE(db_->put(key, "v").is_ok());
  const Status status = ensure_keyspace_format(*db_);
  EXPECT_TRUE(status.is_corruption()) << status.to_string();
}

}  // namespace
}  // namespace cairn
