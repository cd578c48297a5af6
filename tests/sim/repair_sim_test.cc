// Proves anti-entropy (src/cluster/repair_service.h) under the simulator: a replica that lost its
// whole disk is rebuilt by repair alone, with no read touching the keys, over several seeds and
// with message loss, also when each states reply carries one state; repair keeps to its bandwidth
// limit; replicas that never diverged exchange no key; and a tombstone is purged only once every
// pair of replicas has exchanged since, so a replica away past the grace period brings back
// nothing deleted.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "model/slot.h"
#include "sim/sim_cluster.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr int kKeyCount = 300;
// Simulated time for a cycle: 2048 exchanges at 100 ms, with room to spare.
constexpr uint64_t kRepairCycleUs = 250'000'000;

std::string key_name(int i) { return "k" + std::to_string(i); }

// Writes kKeyCount keys at QUORUM through random coordinators; every write must succeed.
void write_keys(sim::Simulation& simulation, sim::SimCluster& cluster, const std::string& seed) {
  int acknowledged = 0;
  for (int i = 0; i < kKeyCount; i++) {
    const NodeId coordinator = cluster.id(simulation.random().uniform(cluster.size()));
    const ClusterRequest request =
        i % 5 == 0
            ? ClusterRequest{RequestKind::kHashSet, key_name(i), {"f", "v" + std::to_string(i)}, 0}
            : ClusterRequest{RequestKind::kSet, key_name(i), {"v" + std::to_string(i)}, 0};
    cluster.submit(coordinator, request, Consistency{},
                   [&](ClusterReply reply) { acknowledged += reply.status.is_ok(); });
    simulation.run_until(simulation.now_us() + 20'000);
  }
  simulation.run_until(simulation.now_us() + 2'000'000);
  ASSERT_EQ(acknowledged, kKeyCount) << seed;
}

// How many of the keys `id` holds.
int held_by(sim::SimCluster& cluster, NodeId id) {
  int held = 0;
  for (int i = 0; i < kKeyCount; i++) {
    for (const auto& [node, state] : cluster.replica_states(key_name(i))) {
      if (node == id) held += state.type(0) != KeyStateType::kNone;
    }
  }
  return held;
}

// Every replica of every key holds the same state; returns how many keys `id` holds.
int expect_converged(sim::SimCluster& cluster, NodeId id, const std::string& seed) {
  int held = 0;
  for (int i = 0; i < kKeyCount; i++) {
    const std::vector<std::pair<NodeId, KeyState>> states = cluster.replica_states(key_name(i));
    for (const auto& [node, state] : states) {
      EXPECT_EQ(state, states.front().second) << seed << " key " << key_name(i);
      if (node == id) held += state.type(0) != KeyStateType::kNone;
    }
  }
  return held;
}

// Submits `request` for each of `keys` at QUORUM through nodes of `coordinators`, in turn;
// answers how many were acknowledged.
int submit_each(sim::Simulation& simulation, sim::SimCluster& cluster,
                const std::vector<NodeId>& coordinators, const std::vector<std::string>& keys,
                RequestKind kind, std::vector<std::string> arguments) {
  int acknowledged = 0;
  for (size_t i = 0; i < keys.size(); i++) {
    cluster.submit(coordinators[i % coordinators.size()],
                   ClusterRequest{kind, keys[i], arguments, 0}, Consistency{},
                   [&](ClusterReply reply) { acknowledged += reply.status.is_ok(); });
    simulation.run_until(simulation.now_us() + 20'000);
  }
  simulation.run_until(simulation.now_us() + 2'000'000);
  return acknowledged;
}

// Whether `state` holds a tombstone (or anything else purge would drop).
bool holds_tombstones(const KeyState& state) {
  KeyState purged = state;
  purged.purge(HlcTimestamp::of(uint64_t{1} << 46, 0));
  return !(purged == state);
}

// Proves a tombstone is purged only after every pair of replicas completed a repair exchange
// that began a grace period after it: a replica down past the grace period keeps the others
// from purging a deleted hash field, so when it comes back with the field the field stays
// deleted; and once the pairs have exchanged again, the tombstone is purged everywhere.
TEST(RepairSimTest, ADeletedFieldStaysDeletedWhenAReplicaDownPastTheGraceReturns) {
  for (const uint64_t seed : test::test_seeds(11, 3, 20)) {
    const std::string name = "seed " + std::to_string(seed);
    sim::Simulation simulation(seed);
    sim::SimClusterOptions options;
    options.node_count = 3;
    options.node.hint_limits.window_ms = 30'000;
    options.node.tombstone_grace_ms = 60'000;
    sim::SimCluster cluster(&simulation, options);
    cluster.start();
    simulation.run_until(30'000'000);
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    std::vector<std::string> keys;
    for (int i = 0; i < 20; i++) keys.push_back("h" + std::to_string(i));
    const std::vector<NodeId> all = cluster.ids();
    ASSERT_EQ(
        submit_each(simulation, cluster, all, keys, RequestKind::kHashSet, {"f", "old", "x", "1"}),
        20)
        << name;
    simulation.run_until(simulation.now_us() + kRepairCycleUs);  // a round with every replica

    const NodeId away{3};
    cluster.crash(away);
    const std::vector<NodeId> up = {NodeId{1}, NodeId{2}};
    ASSERT_EQ(submit_each(simulation, cluster, up, keys, RequestKind::kHashDelete, {"f"}), 20)
        << name;
    // Past the grace period and the hint window, the two left write each key again.
    simulation.run_until(simulation.now_us() + 3 * 60'000'000);
    ASSERT_EQ(submit_each(simulation, cluster, up, keys, RequestKind::kHashSet, {"y", "1"}), 20)
        << name;
    for (const std::string& key : keys) {
      for (const NodeId node : up) {
        const Result<KeyState> state = cluster.cluster_node(node).store().read(key);
        ASSERT_TRUE(state.is_ok()) << name;
        EXPECT_TRUE(holds_tombstones(*state))
            << name << " " << key << ": purged on node " << node.value << " while one was away";
      }
    }

    // A node hears of the exchanges it did not start, and of the pairs it is not in, at its next
    // exchange: every node knows the round two to three cycles after it began.
    cluster.restart(away);
    simulation.run_until(simulation.now_us() + 4 * kRepairCycleUs);
    ASSERT_EQ(submit_each(simulation, cluster, all, keys, RequestKind::kHashSet, {"z", "1"}), 20)
        << name;
    simulation.run_until(simulation.now_us() + kRepairCycleUs);
    for (const std::string& key : keys) {
      const std::vector<std::pair<NodeId, KeyState>> states = cluster.replica_states(key);
      ASSERT_EQ(states.size(), 3u) << name;
      for (const auto& [node, state] : states) {
        const std::vector<std::pair<std::string, std::string>> expected = {
            {"x", "1"}, {"y", "1"}, {"z", "1"}};
        EXPECT_EQ(state.hash_fields(0), expected) << name << " " << key << " on " << node.value;
        EXPECT_FALSE(holds_tombstones(state)) << name << " " << key << " on " << node.value;
        EXPECT_EQ(state, states.front().second) << name << " " << key;
      }
    }
  }
}

// Proves a node that lost its disk gets every key back from the other replicas through repair,
// under message loss, and then all replicas are equal.
TEST(RepairSimTest, AReplicaThatLostItsDiskIsRebuilt) {
  for (const uint64_t seed : test::test_seeds(1, 3, 30)) {
    const std::string name = "seed " + std::to_string(seed);
    sim::Simulation simulation(seed);
    sim::SimClusterOptions options;
    options.node_count = 3;
    sim::SimCluster cluster(&simulation, options);
    cluster.start();
    simulation.run_until(30'000'000);
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    write_keys(simulation, cluster, name);
    const NodeId lost{3};
    cluster.crash(lost);
    cluster.lose_disk(lost);
    cluster.restart(lost);
    simulation.run_until(simulation.now_us() + 30'000'000);
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    EXPECT_LT(held_by(cluster, lost), kKeyCount) << name << ": the disk was not lost";

    sim::NetworkConfig lossy = cluster.network().config();
    const sim::NetworkConfig reliable = lossy;
    lossy.loss_probability = 0.05;
    cluster.network().set_config(lossy);
    simulation.run_until(simulation.now_us() + 2 * kRepairCycleUs);
    cluster.network().set_config(reliable);
    simulation.run_until(simulation.now_us() + kRepairCycleUs);
    EXPECT_EQ(expect_converged(cluster, lost, name), kKeyCount) << name;
    uint64_t fetched = 0;
    uint64_t pushed = 0;
    for (const NodeId id : cluster.ids()) {
      fetched += cluster.cluster_node(id).repair().stats().keys_fetched;
      pushed += cluster.cluster_node(id).repair().stats().keys_pushed;
    }
    EXPECT_GE(fetched + pushed, static_cast<uint64_t>(kKeyCount)) << name;
  }
}

// Proves a states reply carries no more than its byte bound, after its first state, and that the
// asker's requests for the rest still rebuild a lost disk: with the bound at one byte every reply
// holds one state, and the keys asked for together are fetched one request each.
TEST(RepairSimTest, StatesRepliesKeepToTheirByteBound) {
  sim::Simulation simulation(11);
  sim::SimClusterOptions options;
  options.node_count = 3;
  options.node.repair.states_reply_bytes_max = 1;
  sim::SimCluster cluster(&simulation, options);
  cluster.start();
  simulation.run_until(30'000'000);
  ASSERT_TRUE(cluster.converged()) << cluster.convergence_report();
  write_keys(simulation, cluster, "seed 11");
  // Keys of one slot, which one request asks for together (the others' slots hold one key each).
  std::vector<std::string> tagged;
  for (int i = 0; i < 20; i++) tagged.push_back("{tag}k" + std::to_string(i));
  ASSERT_EQ(submit_each(simulation, cluster, cluster.ids(), tagged, RequestKind::kSet, {"v"}), 20);
  // The lowest id starts the exchanges with both others: it asks them for the states it lacks.
  const NodeId lost{1};
  cluster.crash(lost);
  cluster.lose_disk(lost);
  cluster.restart(lost);
  simulation.run_until(simulation.now_us() + 30'000'000);
  ASSERT_LT(held_by(cluster, lost), kKeyCount) << "the disk was not lost";
  simulation.run_until(simulation.now_us() + kRepairCycleUs);
  EXPECT_EQ(expect_converged(cluster, lost, "seed 11"), kKeyCount);
  for (const std::string& key : tagged) {
    const std::vector<std::pair<NodeId, KeyState>> states = cluster.replica_states(key);
    ASSERT_EQ(states.size(), 3u) << key;
    for (const auto& [node, state] : states) {
      EXPECT_EQ(state, states.front().second) << key;
      EXPECT_NE(state.type(0), KeyStateType::kNone) << key << " on node " << node.value;
    }
  }
  uint64_t cut = 0;
  for (const NodeId id : cluster.ids())
    cut += cluster.cluster_node(id).repair().stats().states_replies_cut;
  EXPECT_GT(cut, 0u) << "no request asked for more than one state";
}

// Starts a pass over slots [first, last] on every node and runs until all are done; every
// exchange must complete.
std::vector<RepairPassStatus> run_passes(sim::Simulation& simulation, sim::SimCluster& cluster,
                                         uint64_t id, uint16_t first, uint16_t last) {
  for (const NodeId node : cluster.ids()) {
    cluster.cluster_node(node).start_repair_pass(id, first, last, cluster.node_time(node));
  }
  const auto all_done = [&] {
    for (const NodeId node : cluster.ids()) {
      if (cluster.cluster_node(node).repair().pass_status(cluster.node_time(node)).running) {
        return false;
      }
    }
    return true;
  };
  const uint64_t start_us = simulation.now_us();
  while (!all_done()) {
    EXPECT_LT(simulation.now_us() - start_us, kRepairCycleUs) << "a pass took longer than a cycle";
    if (simulation.now_us() - start_us >= kRepairCycleUs) break;
    simulation.run_until(simulation.now_us() + 100'000);
  }
  std::vector<RepairPassStatus> statuses;
  for (const NodeId node : cluster.ids()) {
    statuses.push_back(cluster.cluster_node(node).repair().pass_status(cluster.node_time(node)));
    EXPECT_EQ(statuses.back().id, id);
    EXPECT_EQ(statuses.back().exchanges_failed, 0u) << "node " << node.value;
    EXPECT_EQ(statuses.back().partitions_done,
              statuses.back().last_partition - statuses.back().first_partition + 1);
  }
  return statuses;
}

// Proves an on-demand pass, with the background cycle off, rebuilds a lost disk at once (well
// within a background cycle's time), counting what it exchanged; a pass over a run of slots
// repairs those and leaves the others; and a second pass finds nothing left to exchange.
TEST(RepairSimTest, AnOnDemandPassRepairsItsSlots) {
  sim::Simulation simulation(5);
  sim::SimClusterOptions options;
  options.node_count = 3;
  options.node.repair.enabled = false;
  sim::SimCluster cluster(&simulation, options);
  cluster.start();
  simulation.run_until(30'000'000);
  ASSERT_TRUE(cluster.converged()) << cluster.convergence_report();
  write_keys(simulation, cluster, "seed 5");
  const NodeId lost{3};
  cluster.crash(lost);
  cluster.lose_disk(lost);
  cluster.restart(lost);
  simulation.run_until(simulation.now_us() + 30'000'000);
  ASSERT_TRUE(cluster.converged()) << cluster.convergence_report();
  ASSERT_EQ(held_by(cluster, lost), 0) << "the background cycle is off";

  // The lower half of the slots first.
  const uint16_t half = kSlotCount / 2 - 1;
  int lower_keys = 0;
  for (int i = 0; i < kKeyCount; i++) lower_keys += key_slot(key_name(i)) <= half;
  ASSERT_GT(lower_keys, 0);
  ASSERT_LT(lower_keys, kKeyCount);
  uint64_t exchanged = 0;
  for (const RepairPassStatus& status : run_passes(simulation, cluster, 1, 0, half)) {
    EXPECT_GT(status.exchanges_completed, 0u);
    exchanged += status.keys_fetched + status.keys_pushed;
  }
  EXPECT_EQ(held_by(cluster, lost), lower_keys);
  EXPECT_GE(exchanged, static_cast<uint64_t>(lower_keys));

  exchanged = 0;
  for (const RepairPassStatus& status : run_passes(simulation, cluster, 2, 0, kSlotCount - 1)) {
    exchanged += status.keys_fetched + status.keys_pushed;
  }
  EXPECT_EQ(expect_converged(cluster, lost, "seed 5"), kKeyCount);
  EXPECT_GE(exchanged, static_cast<uint64_t>(kKeyCount - lower_keys));

  for (const RepairPassStatus& status : run_passes(simulation, cluster, 3, 0, kSlotCount - 1)) {
    EXPECT_EQ(status.keys_fetched + status.keys_pushed, 0u) << "replicas still differed";
    EXPECT_EQ(status.slots_differing, 0u);
  }
}

// Proves repair keeps to its bandwidth: under a limit of 512 B/s, below what its pace alone would
// use, each node's bytes (read, sent and received) stay within what the limit allows over the
// time, the busiest runs near the limit, and a lost disk is still rebuilt, only later.
TEST(RepairSimTest, RepairKeepsToItsBandwidth) {
  constexpr uint64_t kLimit = 512;
  sim::Simulation simulation(7);
  sim::SimClusterOptions options;
  options.node_count = 3;
  options.node.repair.bytes_per_second_max = kLimit;
  sim::SimCluster cluster(&simulation, options);
  cluster.start();
  simulation.run_until(30'000'000);
  ASSERT_TRUE(cluster.converged()) << cluster.convergence_report();
  write_keys(simulation, cluster, "seed 7");
  const NodeId lost{3};
  cluster.crash(lost);
  cluster.lose_disk(lost);
  cluster.restart(lost);
  const auto used = [&](NodeId id) {
    const RepairStats& stats = cluster.cluster_node(id).repair().stats();
    return stats.bytes_read + stats.bytes_sent + stats.bytes_received;
  };
  std::vector<uint64_t> before;
  for (const NodeId id : cluster.ids()) before.push_back(id == lost ? 0 : used(id));
  const uint64_t start_us = simulation.now_us();
  uint64_t busiest = 0;
  while (held_by(cluster, lost) < kKeyCount) {
    ASSERT_LT(simulation.now_us() - start_us, 3'000'000'000u) << "not rebuilt in 50 minutes";
    simulation.run_until(simulation.now_us() + 10'000'000);
    const uint64_t elapsed_s = (simulation.now_us() - start_us) / 1'000'000;
    for (size_t i = 0; i < cluster.size(); i++) {
      const uint64_t bytes = used(cluster.id(i)) - before[i];
      busiest = std::max(busiest, bytes);
      // One request's worth of burst beyond the average: a request goes out once the bytes
      // before it are paid for, and its reply is charged after.
      ASSERT_LE(bytes, kLimit * elapsed_s + 8 * 1024) << "node " << i + 1;
    }
  }
  // The limit is what paced the busiest node: it ran at more than half of it.
  const uint64_t elapsed_s = (simulation.now_us() - start_us) / 1'000'000;
  EXPECT_GT(busiest, kLimit * elapsed_s / 2) << "the limit never bound: the test proves nothing";
  expect_converged(cluster, lost, "seed 7");
}

// Proves replicas that hold the same keys compare equal everywhere and exchange nothing.
TEST(RepairSimTest, EqualReplicasExchangeNoKey) {
  sim::Simulation simulation(42);
  sim::SimClusterOptions options;
  options.node_count = 4;
  sim::SimCluster cluster(&simulation, options);
  cluster.start();
  simulation.run_until(30'000'000);
  ASSERT_TRUE(cluster.converged()) << cluster.convergence_report();
  write_keys(simulation, cluster, "seed 42");
  simulation.run_until(simulation.now_us() + kRepairCycleUs);
  uint64_t exchanges = 0;
  for (const NodeId id : cluster.ids()) {
    const RepairStats& stats = cluster.cluster_node(id).repair().stats();
    EXPECT_EQ(stats.keys_fetched + stats.keys_pushed, 0u) << "node " << id.value;
    EXPECT_EQ(stats.partitions_equal, stats.exchanges_started - (stats.timeouts + stats.errors));
    exchanges += stats.exchanges_started;
  }
  EXPECT_GT(exchanges, 2048u) << "a cycle did not run";
}

}  // namespace
}  // namespace cairn
