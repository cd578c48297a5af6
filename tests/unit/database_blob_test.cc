// Unit tests of large values in blob files through the Database API: put/get/overwrite/remove,
// batches, streaming in and out (put_stream, get_stream), iterators, reopen, compaction, lanes
// for concurrent writers, abandoned streams, blob file sealing, fsync policies, WAL replay of a
// dangling reference, and the memory a streamed value costs on the real file system.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "common/checksum.h"
#include "io/clock.h"
#include "io/fault_env.h"
#include "io/random.h"
#include "io/scheduler.h"
#include "storage/blob_format.h"
#include "storage/database.h"
#include "storage/memtable.h"
#include "support/database_test_helpers.h"
#include "support/process_memory.h"
#include "support/slow_sync_env.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::proc_status_bytes;
using test::reset_peak_rss;

constexpr uint64_t kThresholdBytes = 100;

// Reads a whole ValueReader in pieces of random size.
std::string read_all(ValueReader& reader, Random& random) {
  std::string value;
  std::string buffer(100 << 10, '\0');
  while (true) {
    const Result<size_t> read = reader.read(buffer.data(), 1 + random.uniform(buffer.size()));
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    if (!read.is_ok() || *read == 0) return value;
    value.append(buffer.data(), *read);
  }
}

class DatabaseBlobTest : public ::testing::Test {
 protected:
  DatabaseBlobTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.blob_value_threshold_bytes = kThresholdBytes;
  }

  std::unique_ptr<Database> open() { return test::open_database(options_); }

  static std::string get(Database& database, std::string_view key,
                         const Snapshot* snapshot = nullptr) {
    return test::get_or_absent(database, key, snapshot);
  }

  // The value through get_stream, read in random pieces; "(absent)" for a null reader.
  std::string get_streamed(Database& database, std::string_view key) {
    auto reader = database.get_stream({}, key);
    EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
    if (!reader.is_ok() || *reader == nullptr) return "(absent)";
    const std::string value = read_all(**reader, random_);
    EXPECT_EQ((*reader)->size_bytes(), value.size());
    EXPECT_EQ((*reader)->value_size_bytes(), value.size());
    return value;
  }

  // Writes `value` through put_stream in pieces of random size.
  Status put_in_pieces(Database& database, std::string_view key, std::string_view value) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueWriter> writer,
                           database.put_stream(key, value.size()));
    while (!value.empty()) {
      const size_t n = std::min<size_t>(value.size(), 1 + random_.uniform(150000));
      CAIRN_RETURN_IF_ERROR(writer->append(value.substr(0, n)));
      value.remove_prefix(n);
    }
    return writer->commit();
  }

  std::vector<std::string> blob_files() {
    const Result<std::vector<std::string>> names = env_.list_dir("/db");
    EXPECT_TRUE(names.is_ok());
    std::vector<std::string> blobs;
    for (const std::string& name : *names) {
      if (name.ends_with(".blob")) blobs.push_back("/db/" + name);
    }
    std::sort(blobs.begin(), blobs.end());
    return blobs;
  }

  FaultEnv env_{1};
  InlineScheduler scheduler_;
  Options options_;
  Random random_{42};
};

// Values over the threshold go to a blob file and read back through get, across overwrites
// (large to large, large to small), removes, snapshots, a flush and a reopen.
TEST_F(DatabaseBlobTest, LargeValuesRoundTripThroughPutGetOverwriteAndRemove) {
  const std::string large1 = random_.bytes(5000);
  const std::string large2 = random_.bytes(kThresholdBytes + 1);
  const std::string small(kThresholdBytes, 's');  // at the threshold: stays inline
  auto database = open();
  ASSERT_TRUE(database->put("a", large1).is_ok());
  ASSERT_TRUE(database->put("b", small).is_ok());
  EXPECT_EQ(blob_files().size(), 1u);
  EXPECT_EQ(get(*database, "a"), large1);
  EXPECT_EQ(get(*database, "b"), small);
  const Snapshot* snapshot = database->get_snapshot();
  ASSERT_TRUE(database->put("a", large2).is_ok());
  ASSERT_TRUE(database->put("b", large1).is_ok());
  EXPECT_EQ(get(*database, "a"), large2);
  EXPECT_EQ(get(*database, "b"), large1);
  EXPECT_EQ(get(*database, "a", snapshot), large1);
  EXPECT_EQ(get(*database, "b", snapshot), small);
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put("a", "tiny").is_ok());
  ASSERT_TRUE(database->remove("b").is_ok());
  EXPECT_EQ(get(*database, "a"), "tiny");
  EXPECT_EQ(get(*database, "b"), "(absent)");
  EXPECT_EQ(get(*database, "b", snapshot), small);
  database->release_snapshot(snapshot);
  ASSERT_TRUE(database->put("c", large2).is_ok());
  database.reset();

  database = open();
  EXPECT_EQ(get(*database, "a"), "tiny");
  EXPECT_EQ(get(*database, "b"), "(absent)");
  EXPECT_EQ(get(*database, "c"), large2);
  // Writing after a reopen starts a new blob file: the old one may end in a torn record.
  ASSERT_TRUE(database->put("d", large1).is_ok());
  EXPECT_EQ(blob_files().size(), 2u);
  EXPECT_EQ(get(*database, "d"), large1);
}

// A write batch moves only its values over the threshold to blob files; all of it applies.
TEST_F(DatabaseBlobTest, WriteBatchMovesOnlyLargeValuesToBlobFiles) {
  auto database = open();
  ASSERT_TRUE(database->put("gone", "x").is_ok());
  const std::string large = random_.bytes(3000);
  WriteBatch batch;
  batch.put("small", "v");
  batch.put("large", large);
  batch.remove("gone");
  batch.put("large2", large + large);
  ASSERT_TRUE(database->write(batch).is_ok());
  EXPECT_EQ(get(*database, "small"), "v");
  EXPECT_EQ(get(*database, "large"), large);
  EXPECT_EQ(get(*database, "large2"), large + large);
  EXPECT_EQ(get(*database, "gone"), "(absent)");
  EXPECT_EQ(database->last_sequence(), 5u);
  const DatabaseStats stats = database->stats();
  EXPECT_GT(stats.blob_bytes_written, 3u * large.size());
  EXPECT_LT(stats.blob_bytes_written, 3u * large.size() + 1000);
  EXPECT_LT(stats.wal_bytes_written, 1000u) << "the WAL carries references, not the values";
  EXPECT_GE(stats.user_bytes_written, 3u * large.size());
}

// Streamed values of sizes around chunk boundaries, given in pieces of random size, read back
// whole through get, streamed through get_stream, and in ranges (clipped to the value).
TEST_F(DatabaseBlobTest, StreamedValueInRandomPiecesReadsBack) {
  auto database = open();
  const uint64_t sizes[] = {0,
                            kThresholdBytes,
                            kThresholdBytes + 1,
                            kBlobChunkBytesDefault - 1,
                            kBlobChunkBytesDefault,
                            kBlobChunkBytesDefault + 1,
                            5 * kBlobChunkBytesDefault + 12345};
  for (const uint64_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string key = "stream" + std::to_string(size);
    const std::string value = random_.bytes(size);
    ASSERT_TRUE(put_in_pieces(*database, key, value).is_ok());
    EXPECT_EQ(get(*database, key), value);
    EXPECT_EQ(get_streamed(*database, key), value);
    for (int i = 0; i < 5; i++) {
      const uint64_t offset = random_.uniform(size + 10);
      const uint64_t length = random_.uniform(size + 10);
      auto reader = database->get_stream_range({}, key, offset, length);
      ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
      ASSERT_NE(*reader, nullptr);
      const std::string expected = offset >= size ? "" : value.substr(offset, length);
      EXPECT_EQ((*reader)->size_bytes(), expected.size());
      EXPECT_EQ((*reader)->value_size_bytes(), size);
      EXPECT_EQ(read_all(**reader, random_), expected) << offset << "+" << length;
    }
  }
  EXPECT_EQ(blob_files().size(), 1u) << "one writer at a time reuses one lane";
}

// get_stream serves an inline value too, and answers nullptr for an absent or removed key.
TEST_F(DatabaseBlobTest, GetStreamOfInlineValueAndAbsentKey) {
  auto database = open();
  ASSERT_TRUE(database->put("inline", "hello, world").is_ok());
  ASSERT_TRUE(database->put("removed", "x").is_ok());
  ASSERT_TRUE(database->remove("removed").is_ok());
  EXPECT_EQ(get_streamed(*database, "inline"), "hello, world");
  EXPECT_EQ(get_streamed(*database, "absent"), "(absent)");
  EXPECT_EQ(get_streamed(*database, "removed"), "(absent)");
  auto range = database->get_stream_range({}, "inline", 7, 100);
  ASSERT_TRUE(range.is_ok());
  ASSERT_NE(*range, nullptr);
  EXPECT_EQ((*range)->size_bytes(), 5u);
  EXPECT_EQ((*range)->value_size_bytes(), 12u);
  EXPECT_EQ(read_all(**range, random_), "world");
  EXPECT_TRUE(blob_files().empty());
}

// An iterator over inline and blob values returns each value; it reads a blob only when
// value() is called, and a damaged blob surfaces through status() as Corruption.
TEST_F(DatabaseBlobTest, IteratorResolvesBlobValuesOnlyWhenAsked) {
  auto database = open();
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 20; i++) {
    const std::string key = "key" + std::to_string(10 + i);
    expected[key] = random_.bytes(i % 2 == 0 ? 10 : 200 + 100 * i);
    ASSERT_TRUE(database->put(key, expected[key]).is_ok());
    if (i == 10) {
      ASSERT_TRUE(database->flush().is_ok());  // some in a table, some in the memtable
    }
  }
  auto iterator = database->new_iterator({});
  auto it = expected.begin();
  for (iterator->seek_to_first(); iterator->valid(); iterator->next(), ++it) {
    ASSERT_NE(it, expected.end());
    EXPECT_EQ(iterator->key(), it->first);
    EXPECT_EQ(iterator->value(), it->second);
    EXPECT_EQ(iterator->value(), it->second) << "a second call returns the same";
  }
  EXPECT_TRUE(iterator->status().is_ok());
  EXPECT_EQ(it, expected.end());

  // The last byte of the blob file is the last chunk checksum of the last value written (key29).
  const std::vector<std::string> files = blob_files();
  ASSERT_EQ(files.size(), 1u);
  ASSERT_TRUE(env_.corrupt_byte(files[0], *env_.file_size(files[0]) - 1).is_ok());
  size_t keys = 0;
  iterator = database->new_iterator({});
  for (iterator->seek_to_first(); iterator->valid(); iterator->next()) keys++;
  EXPECT_TRUE(iterator->status().is_ok()) << "keys alone never read a blob";
  EXPECT_EQ(keys, expected.size());
  iterator->seek("key28");
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->value(), expected["key28"]);
  iterator->next();
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->key(), "key29");
  EXPECT_EQ(iterator->value(), "");
  EXPECT_FALSE(iterator->valid());
  EXPECT_TRUE(iterator->status().is_corruption()) << iterator->status().to_string();
  EXPECT_NE(iterator->status().to_string().find(".blob"), std::string::npos);
  auto value = database->get({}, "key29");
  ASSERT_FALSE(value.is_ok());
  EXPECT_TRUE(value.status().is_corruption()) << value.status().to_string();
}

// Blob values survive flushes, compactions (which move only references) and reopens, whether
// they were in a table or still in the WAL at close.
TEST_F(DatabaseBlobTest, ReopenKeepsBlobValuesAcrossFlushesAndCompactions) {
  options_.write_buffer_size_bytes = 8 << 10;
  options_.compaction.level0_compaction_trigger = 2;
  options_.compaction.level1_size_bytes = 8192;
  options_.compaction.target_file_size_bytes = 2048;
  std::map<std::string, std::string> expected;
  {
    auto database = open();
    for (int i = 0; i < 1000; i++) {
      const std::string key = "key" + std::to_string(random_.uniform(100));
      expected[key] = random_.bytes(random_.one_in(3) ? 20 : 150 + random_.uniform(3000));
      ASSERT_TRUE(database->put(key, expected[key]).is_ok());
    }
    ASSERT_TRUE(database->wait_for_compactions().is_ok());
    const DatabaseStats stats = database->stats();
    EXPECT_GT(stats.compaction_count, 0u);
    uint64_t table_bytes = 0;
    for (const DatabaseStats::Level& level : stats.levels) table_bytes += level.size_bytes;
    EXPECT_LT(table_bytes, stats.blob_bytes_written / 10)
        << "the tables should hold references, not values\n"
        << format_stats(stats);
    for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
  }
  auto database = open();
  for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
}

// Concurrent writers of large values each get a blob file (lane) of their own: a stream held
// open does not block other large writes, and every value lands.
TEST_F(DatabaseBlobTest, ConcurrentStreamsEachWriteTheirOwnBlobFile) {
  auto database = open();
  constexpr int kStreams = 4;
  std::vector<std::string> values;
  std::vector<std::unique_ptr<ValueWriter>> writers;
  for (int s = 0; s < kStreams; s++) {
    values.push_back(random_.bytes(200000 + random_.uniform(100000)));
    auto writer = database->put_stream("stream" + std::to_string(s), values.back().size());
    ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
    writers.push_back(std::move(writer).value());
  }
  EXPECT_EQ(blob_files().size(), static_cast<size_t>(kStreams)) << "one lane per open stream";
  // A large put while every lane is held (from this very thread, so waiting would deadlock).
  ASSERT_TRUE(database->put("put-while-streaming", values[0]).is_ok());
  EXPECT_EQ(blob_files().size(), static_cast<size_t>(kStreams) + 1);

  std::vector<std::thread> threads;
  for (int s = 0; s < kStreams; s++) {
    threads.emplace_back([&, s] {
      Random random(100 + s);
      std::string_view rest = values[s];
      while (!rest.empty()) {
        const size_t n = std::min<size_t>(rest.size(), 1 + random.uniform(20000));
        ASSERT_TRUE(writers[s]->append(rest.substr(0, n)).is_ok());
        rest.remove_prefix(n);
      }
      ASSERT_TRUE(writers[s]->commit().is_ok());
    });
  }
  threads.emplace_back([&] {
    Random random(99);
    for (int i = 0; i < 30; i++) {
      ASSERT_TRUE(database->put("put" + std::to_string(i), random.bytes(1000 + i)).is_ok());
    }
  });
  for (std::thread& thread : threads) thread.join();
  for (int s = 0; s < kStreams; s++) {
    EXPECT_EQ(get(*database, "stream" + std::to_string(s)), values[s]);
  }
  EXPECT_EQ(get(*database, "put-while-streaming"), values[0]);
  for (int i = 0; i < 30; i++) {
    EXPECT_EQ(get(*database, "put" + std::to_string(i)).size(), 1000u + i);
  }
  EXPECT_LE(blob_files().size(), static_cast<size_t>(kStreams) + 2) << "lanes are reused";
}

// A stream abandoned part way (or failed by a wrong size) leaves the database as it was; the
// abandoned lane's file takes no more records, and later writes work.
TEST_F(DatabaseBlobTest, AbandonedStreamLeavesTheDatabaseUnchanged) {
  auto database = open();
  const std::string original = random_.bytes(1000);
  ASSERT_TRUE(database->put("k", original).is_ok());
  const SequenceNumber sequence = database->last_sequence();
  {
    auto writer = database->put_stream("k", 500000);
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->append(random_.bytes(300000)).is_ok());
  }
  EXPECT_EQ(get(*database, "k"), original);
  {
    auto writer = database->put_stream("k", 1000);
    ASSERT_TRUE(writer.is_ok());
    EXPECT_TRUE((*writer)->append(random_.bytes(1001)).is_invalid_argument());
    EXPECT_TRUE((*writer)->commit().is_invalid_argument()) << "the error sticks";
  }
  {
    auto writer = database->put_stream("k", 1000);
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->append(random_.bytes(999)).is_ok());
    EXPECT_TRUE((*writer)->commit().is_invalid_argument());
  }
  {
    auto writer = database->put_stream("k", 50);  // inline: buffered, then dropped
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->append("partial").is_ok());
  }
  EXPECT_EQ(get(*database, "k"), original);
  EXPECT_EQ(database->last_sequence(), sequence);
  const size_t files_before = blob_files().size();
  const std::string replacement = random_.bytes(2000);
  ASSERT_TRUE(put_in_pieces(*database, "k", replacement).is_ok());
  EXPECT_EQ(get(*database, "k"), replacement);
  EXPECT_EQ(blob_files().size(), files_before + 1) << "abandoned lanes are retired";
  database.reset();
  database = open();
  EXPECT_EQ(get(*database, "k"), replacement);
}

// A lane whose file reaches blob_file_size_bytes is sealed: the next value starts a new file.
TEST_F(DatabaseBlobTest, BlobFilesAreSealedPastTheSizeLimit) {
  options_.blob_file_size_bytes = 4096;
  auto database = open();
  std::vector<std::string> values;
  for (int i = 0; i < 20; i++) {
    values.push_back(random_.bytes(1000));
    ASSERT_TRUE(database->put("key" + std::to_string(i), values.back()).is_ok());
  }
  const std::vector<std::string> files = blob_files();
  EXPECT_GE(files.size(), 5u);
  EXPECT_LE(files.size(), 7u);
  for (const std::string& file : files) EXPECT_LT(*env_.file_size(file), 4096u + 1100u) << file;
  EXPECT_EQ(database->stats().blob_file_count, files.size());
  for (int i = 0; i < 20; i++) EXPECT_EQ(get(*database, "key" + std::to_string(i)), values[i]);
}

// ---- Blob file liveness (docs/blob-format.md "In the engine") ------------------------------

// Options under which blob files come and go quickly: one record per blob file (each is
// retired after its record), and every flush compacts level 0 into level 1.
void use_one_record_blob_files(Options* options) {
  options->blob_file_size_bytes = 1;
  options->compaction.level0_compaction_trigger = 1;
}

bool contains(const std::vector<std::string>& files, const std::string& file) {
  return std::find(files.begin(), files.end(), file) != files.end();
}

// Overwriting or deleting every large value and compacting deletes the old blob files; the new
// values read fine, and the dropped references are counted as garbage.
TEST_F(DatabaseBlobTest, CompactionAwayOfEveryReferenceDeletesOldBlobFiles) {
  use_one_record_blob_files(&options_);
  auto database = open();
  uint64_t old_value_bytes = 0;
  for (int i = 0; i < 10; i++) {
    const std::string value = random_.bytes(500 + 10 * i);
    old_value_bytes += value.size();
    ASSERT_TRUE(database->put("key" + std::to_string(i), value).is_ok());
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  const std::vector<std::string> old_files = blob_files();
  ASSERT_EQ(old_files.size(), 10u);

  std::map<std::string, std::string> expected;
  for (int i = 0; i < 10; i++) {
    const std::string key = "key" + std::to_string(i);
    if (i % 3 == 0) {
      ASSERT_TRUE(database->remove(key).is_ok());
    } else {
      expected[key] = random_.bytes(400 + i);
      ASSERT_TRUE(database->put(key, expected[key]).is_ok());
    }
  }
  EXPECT_EQ(blob_files().size(), 10u + expected.size()) << "the memtable still names none";
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());

  const std::vector<std::string> files = blob_files();
  for (const std::string& file : old_files) EXPECT_FALSE(contains(files, file)) << file;
  EXPECT_EQ(files.size(), expected.size());
  for (int i = 0; i < 10; i++) {
    const std::string key = "key" + std::to_string(i);
    EXPECT_EQ(get(*database, key), expected.contains(key) ? expected[key] : "(absent)") << key;
  }
  const DatabaseStats stats = database->stats();
  EXPECT_EQ(stats.blob_garbage_bytes, old_value_bytes);
  EXPECT_EQ(stats.blob_file_count, files.size());
  EXPECT_NE(format_stats(stats).find("garbage"), std::string::npos);
}

// A snapshot taken before an overwrite keeps the old blob file alive (its value readable)
// across compactions until it is released; the next compaction then deletes the file.
TEST_F(DatabaseBlobTest, SnapshotKeepsOldBlobFileUntilReleased) {
  use_one_record_blob_files(&options_);
  auto database = open();
  const std::string old_value = random_.bytes(1000);
  ASSERT_TRUE(database->put("key", old_value).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  const std::vector<std::string> old_files = blob_files();
  ASSERT_EQ(old_files.size(), 1u);
  const Snapshot* snapshot = database->get_snapshot();
  for (int round = 0; round < 3; round++) {
    ASSERT_TRUE(database->put("key", random_.bytes(1000)).is_ok());
    ASSERT_TRUE(database->flush().is_ok());
    ASSERT_TRUE(database->wait_for_compactions().is_ok());
  }
  EXPECT_GT(database->stats().compaction_count, 0u);
  EXPECT_TRUE(contains(blob_files(), old_files[0]));
  EXPECT_EQ(get(*database, "key", snapshot), old_value);

  database->release_snapshot(snapshot);
  const std::string new_value = random_.bytes(1000);
  ASSERT_TRUE(database->put("key", new_value).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  EXPECT_FALSE(contains(blob_files(), old_files[0]));
  EXPECT_EQ(blob_files().size(), 1u) << "only the newest value's file is left";
  EXPECT_EQ(get(*database, "key"), new_value);
}

// An iterator (holding a memtable or a version) and a value stream opened before an overwrite
// keep reading the old values after compaction drops their references; once the iterator is
// released, the next flush deletes the files (the stream keeps its file open meanwhile).
TEST_F(DatabaseBlobTest, OpenIteratorKeepsOldBlobFilesUntilReleased) {
  use_one_record_blob_files(&options_);
  auto database = open();
  const std::string in_table = random_.bytes(700);
  const std::string in_memtable = random_.bytes(800);
  ASSERT_TRUE(database->put("a", in_table).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put("b", in_memtable).is_ok());
  const std::vector<std::string> old_files = blob_files();
  ASSERT_EQ(old_files.size(), 2u);
  auto iterator = database->new_iterator({});
  auto stream = database->get_stream({}, "b");
  ASSERT_TRUE(stream.is_ok() && *stream != nullptr);

  for (int round = 0; round < 2; round++) {
    ASSERT_TRUE(database->put("a", random_.bytes(900)).is_ok());
    ASSERT_TRUE(database->put("b", random_.bytes(900)).is_ok());
    ASSERT_TRUE(database->flush().is_ok());
    ASSERT_TRUE(database->wait_for_compactions().is_ok());
  }
  EXPECT_GT(database->stats().blob_garbage_bytes, 0u);
  for (const std::string& file : old_files) EXPECT_TRUE(contains(blob_files(), file)) << file;
  iterator->seek_to_first();
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->value(), in_table);
  iterator->next();
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->value(), in_memtable);
  EXPECT_TRUE(iterator->status().is_ok()) << iterator->status().to_string();

  iterator.reset();
  ASSERT_TRUE(database->put("c", "inline").is_ok());  // a flush needs something to flush
  ASSERT_TRUE(database->flush().is_ok());
  for (const std::string& file : old_files) EXPECT_FALSE(contains(blob_files(), file)) << file;
  EXPECT_EQ(read_all(**stream, random_), in_memtable) << "an open stream outlives its file";
}

// Reopening deletes blob files nothing references (an abandoned stream's, a stray one) and
// keeps those the tables and the WAL name.
TEST_F(DatabaseBlobTest, ReopenDeletesUnreferencedBlobFilesAndKeepsReferencedOnes) {
  use_one_record_blob_files(&options_);
  std::map<std::string, std::string> expected;
  {
    auto database = open();
    expected["in_table"] = random_.bytes(600);
    ASSERT_TRUE(database->put("in_table", expected["in_table"]).is_ok());
    ASSERT_TRUE(database->flush().is_ok());
    expected["in_wal"] = random_.bytes(600);
    ASSERT_TRUE(database->put("in_wal", expected["in_wal"]).is_ok());
    auto abandoned = database->put_stream("abandoned", 5000);
    ASSERT_TRUE(abandoned.is_ok());
    ASSERT_TRUE((*abandoned)->append(random_.bytes(1000)).is_ok());
    abandoned->reset();
    EXPECT_EQ(blob_files().size(), 3u);
    ASSERT_TRUE(database->close().is_ok());
  }
  const std::string stray = "/db/000003.blob";
  ASSERT_FALSE(contains(blob_files(), stray));
  ASSERT_TRUE(write_string_to_file(&env_, "not a blob file", stray, /*sync=*/true).is_ok());
  const std::vector<std::string> before = blob_files();
  ASSERT_EQ(before.size(), 4u);

  auto database = open();
  const std::vector<std::string> after = blob_files();
  EXPECT_EQ(after.size(), 2u);
  EXPECT_FALSE(contains(after, stray));
  for (const std::string& file : after) EXPECT_TRUE(contains(before, file)) << file;
  for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
  EXPECT_EQ(get(*database, "abandoned"), "(absent)");
  EXPECT_EQ(database->stats().blob_file_count, 2u);
  database.reset();
  database = open();
  EXPECT_EQ(blob_files(), after) << "a second reopen deletes nothing more";
  for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
}

// Concurrent large puts, overwrites and flushes with compactions deleting blob files all the
// while: no read ever meets a missing blob file, and every last value survives a reopen.
TEST_F(DatabaseBlobTest, ConcurrentWritesNeverLoseABlobFileToDeletion) {
  options_.blob_file_size_bytes = 2048;
  options_.write_buffer_size_bytes = 4096;
  options_.compaction.level0_compaction_trigger = 2;
  ThreadPoolScheduler pool(2);
  options_.scheduler = &pool;
  std::map<std::string, std::string> expected;
  std::mutex expected_mutex;
  {
    auto database = open();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
      threads.emplace_back([&, t] {
        Random random(100 + t);
        for (int i = 0; i < 300; i++) {
          const std::string key = "t" + std::to_string(t) + "k" + std::to_string(random.uniform(8));
          const std::string value = random.bytes(150 + random.uniform(600));
          Status status;
          if (i % 5 == 0) {  // streamed, in two pieces
            auto writer = database->put_stream(key, value.size());
            ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
            status = (*writer)->append(std::string_view(value).substr(0, 100));
            if (status.is_ok()) status = (*writer)->append(std::string_view(value).substr(100));
            if (status.is_ok()) status = (*writer)->commit();
          } else {
            status = database->put(key, value);
          }
          ASSERT_TRUE(status.is_ok()) << status.to_string();
          {
            std::lock_guard lock(expected_mutex);
            expected[key] = value;
          }
          auto read = database->get({}, key);
          ASSERT_TRUE(read.is_ok()) << read.status().to_string();
          ASSERT_EQ(read->value_or("(absent)"), value);  // each thread owns its keys
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    ASSERT_TRUE(database->wait_for_compactions().is_ok());
    EXPECT_GT(database->stats().blob_garbage_bytes, 0u);
    for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
    ASSERT_TRUE(database->close().is_ok());
  }
  auto database = open();
  for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
  EXPECT_LT(blob_files().size(), 4u * 300u / 2) << "most old blob files were deleted";
}

// Callers cannot write blob references: a forged one could end WAL replay and lose writes.
TEST_F(DatabaseBlobTest, BatchesCarryingBlobReferencesAreRefused) {
  auto database = open();
  WriteBatch batch;
  batch.put("k", "v");
  batch.put_blob_reference("forged", BlobReference{7, 24, 1000, 6, 12345});
  EXPECT_TRUE(database->write(batch).is_invalid_argument());
  EXPECT_EQ(database->last_sequence(), 0u);
}

// A blob reference operation round-trips through the WAL payload encoding into a
// kBlobReference memtable entry; an operation of type 2 whose value is no reference is refused.
TEST(BlobWriteBatchTest, BlobReferenceOperationRoundTripsAndIsValidated) {
  const BlobReference reference{12, 24, 70000, 3, 0xabcdef};
  WriteBatch batch;
  batch.put("a", "1");
  batch.put_blob_reference("big", reference);
  batch.set_sequence(10);
  Result<WriteBatch> decoded = WriteBatch::from_contents(batch.contents());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  MemTable memtable;
  ASSERT_TRUE(insert_into_memtable(*decoded, &memtable).is_ok());
  std::string value;
  ASSERT_EQ(memtable.get("big", 11, &value), LookupResult::kBlobReference);
  BlobReference read_back;
  ASSERT_TRUE(decode_blob_reference(value, &read_back));
  EXPECT_EQ(read_back, reference);
  EXPECT_EQ(memtable.get("a", 11, &value), LookupResult::kFound);

  WriteBatch not_a_reference;
  not_a_reference.put("big", "not a reference");
  std::string contents(not_a_reference.contents());
  contents[kWriteBatchHeaderBytes] = static_cast<char>(ValueType::kBlobReference);
  const Result<WriteBatch> refused = WriteBatch::from_contents(contents);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_TRUE(refused.status().is_corruption()) << refused.status().to_string();
}

// A WAL record whose blob record is damaged (as a power loss can leave it under fsync=batch or
// never) ends the replay there, like a torn tail: that write and every later one are dropped.
TEST_F(DatabaseBlobTest, DanglingBlobReferenceEndsWalReplay) {
  {
    auto database = open();
    ASSERT_TRUE(database->put("before", "1").is_ok());
    ASSERT_TRUE(database->put("big", random_.bytes(5000)).is_ok());
    ASSERT_TRUE(database->put("after", "2").is_ok());
  }
  const std::vector<std::string> files = blob_files();
  ASSERT_EQ(files.size(), 1u);
  // The record header of the first (only) record, right after the 24-byte file header.
  ASSERT_TRUE(env_.corrupt_byte(files[0], kBlobFileHeaderBytes + 5).is_ok());
  auto database = open();
  EXPECT_EQ(get(*database, "before"), "1");
  EXPECT_EQ(get(*database, "big"), "(absent)");
  EXPECT_EQ(get(*database, "after"), "(absent)");
  EXPECT_EQ(database->last_sequence(), 1u);
  ASSERT_TRUE(database->put("later", random_.bytes(500)).is_ok());
  database.reset();
  database = open();
  EXPECT_EQ(get(*database, "before"), "1");
  EXPECT_EQ(get(*database, "big"), "(absent)");
  EXPECT_EQ(get(*database, "later").size(), 500u);
}

// After a process crash (no power loss), the WAL and blob records a writer left unsynced are
// still in the OS's cache; the recovery that copies the WAL into a table makes the blob records
// that table names durable first, so a power loss after it loses none of them.
TEST_F(DatabaseBlobTest, RecoveryAfterAProcessCrashMakesTheBlobRecordsItKeepsDurable) {
  options_.fsync = FsyncPolicy::kNever;
  const std::string big = random_.bytes(5000);
  {
    auto database = open();
    ASSERT_TRUE(database->put("big", big).is_ok());
    ASSERT_TRUE(database->put("small", "1").is_ok());
    // The process dies: nothing it would still do reaches the file system (close fails).
    env_.inject({});
  }
  env_.clear_faults();
  const std::vector<std::string> files = blob_files();
  ASSERT_EQ(files.size(), 1u);
  ASSERT_LT(*env_.durable_size(files[0]), env_.contents(files[0])->size()) << "not yet synced";
  {
    auto database = open();
    EXPECT_EQ(get(*database, "big"), big);
  }
  env_.power_loss();
  env_.restart();
  auto database = open();
  EXPECT_EQ(get(*database, "big"), big);
  EXPECT_EQ(get(*database, "small"), "1");
}

// Blob options out of range are refused at open; the default threshold is the format's.
TEST_F(DatabaseBlobTest, InvalidBlobOptionsAreRefused) {
  EXPECT_EQ(Options().blob_value_threshold_bytes, kBlobValueThresholdBytesDefault);
  const auto refuses = [&](const Options& options) {
    auto database = Database::open(options, "/db");
    return !database.is_ok() && database.status().is_invalid_argument();
  };
  Options options = options_;
  options.blob_value_threshold_bytes = kBlobValueBytesMax;
  EXPECT_TRUE(refuses(options));
  options = options_;
  options.blob_file_size_bytes = 0;
  EXPECT_TRUE(refuses(options));
  options = options_;
  options.blob_file_size_bytes = kBlobFileBytesMax + 1;
  EXPECT_TRUE(refuses(options));
  auto database = open();
  auto writer = database->put_stream("k", kBlobValueBytesMax + 1);
  EXPECT_TRUE(writer.status().is_invalid_argument()) << writer.status().to_string();
}

// With blob files off (threshold 0), large values, even streamed ones, stay in the tree.
TEST_F(DatabaseBlobTest, ThresholdZeroKeepsEveryValueInline) {
  options_.blob_value_threshold_bytes = 0;
  auto database = open();
  const std::string large = random_.bytes(200000);
  ASSERT_TRUE(database->put("put", large).is_ok());
  ASSERT_TRUE(put_in_pieces(*database, "stream", large).is_ok());
  EXPECT_EQ(get(*database, "put"), large);
  EXPECT_EQ(get_streamed(*database, "stream"), large);
  EXPECT_TRUE(blob_files().empty());
  EXPECT_EQ(database->stats().blob_bytes_written, 0u);
}

// Statistics count blob bytes and files, and the report shows them.
TEST_F(DatabaseBlobTest, StatsCountBlobBytesAndFiles) {
  auto database = open();
  ASSERT_TRUE(database->put("a", random_.bytes(10000)).is_ok());
  DatabaseStats stats = database->stats();
  EXPECT_EQ(stats.blob_file_count, 1u);
  EXPECT_GT(stats.blob_bytes_written, 10000u);
  EXPECT_NE(format_stats(stats).find("blob files: 1"), std::string::npos) << format_stats(stats);
  database.reset();
  database = open();
  stats = database->stats();
  EXPECT_EQ(stats.blob_file_count, 1u) << "files found at open count";
  EXPECT_EQ(stats.blob_bytes_written, 0u);
}

// The compaction filter sees inline values; a value in a blob file is offered by its key alone,
// and dropping it leaves its bytes as garbage of its blob file.
TEST_F(DatabaseBlobTest, CompactionFilterDecidesBlobValuesByKey) {
  struct DropByKey final : CompactionFilter {
    bool should_drop(std::string_view key, std::optional<std::string_view> value) const override {
      std::lock_guard lock(mutex);
      asked.emplace(std::string(key), value.has_value());
      return key.ends_with("2");
    }
    mutable std::mutex mutex;
    mutable std::set<std::pair<std::string, bool>> asked;  // (key, offered with its value)
  } filter;
  options_.compaction.filter = &filter;
  options_.compaction.level0_compaction_trigger = 2;
  auto database = open();
  const std::string large = random_.bytes(1000);
  ASSERT_TRUE(database->put("a-small", "s").is_ok());
  ASSERT_TRUE(database->put("b-large", large).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put("a-small2", "s").is_ok());
  ASSERT_TRUE(database->put("b-large2", large).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  ASSERT_GT(database->stats().compaction_count, 0u);
  EXPECT_EQ(get(*database, "a-small"), "s");
  EXPECT_EQ(get(*database, "a-small2"), "(absent)");
  EXPECT_EQ(get(*database, "b-large"), large);
  EXPECT_EQ(get(*database, "b-large2"), "(absent)");
  EXPECT_EQ(filter.asked, (std::set<std::pair<std::string, bool>>{
                              {"a-small", true}, {"a-small2", true}, {"b-large", false},
                              {"b-large2", false}}));
  EXPECT_GE(database->stats().blob_garbage_bytes, large.size());
}

// fsync=always syncs each blob record before its reference is logged; fsync=batch syncs the
// blob files written since the last sync just before the WAL sync, and on sync_wal().
TEST_F(DatabaseBlobTest, BlobFilesAreSyncedPerTheFsyncPolicy) {
  test::SlowSyncEnv counting(&env_, ".blob", std::chrono::microseconds(0));
  options_.env = &counting;
  {
    auto database = open();
    for (int i = 0; i < 3; i++) ASSERT_TRUE(database->put("k", random_.bytes(500)).is_ok());
    EXPECT_EQ(counting.slow_sync_count(), 3u);
  }
  ManualClock clock(0);
  options_.clock = &clock;
  options_.fsync = FsyncPolicy::kBatch;
  options_.fsync_batch_interval_ms = 1000;
  auto database = open();
  const uint64_t after_open = counting.slow_sync_count();
  for (int i = 0; i < 3; i++) ASSERT_TRUE(database->put("k", random_.bytes(500)).is_ok());
  EXPECT_EQ(counting.slow_sync_count(), after_open);
  clock.advance_micros(1000 * 1000);
  ASSERT_TRUE(database->put("small", "v").is_ok());  // this write syncs the WAL
  EXPECT_EQ(counting.slow_sync_count(), after_open + 1);
  ASSERT_TRUE(database->put("small", "v").is_ok());
  ASSERT_TRUE(database->sync_wal().is_ok());  // nothing new in the blob file
  EXPECT_EQ(counting.slow_sync_count(), after_open + 1);
  ASSERT_TRUE(database->put("k", random_.bytes(500)).is_ok());
  ASSERT_TRUE(database->sync_wal().is_ok());
  EXPECT_EQ(counting.slow_sync_count(), after_open + 2);
}

// ---- Memory, on the real file system ------------------------------------------------------

// The value's bytes at [offset, offset + n): each aligned 8-byte word a hash of its index.
void generate_value(uint64_t offset, char* destination, size_t n) {
  static_assert(std::endian::native == std::endian::little);
  const auto word = [](uint64_t index) { return (index + 1) * 0x9E3779B97F4A7C15ull; };
  for (size_t done = 0; done < n;) {
    const uint64_t position = offset + done;
    const uint64_t bytes = word(position / 8);
    const size_t skip = position % 8;
    const size_t take = std::min<size_t>(8 - skip, n - done);
    std::memcpy(destination + done, reinterpret_cast<const char*>(&bytes) + skip, take);
    done += take;
  }
}

class TempDirectory {
 public:
  TempDirectory() {
    char directory_template[] = "/tmp/cairn-blob-test-XXXXXX";
    EXPECT_NE(mkdtemp(directory_template), nullptr);
    path_ = directory_template;
  }
  ~TempDirectory() {
    const Result<std::vector<std::string>> names = Env::posix()->list_dir(path_);
    if (names.is_ok()) {
      for (const std::string& name : *names) (void)Env::posix()->remove_file(path_ + "/" + name);
    }
    (void)Env::posix()->remove_dir(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Streams a value of `value_bytes` into a database on disk and back out (across a reopen when
// `reopen`), comparing a checksum of every byte, and returns the peak RSS growth.
uint64_t stream_round_trip_rss_growth(uint64_t value_bytes, bool reopen) {
  TempDirectory directory;
  const bool reset = reset_peak_rss();
  const uint64_t baseline_bytes = reset ? proc_status_bytes("VmRSS") : proc_status_bytes("VmHWM");
  EXPECT_GT(baseline_bytes, 0u);
  Options options;
  std::unique_ptr<Database> database = std::move(Database::open(options, directory.path())).value();
  // Pieces of an odd size, so they straddle chunk boundaries.
  std::string piece(200 * 1024 + 17, '\0');
  uint64_t written_hash = 0;
  {
    auto writer = database->put_stream("big", value_bytes);
    EXPECT_TRUE(writer.is_ok()) << writer.status().to_string();
    for (uint64_t offset = 0; offset < value_bytes;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(piece.size(), value_bytes - offset));
      generate_value(offset, piece.data(), n);
      written_hash = hash64(std::string_view(piece.data(), n), written_hash);
      EXPECT_TRUE((*writer)->append(std::string_view(piece.data(), n)).is_ok());
      offset += n;
    }
    const Status committed = (*writer)->commit();
    EXPECT_TRUE(committed.is_ok()) << committed.to_string();
  }
  if (reopen) {
    EXPECT_TRUE(database->close().is_ok());
    database.reset();
    database = std::move(Database::open(options, directory.path())).value();
  }
  auto reader = database->get_stream({}, "big");
  EXPECT_TRUE(reader.is_ok() && *reader != nullptr);
  EXPECT_EQ((*reader)->size_bytes(), value_bytes);
  // Hashed in the same pieces as written, so equal bytes give an equal hash.
  uint64_t read_hash = 0;
  uint64_t read_bytes = 0;
  while (read_bytes < value_bytes) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(piece.size(), value_bytes - read_bytes));
    size_t filled = 0;
    while (filled < want) {
      const Result<size_t> read = (*reader)->read(piece.data() + filled, want - filled);
      EXPECT_TRUE(read.is_ok()) << read.status().to_string();
      if (!read.is_ok() || *read == 0) return UINT64_MAX;
      filled += *read;
    }
    read_hash = hash64(std::string_view(piece.data(), want), read_hash);
    read_bytes += want;
  }
  EXPECT_EQ(read_hash, written_hash);
  reader->reset();
  database.reset();
  const uint64_t peak_bytes = proc_status_bytes("VmHWM");
  const uint64_t growth_bytes = peak_bytes > baseline_bytes ? peak_bytes - baseline_bytes : 0;
  std::printf("peak RSS growth %llu KiB (%s) for a %llu MiB value streamed in and out\n",
              static_cast<unsigned long long>(growth_bytes >> 10),
              reset ? "VmHWM reset through clear_refs" : "against the previous VmHWM",
              static_cast<unsigned long long>(value_bytes >> 20));
  return growth_bytes;
}

// Proves put_stream/get_stream hold a chunk, not the value: a 64 MiB value goes in and out of a
// database on disk with peak RSS growth under 16 MiB.
TEST(DatabaseBlobMemoryTest, Streaming64MiBValueKeepsMemoryBounded) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's shadow memory and allocation quarantine inflate RSS whatever the code holds; the
  // unsanitized suite measures it.
  GTEST_SKIP() << "RSS is not meaningful under AddressSanitizer";
#endif
  EXPECT_LT(stream_round_trip_rss_growth(uint64_t{64} << 20, /*reopen=*/false), uint64_t{16} << 20);
}

// The largest value, 1 GiB, streamed in, kept across a reopen and streamed out intact, with
// peak RSS growth under 64 MiB. A few seconds on a local disk (it writes 1 GiB under /tmp).
TEST(DatabaseBlobMemoryTest, OneGiBValueRoundTripAcrossReopen) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RSS is not meaningful under AddressSanitizer";
#endif
  EXPECT_LT(stream_round_trip_rss_growth(kBlobValueBytesMax, /*reopen=*/true), uint64_t{64} << 20);
}

}  // namespace
}  // namespace cairn
