// Compaction: overwritten and deleted data is reclaimed, snapshots keep what they see, the
// compaction filter drops values without resurrecting older ones, levels stay disjoint, writes
// are throttled so level 0 stays bounded, and the picker sizes levels from the bottom up.
#include "storage/compaction.h"

#include <gtest/gtest.h>

#include <thread>

#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/block_cache.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"
#include "support/tree_invariants.h"

namespace cairn {
namespace {

using test::key_of;

uint64_t table_bytes(const DatabaseStats& stats) {
  uint64_t total = 0;
  for (const DatabaseStats::Level& level : stats.levels) total += level.size_bytes;
  return total;
}

class CompactionTest : public ::testing::Test {
 protected:
  CompactionTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.write_buffer_size_bytes = 32 << 10;
    options_.table.compression = CompressionType::kNone;  // sizes below are of raw data
    options_.compaction.level1_size_bytes = 128 << 10;
    options_.compaction.target_file_size_bytes = 32 << 10;
  }

  std::unique_ptr<Database> open() { return test::open_database(options_); }

  static std::string get(Database& database, const std::string& key,
                         const Snapshot* snapshot = nullptr) {
    return test::get_or_absent(database, key, snapshot);
  }

  FaultEnv env_{3};
  InlineScheduler scheduler_;
  Options options_;
};

// Overwriting every key many times leaves about one copy of the data once compaction settles:
// space amplification well under 1.3, and the tree keeps its invariants.
TEST_F(CompactionTest, OverwritesAreReclaimed) {
  auto database = open();
  constexpr int kKeys = 2000;
  const std::string value(100, 'v');
  for (int round = 0; round < 6; round++) {
    for (int i = 0; i < kKeys; i++) ASSERT_TRUE(database->put(key_of(i), value).is_ok());
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  const DatabaseStats stats = database->stats();
  const double live_bytes = kKeys * (9.0 + 8 + 100);
  EXPECT_LT(static_cast<double>(table_bytes(stats)) / live_bytes, 1.3) << format_stats(stats);
  EXPECT_GT(stats.compaction_count, 0u);
  EXPECT_GT(stats.entries_dropped, static_cast<uint64_t>(kKeys));
  test::expect_tree_invariants(*database->current_version());
  EXPECT_EQ(get(*database, key_of(kKeys - 1)), value);
}

// Proves compactions read their inputs without adding blocks to the block cache: only readers
// fill it.
TEST_F(CompactionTest, CompactionsDoNotFillTheBlockCache) {
  options_.table.block_cache = std::make_shared<BlockCache>(size_t{8} << 20);
  auto database = open();
  const std::string value(100, 'v');
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 2000; i++) ASSERT_TRUE(database->put(key_of(i), value).is_ok());
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  ASSERT_GT(database->stats().compaction_count, 0u);
  EXPECT_EQ(options_.table.block_cache->stats().inserts, 0u);
  EXPECT_EQ(get(*database, key_of(7)), value);
  EXPECT_GT(options_.table.block_cache->stats().inserts, 0u);
}

// Deleting every key and compacting to the bottom leaves no tables: tombstones are dropped once
// nothing below can hold their keys.
TEST_F(CompactionTest, TombstonesAreDroppedAtTheBottom) {
  auto database = open();
  for (int i = 0; i < 3000; i++)
    ASSERT_TRUE(database->put(key_of(i), std::string(100, 'v')).is_ok());
  for (int i = 0; i < 3000; i++) ASSERT_TRUE(database->remove(key_of(i)).is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  // Whatever is left is small: the data is gone and so are most tombstones.
  EXPECT_LT(table_bytes(database->stats()), 3000u * 30) << format_stats(database->stats());
  auto iterator = database->new_iterator({});
  iterator->seek_to_first();
  EXPECT_FALSE(iterator->valid());
}

// The entries and tombstones the current version's tables hold.
std::pair<uint64_t, uint64_t> table_entries(const Database& database) {
  uint64_t entries = 0;
  uint64_t tombstones = 0;
  const auto version = database.current_version();
  for (int level = 0; level < kLevelCount; level++) {
    for (const auto& file : version->files(level)) {
      entries += file->entry_count;
      tombstones += file->deletion_count;
    }
  }
  return {entries, tombstones};
}

// Deleting most of a settled tree and writing nothing more still reclaims the space: the tables
// of tombstones are compacted down to the data they delete though no level is over its target,
// until neither is left (a delete-heavy workload would otherwise keep its dead data forever).
TEST_F(CompactionTest, TablesOfTombstonesAreCompactedDownUntilTheyMeetTheirData) {
  options_.write_buffer_size_bytes = 16 << 10;
  auto database = open();
  constexpr int kKeys = 6000;
  for (int i = 0; i < kKeys; i++) {
    ASSERT_TRUE(database->put(key_of(i), std::string(100, 'v')).is_ok());
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  ASSERT_EQ(table_entries(*database), std::make_pair(uint64_t{kKeys}, uint64_t{0}));
  int deepest = 0;
  for (int level = 1; level < kLevelCount; level++) {
    if (!database->current_version()->files(level).empty()) deepest = level;
  }

  for (int i = 0; i < kKeys; i++) {
    if (i % 4 != 0) {
      ASSERT_TRUE(database->remove(key_of(i)).is_ok());
    }
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());

  EXPECT_EQ(table_entries(*database), std::make_pair(uint64_t{kKeys / 4}, uint64_t{0}))
      << format_stats(database->stats());
  EXPECT_TRUE(database->current_version()->files(0).empty());
  EXPECT_GT(deepest, 0);
  test::expect_tree_invariants(*database->current_version());
  for (int i = 0; i < kKeys; i += 3) {
    EXPECT_EQ(get(*database, key_of(i)), i % 4 == 0 ? std::string(100, 'v') : "(absent)");
  }
}

// A snapshot keeps seeing the value it saw while compactions drop newer overwrites' victims.
TEST_F(CompactionTest, SnapshotsSurviveCompaction) {
  auto database = open();
  for (int i = 0; i < 1000; i++) ASSERT_TRUE(database->put(key_of(i), "old").is_ok());
  const Snapshot* snapshot = database->get_snapshot();
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 1000; i++) {
      ASSERT_TRUE(database->put(key_of(i), "new" + std::string(100, 'n')).is_ok());
    }
    ASSERT_TRUE(database->remove(key_of(7)).is_ok());
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  ASSERT_GT(database->stats().compaction_count, 0u);
  for (int i = 0; i < 1000; i += 37) EXPECT_EQ(get(*database, key_of(i), snapshot), "old");
  EXPECT_EQ(get(*database, key_of(7), snapshot), "old");
  EXPECT_EQ(get(*database, key_of(7)), "(absent)");
  database->release_snapshot(snapshot);
}

// Values the filter drops disappear at compaction, and the older value below does not come back.
TEST_F(CompactionTest, FilterDropsWithoutResurrectingOlderValues) {
  struct DropExpired final : CompactionFilter {
    bool should_drop(std::string_view, std::optional<std::string_view> value) const override {
      return value.has_value() && value->starts_with("expired");
    }
  } filter;
  options_.compaction.filter = &filter;
  auto database = open();
  for (int i = 0; i < 2000; i++) ASSERT_TRUE(database->put(key_of(i), "original").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  for (int i = 0; i < 2000; i += 2) {
    ASSERT_TRUE(database->put(key_of(i), "expired" + std::string(100, 'x')).is_ok());
  }
  for (int i = 0; i < 20000; i++) {  // churn other keys so every range is compacted
    ASSERT_TRUE(database->put("z" + key_of(i % 4000), std::string(100, 'z')).is_ok());
  }
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->wait_for_compactions().is_ok());
  int dropped = 0;
  for (int i = 0; i < 2000; i += 2) {
    const std::string value = get(*database, key_of(i));
    EXPECT_NE(value, "original") << key_of(i) << " resurrected";
    dropped += value == "(absent)";
  }
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(get(*database, key_of(1)), "original");
}

// With background threads and tiny limits, writers are throttled so level 0 never holds more
// tables than the stop trigger.
TEST(CompactionThrottleTest, LevelZeroStaysBounded) {
  FaultEnv env(5);
  Options options;
  options.env = &env;  // the database's own two background threads
  options.write_buffer_size_bytes = 16 << 10;
  options.compaction.level0_compaction_trigger = 2;
  options.compaction.level0_slowdown_writes_trigger = 3;
  options.compaction.level0_stop_writes_trigger = 4;
  options.compaction.level1_size_bytes = 64 << 10;
  options.compaction.target_file_size_bytes = 16 << 10;
  auto database = Database::open(options, "/db");
  ASSERT_TRUE(database.is_ok());
  size_t level0_max = 0;
  for (int i = 0; i < 20000; i++) {
    const Status status = (*database)->put(key_of(i % 5000), std::string(100, 'v'));
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    level0_max = std::max(level0_max, (*database)->level0_table_count());
  }
  EXPECT_LE(level0_max, 4u);
  ASSERT_TRUE((*database)->wait_for_compactions().is_ok());
  test::expect_tree_invariants(*(*database)->current_version());
}

FileMetaData picker_file(uint64_t number, std::string_view smallest, std::string_view largest,
                         uint64_t size) {
  return FileMetaData{number,
                      size,
                      make_internal_key(smallest, 1, ValueType::kValue),
                      make_internal_key(largest, 1, ValueType::kValue),
                      {}};
}

// Level targets grow from the last level up by the ratio; levels that would fall under the
// level-1 size stay empty, and level 0 compacts into the base level.
TEST(CompactionPickerTest, TargetsAreDerivedFromTheLastLevel) {
  CompactionOptions options;
  options.level1_size_bytes = 1000;
  options.level_size_ratio = 10;
  VersionEdit edit;
  edit.add_file(kLevelCount - 1, picker_file(1, "a", "z", 100000));
  auto version = Version().apply(edit);
  ASSERT_TRUE(version.is_ok());
  const LevelTargets targets = level_targets(**version, options);
  EXPECT_EQ(targets.base_level, kLevelCount - 3);
  EXPECT_EQ(targets.size_bytes[kLevelCount - 1], 100000u);
  EXPECT_EQ(targets.size_bytes[kLevelCount - 2], 10000u);
  EXPECT_EQ(targets.size_bytes[kLevelCount - 3], 1000u);
  EXPECT_EQ(targets.size_bytes[kLevelCount - 4], 0u);

  VersionEdit flushes;
  flushes.add_file(0, picker_file(2, "a", "b", 10));
  flushes.add_file(0, picker_file(3, "c", "d", 10));
  options.level0_compaction_trigger = 2;
  auto with_level0 = (*version)->apply(flushes);
  ASSERT_TRUE(with_level0.is_ok());
  std::array<std::string, kLevelCount> pointers;
  auto compaction = pick_compaction(*with_level0, options, &pointers);
  ASSERT_TRUE(compaction.has_value());
  EXPECT_EQ(compaction->level, 0);
  EXPECT_EQ(compaction->output_level, kLevelCount - 3);
  EXPECT_EQ(compaction->inputs.size(), 2u);
  EXPECT_TRUE(compaction->trivial_move);  // disjoint, and nothing in the base level
}

// A level above the base level that still holds data is drained first, round robin by key, and
// level 0 then compacts into it rather than past it (newer data never lands below older).
TEST(CompactionPickerTest, LevelsAboveTheBaseAreDrainedAndNeverSkipped) {
  CompactionOptions options;
  options.level0_compaction_trigger = 2;
  options.level1_size_bytes = 1000;
  VersionEdit edit;
  edit.add_file(1, picker_file(1, "a", "c", 600));
  edit.add_file(1, picker_file(2, "d", "f", 600));
  edit.add_file(2, picker_file(3, "a", "b", 600));
  auto version = Version().apply(edit);
  ASSERT_TRUE(version.is_ok());
  EXPECT_EQ(level_targets(**version, options).base_level, kLevelCount - 1);
  EXPECT_EQ(pending_compaction_bytes(**version, options), 1800u);
  std::array<std::string, kLevelCount> pointers;
  auto first = pick_compaction(*version, options, &pointers);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->level, 1);
  EXPECT_EQ(first->output_level, 2);
  EXPECT_EQ(first->inputs.front()->number, 1u);
  EXPECT_EQ(first->next_inputs.size(), 1u);
  EXPECT_FALSE(first->trivial_move);
  auto second = pick_compaction(*version, options, &pointers);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->inputs.front()->number, 2u);  // round robin
  EXPECT_TRUE(second->trivial_move);

  // Enough level-0 files to outrank the draining (score 1500 against 1000).
  VersionEdit flushes;
  for (uint64_t number = 10; number < 1510; number++) {
    flushes.add_file(0, picker_file(number, "a", "b", 10));
  }
  options.level0_compaction_trigger = 1;
  auto with_level0 = (*version)->apply(flushes);
  ASSERT_TRUE(with_level0.is_ok());
  std::array<std::string, kLevelCount> fresh_pointers;
  auto from_level0 = pick_compaction(*with_level0, options, &fresh_pointers);
  ASSERT_TRUE(from_level0.has_value());
  EXPECT_EQ(from_level0->level, 0);
  EXPECT_EQ(from_level0->output_level, 1);
}

}  // namespace
}  // namespace cairn
