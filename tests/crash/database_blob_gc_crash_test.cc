// Power loss in the middle of a blob garbage collection (copying live values to new blob files,
// writing the rewritten table, switching the MANIFEST, deleting the old files), under every fsync
// policy: recovery finds every value, reads none from a missing or half-written blob file, and
// the collection, run again, completes. A failure prints the seed (CAIRN_TEST_SEED=N replays it).
#include <gtest/gtest.h>

#include <algorithm>

#include "io/clock.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"
#include "support/database_workload.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::Model;

// One machine with a seeded workload that leaves mostly dead blob files behind, written and
// settled with collection off. Two scenarios of the same seed reach the same state.
class BlobGcScenario {
 public:
  explicit BlobGcScenario(uint64_t seed) : random_(seed), env_(seed) {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.clock = &clock_;
    const FsyncPolicy policies[] = {FsyncPolicy::kAlways, FsyncPolicy::kBatch, FsyncPolicy::kNever};
    options_.fsync = policies[seed % 3];
    options_.write_buffer_size_bytes = 2048 * (1 + random_.uniform(8));
    options_.compaction.level0_compaction_trigger = 1 + static_cast<int>(random_.uniform(2));
    options_.compaction.target_file_size_bytes = 512 * (1 + random_.uniform(4));
    options_.blob_value_threshold_bytes = 64;
    options_.blob_file_size_bytes = 1024 * (1 + random_.uniform(8));
    options_.blob_gc_live_fraction_min = 0;
  }

  FaultEnv& env() { return env_; }
  Random& random() { return random_; }
  const Model& model() const { return model_; }

  // Large values for a key space, then most of them overwritten (inline or large) or removed;
  // settled and closed, so every blob file is sealed and most are mostly dead.
  void prepare() {
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    const int keys = 40 + static_cast<int>(random_.uniform(80));
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < keys; i++) {
        const std::string key = "key" + std::to_string(i);
        if (round == 1 && random_.one_in(4)) continue;  // this one stays live
        if (round == 1 && random_.one_in(3)) {
          ASSERT_TRUE((*database)->remove(key).is_ok());
          model_.erase(key);
          continue;
        }
        const bool large = round == 0 || random_.one_in(3);
        std::string value = random_.bytes(large ? 65 + random_.uniform(600) : random_.uniform(60));
        ASSERT_TRUE((*database)->put(key, value).is_ok());
        model_[key] = std::move(value);
      }
      ASSERT_TRUE((*database)->flush().is_ok());
      ASSERT_TRUE((*database)->wait_for_compactions().is_ok());
    }
    ASSERT_TRUE((*database)->close().is_ok());
  }

  // Opens with collection on (it runs in open, on the inline scheduler) or off, and settles.
  Result<std::unique_ptr<Database>> open_collecting(bool collect = true) {
    Options options = options_;
    options.blob_gc_live_fraction_min = collect ? 0.5 : 0;
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Database> database, Database::open(options, "/db"));
    CAIRN_RETURN_IF_ERROR(database->wait_for_compactions());
    return database;
  }

  std::vector<std::string> blob_files() { return test::files_ending_with(env_, "/db", ".blob"); }

 private:
  Random random_;
  FaultEnv env_;
  InlineScheduler scheduler_;
  ManualClock clock_{0};
  Options options_;
  Model model_;
};

// A power loss at any operation of the collection loses nothing; a reopen finishes the work
// (the same old files end up deleted as in a run without power loss).
TEST(DatabaseBlobGcCrashTest, PowerLossDuringBlobGcLosesNothing) {
  uint64_t collections_seen = 0;
  for (const uint64_t seed : test::test_seeds(9000, 30, 300)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    // How many mutating operations an open takes without collecting, then with: the power
    // losses below land in the difference, the collection's own operations.
    BlobGcScenario plain(seed);
    plain.prepare();
    const uint64_t prepare_ops = plain.env().mutating_op_count();
    ASSERT_TRUE(plain.open_collecting(/*collect=*/false).is_ok());
    const uint64_t open_ops = plain.env().mutating_op_count() - prepare_ops;
    // A clean run: what the collection deletes.
    BlobGcScenario clean(seed);
    clean.prepare();
    const std::vector<std::string> before = clean.blob_files();
    const uint64_t ops_before = clean.env().mutating_op_count();
    auto collected = clean.open_collecting();
    ASSERT_TRUE(collected.is_ok()) << collected.status().to_string();
    const uint64_t gc_count = (*collected)->stats().blob_gc_count;
    collected->reset();
    const uint64_t gc_ops = clean.env().mutating_op_count() - ops_before;
    if (gc_count == 0) continue;
    ASSERT_GT(gc_ops, open_ops);
    collections_seen += gc_count;
    std::vector<std::string> deleted;
    const std::vector<std::string> after = clean.blob_files();
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(deleted));
    ASSERT_FALSE(deleted.empty());

    for (int crash = 0; crash < 4; crash++) {
      BlobGcScenario scenario(seed);
      scenario.prepare();
      const uint64_t crash_at = open_ops + 1 + scenario.random().uniform(gc_ops - open_ops);
      SCOPED_TRACE("power loss at operation " + std::to_string(crash_at) + " of " +
                   std::to_string(gc_ops));
      scenario.env().crash_after_mutating_ops(crash_at);
      (void)scenario.open_collecting();  // fails at the power loss (or just after it)
      scenario.env().restart();

      auto recovered = scenario.open_collecting();
      ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
      Result<Model> state = test::scan_all(**recovered);
      ASSERT_TRUE(state.is_ok()) << state.status().to_string();
      ASSERT_EQ(*state, scenario.model());
      const std::vector<std::string> left = scenario.blob_files();
      for (const std::string& file : deleted) {
        EXPECT_FALSE(std::binary_search(left.begin(), left.end(), file)) << file;
      }
      recovered->reset();
      // And once more from the disk alone.
      scenario.env().power_loss();
      scenario.env().restart();
      auto reopened = scenario.open_collecting();
      ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
      state = test::scan_all(**reopened);
      ASSERT_TRUE(state.is_ok()) << state.status().to_string();
      ASSERT_EQ(*state, scenario.model());
    }
  }
  EXPECT_GT(collections_seen, 0u) << "no seed ran a blob garbage collection";
}

}  // namespace
}  // namespace cairn
