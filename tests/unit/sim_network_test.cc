// Proves the simulated network: delivery within the configured latency, loss and duplication
// near their probabilities, reordering through jitter, every partition shape (symmetric,
// one-way, isolation, bridge) and heal, down nodes receiving and sending nothing, the slow
// node's processing delay, and counters that add up.
#include "sim/sim_network.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace cairn::sim {
namespace {

struct Delivery {
  NodeId from;
  std::string bytes;
  uint64_t at_us;
};

// A network of `count` nodes with ids 1..count that records what each receives.
class Fixture {
 public:
  Fixture(size_t count, NetworkConfig config) : simulation(3), network(&simulation, config) {
    for (uint64_t id = 1; id <= count; id++) {
      endpoints[id] = network.add_node(NodeId{id}, [this, id](NodeId from, std::string_view bytes) {
        received[id].push_back(Delivery{from, std::string(bytes), simulation.now_us()});
      });
    }
  }
  void send(uint64_t from, uint64_t to, std::string bytes = "m") {
    endpoints[from]->send(NodeId{to}, std::move(bytes));
  }
  size_t count(uint64_t id) { return received[id].size(); }

  Simulation simulation;
  SimNetwork network;
  std::map<uint64_t, Network*> endpoints;
  std::map<uint64_t, std::vector<Delivery>> received;
};

TEST(SimNetworkTest, DeliversWithinLatencyAndReorders) {
  Fixture fixture(2, NetworkConfig{100, 1000, 0, 0});
  for (int i = 0; i < 200; i++) fixture.send(1, 2, std::to_string(i));
  fixture.simulation.run_until(10'000);
  ASSERT_EQ(fixture.count(2), 200u);
  bool reordered = false;
  for (size_t i = 0; i < 200; i++) {
    const Delivery& delivery = fixture.received[2][i];
    EXPECT_EQ(delivery.from, NodeId{1});
    EXPECT_GE(delivery.at_us, 100u);
    EXPECT_LE(delivery.at_us, 1100u);
    reordered |= delivery.bytes != std::to_string(i);
  }
  EXPECT_TRUE(reordered);
  EXPECT_EQ(fixture.network.stats().delivered, 200u);
}

TEST(SimNetworkTest, LossAndDuplicationFollowTheirProbabilities) {
  Fixture fixture(2, NetworkConfig{100, 0, 0.2, 0.1});
  for (int i = 0; i < 10'000; i++) fixture.send(1, 2);
  fixture.simulation.run_until(1'000);
  const NetworkStats& stats = fixture.network.stats();
  EXPECT_NEAR(static_cast<double>(stats.dropped_loss), 2'000, 200);
  EXPECT_NEAR(static_cast<double>(stats.duplicated), 800, 150);  // 10% of the 80% not lost
  EXPECT_EQ(stats.sent + stats.duplicated, stats.delivered + stats.dropped());
  // The knobs change during a run.
  fixture.network.set_config(NetworkConfig{100, 0, 0, 0});
  fixture.send(1, 2);
  fixture.simulation.run_until(2'000);
  EXPECT_EQ(fixture.network.stats().dropped_loss, stats.dropped_loss);
}

TEST(SimNetworkTest, PartitionShapesBlockTheRightLinks) {
  Fixture fixture(5, NetworkConfig{});
  SimNetwork& network = fixture.network;
  network.partition({NodeId{1}, NodeId{2}}, {NodeId{3}, NodeId{4}});
  EXPECT_TRUE(network.is_blocked(NodeId{1}, NodeId{3}));
  EXPECT_TRUE(network.is_blocked(NodeId{4}, NodeId{2}));
  EXPECT_FALSE(network.is_blocked(NodeId{1}, NodeId{2}));
  EXPECT_FALSE(network.is_blocked(NodeId{5}, NodeId{1}));
  network.heal();
  network.partition_one_way({NodeId{1}}, {NodeId{2}});
  EXPECT_TRUE(network.is_blocked(NodeId{1}, NodeId{2}));
  EXPECT_FALSE(network.is_blocked(NodeId{2}, NodeId{1}));
  network.heal();
  network.isolate(NodeId{3});
  for (uint64_t other : {1, 2, 4, 5}) {
    EXPECT_TRUE(network.is_blocked(NodeId{3}, NodeId{other}));
    EXPECT_TRUE(network.is_blocked(NodeId{other}, NodeId{3}));
  }
  network.heal();
  network.bridge({NodeId{1}, NodeId{2}, NodeId{3}}, {NodeId{4}, NodeId{5}}, NodeId{3});
  EXPECT_TRUE(network.is_blocked(NodeId{1}, NodeId{4}));
  EXPECT_TRUE(network.is_blocked(NodeId{5}, NodeId{2}));
  EXPECT_FALSE(network.is_blocked(NodeId{3}, NodeId{4}));
  EXPECT_FALSE(network.is_blocked(NodeId{5}, NodeId{3}));
  EXPECT_FALSE(network.is_blocked(NodeId{1}, NodeId{3}));

  fixture.send(1, 4);
  fixture.send(1, 3);
  fixture.simulation.run_until(10'000);
  EXPECT_EQ(fixture.count(4), 0u);
  EXPECT_EQ(fixture.count(3), 1u);
  EXPECT_EQ(network.stats().dropped_partition, 1u);
  network.heal();
  fixture.send(1, 4);
  fixture.simulation.run_until(20'000);
  EXPECT_EQ(fixture.count(4), 1u);
}

TEST(SimNetworkTest, DownNodesReceiveAndSendNothing) {
  Fixture fixture(2, NetworkConfig{1'000, 0, 0, 0});
  fixture.send(1, 2);
  fixture.network.set_up(NodeId{2}, false);  // goes down while the message is in flight
  fixture.send(2, 1);
  fixture.simulation.run_until(5'000);
  EXPECT_EQ(fixture.count(2), 0u);
  EXPECT_EQ(fixture.count(1), 0u);
  EXPECT_EQ(fixture.network.stats().dropped_down, 2u);
  fixture.network.set_up(NodeId{2}, true);
  fixture.send(1, 2);
  fixture.send(1, 9);  // never added
  fixture.simulation.run_until(10'000);
  EXPECT_EQ(fixture.count(2), 1u);
  EXPECT_EQ(fixture.network.stats().dropped_unknown, 1u);
}

TEST(SimNetworkTest, ASlowNodeReceivesLate) {
  Fixture fixture(2, NetworkConfig{1'000, 0, 0, 0});
  fixture.network.set_processing_delay_us(NodeId{2}, 500'000);
  fixture.send(1, 2);
  fixture.send(2, 1);
  fixture.simulation.run_until(1'000'000);
  ASSERT_EQ(fixture.count(2), 1u);
  ASSERT_EQ(fixture.count(1), 1u);
  EXPECT_EQ(fixture.received[2][0].at_us, 501'000u);
  EXPECT_EQ(fixture.received[1][0].at_us, 1'000u);  // what it sends is not delayed
}

}  // namespace
}  // namespace cairn::sim
