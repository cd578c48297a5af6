// Proves the cluster core under the simulator (src/sim/cluster_run.h): clusters of 3 to 9 real
// nodes under random faults (crashes with power loss, partitions of every shape, clock skew,
// drift and jumps, slow disks, message loss, duplication and reordering) pass every checker
// over many seeds; one seed replays the same trace; a fault-free run answers every request; and a
// coordinator that acknowledges one ack early, planted on purpose, is caught. A failure prints
// its seed: `cairn-sim --seed S --count 1 [--dump-key KEY]` replays it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "sim/cluster_run.h"
#include "sim/sim_cluster.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using sim::ClusterRunOptions;
using sim::ClusterRunResult;
using sim::run_cluster;

std::string violations_text(const ClusterRunResult& result) {
  std::string text;
  for (size_t i = 0; i < result.violations.size() && i < 5; i++) {
    text += "\n  " + result.violations[i].checker + ": " + result.violations[i].detail;
  }
  return text;
}

// Runs the seeds of one shard (so CTest runs the shards in parallel) and checks each passes.
void run_shard(uint64_t first_seed, int fast_count, int long_count) {
  uint64_t operations = 0;
  uint64_t acknowledged = 0;
  uint64_t faults = 0;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<uint64_t> seeds = test::test_seeds(first_seed, fast_count, long_count);
  for (const uint64_t seed : seeds) {
    ClusterRunOptions options;
    options.seed = seed;
    const ClusterRunResult result = run_cluster(options);
    EXPECT_TRUE(result.violations.empty()) << "seed " << seed << violations_text(result);
    EXPECT_GT(result.acknowledged, 1000u) << "seed " << seed << " did little work";
    operations += result.operations;
    acknowledged += result.acknowledged;
    faults += result.faults_injected;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[figure] %zu seeds of 3-9 nodes x 60 simulated s: %.3f s real time per seed, %llu "
      "operations (%llu acknowledged), %llu faults\n",
      seeds.size(), seconds / static_cast<double>(seeds.size()),
      static_cast<unsigned long long>(operations), static_cast<unsigned long long>(acknowledged),
      static_cast<unsigned long long>(faults));
}

// Proves every seed of this shard passes all checkers (the four shards cover 240 seeds, 10 000
// under CAIRN_TEST_LONG=1).
TEST(ClusterSimTest, SeedsPassEveryCheckerShard0) { run_shard(1, 60, 2500); }
TEST(ClusterSimTest, SeedsPassEveryCheckerShard1) { run_shard(100'001, 60, 2500); }
TEST(ClusterSimTest, SeedsPassEveryCheckerShard2) { run_shard(200'001, 60, 2500); }
TEST(ClusterSimTest, SeedsPassEveryCheckerShard3) { run_shard(300'001, 60, 2500); }

// Proves a run is a function of its seed: the same seed gives the same trace hash, and other
// seeds give other hashes.
TEST(ClusterSimTest, OneSeedReplaysTheSameTrace) {
  std::set<uint64_t> hashes;
  for (const uint64_t seed : {7, 8, 9}) {
    ClusterRunOptions options;
    options.seed = seed;
    options.load_seconds = 20;
    const uint64_t first = run_cluster(options).trace_hash;
    EXPECT_EQ(run_cluster(options).trace_hash, first) << "seed " << seed;
    hashes.insert(first);
  }
  EXPECT_EQ(hashes.size(), 3u);
}

// Proves that without faults every request succeeds, at every level.
TEST(ClusterSimTest, FaultFreeRunsAnswerEveryRequest) {
  for (const uint64_t seed : test::test_seeds(500, 5, 100)) {
    ClusterRunOptions options;
    options.seed = seed;
    options.faults = false;
    options.load_seconds = 20;
    const ClusterRunResult result = run_cluster(options);
    EXPECT_TRUE(result.violations.empty()) << "seed " << seed << violations_text(result);
    EXPECT_EQ(result.acknowledged, result.operations) << "seed " << seed;
  }
}

// Proves hinted handoff alone converges the replicas: with partitions, clock jumps, slow disks
// and lost messages but no crash (a crashed coordinator takes its pending hints with it), and no
// repairing read at the end nor anti-entropy, every replica of every key holds the same state
// once the faults heal and the hints are delivered.
TEST(ClusterSimTest, HintsConvergeReplicasWithoutARepairPass) {
  for (const uint64_t seed : test::test_seeds(600, 20, 500)) {
    ClusterRunOptions options;
    options.seed = seed;
    options.crashes = false;
    options.repair_pass = false;
    options.anti_entropy = false;
    const ClusterRunResult result = run_cluster(options);
    EXPECT_TRUE(result.violations.empty()) << "seed " << seed << violations_text(result);
    EXPECT_GT(result.hints_delivered, 0u) << "seed " << seed;
  }
}

// Proves a cluster whose nodes all crash (power loss) and restart together forms again: each node
// resumes from the ring it saved, since no seed is up to join through, and then serves a
// QUORUM write and read.
TEST(ClusterSimTest, WholeClusterRestartFormsAgain) {
  for (const uint64_t seed : test::test_seeds(700, 5, 100)) {
    sim::Simulation simulation(seed);
    sim::SimClusterOptions options;
    options.node_count = 5;
    sim::SimCluster cluster(&simulation, options);
    cluster.start();
    simulation.run_until(30'000'000);
    ASSERT_TRUE(cluster.converged()) << "seed " << seed << cluster.convergence_report();
    for (const NodeId id : cluster.ids()) cluster.crash(id);
    simulation.run_until(simulation.now_us() + 2'000'000);
    for (const NodeId id : cluster.ids()) cluster.restart(id);
    simulation.run_until(simulation.now_us() + 30'000'000);
    ASSERT_TRUE(cluster.converged()) << "seed " << seed << cluster.convergence_report();
    std::optional<ClusterReply> write;
    cluster.submit(NodeId{2}, ClusterRequest{RequestKind::kSet, "k", {"v"}, 0}, Consistency{},
                   [&](ClusterReply reply) { write = std::move(reply); });
    simulation.run_until(simulation.now_us() + 2'000'000);
    ASSERT_TRUE(write.has_value() && write->status.is_ok()) << "seed " << seed;
    std::optional<ClusterReply> read;
    cluster.submit(NodeId{4}, ClusterRequest{RequestKind::kGet, "k", {}, 0}, Consistency{},
                   [&](ClusterReply reply) { read = std::move(reply); });
    simulation.run_until(simulation.now_us() + 2'000'000);
    ASSERT_TRUE(read.has_value()) << "seed " << seed;
    EXPECT_EQ(read->value, "v") << "seed " << seed;
  }
}

// Proves the checkers catch a coordinator that acknowledges a write one ack early: every one of
// these seeds, which pass without the bug (shard 0), fails with it.
TEST(ClusterSimTest, PlantedEarlyAckBugIsCaught) {
  std::set<std::string> checkers;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    ClusterRunOptions options;
    options.seed = seed;
    plant_early_ack_bug(&options);
    const ClusterRunResult result = run_cluster(options);
    EXPECT_FALSE(result.violations.empty()) << "seed " << seed << " missed the planted bug";
    for (const sim::Violation& violation : result.violations) checkers.insert(violation.checker);
  }
  EXPECT_TRUE(checkers.contains("read-your-writes"));
}

}  // namespace
}  // namespace cairn
