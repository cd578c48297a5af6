// Unit tests of the Database API: open options, locking, limits, snapshots, iterator lifetime,
// flush and file cleanup, the batch fsync policy, group commit, and a run on the real file system.
#include "storage/database.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/assert.h"
#include "io/clock.h"
#include "io/env_wrapper.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/limits.h"
#include "support/database_test_helpers.h"
#include "support/slow_sync_env.h"

namespace cairn {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  DatabaseTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
  }

  std::unique_ptr<Database> open() { return test::open_database(options_); }

  static std::string get(Database& database, std::string_view key,
                         const Snapshot* snapshot = nullptr) {
    return test::get_or_absent(database, key, snapshot);
  }

  size_t count_files(std::string_view suffix) {
    const Result<std::vector<std::string>> names = env_.list_dir("/db");
    EXPECT_TRUE(names.is_ok());
    size_t count = 0;
    for (const std::string& name : *names) count += name.ends_with(suffix) ? 1 : 0;
    return count;
  }

  FaultEnv env_{1};
  InlineScheduler scheduler_;
  Options options_;
};

// Values written before a close are read back after a reopen; removed keys stay removed.
TEST_F(DatabaseTest, ReopenKeepsWritesAndRemoves) {
  {
    auto database = open();
    ASSERT_TRUE(database->put("a", "1").is_ok());
    ASSERT_TRUE(database->put("b", "2").is_ok());
    ASSERT_TRUE(database->remove("a").is_ok());
    ASSERT_TRUE(database->put("", "empty key").is_ok());
  }
  auto database = open();
  EXPECT_EQ(get(*database, "a"), "(absent)");
  EXPECT_EQ(get(*database, "b"), "2");
  EXPECT_EQ(get(*database, ""), "empty key");
  EXPECT_EQ(database->last_sequence(), 4u);
}

// Many writes with no iterator in between are sorted in the background (sort-ahead), so that the
// next iterator need not sort them all first; what iterators see is unchanged.
TEST_F(DatabaseTest, ManyPendingWritesAreSortedAhead) {
  options_.write_buffer_size_bytes = 64 << 20;  // no flush: every entry stays in the memtable
  auto database = open();
  constexpr int kKeys = 300000;
  for (int first = 0; first < kKeys; first += 1000) {
    WriteBatch batch;
    for (int i = first; i < first + 1000; i++) {
      batch.put("key" + std::to_string(kKeys - i), "");  // descending
    }
    ASSERT_TRUE(database->write(batch).is_ok());
  }
  EXPECT_EQ(database->stats().flush_count, 0u);
  EXPECT_GE(database->stats().memtable_sort_ahead_count, 1u);
  auto it = database->new_iterator(ReadOptions());
  int seen = 0;
  std::string previous;
  for (it->seek_to_first(); it->valid(); it->next(), seen++) {
    ASSERT_LT(previous, std::string(it->key()));
    previous = std::string(it->key());
  }
  ASSERT_TRUE(it->status().is_ok());
  EXPECT_EQ(seen, kKeys);
}

// create_if_missing=false and error_if_exists are honoured with InvalidArgument.
TEST_F(DatabaseTest, OpenOptionsAreHonoured) {
  options_.create_if_missing = false;
  auto missing = Database::open(options_, "/db");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_TRUE(missing.status().is_invalid_argument()) << missing.status().to_string();
  options_.create_if_missing = true;
  open().reset();
  options_.error_if_exists = true;
  auto exists = Database::open(options_, "/db");
  ASSERT_FALSE(exists.is_ok());
  EXPECT_TRUE(exists.status().is_invalid_argument());
}

// Options that would break an invariant are refused at open with InvalidArgument.
TEST_F(DatabaseTest, InvalidOptionsAreRefused) {
  const auto refuses = [&](const Options& options) {
    auto database = Database::open(options, "/db");
    return !database.is_ok() && database.status().is_invalid_argument();
  };
  Options options = options_;
  options.max_open_tables = 0;
  EXPECT_TRUE(refuses(options));
  options = options_;
  options.table.compression = static_cast<CompressionType>(9);
  EXPECT_TRUE(refuses(options));
  options = options_;
  options.compaction.level0_stop_writes_trigger = options.compaction.level0_compaction_trigger - 1;
  EXPECT_TRUE(refuses(options));
  options = options_;
  options.compaction.level_size_ratio = 1;
  EXPECT_TRUE(refuses(options));
  for (const double fraction : {-0.1, 1.5, std::nan("")}) {
    options = options_;
    options.blob_gc_live_fraction_min = fraction;
    EXPECT_TRUE(refuses(options)) << fraction;
  }
  EXPECT_NE(open(), nullptr);
}

// A second open of a database that is open answers Busy; after close it opens.
TEST_F(DatabaseTest, SecondOpenIsBusy) {
  auto database = open();
  auto second = Database::open(options_, "/db");
  ASSERT_FALSE(second.is_ok());
  EXPECT_TRUE(second.status().is_busy()) << second.status().to_string();
  ASSERT_TRUE(database->close().is_ok());
  EXPECT_NE(open(), nullptr);
}

// Keys over the engine's limit are refused with InvalidArgument and nothing is written.
TEST_F(DatabaseTest, OversizedKeyIsRefused) {
  auto database = open();
  const std::string oversized(kKeyBytesMax + 1, 'k');
  const Status status = database->put(oversized, "v");
  EXPECT_TRUE(status.is_invalid_argument()) << status.to_string();
  EXPECT_TRUE(database->put(oversized, std::string(200 << 10, 'v')).is_invalid_argument());
  EXPECT_TRUE(database->remove(oversized).is_invalid_argument());
  WriteBatch batch;
  batch.put("fine", "v");
  batch.remove(oversized);
  EXPECT_TRUE(database->write(batch).is_invalid_argument());
  EXPECT_EQ(database->last_sequence(), 0u);
  EXPECT_TRUE(database->put(std::string(kKeyBytesMax, 'k'), "v").is_ok());
  EXPECT_TRUE(database->write(WriteBatch()).is_ok());  // an empty batch is a no-op
  EXPECT_EQ(database->last_sequence(), 1u);
}

// A snapshot keeps seeing old values across overwrites, removes and flushes.
TEST_F(DatabaseTest, SnapshotSeesThePastAcrossFlushes) {
  auto database = open();
  ASSERT_TRUE(database->put("k", "old").is_ok());
  const Snapshot* snapshot = database->get_snapshot();
  ASSERT_TRUE(database->put("k", "new").is_ok());
  ASSERT_TRUE(database->put("gone", "x").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->remove("k").is_ok());
  EXPECT_EQ(get(*database, "k", snapshot), "old");
  EXPECT_EQ(get(*database, "gone", snapshot), "(absent)");
  EXPECT_EQ(get(*database, "k"), "(absent)");
  database->release_snapshot(snapshot);
}

// A flush writes only the versions a reader can still see: of a key's versions in the memtable,
// the newest and the newest each snapshot sees; a deleted key keeps only its tombstone.
TEST_F(DatabaseTest, FlushLeavesOutVersionsNoReaderCanSee) {
  auto database = open();
  ASSERT_TRUE(database->put("k", "v1").is_ok());
  ASSERT_TRUE(database->put("k", "v2").is_ok());
  const Snapshot* snapshot = database->get_snapshot();
  ASSERT_TRUE(database->put("k", "v3").is_ok());
  ASSERT_TRUE(database->put("k", "v4").is_ok());
  ASSERT_TRUE(database->put("d", "x").is_ok());
  ASSERT_TRUE(database->remove("d").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  const std::shared_ptr<const Version> version = database->current_version();
  ASSERT_EQ(version->files(0).size(), 1u);
  EXPECT_EQ(version->files(0)[0]->entry_count, 3u);  // k@v4, k@v2, the tombstone of d
  EXPECT_EQ(version->files(0)[0]->deletion_count, 1u);
  EXPECT_EQ(get(*database, "k", snapshot), "v2");
  EXPECT_EQ(get(*database, "k"), "v4");
  EXPECT_EQ(get(*database, "d"), "(absent)");
  database->release_snapshot(snapshot);
}

// An iterator keeps reading the state it started from while flushes replace the memtable.
TEST_F(DatabaseTest, IteratorOutlivesFlushes) {
  auto database = open();
  for (int i = 0; i < 100; i++) ASSERT_TRUE(database->put("k" + std::to_string(i), "v").is_ok());
  auto iterator = database->new_iterator({});
  ASSERT_TRUE(database->put("k50", "changed").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put("k99", "changed").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  int count = 0;
  for (iterator->seek_to_first(); iterator->valid(); iterator->next(), count++) {
    EXPECT_EQ(iterator->value(), "v") << iterator->key();
  }
  EXPECT_TRUE(iterator->status().is_ok());
  EXPECT_EQ(count, 100);
}

// A flush writes one level-0 table and deletes the WAL it made obsolete; a reopen replays the
// live WAL into a table and keeps exactly one WAL and one MANIFEST.
TEST_F(DatabaseTest, FlushWritesATableAndRemovesObsoleteFiles) {
  auto database = open();
  ASSERT_TRUE(database->put("a", "1").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  EXPECT_EQ(database->level0_table_count(), 1u);
  EXPECT_EQ(count_files(".log"), 1u);
  ASSERT_TRUE(database->flush().is_ok());  // nothing new to flush
  EXPECT_EQ(database->level0_table_count(), 1u);
  ASSERT_TRUE(database->put("b", "2").is_ok());
  database.reset();
  database = open();
  EXPECT_EQ(database->level0_table_count(), 2u);
  EXPECT_EQ(count_files(".log"), 1u);
  EXPECT_EQ(count_files(".sst"), 2u);
  EXPECT_EQ(get(*database, "b"), "2");
  const Result<std::vector<std::string>> names = env_.list_dir("/db");
  ASSERT_TRUE(names.is_ok());
  EXPECT_EQ(std::count_if(names->begin(), names->end(),
                          [](const std::string& name) { return name.starts_with("MANIFEST-"); }),
            1);
}

// close() returns only once background tasks are done with the database, including the file
// deletion a flush runs after it has dropped its memtable (closing then destroying the database
// in that window was a use-after-free).
TEST_F(DatabaseTest, CloseWaitsForTheDeletionsAfterABackgroundFlush) {
  class SlowListEnv final : public EnvWrapper {
   public:
    using EnvWrapper::EnvWrapper;
    Result<std::vector<std::string>> list_dir(const std::string& path) override {
      listing.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      Result<std::vector<std::string>> names = target()->list_dir(path);
      listing.fetch_sub(1);
      return names;
    }
    std::atomic<int> listing{0};
  } slow(&env_);
  options_.env = &slow;
  ThreadPoolScheduler pool(1);
  options_.scheduler = &pool;
  for (int round = 0; round < 3; round++) {
    auto database = open();
    ASSERT_TRUE(database->put("k", "v").is_ok());
    ASSERT_TRUE(database->flush().is_ok());  // returns once the memtable is a table
    ASSERT_TRUE(database->close().is_ok());
    EXPECT_EQ(slow.listing.load(), 0) << "close() returned while the flush task was deleting";
  }
}

// Writes after close are refused rather than lost.
TEST_F(DatabaseTest, WritesAfterCloseAreRefused) {
  auto database = open();
  ASSERT_TRUE(database->close().is_ok());
  EXPECT_FALSE(database->put("k", "v").is_ok());
}

// fsync=batch syncs the WAL only once the interval has passed, and on sync_wal().
TEST_F(DatabaseTest, BatchPolicySyncsOncePerInterval) {
  ManualClock clock(0);
  test::SlowSyncEnv counting(&env_, ".log", std::chrono::microseconds(0));
  options_.env = &counting;
  options_.clock = &clock;
  options_.fsync = FsyncPolicy::kBatch;
  options_.fsync_batch_interval_ms = 1000;
  auto database = open();
  const uint64_t after_open = counting.slow_sync_count();
  for (int i = 0; i < 10; i++) ASSERT_TRUE(database->put("k", "v").is_ok());
  EXPECT_EQ(counting.slow_sync_count(), after_open);
  clock.advance_micros(1000 * 1000);
  ASSERT_TRUE(database->put("k", "v").is_ok());
  EXPECT_EQ(counting.slow_sync_count(), after_open + 1);
  ASSERT_TRUE(database->put("k", "v").is_ok());
  EXPECT_EQ(counting.slow_sync_count(), after_open + 1);
  ASSERT_TRUE(database->sync_wal().is_ok());
  EXPECT_EQ(counting.slow_sync_count(), after_open + 2);
}

// Group commit: concurrent writers with fsync=always share WAL syncs, and every write lands.
TEST_F(DatabaseTest, ConcurrentWritersShareFsyncs) {
  test::SlowSyncEnv slow(&env_, ".log", std::chrono::milliseconds(1));
  options_.env = &slow;
  auto database = open();
  const uint64_t syncs_before = slow.slow_sync_count();
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; i++) {
        EXPECT_TRUE(database->put("t" + std::to_string(t) + "-" + std::to_string(i), "v").is_ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const uint64_t syncs = slow.slow_sync_count() - syncs_before;
  EXPECT_LT(syncs, kThreads * kWritesPerThread / 2) << "writers did not share fsyncs";
  EXPECT_EQ(database->last_sequence(), static_cast<uint64_t>(kThreads * kWritesPerThread));
  for (int t = 0; t < kThreads; t++) {
    EXPECT_EQ(get(*database, "t" + std::to_string(t) + "-" + std::to_string(kWritesPerThread - 1)),
              "v");
  }
}

// A WAL sync waits for the disk without the database's lock: reads and last_sequence() during
// a slow sync return while it is still running (they once waited for the whole fsync, which
// under --fsync everysec stalled cairnd's event loop once a second).
TEST_F(DatabaseTest, ReadsDoNotWaitForAWalSync) {
  test::SlowSyncEnv slow(&env_, ".log", std::chrono::seconds(1));
  options_.env = &slow;
  options_.fsync = FsyncPolicy::kNever;
  auto database = open();
  ASSERT_TRUE(database->put("k", "v").is_ok());
  std::atomic<bool> synced{false};
  std::thread syncer([&] {
    EXPECT_TRUE(database->sync_wal().is_ok());
    synced = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the sync is under way
  EXPECT_EQ(get(*database, "k"), "v");
  EXPECT_EQ(database->last_sequence(), 1u);
  EXPECT_FALSE(synced.load()) << "the reads waited for the sync";
  syncer.join();
  EXPECT_TRUE(synced.load());
}

// The size the operating system reports for the database's one WAL file.
uint64_t wal_file_bytes(const std::string& directory) {
  const Result<std::vector<std::string>> names = Env::posix()->list_dir(directory);
  CAIRN_ASSERT(names.is_ok());
  std::optional<uint64_t> bytes;
  for (const std::string& name : *names) {
    if (!name.ends_with(".log")) continue;
    CAIRN_ASSERT(!bytes.has_value());
    const Result<uint64_t> size = Env::posix()->file_size(directory + "/" + name);
    CAIRN_ASSERT(size.is_ok());
    bytes = *size;
  }
  CAIRN_ASSERT(bytes.has_value());
  return *bytes;
}

void remove_directory(const std::string& directory) {
  const Result<std::vector<std::string>> names = Env::posix()->list_dir(directory);
  ASSERT_TRUE(names.is_ok());
  for (const std::string& name : *names) {
    ASSERT_TRUE(Env::posix()->remove_file(directory + "/" + name).is_ok());
  }
  ASSERT_TRUE(Env::posix()->remove_dir(directory).is_ok());
}

// Proves a write reaches the operating system before it returns by default, and that with
// flush_wal_per_write off it waits in the process until flush_wal() (or a sync), then is all there.
TEST(DatabasePosixTest, DeferredWalFlushWaitsForFlushWal) {
  for (const bool per_write : {true, false}) {
    SCOPED_TRACE(per_write ? "per write" : "deferred");
    char directory_template[] = "/tmp/cairn-database-test-XXXXXX";
    ASSERT_NE(mkdtemp(directory_template), nullptr);
    const std::string directory = directory_template;
    Options options;
    options.fsync = FsyncPolicy::kNever;
    options.flush_wal_per_write = per_write;
    {
      auto database = Database::open(options, directory);
      ASSERT_TRUE(database.is_ok()) << database.status().to_string();
      const uint64_t empty_bytes = wal_file_bytes(directory);
      ASSERT_TRUE((*database)->put("k1", "v1").is_ok());
      const uint64_t after_one_bytes = wal_file_bytes(directory);
      EXPECT_EQ(after_one_bytes > empty_bytes, per_write);
      ASSERT_TRUE((*database)->put("k2", "v2").is_ok());
      ASSERT_TRUE((*database)->flush_wal().is_ok());
      const uint64_t flushed_bytes = wal_file_bytes(directory);
      EXPECT_GT(flushed_bytes, after_one_bytes);
      ASSERT_TRUE((*database)->put("k3", "v3").is_ok());
      ASSERT_TRUE((*database)->sync_wal().is_ok());
      EXPECT_GT(wal_file_bytes(directory), flushed_bytes);
    }
    {
      auto database = Database::open(options, directory);
      ASSERT_TRUE(database.is_ok()) << database.status().to_string();
      for (const char* key : {"k1", "k2", "k3"}) {
        auto value = (*database)->get({}, key);
        ASSERT_TRUE(value.is_ok());
        EXPECT_TRUE(value->has_value()) << key;
      }
    }
    remove_directory(directory);
  }
}

// The engine on the real file system with its default background thread.
TEST(DatabasePosixTest, RoundTripOnDisk) {
  char directory_template[] = "/tmp/cairn-database-test-XXXXXX";
  ASSERT_NE(mkdtemp(directory_template), nullptr);
  const std::string directory = directory_template;
  Options options;
  options.write_buffer_size_bytes = 64 << 10;
  {
    auto database = Database::open(options, directory);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    for (int i = 0; i < 5000; i++) {
      ASSERT_TRUE((*database)->put("key" + std::to_string(i), std::string(100, 'v')).is_ok());
    }
    // Many memtables went to tables (which compaction may have merged since).
    EXPECT_GT((*database)->stats().flush_count, 1u);
  }
  {
    auto database = Database::open(options, directory);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    auto value = (*database)->get({}, "key4999");
    ASSERT_TRUE(value.is_ok());
    EXPECT_EQ(value->value_or("absent"), std::string(100, 'v'));
  }
  remove_directory(directory);
}

}  // namespace
}  // namespace cairn
