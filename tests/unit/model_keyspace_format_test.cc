// Proves the move of a format-1 keyspace (records at [slot][user key]) to format 2 (data_key):
// every record, inline or in a blob file, ends under its data key with its bytes, whichever step
// the move was stopped at (the database closed and reopened there, as after a crash), including
// a blob value copied but not yet deleted; a fresh database just gets the marker; an unknown
// marker or a record under a slot that is not its key's is Corruption. And the move from format 2
// to 3: every member of a live set, hash or sorted set generation gets exactly its sample index
// record, and nothing else does (lists, strings, stale generations), whichever step it stopped at.
#include "model/keyspace_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>
#include <string>

#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "model/key_record.h"
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
    EXPECT_EQ(marker->value_or("none"), "3");
    std::map<std::string, std::string> expected;
    for (const auto& [key, value] : records) expected[data_key(key)] = value;
    expected[expiry_index_key(1234, "key:1")] = "";
    expected[keyspace_format_marker_key()] = "3";
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
  ASSERT_TRUE(db_->put(keyspace_format_marker_key(), "4").is_ok());
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

// A format-2 database of collections written before the sample index: sets, hashes and a sorted
// set (sampled), a list and a string (not), elements of stale generations, keys in one slot.
class SampleIndexFormatTest : public KeyspaceFormatTest {
 protected:
  void SetUp() override {
    KeyspaceFormatTest::SetUp();
    ASSERT_TRUE(db_->put(keyspace_format_marker_key(), "2").is_ok());
  }

  void put_collection(std::string_view key, RecordType type, uint64_t generation,
                      const std::vector<std::string>& elements) {
    CollectionMeta meta;
    meta.generation = generation;
    meta.count = elements.size();
    if (type == RecordType::kList) meta.list_head = kListInitialHead;
    RecordTrailer trailer;
    trailer.type = type;
    const std::string record = encode_record(encode_collection_meta(type, meta), trailer);
    ASSERT_TRUE(db_->put(data_key(key), record).is_ok());
    put_elements(key, generation, elements);
    if (has_sample_index(type)) {
      for (const std::string& element : elements) {
        std::string sample = element_key_prefix(kSampleTag, key, generation);
        append_sample_element(element, generation, &sample);
        expected_samples_.insert(sample);
      }
    }
  }
  void put_elements(std::string_view key, uint64_t generation,
                    const std::vector<std::string>& elements) {
    for (const std::string& element : elements) {
      const std::string element_key = element_key_prefix(kElementTag, key, generation) + element;
      ASSERT_TRUE(db_->put(element_key, "v").is_ok());
    }
  }
  static std::vector<std::string> members(int count, std::string_view stem = "m") {
    std::vector<std::string> out;
    for (int i = 0; i < count; i++) out.push_back(std::string(stem) + std::to_string(i));
    return out;
  }

  // Writes the collections; 5 records of the same slot come from a hash tag.
  void write_format2() {
    expected_samples_.clear();
    put_collection("set", RecordType::kSet, 10, members(25));
    put_collection("hash", RecordType::kHash, 11, members(7, "f"));
    put_collection("zset", RecordType::kSortedSet, 12, members(3, "z"));
    put_collection("list", RecordType::kList, 13, {encode_list_position(kListInitialHead)});
    put_collection("{t}a", RecordType::kSet, 14, members(4));
    put_collection("{t}ab", RecordType::kHash, 15, members(4));
    put_elements("set", 9, members(6, "old"));     // a stale generation
    put_elements("gone", 8, members(5));           // a deleted collection
    put_elements("{t}a", 3, members(2));           // stale, in the shared slot
    RecordTrailer string_trailer;
    ASSERT_TRUE(db_->put(data_key("string"), encode_record("s", string_trailer)).is_ok());
    put_elements("string", 16, members(2));  // elements of a key that is now a string
  }

  std::set<std::string> samples() {
    std::set<std::string> out;
    auto it = db_->new_iterator(ReadOptions());
    for (it->seek_to_first(); it->valid(); it->next()) {
      ElementKey element;
      if (parse_element_key(it->key(), &element) && element.tag == kSampleTag) {
        out.emplace(it->key());
      }
    }
    EXPECT_TRUE(it->status().is_ok());
    return out;
  }

  std::set<std::string> expected_samples_;
};

TEST_F(SampleIndexFormatTest, IndexesTheLiveMembersOfSampledCollections) {
  write_format2();
  ASSERT_TRUE(db_->flush().is_ok());  // some from a table, some from the memtable
  put_collection("late", RecordType::kSet, 20, members(3));
  ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
  EXPECT_EQ(samples(), expected_samples_);
  EXPECT_EQ(expected_samples_.size(), 25u + 7 + 3 + 4 + 4 + 3);
  auto marker = db_->get(ReadOptions(), keyspace_format_marker_key());
  ASSERT_TRUE(marker.is_ok());
  EXPECT_EQ(marker->value_or("none"), "3");
}

TEST_F(SampleIndexFormatTest, ResumesAfterAStopBetweenSteps) {
  // 25 + 6 + 7 + 3 + 4 + 2 + 4 + 5 + 2 + 1 = 59 elements: 20 steps of 3 end with the marker.
  for (int stop_after = 1; stop_after <= 21; stop_after += 2) {
    SCOPED_TRACE("stopped after step " + std::to_string(stop_after));
    TearDown();
    SetUp();
    write_format2();
    KeyspaceFormatMigration migration(*db_);
    for (int step = 0; step < stop_after; step++) {
      auto done = migration.step(3);
      ASSERT_TRUE(done.is_ok()) << done.status().to_string();
    }
    reopen();
    std::set<std::string> partial = samples();
    EXPECT_TRUE(std::includes(expected_samples_.begin(), expected_samples_.end(), partial.begin(),
                              partial.end()))
        << "only live members are indexed, at any step";
    ASSERT_TRUE(ensure_keyspace_format(*db_).is_ok());
    EXPECT_EQ(samples(), expected_samples_);
  }
}

}  // namespace
}  // namespace cairn
