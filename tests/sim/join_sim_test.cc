// Proves a node joining a cluster that holds data gets its share through the ring transition
// (ring.h) alone: with anti-entropy off and no reads, once the ring has settled the joiner holds
// every key it is now a replica of, equal to the other replicas; under message loss too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/slot.h"
#include "sim/sim_cluster.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr int kKeyCount = 400;

std::string key_name(int i) { return "j" + std::to_string(i); }

TEST(JoinSimTest, AJoinerStreamsWhatItGains) {
  for (const uint64_t seed : test::test_seeds(21, 3, 20)) {
    const std::string name = "seed " + std::to_string(seed);
    sim::Simulation simulation(seed);
    sim::SimClusterOptions options;
    options.node_count = 4;
    options.late_count = 1;
    options.node.repair.enabled = false;  // only the transition's stream moves data
    sim::SimCluster cluster(&simulation, options);
    cluster.start();
    simulation.run_until(60'000'000);
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();

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

    if (seed % 2 == 0) {  // the join under message loss
      sim::NetworkConfig lossy = cluster.network().config();
      lossy.loss_probability = 0.02;
      cluster.network().set_config(lossy);
    }
    const NodeId joiner = cluster.id(3);
    cluster.restart(joiner);  // its first start: it joins
    const uint64_t joined_by = simulation.now_us() + 120'000'000;
    while (!cluster.converged() && simulation.now_us() < joined_by) {
      simulation.run_until(simulation.now_us() + 1'000'000);
    }
    ASSERT_TRUE(cluster.converged()) << name << cluster.convergence_report();
    EXPECT_GT(cluster.cluster_node(joiner).repair().stats().partitions_streamed, 0u) << name;

    int gained = 0;
    for (int i = 0; i < kKeyCount; i++) {
      const std::vector<std::pair<NodeId, KeyState>> states = cluster.replica_states(key_name(i));
      for (const auto& [node, state] : states) {
        EXPECT_EQ(state.string_value(0), "v" + std::to_string(i))
            << name << " " << key_name(i) << " on node " << node.value;
        gained += node == joiner;
      }
    }
    EXPECT_GT(gained, kKeyCount / 2) << name << ": the joiner is a replica of too few keys";
  }
}

}  // namespace
}  // namespace cairn
