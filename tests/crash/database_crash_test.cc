// Crash tests: a random workload on FaultEnv, a power loss at a random operation (possibly in
// the middle of a WAL append, a blob file write, a flush, a compaction or a MANIFEST switch),
// then recovery. Each test
// says what the recovered state must be. A failure prints the seed (CAIRN_TEST_SEED=N replays it).
#include <gtest/gtest.h>

#include "io/clock.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_workload.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::Model;
using test::Write;

std::string describe_seed(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
         " replays it)";
}

Model model_after(const std::vector<Write>& writes, size_t count) {
  Model model;
  for (size_t i = 0; i < count; i++) writes[i].apply_to(&model);
  return model;
}

// One machine: a simulated disk, an inline scheduler and a manual clock, all seeded.
class CrashScenario {
 public:
  CrashScenario(uint64_t seed, FsyncPolicy fsync) : random_(seed), env_(seed) {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.clock = &clock_;
    options_.fsync = fsync;
    options_.fsync_batch_interval_ms = 5;
    // Small buffers and blocks so crashes land in flushes and MANIFEST switches too.
    options_.write_buffer_size_bytes = 512 * (1 + random_.uniform(16));
    options_.table.block_size_bytes = 128 + random_.uniform(512);
    options_.compaction.level0_compaction_trigger = 2 + static_cast<int>(random_.uniform(3));
    options_.compaction.level1_size_bytes = 4096 * (1 + random_.uniform(8));
    options_.compaction.level_size_ratio = 2 + static_cast<int>(random_.uniform(4));
    options_.compaction.target_file_size_bytes = 1024 * (1 + random_.uniform(8));
    // Large values in blob files: off for some seeds, else a threshold low enough that the
    // workload's larger values go to blob files, which are sealed often. From a generator of
    // their own, so the rest of a seed's run draws what it did before.
    Random blob_random(seed ^ 0xb10bf11e5eedull);
    options_.blob_value_threshold_bytes = blob_random.one_in(4) ? 0 : 64 << blob_random.uniform(5);
    options_.blob_file_size_bytes = 2048 * (1 + blob_random.uniform(32));
  }

  Random& random() { return random_; }
  FaultEnv& env() { return env_; }

  // Writes (with flushes and reopens mixed in) until a write or reopen fails. Returns the
  // writes acknowledged, in order; *in_flight gets the write that failed, if one did.
  std::vector<Write> write_until_failure(std::optional<Write>* in_flight) {
    std::vector<Write> acknowledged;
    auto opened = Database::open(options_, "/db");
    if (!opened.is_ok()) return acknowledged;  // the crash hit the first open
    std::unique_ptr<Database> database = std::move(opened).value();
    for (int i = 0; i < 200000; i++) {
      clock_.advance_micros(random_.uniform(2000));
      if (random_.one_in(200)) {
        if (!database->flush().is_ok()) return acknowledged;
        continue;
      }
      if (random_.one_in(300)) {
        database.reset();
        auto reopened = Database::open(options_, "/db");
        if (!reopened.is_ok()) return acknowledged;
        database = std::move(reopened).value();
        continue;
      }
      Write write = test::random_write(random_);
      if (!database->write(write.batch).is_ok()) {
        *in_flight = std::move(write);
        return acknowledged;
      }
      acknowledged.push_back(std::move(write));
    }
    ADD_FAILURE() << "the workload ended without a failure";
    return acknowledged;
  }

  // Opens the database (which must recover) and returns all it holds.
  Result<Model> reopen_and_scan() {
    auto database = Database::open(options_, "/db");
    if (!database.is_ok()) return database.status();
    return test::scan_all(**database);
  }

 private:
  Random random_;
  FaultEnv env_;
  InlineScheduler scheduler_;
  ManualClock clock_;
  Options options_;
};

// With fsync=always, after a power loss at any point, the database recovers (a torn tail is not
// an error) to exactly the acknowledged writes, plus possibly the one write in flight.
TEST(DatabaseCrashTest, PowerLossKeepsEveryAcknowledgedWriteWithFsyncAlways) {
  for (const uint64_t seed : test::test_seeds(2000, 150, 3000)) {
    SCOPED_TRACE(describe_seed(seed));
    CrashScenario scenario(seed, FsyncPolicy::kAlways);
    scenario.env().crash_after_mutating_ops(1 + scenario.random().uniform(3000));
    std::optional<Write> in_flight;
    const std::vector<Write> acknowledged = scenario.write_until_failure(&in_flight);
    ASSERT_TRUE(scenario.env().crashed());
    scenario.env().restart();

    Result<Model> recovered = scenario.reopen_and_scan();
    ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
    const Model expected = model_after(acknowledged, acknowledged.size());
    if (*recovered == expected) continue;
    ASSERT_TRUE(in_flight.has_value())
        << "acknowledged writes lost or invented after " << acknowledged.size() << " writes";
    Model with_in_flight = expected;
    in_flight->apply_to(&with_in_flight);
    ASSERT_EQ(*recovered, with_in_flight) << "recovered state is neither the acknowledged writes "
                                             "nor those plus the write in flight";
  }
}

// With fsync=batch or never, a power loss may lose recent writes, but what survives is a
// prefix of the history: no write survives while an earlier one is lost, and none is invented.
TEST(DatabaseCrashTest, PowerLossLeavesAPrefixOfHistoryWithBatchAndNever) {
  for (const uint64_t seed : test::test_seeds(5000, 60, 1000)) {
    SCOPED_TRACE(describe_seed(seed));
    const FsyncPolicy fsync = seed % 2 == 0 ? FsyncPolicy::kBatch : FsyncPolicy::kNever;
    CrashScenario scenario(seed, fsync);
    scenario.env().crash_after_mutating_ops(1 + scenario.random().uniform(3000));
    std::optional<Write> in_flight;
    std::vector<Write> history = scenario.write_until_failure(&in_flight);
    if (in_flight) history.push_back(std::move(*in_flight));
    scenario.env().restart();

    Result<Model> recovered = scenario.reopen_and_scan();
    ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
    bool matches_a_prefix = false;
    Model model;
    for (size_t count = 0; !matches_a_prefix; count++) {
      matches_a_prefix = model == *recovered;
      if (count == history.size()) break;
      history[count].apply_to(&model);
    }
    ASSERT_TRUE(matches_a_prefix) << "recovered state matches no prefix of " << history.size()
                                  << " writes";
  }
}

// A power loss during recovery itself (replaying logs, writing tables, switching the MANIFEST)
// loses nothing acknowledged: a second recovery still finds every write.
TEST(DatabaseCrashTest, PowerLossDuringRecoveryLosesNothing) {
  for (const uint64_t seed : test::test_seeds(8000, 40, 500)) {
    SCOPED_TRACE(describe_seed(seed));
    CrashScenario scenario(seed, FsyncPolicy::kAlways);
    scenario.env().crash_after_mutating_ops(200 + scenario.random().uniform(2000));
    std::optional<Write> in_flight;
    const std::vector<Write> acknowledged = scenario.write_until_failure(&in_flight);
    scenario.env().restart();
    // Crash again somewhere inside the recovery.
    scenario.env().crash_after_mutating_ops(1 + scenario.random().uniform(12));
    (void)scenario.reopen_and_scan();
    scenario.env().restart();

    Result<Model> recovered = scenario.reopen_and_scan();
    ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
    Model expected = model_after(acknowledged, acknowledged.size());
    if (*recovered != expected && in_flight) in_flight->apply_to(&expected);
    ASSERT_EQ(*recovered, expected);
  }
}

}  // namespace
}  // namespace cairn
