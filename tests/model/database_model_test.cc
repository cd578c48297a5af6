// Model-based test of the storage engine: random puts, removes, batches, gets, scans and seeks
// (both directions), snapshots, flushes, manual compactions and reopens against a std::map, on the in-memory FaultEnv
// with an inline scheduler so every seed replays exactly. A failure prints the seed
// (CAIRN_TEST_SEED=N replays).
#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/fault_env.h"
#include "io/random.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/test_seeds.h"
#include "support/tree_invariants.h"

namespace cairn {
namespace {

using Model = std::map<std::string, std::string>;

struct ModelSnapshot {
  const Snapshot* snapshot;
  Model state;
};

class DatabaseModelRun {
 public:
  explicit DatabaseModelRun(uint64_t seed)
      : random_(seed), env_(seed), manual_random_(seed ^ 0x3a2c0de5eedull) {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    // Tiny buffers and blocks so a short run crosses many flushes, tables and blocks.
    options_.write_buffer_size_bytes = 1024 * (1 + random_.uniform(32));
    options_.table.block_size_bytes = 64 + random_.uniform(1024);
    options_.table.block_restart_interval = 1 + static_cast<int>(random_.uniform(16));
    options_.table.bloom_bits_per_key = static_cast<int>(random_.uniform(16));
    options_.fsync = static_cast<FsyncPolicy>(random_.uniform(3));
    // A tree a few levels deep within a few thousand operations.
    options_.compaction.level0_compaction_trigger = 2 + static_cast<int>(random_.uniform(3));
    options_.compaction.level1_size_bytes = 8192 * (1 + random_.uniform(8));
    options_.compaction.level_size_ratio = 2 + static_cast<int>(random_.uniform(4));
    options_.compaction.target_file_size_bytes = 2048 * (1 + random_.uniform(8));
    // Large values in blob files: off for some seeds, else a threshold low enough that many
    // values go to blob files, which are sealed often. Drawn from a generator of their own so the
    // rest of a seed's run draws what it did before.
    Random blob_random(seed ^ 0xb10bf11e5eedull);
    options_.blob_value_threshold_bytes = blob_random.one_in(4) ? 0 : 64 << blob_random.uniform(7);
    options_.blob_file_size_bytes = 4096 * (1 + blob_random.uniform(64));
  }

  void run(int operation_count) {
    open();
    for (int i = 0; i < operation_count && !::testing::Test::HasFatalFailure(); i++) {
      SCOPED_TRACE("operation " + std::to_string(i));
      step();
      test::expect_tree_invariants(*database_->current_version());
    }
    release_all_snapshots();
    if (!::testing::Test::HasFatalFailure()) check_full_scan(model_, nullptr);
    count_compactions();
  }

  uint64_t compactions() const { return compactions_; }
  uint64_t manual_compactions() const { return manual_compactions_; }
  uint64_t blob_collections() const { return blob_collections_; }

 private:
  void open() {
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(database).value();
  }

  void step() {
    const uint64_t dice = random_.uniform(100);
    if (dice < 35) {
      const std::string key = random_key();
      const std::string value = random_value();
      ASSERT_TRUE(database_->put(key, value).is_ok());
      model_[key] = value;
    } else if (dice < 45) {
      const std::string key = random_key();
      ASSERT_TRUE(database_->remove(key).is_ok());
      model_.erase(key);
    } else if (dice < 52) {
      write_random_batch();
    } else if (dice < 72) {
      check_get(random_key(), model_, nullptr);
    } else if (dice < 77) {
      check_seek(random_key(), model_, nullptr);
    } else if (dice < 79) {
      check_full_scan(model_, nullptr);
    } else if (dice < 83) {
      snapshots_.push_back({database_->get_snapshot(), model_});
    } else if (dice < 88 && !snapshots_.empty()) {
      const ModelSnapshot& old = snapshots_[random_.uniform(snapshots_.size())];
      check_get(random_key(), old.state, old.snapshot);
      check_seek(random_key(), old.state, old.snapshot);
    } else if (dice < 91 && !snapshots_.empty()) {
      const size_t index = random_.uniform(snapshots_.size());
      database_->release_snapshot(snapshots_[index].snapshot);
      snapshots_.erase(snapshots_.begin() + static_cast<std::ptrdiff_t>(index));
    } else if (dice < 95) {
      if (manual_random_.one_in(4)) {
        compact_random_range();
      } else {
        ASSERT_TRUE(database_->flush().is_ok());
      }
    } else if (dice < 97 && !snapshots_.empty()) {
      const ModelSnapshot& old = snapshots_[random_.uniform(snapshots_.size())];
      check_full_scan(old.state, old.snapshot);
    } else {
      reopen();
    }
  }

  void write_random_batch() {
    WriteBatch batch;
    Model next = model_;
    const uint64_t size = 1 + random_.uniform(20);
    for (uint64_t i = 0; i < size; i++) {
      const std::string key = random_key();
      if (random_.one_in(3)) {
        batch.remove(key);
        next.erase(key);
      } else {
        const std::string value = random_value();
        batch.put(key, value);
        next[key] = value;
      }
    }
    ASSERT_TRUE(database_->write(batch).is_ok());
    model_ = std::move(next);
  }

  // A manual compaction of a random range (either side may be open), drawn from a generator of
  // its own so that the rest of a seed's run draws what it did before.
  void compact_random_range() {
    const auto bound = [&]() -> std::optional<std::string> {
      if (manual_random_.one_in(3)) return std::nullopt;
      return "key" + std::to_string(manual_random_.skewed(9));
    };
    std::optional<std::string> begin = bound();
    std::optional<std::string> end = bound();
    if (begin && end && *end < *begin) std::swap(begin, end);
    const Status status = database_->compact_range(begin, end);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }

  // Statistics start over at each open.
  void count_compactions() {
    const DatabaseStats stats = database_->stats();
    compactions_ += stats.compaction_count + stats.trivial_move_count;
    manual_compactions_ += stats.manual_compaction_count;
    blob_collections_ += stats.blob_gc_count;
  }

  void reopen() {
    count_compactions();
    release_all_snapshots();
    ASSERT_TRUE(database_->close().is_ok());
    database_.reset();
    open();
  }

  void release_all_snapshots() {
    for (const ModelSnapshot& old : snapshots_) database_->release_snapshot(old.snapshot);
    snapshots_.clear();
  }

  void check_get(const std::string& key, const Model& expected, const Snapshot* snapshot) {
    ReadOptions read;
    read.snapshot = snapshot;
    auto actual = database_->get(read, key);
    ASSERT_TRUE(actual.is_ok()) << actual.status().to_string();
    auto it = expected.find(key);
    if (it == expected.end()) {
      ASSERT_FALSE(actual->has_value()) << "key " << key << " should be absent";
    } else {
      ASSERT_TRUE(actual->has_value()) << "key " << key << " missing";
      ASSERT_EQ(**actual, it->second) << "key " << key;
    }
  }

  // Seeks and compares the next few entries with the model.
  void check_seek(const std::string& target, const Model& expected, const Snapshot* snapshot) {
    ReadOptions read;
    read.snapshot = snapshot;
    auto iterator = database_->new_iterator(read);
    iterator->seek(target);
    auto it = expected.lower_bound(target);
    for (int i = 0; i < 10 && it != expected.end(); i++, ++it, iterator->next()) {
      ASSERT_TRUE(iterator->valid())
          << "seek " << target << ": ended early, " << iterator->status().to_string();
      ASSERT_EQ(iterator->key(), it->first) << "seek " << target;
      ASSERT_EQ(iterator->value(), it->second) << "seek " << target;
    }
    if (it == expected.end()) {
      ASSERT_FALSE(iterator->valid()) << "seek " << target;
    }
    ASSERT_TRUE(iterator->status().is_ok());
    check_seek_for_prev(target, expected, *iterator);
  }

  // Seeks backward with the same iterator (after its forward steps) and compares the previous
  // few entries with the model.
  void check_seek_for_prev(const std::string& target, const Model& expected, Iterator& iterator) {
    iterator.seek_for_prev(target);
    auto it = std::make_reverse_iterator(expected.upper_bound(target));
    for (int i = 0; i < 10 && it != expected.rend(); i++, ++it, iterator.prev()) {
      ASSERT_TRUE(iterator.valid())
          << "seek_for_prev " << target << ": ended early, " << iterator.status().to_string();
      ASSERT_EQ(iterator.key(), it->first) << "seek_for_prev " << target;
      ASSERT_EQ(iterator.value(), it->second) << "seek_for_prev " << target;
    }
    if (it == expected.rend()) {
      ASSERT_FALSE(iterator.valid()) << "seek_for_prev " << target;
    }
    ASSERT_TRUE(iterator.status().is_ok());
  }

  void check_full_scan(const Model& expected, const Snapshot* snapshot) {
    ReadOptions read;
    read.snapshot = snapshot;
    auto iterator = database_->new_iterator(read);
    auto it = expected.begin();
    for (iterator->seek_to_first(); iterator->valid(); iterator->next(), ++it) {
      ASSERT_NE(it, expected.end()) << "extra key " << iterator->key();
      ASSERT_EQ(iterator->key(), it->first);
      ASSERT_EQ(iterator->value(), it->second);
    }
    ASSERT_TRUE(iterator->status().is_ok()) << iterator->status().to_string();
    ASSERT_EQ(it, expected.end()) << "missing key " << it->first;
    // And backward, with the same iterator.
    auto back = expected.rbegin();
    for (iterator->seek_to_last(); iterator->valid(); iterator->prev(), ++back) {
      ASSERT_NE(back, expected.rend()) << "extra key " << iterator->key() << " backward";
      ASSERT_EQ(iterator->key(), back->first);
      ASSERT_EQ(iterator->value(), back->second);
    }
    ASSERT_TRUE(iterator->status().is_ok()) << iterator->status().to_string();
    ASSERT_EQ(back, expected.rend()) << "missing key " << back->first << " backward";
  }

  // Mostly a small key space (so keys are overwritten and removed), sometimes arbitrary bytes.
  std::string random_key() {
    if (random_.one_in(20)) return random_.bytes(random_.uniform(12));
    return "key" + std::to_string(random_.skewed(9));
  }

  std::string random_value() {
    if (random_.one_in(50)) return random_.bytes(4096 + random_.uniform(8192));
    return random_.bytes(random_.skewed(8));
  }

  Random random_;
  FaultEnv env_;
  InlineScheduler scheduler_;
  Options options_;
  std::unique_ptr<Database> database_;
  Model model_;
  std::vector<ModelSnapshot> snapshots_;
  uint64_t compactions_ = 0;
  uint64_t manual_compactions_ = 0;
  uint64_t blob_collections_ = 0;
  Random manual_random_;
};

// Seeds are split into shards so CTest can run them in parallel.
constexpr int kShardCount = 4;

class DatabaseModelTest : public ::testing::TestWithParam<int> {};

TEST_P(DatabaseModelTest, RandomOperationsMatchStdMap) {
  const int operations = test::long_run() ? 10000 : 3000;
  const uint64_t first_seed = 1000 + static_cast<uint64_t>(GetParam()) * 100000;
  uint64_t blob_collections = 0;
  uint64_t manual_compactions = 0;
  for (const uint64_t seed : test::test_seeds(first_seed, 25, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    DatabaseModelRun run(seed);
    run.run(operations);
    if (::testing::Test::HasFatalFailure()) return;
    // The run must have exercised compaction, or it proves little about it.
    EXPECT_GT(run.compactions(), 0u);
    blob_collections += run.blob_collections();
    manual_compactions += run.manual_compactions();
  }
  EXPECT_GT(blob_collections, 0u) << "no seed of this shard ran a blob garbage collection";
  EXPECT_GT(manual_compactions, 0u) << "no seed of this shard ran a manual compaction";
}

INSTANTIATE_TEST_SUITE_P(Shards, DatabaseModelTest, ::testing::Range(0, kShardCount));

}  // namespace
}  // namespace cairn
