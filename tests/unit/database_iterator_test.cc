// Proves the database iterator in both directions: each user key once with its newest value
// visible at the read's sequence, deleted keys left out, blob values read back, whether the walk
// goes forward, backward or switches direction anywhere; checked on hand-built histories and
// against a std::map model under random writes, flushes, compactions and a snapshot.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"
#include "support/iterator_walk.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using Model = std::map<std::string, std::string>;

test::ModelEntries entries_of(const Model& model) { return {model.begin(), model.end()}; }

class DatabaseIteratorTest : public ::testing::Test {
 protected:
  DatabaseIteratorTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
  }

  std::unique_ptr<Iterator> new_iterator(Database& database, const Snapshot* snapshot = nullptr) {
    ReadOptions read;
    read.snapshot = snapshot;
    return database.new_iterator(read);
  }

  // Every (key, value) from the last key back to the first.
  static test::ModelEntries scan_backward(Iterator& iterator) {
    test::ModelEntries entries;
    for (iterator.seek_to_last(); iterator.valid(); iterator.prev()) {
      entries.emplace_back(iterator.key(), iterator.value());
    }
    EXPECT_TRUE(iterator.status().is_ok()) << iterator.status().to_string();
    return entries;
  }

  FaultEnv env_{7};
  InlineScheduler scheduler_;
  Options options_;
};

// Proves prev yields the newest version visible at the read's sequence, never an older one, with
// versions of a key spread over two tables and the memtable, and at a snapshot taken between
// them; and that a key whose newest visible entry is a tombstone is skipped backward.
TEST_F(DatabaseIteratorTest, PrevYieldsTheNewestVisibleVersion) {
  auto database = test::open_database(options_);
  ASSERT_NE(database, nullptr);
  ASSERT_TRUE(database->put("a", "a1").is_ok());
  ASSERT_TRUE(database->put("b", "b1").is_ok());
  ASSERT_TRUE(database->put("c", "c1").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put("b", "b2").is_ok());
  ASSERT_TRUE(database->put("d", "d1").is_ok());
  const Snapshot* snapshot = database->get_snapshot();
  ASSERT_TRUE(database->put("b", "b3").is_ok());
  ASSERT_TRUE(database->remove("c").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put("b", "b4").is_ok());
  ASSERT_TRUE(database->remove("d").is_ok());
  ASSERT_TRUE(database->put("e", "e1").is_ok());
  ASSERT_TRUE(database->remove("e").is_ok());

  const auto latest = new_iterator(*database);
  EXPECT_EQ(scan_backward(*latest), (test::ModelEntries{{"b", "b4"}, {"a", "a1"}}));
  const auto at_snapshot = new_iterator(*database, snapshot);
  EXPECT_EQ(scan_backward(*at_snapshot),
            (test::ModelEntries{{"d", "d1"}, {"c", "c1"}, {"b", "b2"}, {"a", "a1"}}));

  // seek_for_prev lands on the key itself, or on the last visible key before it.
  at_snapshot->seek_for_prev("c");
  ASSERT_TRUE(at_snapshot->valid());
  EXPECT_EQ(at_snapshot->key(), "c");
  latest->seek_for_prev("c");
  ASSERT_TRUE(latest->valid());
  EXPECT_EQ(latest->key(), "b");
  EXPECT_EQ(latest->value(), "b4");
  latest->seek_for_prev("a");
  ASSERT_TRUE(latest->valid());
  EXPECT_EQ(latest->key(), "a");
  latest->seek_for_prev("0");
  EXPECT_FALSE(latest->valid());
  EXPECT_TRUE(latest->status().is_ok());
  database->release_snapshot(snapshot);
}

// Proves next and prev undo each other at every key, including across a switch of direction
// where the skipped entries (newer versions, tombstones) sit on either side.
TEST_F(DatabaseIteratorTest, NextAndPrevUndoEachOther) {
  auto database = test::open_database(options_);
  ASSERT_NE(database, nullptr);
  for (int round = 0; round < 3; round++) {
    for (char key = 'a'; key <= 'j'; key++) {
      const std::string value = std::string(1, key) + std::to_string(round);
      if ((key + round) % 3 == 0) {
        ASSERT_TRUE(database->remove(std::string(1, key)).is_ok());
      } else {
        ASSERT_TRUE(database->put(std::string(1, key), value).is_ok());
      }
    }
    if (round < 2) {
      ASSERT_TRUE(database->flush().is_ok());
    }
  }
  Model model;
  for (char key = 'a'; key <= 'j'; key++) {
    if ((key + 2) % 3 != 0) model[std::string(1, key)] = std::string(1, key) + "2";
  }
  const test::ModelEntries entries = entries_of(model);
  const auto iterator = new_iterator(*database);
  test::IteratorModelWalk walk(*iterator, entries, &test::compare_bytewise);
  for (size_t i = 0; i < entries.size() && !HasFatalFailure(); i++) {
    walk.seek(entries[i].first);  // at key i
    walk.prev();                  // at key i - 1, or before the first
    if (walk.valid()) {
      walk.next();
    } else {
      walk.seek_to_first();
    }
    walk.next();  // at key i + 1, or past the last
    if (walk.valid()) walk.prev();
  }
}

// Proves blob values read back correctly backward: after prev, after a switch of direction, and
// after seek_for_prev, value() is the value the key's newest version names, not another
// version's nor a neighbour's.
TEST_F(DatabaseIteratorTest, BlobValuesReadBackBackward) {
  options_.blob_value_threshold_bytes = 8;
  auto database = test::open_database(options_);
  ASSERT_NE(database, nullptr);
  Model model;
  for (int version = 0; version < 3; version++) {
    for (int i = 0; i < 6; i++) {
      const std::string key = "key" + std::to_string(i);
      const std::string value = (i % 2 == 0 ? std::string(100, char('a' + version)) : "v") +
                                std::to_string(version) + key;
      ASSERT_TRUE(database->put(key, value).is_ok());
      model[key] = value;
    }
    if (version == 1) {
      ASSERT_TRUE(database->flush().is_ok());
    }
  }
  ASSERT_GT(database->stats().blob_file_count, 0u);
  const test::ModelEntries entries = entries_of(model);
  const auto iterator = new_iterator(*database);
  test::IteratorModelWalk walk(*iterator, entries, &test::compare_bytewise);
  walk.check_backward_scan();
  walk.seek_to_last();
  walk.prev();
  walk.next();
  walk.prev();
  walk.prev();
  walk.seek_for_prev("key3");
  walk.prev();
  walk.next();
}

// One randomized run: writes against a std::map model, with the database iterator checked by
// random walks in both directions at the latest state, at a snapshot taken mid-way, and through
// an iterator opened mid-way that must keep showing the state it was opened on.
class DatabaseIteratorModelRun {
 public:
  explicit DatabaseIteratorModelRun(uint64_t seed) : random_(seed), env_(seed) {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    // Tiny buffers, blocks and levels so a short run crosses many flushes, tables and
    // compactions, and many user keys keep versions in several of them.
    options_.write_buffer_size_bytes = 1024 * (1 + random_() % 8);
    options_.table.block_size_bytes = 64 + random_() % 1024;
    options_.table.block_restart_interval = 1 + static_cast<int>(random_() % 16);
    options_.compaction.level0_compaction_trigger = 2 + static_cast<int>(random_() % 3);
    options_.compaction.level1_size_bytes = 4096 * (1 + random_() % 4);
    options_.compaction.level_size_ratio = 2 + static_cast<int>(random_() % 3);
    options_.compaction.target_file_size_bytes = 2048 * (1 + random_() % 4);
    // Values of more than 16 to 128 bytes go to blob files (none for a quarter of the seeds).
    options_.blob_value_threshold_bytes = random_() % 4 == 0 ? 0 : 16 << (random_() % 4);
    options_.blob_file_size_bytes = 4096 * (1 + random_() % 16);
  }

  void run(int operation_count) {
    auto opened = Database::open(options_, "/db");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    database_ = std::move(opened).value();
    for (int i = 0; i < operation_count && !::testing::Test::HasFatalFailure(); i++) {
      SCOPED_TRACE("operation " + std::to_string(i));
      if (i == operation_count / 2) take_mid_way_views();
      step();
    }
    if (::testing::Test::HasFatalFailure()) return;
    {
      SCOPED_TRACE("at the end, latest state");
      check_walk(model_, nullptr);
    }
    {
      SCOPED_TRACE("at the end, the snapshot taken mid-way");
      check_walk(snapshot_model_, snapshot_);
    }
    {
      SCOPED_TRACE("at the end, the iterator opened mid-way");
      check_walk_of(*mid_way_iterator_, snapshot_model_);
    }
    const DatabaseStats stats = database_->stats();
    compactions_ = stats.compaction_count + stats.trivial_move_count;
    blob_files_ = stats.blob_file_count;
  }

  ~DatabaseIteratorModelRun() {
    mid_way_iterator_.reset();
    if (snapshot_ != nullptr) database_->release_snapshot(snapshot_);
  }

  uint64_t compactions() const { return compactions_; }
  uint64_t blob_files() const { return blob_files_; }

 private:
  void step() {
    const uint64_t dice = random_() % 100;
    if (dice < 45) {  // a put, often over an existing key
      const std::string key = random_key();
      const std::string value = random_value();
      ASSERT_TRUE(database_->put(key, value).is_ok());
      model_[key] = value;
    } else if (dice < 65) {
      const std::string key = random_key();
      ASSERT_TRUE(database_->remove(key).is_ok());
      model_.erase(key);
    } else if (dice < 72) {
      ASSERT_TRUE(database_->flush().is_ok());
    } else if (dice < 90) {
      check_walk(model_, nullptr);
    } else if (snapshot_ != nullptr) {
      check_walk(snapshot_model_, snapshot_);
    }
  }

  void take_mid_way_views() {
    snapshot_ = database_->get_snapshot();
    snapshot_model_ = model_;
    mid_way_iterator_ = database_->new_iterator(ReadOptions());
  }

  void check_walk(const Model& model, const Snapshot* snapshot) {
    ReadOptions read;
    read.snapshot = snapshot;
    const std::unique_ptr<Iterator> iterator = database_->new_iterator(read);
    check_walk_of(*iterator, model);
  }

  void check_walk_of(Iterator& iterator, const Model& model) {
    const test::ModelEntries entries = entries_of(model);
    test::IteratorModelWalk walk(iterator, entries, &test::compare_bytewise);
    if (random_() % 4 == 0) walk.check_backward_scan();
    walk.run(random_, 60, [&] {
      std::string target = random_key();
      if (random_() % 4 == 0) target.push_back(static_cast<char>(random_() % 256));
      if (random_() % 8 == 0) target.pop_back();
      return target;
    });
  }

  // A small key space, so that keys are overwritten and deleted many times.
  std::string random_key() { return "key" + std::to_string(random_() % 60); }

  // Mostly short values, with many above the blob threshold.
  std::string random_value() {
    std::string value = std::to_string(random_());
    value.resize(random_() % (random_() % 8 == 0 ? 600 : 100), 'v');
    return value;
  }

  std::mt19937_64 random_;
  FaultEnv env_;
  InlineScheduler scheduler_;
  Options options_;
  std::unique_ptr<Database> database_;
  Model model_;
  const Snapshot* snapshot_ = nullptr;
  Model snapshot_model_;
  std::unique_ptr<Iterator> mid_way_iterator_;
  uint64_t compactions_ = 0;
  uint64_t blob_files_ = 0;
};

// Proves random walks mixing next, prev, seek, seek_for_prev, seek_to_first and seek_to_last
// match a std::map model at every step, under random puts, overwrites, deletes, flushes and
// compactions, with blob values, for the latest state, a snapshot taken mid-way and an iterator
// opened mid-way. A prev that skipped a key or showed an older version fails at that step.
TEST(DatabaseIteratorModelTest, RandomWalksMatchStdMap) {
  const int operations = test::long_run() ? 3000 : 1000;
  uint64_t compactions = 0;
  uint64_t blob_files = 0;
  for (const uint64_t seed : test::test_seeds(7000, 16, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    DatabaseIteratorModelRun run(seed);
    run.run(operations);
    if (::testing::Test::HasFatalFailure()) return;
    compactions += run.compactions();
    blob_files += run.blob_files();
  }
  // Else the runs prove little about tables, compactions and blob values.
  EXPECT_GT(compactions, 0u);
  EXPECT_GT(blob_files, 0u);
}

}  // namespace
}  // namespace cairn
