// Manual compaction (Database::compact_range): deleted data leaves the directory, the compaction
// filter reaches entries already at the bottom, a range leaves tables outside it alone, snapshots
// keep what they see, writes made during it are kept (also after reopening), mostly dead blob
// files are collected, and disabling it stops it with the tree intact.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <thread>

#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"
#include "support/tree_invariants.h"

namespace cairn {
namespace {

using test::key_of;

// Drops the keys that begin with `prefix` once armed; counts what it is asked.
class DropWhenArmed final : public CompactionFilter {
 public:
  bool should_drop(std::string_view key, std::optional<std::string_view> value) const override {
    (void)value;
    asked.fetch_add(1);
    if (on_ask) on_ask();
    return armed.load() && key.starts_with(prefix);
  }

  std::atomic<bool> armed{false};
  std::string prefix;
  mutable std::atomic<uint64_t> asked{0};
  std::function<void()> on_ask;  // set before the database opens
};

class ManualCompactionTest : public ::testing::Test {
 protected:
  ManualCompactionTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.write_buffer_size_bytes = 32 << 10;
    options_.table.compression = CompressionType::kNone;  // sizes below are of raw data
    options_.compaction.level1_size_bytes = 128 << 10;
    options_.compaction.target_file_size_bytes = 32 << 10;
    options_.compaction.filter = &filter_;
  }

  std::unique_ptr<Database> open() { return test::open_database(options_); }

  static std::string get(Database& database, std::string_view key,
                         const Snapshot* snapshot = nullptr) {
    return test::get_or_absent(database, key, snapshot);
  }

  // The bytes of the directory's files whose names end with `suffix`.
  uint64_t directory_bytes(std::string_view suffix) {
    uint64_t total = 0;
    for (const std::string& name : test::files_ending_with(env_, "/db", suffix)) {
      const Result<uint64_t> size = env_.file_size("/db/" + name);
      EXPECT_TRUE(size.is_ok());
      total += size.is_ok() ? *size : 0;
    }
    return total;
  }

  static void put_range(Database& database, int first, int count, const std::string& value) {
    for (int i = first; i < first + count; i++) {
      ASSERT_TRUE(database.put(key_of(i), value).is_ok());
    }
  }

  static void expect_all_at_last_level(Database& database) {
    const std::shared_ptr<const Version> version = database.current_version();
    for (int level = 0; level < kLevelCount - 1; level++) {
      EXPECT_TRUE(version->files(level).empty()) << "level " << level;
    }
    test::expect_tree_invariants(*version);
  }

  FaultEnv env_{5};
  InlineScheduler scheduler_;
  DropWhenArmed filter_;
  Options options_;
};

// Removing every key and compacting leaves almost no table bytes, and the removal survives a
// reopen (no tombstone was dropped while something older could reappear).
TEST_F(ManualCompactionTest, DeletedKeysLeaveTheDirectory) {
  auto database = open();
  put_range(*database, 0, 3000, std::string(200, 'v'));
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  const uint64_t full_bytes = directory_bytes(".sst");
  ASSERT_GT(full_bytes, uint64_t{500} << 10);

  for (int i = 0; i < 3000; i++) ASSERT_TRUE(database->remove(key_of(i)).is_ok());
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  EXPECT_LT(directory_bytes(".sst"), full_bytes / 50);
  expect_all_at_last_level(*database);
  EXPECT_EQ(database->stats().manual_compaction_count, 1u);

  database.reset();
  database = open();
  for (int i = 0; i < 3000; i += 97) EXPECT_EQ(get(*database, key_of(i)), "(absent)");
  auto iterator = database->new_iterator({});
  iterator->seek_to_first();
  EXPECT_FALSE(iterator->valid());
}

// Entries a background compaction never rewrites (they sit at the bottom, no level is due) meet
// the filter only through a manual compaction; what it drops leaves the directory.
TEST_F(ManualCompactionTest, FilterReachesEntriesAtTheBottom) {
  filter_.prefix = "key00";  // keys 0 to 9999 of key_of: the first 2000 written below
  auto database = open();
  put_range(*database, 0, 2000, std::string(200, 'd'));
  put_range(*database, 10000, 500, std::string(200, 'k'));
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  expect_all_at_last_level(*database);
  const uint64_t before_bytes = directory_bytes(".sst");

  filter_.armed = true;
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  EXPECT_EQ(directory_bytes(".sst"), before_bytes);  // nothing was due
  EXPECT_EQ(get(*database, key_of(5)), std::string(200, 'd'));

  const uint64_t asked_before = filter_.asked.load();
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  EXPECT_GE(filter_.asked.load() - asked_before, 2500u);
  EXPECT_LT(directory_bytes(".sst"), before_bytes * 2 / 5);
  for (int i = 0; i < 2000; i += 37) EXPECT_EQ(get(*database, key_of(i)), "(absent)");
  for (int i = 10000; i < 10500; i += 37) EXPECT_EQ(get(*database, key_of(i)), std::string(200, 'k'));
  expect_all_at_last_level(*database);
}

// Three versions of some keys on three levels (the last, a level above it, level 0): each step
// writes newer data above older data of the same keys, so the newest version is read, also
// between steps (read from the filter, which the steps call).
TEST_F(ManualCompactionTest, NewerVersionsStayAboveOlderOnes) {
  options_.compaction.level1_size_bytes = 16 << 10;
  options_.compaction.level_size_ratio = 4;
  Database* opened = nullptr;
  std::atomic<bool> check_reads{false};
  int first_newest = 0;  // keys first_newest to first_newest + 49 have the third version
  int asked = 0;
  const auto version_of = [&](int i) {
    return i >= first_newest && i < first_newest + 50 ? '3' : i < 1000 ? '2' : '1';
  };
  filter_.on_ask = [&] {
    if (!check_reads.load() || ++asked % 64 != 0) return;
    for (int i : {first_newest + 10, 999, 2000}) {
      EXPECT_EQ(get(*opened, key_of(i)), std::string(200, version_of(i))) << i;
    }
  };
  auto database = open();
  opened = database.get();
  put_range(*database, 0, 3000, std::string(200, '1'));
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  put_range(*database, 0, 1000, std::string(200, '2'));
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  // The third version goes to keys whose second is in the shallowest level in use above the last.
  const std::shared_ptr<const Version> settled = database->current_version();
  int shallowest = 1;
  while (shallowest < kLevelCount - 1 && settled->files(shallowest).empty()) shallowest++;
  ASSERT_LT(shallowest, kLevelCount - 1) << "the second version is all in the last level";
  const std::string_view smallest = extract_user_key(settled->files(shallowest)[0]->smallest_key);
  first_newest = std::stoi(std::string(smallest.substr(3)));
  ASSERT_LT(first_newest + 50, 1000);
  put_range(*database, first_newest, 50, std::string(200, '3'));

  check_reads = true;
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  check_reads = false;
  EXPECT_GT(asked, 1000);
  expect_all_at_last_level(*database);
  for (int i = 0; i < 3000; i++) ASSERT_EQ(get(*database, key_of(i)), std::string(200, version_of(i))) << i;
}

// A range rewrites the tables overlapping it and leaves the others alone.
TEST_F(ManualCompactionTest, RangeLeavesTablesOutsideItAlone) {
  filter_.prefix = "key";
  auto database = open();
  put_range(*database, 0, 10000, std::string(100, 'v'));
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  ASSERT_GT(database->current_version()->files(kLevelCount - 1).size(), 20u);

  filter_.armed = true;
  ASSERT_TRUE(database->compact_range(key_of(4000), key_of(4999)).is_ok());
  for (int i = 4000; i < 5000; i += 7) EXPECT_EQ(get(*database, key_of(i)), "(absent)") << i;
  // Tables hold about 250 keys: those well outside the range were not rewritten.
  for (int i = 0; i < 3500; i += 7) EXPECT_EQ(get(*database, key_of(i)), std::string(100, 'v'));
  for (int i = 5500; i < 10000; i += 7) EXPECT_EQ(get(*database, key_of(i)), std::string(100, 'v'));
  test::expect_tree_invariants(*database->current_version());
}

// A snapshot taken before the deletes and overwrites still reads every value it saw; once it is
// released, the next manual compaction reclaims their space.
TEST_F(ManualCompactionTest, SnapshotTakenBeforeKeepsItsValues) {
  auto database = open();
  put_range(*database, 0, 2000, std::string(200, 'a'));
  const Snapshot* snapshot = database->get_snapshot();
  for (int i = 0; i < 2000; i++) {
    ASSERT_TRUE((i % 2 == 0 ? database->remove(key_of(i)) : database->put(key_of(i), "b")).is_ok());
  }
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  const uint64_t kept_bytes = directory_bytes(".sst");
  for (int i = 0; i < 2000; i += 13) {
    EXPECT_EQ(get(*database, key_of(i), snapshot), std::string(200, 'a'));
    EXPECT_EQ(get(*database, key_of(i)), i % 2 == 0 ? "(absent)" : "b");
  }

  database->release_snapshot(snapshot);
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  EXPECT_LT(directory_bytes(".sst"), kept_bytes / 5);
  for (int i = 0; i < 2000; i += 13) EXPECT_EQ(get(*database, key_of(i)), i % 2 == 0 ? "(absent)" : "b");
}

// Writes and snapshot reads go on while manual compactions run on another thread with a
// background thread pool: nothing written is lost, before or after reopening.
TEST_F(ManualCompactionTest, WritesDuringTheCompactionAreKept) {
  ThreadPoolScheduler pool(2);
  options_.scheduler = &pool;
  auto database = open();
  put_range(*database, 0, 4000, std::string(100, 'o'));
  const Snapshot* snapshot = database->get_snapshot();

  std::atomic<bool> writing{true};
  std::thread compactor([&] {
    while (writing.load()) {
      EXPECT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
    }
  });
  for (int i = 0; i < 4000; i++) {
    ASSERT_TRUE(database->put(key_of(i), "new" + std::to_string(i)).is_ok());
    ASSERT_TRUE(database->put(key_of(100000 + i), std::string(50, 'n')).is_ok());
    if (i % 500 == 0) {
      EXPECT_EQ(get(*database, key_of(i), snapshot), std::string(100, 'o'));
    }
  }
  writing = false;
  compactor.join();
  EXPECT_GT(database->stats().manual_compaction_count, 0u);

  for (int i = 0; i < 4000; i++) {
    ASSERT_EQ(get(*database, key_of(i)), "new" + std::to_string(i));
    ASSERT_EQ(get(*database, key_of(i), snapshot), std::string(100, 'o'));
  }
  database->release_snapshot(snapshot);
  test::expect_tree_invariants(*database->current_version());
  ASSERT_TRUE(database->close().is_ok());
  database.reset();
  database = open();
  for (int i = 0; i < 4000; i++) {
    ASSERT_EQ(get(*database, key_of(i)), "new" + std::to_string(i));
    ASSERT_EQ(get(*database, key_of(100000 + i)), std::string(50, 'n'));
  }
}

// Blob files: one whose values are all dropped is deleted; one left mostly dead has its live
// values moved out and is deleted too, before compact_range returns (with background threads,
// which would collect it later anyway); the values left read back intact.
TEST_F(ManualCompactionTest, BlobGarbageIsCollected) {
  ThreadPoolScheduler pool(2);
  options_.scheduler = &pool;
  options_.blob_value_threshold_bytes = 100;
  options_.blob_file_size_bytes = 8 << 10;  // about eight values per file
  std::map<std::string, std::string> expected;
  {
    auto database = open();
    for (int i = 0; i < 80; i++) {
      expected[key_of(i)] = std::string(1000, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(database->put(key_of(i), expected[key_of(i)]).is_ok());
    }
  }
  auto database = open();  // every blob file is sealed now
  const size_t files_before = test::files_ending_with(env_, "/db", ".blob").size();
  ASSERT_GE(files_before, 8u);
  // Keys 0 to 39 go, and three in four of the rest.
  for (int i = 0; i < 80; i++) {
    if (i < 40 || i % 4 != 0) {
      ASSERT_TRUE(database->remove(key_of(i)).is_ok());
      expected.erase(key_of(i));
    }
  }
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  EXPECT_GT(database->stats().blob_gc_count, 0u);
  EXPECT_LE(test::files_ending_with(env_, "/db", ".blob").size(), 3u);
  for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
  database.reset();
  database = open();
  for (const auto& [key, value] : expected) EXPECT_EQ(get(*database, key), value) << key;
}

// Once disabled, manual compaction answers Busy; one stopped in the middle of a step leaves the
// tree whole, and the database reads, writes and closes as usual.
TEST_F(ManualCompactionTest, DisablingStopsIt) {
  Database* opened = nullptr;
  std::atomic<bool> disable_on_ask{false};
  filter_.on_ask = [&] {
    if (disable_on_ask.load()) opened->disable_manual_compaction();
  };
  auto database = open();
  opened = database.get();
  put_range(*database, 0, 3000, std::string(100, 'v'));
  ASSERT_TRUE(database->flush().is_ok());

  disable_on_ask = true;
  const Status stopped = database->compact_range(std::nullopt, std::nullopt);
  EXPECT_TRUE(stopped.is_busy()) << stopped.to_string();
  EXPECT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_busy());
  test::expect_tree_invariants(*database->current_version());
  for (int i = 0; i < 3000; i += 11) EXPECT_EQ(get(*database, key_of(i)), std::string(100, 'v'));
  ASSERT_TRUE(database->put("after", "ok").is_ok());
  EXPECT_EQ(get(*database, "after"), "ok");
  EXPECT_TRUE(database->close().is_ok());
}

}  // namespace
}  // namespace cairn
