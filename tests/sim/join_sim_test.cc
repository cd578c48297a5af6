// Proves membership changes move data through the ring transition (ring.h) alone, with
// anti-entropy off and no reads: a joiner holds every key it is now a replica of once the ring
// has settled, under message loss too; a leaving node's share streams to the members that gain
// it before it goes; and a dead node's removal rebuilds its replicas from the survivors.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "model/slot.h"
#include "sim/sim_cluster.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr int kKeyCount = 400;

std::string key_name(int i) { return "j" + std::to_string(i); }

// Four nodes, `late_count` of them left to join later, with anti-entropy off: only a
// transition's stream moves data.
sim::SimClusterOptions four_nodes(size_t late_count) {
  sim::SimClusterOptions options;
  options.node_count = 4;
  options.late_count = late_count;
  options.node.repair.enabled = false;
  return options;
}

// Starts the cluster and runs until it has formed.
void form(sim::Simulation& simulation, sim::SimCluster& cluster, const std::string& name) {
  cluster.start();
  simulation.run_until(60'000'000);
  ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
}

// Writes kKeyCount keys at QUORUM through nodes 1..3; every write must succeed.
void write_keys(sim::Simulation& simulation, sim::SimCluster& cluster, const std::string& name) {
  int acknowledged = 0;
  for (int i = 0; i < kKeyCount; i++) {
    const NodeId coordinator = cluster.id(simulation.random().uniform(3));
    cluster.submit(
        coordinator, ClusterRequest{RequestKind::kSet, key_name(i), {"v" + std::to_string(i)}, 0},
        Consistency{}, [&](ClusterReply reply) { acknowledged += reply.status.is_ok(); });
    simulation.run_until(simulation.now_us() + 10'000);
  }
  simulation.run_until(simulation.now_us() + 5'000'000);
  ASSERT_EQ(acknowledged, kKeyCount) << name;
}

// Every replica of every key (per the ring) holds its value; answers how many `node` holds.
int expect_every_replica_holds(sim::SimCluster& cluster, NodeId node, const std::string& name) {
  int held = 0;
  for (int i = 0; i < kKeyCount; i++) {
    const std::vector<std::pair<NodeId, KeyState>> states = cluster.replica_states(key_name(i));
    EXPECT_EQ(states.size(), 3u) << name;
    for (const auto& [replica, state] : states) {
      EXPECT_EQ(state.string_value(0), "v" + std::to_string(i))
          << name << " " << key_name(i) << " on node " << replica.value;
      held += replica == node;
    }
  }
  return held;
}

// Asks the claimant to take `leaving` out of the ring, then runs until every node but it holds a
// settled ring without it.
void remove_member(sim::Simulation& simulation, sim::SimCluster& cluster, NodeId leaving,
                   const std::string& name) {
  bool asked = false;
  for (const NodeId id : cluster.ids()) {
    if (id != leaving && cluster.is_up(id) && cluster.membership(id).is_claimant()) {
      ASSERT_TRUE(cluster.request_removal(id, leaving).is_ok()) << name;
      asked = true;
    }
  }
  ASSERT_TRUE(asked) << name << ": no claimant";
  const auto settled_without = [&] {
    for (const NodeId id : cluster.ids()) {
      if (id == leaving || !cluster.is_up(id)) continue;
      const Ring& ring = cluster.membership(id).ring();
      if (ring.contains(leaving) || ring.transition() != Ring::Transition::kNone) return false;
    }
    return true;
  };
  const uint64_t deadline = simulation.now_us() + 120'000'000;
  while (!settled_without() && simulation.now_us() < deadline) {
    simulation.run_until(simulation.now_us() + 1'000'000);
  }
  ASSERT_TRUE(settled_without()) << name << cluster.convergence_report();
}

TEST(JoinSimTest, AJoinerStreamsWhatItGains) {
  for (const uint64_t seed : test::test_seeds(21, 3, 20)) {
    const std::string name = "seed " + std::to_string(seed);
    sim::Simulation simulation(seed);
    sim::SimCluster cluster(&simulation, four_nodes(1));
    form(simulation, cluster, name);
    write_keys(simulation, cluster, name);

    if (seed % 2 == 0) {  // the join under message loss
      sim::NetworkConfig lossy = cluster.network().config();
      lossy.loss_probability = 0.02;
      cluster.network().set_config(lossy);
    }
    const NodeId joiner = cluster.id(3);
    cluster.restart(joiner);  // its first start: it joins
    const uint64_t joined_by = simulation.now_us() + 120'000'000;
    size_t gaining_seen = 0;  // the joiner's stream progress, as CAIRN RING STATUS shows it
    while (!cluster.converged() && simulation.now_us() < joined_by) {
      simulation.run_until(simulation.now_us() + 1'000'000);
      if (!cluster.is_up(joiner)) continue;
      const RepairService::StreamProgress progress =
          cluster.cluster_node(joiner).repair().stream_progress();
      EXPECT_LE(progress.partitions_done, progress.partitions) << name;
      gaining_seen = std::max(gaining_seen, progress.partitions);
    }
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    const RepairService& repair = cluster.cluster_node(joiner).repair();
    EXPECT_GT(repair.stats().partitions_streamed, 0u) << name;
    EXPECT_EQ(repair.stats().partitions_streamed, gaining_seen) << name;
    EXPECT_EQ(repair.stream_progress().partitions, 0u) << name << ": the transition is over";

    const int gained = expect_every_replica_holds(cluster, joiner, name);
    EXPECT_GT(gained, kKeyCount / 2) << name << ": the joiner is a replica of too few keys";
  }
}

// Proves a node that leaves streams its share out first: once the ring settles without it, it
// stops for good, and every key still has three replicas holding it.
TEST(JoinSimTest, ALeaverStreamsItsShareOut) {
  for (const uint64_t seed : test::test_seeds(31, 2, 10)) {
    const std::string name = "seed " + std::to_string(seed);
    sim::Simulation simulation(seed);
    sim::SimCluster cluster(&simulation, four_nodes(0));
    form(simulation, cluster, name);
    write_keys(simulation, cluster, name);
    const NodeId leaving = cluster.id(3);
    remove_member(simulation, cluster, leaving, name);
    cluster.retire(leaving);
    simulation.run_until(simulation.now_us() + 30'000'000);
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    uint64_t streamed = 0;
    for (size_t i = 0; i < 3; i++) {
      streamed += cluster.cluster_node(cluster.id(i)).repair().stats().partitions_streamed;
    }
    EXPECT_GT(streamed, 0u) << name;
    expect_every_replica_holds(cluster, leaving, name);
  }
}

// Proves a dead node's removal rebuilds its replicas from the survivors: the node is gone for
// good before it is removed, and afterwards every key has three replicas holding it.
TEST(JoinSimTest, ADeadNodesRemovalRebuildsItsReplicas) {
  for (const uint64_t seed : test::test_seeds(41, 2, 10)) {
    const std::string name = "seed " + std::to_string(seed);
    sim::Simulation simulation(seed);
    sim::SimCluster cluster(&simulation, four_nodes(0));
    form(simulation, cluster, name);
    write_keys(simulation, cluster, name);
    const NodeId dead = cluster.id(3);
    cluster.retire(dead);
    simulation.run_until(simulation.now_us() + 30'000'000);  // seen dead by all
    remove_member(simulation, cluster, dead, name);
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    expect_every_replica_holds(cluster, dead, name);
  }
}

// Submits `request` for each of `keys` at QUORUM through the first three nodes in turn; every
// one must be acknowledged.
void submit_each(sim::Simulation& simulation, sim::SimCluster& cluster,
                 const std::vector<std::string>& keys, RequestKind kind,
                 const std::vector<std::string>& arguments, const std::string& name) {
  int acknowledged = 0;
  for (size_t i = 0; i < keys.size(); i++) {
    cluster.submit(cluster.id(i % 3), ClusterRequest{kind, keys[i], arguments, 0}, Consistency{},
                   [&](ClusterReply reply) { acknowledged += reply.status.is_ok(); });
    simulation.run_until(simulation.now_us() + 20'000);
  }
  simulation.run_until(simulation.now_us() + 2'000'000);
  ASSERT_EQ(acknowledged, static_cast<int>(keys.size())) << name;
}

// Proves a member that a join took partitions from drops what it held of them
// (partition_cleanup.h), so that a change handing them back cannot bring back a field deleted
// meanwhile. Hash fields are written on three nodes; a fourth joins; the fields are deleted and,
// past the grace period with every pair of replicas exchanged, their tombstones purged; then the
// joiner leaves, and the members that regain its partitions stream them: the fields stay
// deleted. With the cleanup off (the bug planted), a member's kept field comes back.
TEST(JoinSimTest, AFieldDeletedAfterAJoinStaysDeletedWhenItsPartitionComesBack) {
  constexpr uint64_t kRepairCycleUs = 250'000'000;  // 2048 exchanges at 100 ms, and spare
  for (const bool cleanup : {true, false}) {
    for (const uint64_t seed : test::test_seeds(51, 1, 5)) {
      const std::string name =
          std::string(cleanup ? "" : "planted: no cleanup, ") + "seed " + std::to_string(seed);
      sim::Simulation simulation(seed);
      sim::SimClusterOptions options = four_nodes(1);
      options.node.repair.enabled = true;  // it purges the tombstones
      options.node.hint_limits.window_ms = 30'000;
      options.node.tombstone_grace_ms = 60'000;
      options.node.partition_cleanup = cleanup;
      sim::SimCluster cluster(&simulation, options);
      form(simulation, cluster, name);
      std::vector<std::string> keys;
      for (int i = 0; i < 20; i++) keys.push_back("h" + std::to_string(i));
      submit_each(simulation, cluster, keys, RequestKind::kHashSet, {"f", "old", "x", "1"}, name);

      const NodeId joiner = cluster.id(3);
      cluster.restart(joiner);  // its first start: it joins
      const uint64_t joined_by = simulation.now_us() + 120'000'000;
      while (!cluster.converged() && simulation.now_us() < joined_by) {
        simulation.run_until(simulation.now_us() + 1'000'000);
      }
      ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
      simulation.run_until(simulation.now_us() + 20'000'000);  // the cleanup's settle wait
      uint64_t dropped = 0;
      for (size_t i = 0; i < 3; i++) {
        dropped += cluster.cluster_node(cluster.id(i)).cleanup().stats().states_dropped;
      }
      EXPECT_EQ(dropped > 0, cleanup) << name;

      submit_each(simulation, cluster, keys, RequestKind::kHashDelete, {"f"}, name);
      simulation.run_until(simulation.now_us() + 4 * kRepairCycleUs);  // past the grace, exchanged
      submit_each(simulation, cluster, keys, RequestKind::kHashSet, {"y", "1"}, name);  // purges
      for (const std::string& key : keys) {
        for (const auto& [node, state] : cluster.replica_states(key)) {
          KeyState purged = state;
          purged.purge(HlcTimestamp::of(uint64_t{1} << 46, 0));
          ASSERT_EQ(purged, state) << name << " " << key << ": not purged on " << node.value;
        }
      }

      remove_member(simulation, cluster, joiner, name);
      cluster.retire(joiner);
      simulation.run_until(simulation.now_us() + 30'000'000);
      ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
      int back = 0;
      for (const std::string& key : keys) {
        for (const auto& [node, state] : cluster.replica_states(key)) {
          const std::vector<std::pair<std::string, std::string>> fields = state.hash_fields(0);
          const std::vector<std::pair<std::string, std::string>> expected = {{"x", "1"},
                                                                             {"y", "1"}};
          back += fields != expected;
          if (cleanup) {
            EXPECT_EQ(fields, expected) << name << " " << key << " on " << node.value;
          }
        }
      }
      if (!cleanup) {
        EXPECT_GT(back, 0) << name << ": the planted bug went unseen";
      }
    }
  }
}

}  // namespace
}  // namespace cairn
