// Proves SWIM membership with Lifeguard under the deterministic simulator, over many seeds:
// clusters of 5, 50 and 200 nodes form and agree on members and ring; a crashed node is declared
// dead everywhere within a bound of the suspicion timeout; a join reaches every node; 10% loss
// plus a slow node declare no healthy node dead; a restarted node (same id, fresh state) and
// partitioned nodes after heal are alive everywhere again; random faults end in convergence;
// one seed replays the same trace. Each test prints its figures (median and max over seeds);
// a failure names its seed, which CAIRN_TEST_SEED=N replays.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/membership_cluster.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::ClusterOptions;
using test::MembershipCluster;

constexpr uint64_t kMsUs = 1'000;
constexpr uint64_t kSecondUs = 1'000'000;

ClusterOptions default_options() {
  ClusterOptions options;
  options.network.latency_base_us = 300;
  options.network.latency_jitter_us = 2'000;
  return options;
}

// Median and max of a figure over seeds, printed as one line.
struct Figure {
  std::string name;
  std::vector<double> samples;

  void add(double value) { samples.push_back(value); }
  double max() const { return *std::max_element(samples.begin(), samples.end()); }
  double median() const {
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
  }
  void print(const char* unit) const {
    if (samples.empty()) return;
    std::printf("[figure] %-44s median %8.2f %s, max %8.2f %s (%zu seeds)\n", name.c_str(),
                median(), unit, max(), unit, samples.size());
  }
};

// The racks of a three-rack deployment, by node index.
std::string rack_of(size_t node) { return "rack-" + std::to_string(node % 3); }

// Node 0 founds the cluster and the others join through it, each at a random time within the
// first second. Returns the simulated time until every node agrees on members and ring.
std::optional<uint64_t> form(MembershipCluster& cluster, size_t count, uint64_t timeout_us) {
  for (size_t i = 0; i < count; i++) cluster.add_node(rack_of(i));
  cluster.found(0);
  for (size_t i = 1; i < count; i++) {
    const uint64_t at_us = cluster.simulation().random().range(1, kSecondUs);
    cluster.simulation().schedule_after(
        at_us, [&cluster, i] { cluster.join(i, {0}); }, "join");
  }
  return cluster.run_until(
      [&] {
        for (size_t i = 0; i < count; i++) {
          if (!cluster.running(i)) return false;
        }
        return cluster.converged();
      },
      timeout_us);
}

struct SizeFigures {
  Figure formation;
  Figure detection;
  Figure dissemination;
  Figure real_per_minute;
};

// Forms `count` nodes, crashes one, then joins one more; records the three times, and the real
// time a simulated minute of the steady state takes.
void form_detect_join(size_t count, uint64_t seed, SizeFigures* figures) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) + ")");
  const ClusterOptions options = default_options();
  MembershipCluster cluster(seed, options);
  const auto formed_us = form(cluster, count, 60 * kSecondUs);
  ASSERT_TRUE(formed_us.has_value()) << count << " nodes did not converge\n" << cluster.describe();
  figures->formation.add(static_cast<double>(*formed_us) / kSecondUs);
  const auto minute_start = std::chrono::steady_clock::now();
  cluster.run_for(60 * kSecondUs);
  figures->real_per_minute.add(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - minute_start)
          .count());

  // Detection: a node other than the founder stops; every other node must see it dead.
  const size_t victim = 1 + cluster.simulation().random().uniform(count - 1);
  cluster.crash(victim);
  const auto detected_us = cluster.run_until(
      [&] { return cluster.all_see(victim, MemberState::kDead); }, 300 * kSecondUs);
  ASSERT_TRUE(detected_us.has_value()) << "crash of node " << victim << " not detected";
  figures->detection.add(static_cast<double>(*detected_us) / kSecondUs);
  const SuspicionTimeouts timeouts = suspicion_timeouts(
      options.membership.suspicion_multiplier, options.membership.suspicion_max_multiplier, count,
      options.membership.probe_interval_ms);
  // The worst case is a lone accuser waiting the full maximum; gossip and the first probe add a
  // few protocol periods.
  EXPECT_LE(*detected_us, timeouts.max_ms * kMsUs + 10 * kSecondUs);

  // Dissemination: a new node joins through the founder; every node must see it alive.
  const size_t joiner = cluster.add_node(rack_of(count));
  cluster.join(joiner, {0});
  const auto spread_us =
      cluster.run_until([&] { return cluster.all_see_alive(joiner); }, 30 * kSecondUs, 10 * kMsUs);
  ASSERT_TRUE(spread_us.has_value()) << "the join did not reach every node";
  figures->dissemination.add(static_cast<double>(*spread_us) / kSecondUs);
}

void run_size(size_t count, uint64_t first_seed, int fast, int long_count) {
  const std::string nodes = std::to_string(count) + " nodes";
  SizeFigures figures{{"formation, " + nodes, {}},
                      {"crash detected by all, " + nodes, {}},
                      {"join seen alive by all, " + nodes, {}},
                      {"real time per simulated minute, " + nodes, {}}};
  for (const uint64_t seed : test::test_seeds(first_seed, fast, long_count)) {
    form_detect_join(count, seed, &figures);
    if (testing::Test::HasFatalFailure()) return;
  }
  figures.formation.print("s");
  figures.detection.print("s");
  figures.dissemination.print("s");
  figures.real_per_minute.print("ms");
}

TEST(MembershipSimTest, FiveNodesFormDetectAndDisseminate) { run_size(5, 1000, 16, 200); }

TEST(MembershipSimTest, FiftyNodesFormDetectAndDisseminate) { run_size(50, 2000, 8, 40); }

TEST(MembershipSimTest, TwoHundredNodesFormDetectAndDisseminate) { run_size(200, 3000, 5, 20); }

// Forms `count` nodes without faults and lets the gossip of the formation settle.
void form_settled(MembershipCluster& cluster, size_t count) {
  ASSERT_TRUE(form(cluster, count, 120 * kSecondUs).has_value());
  cluster.run_for(10 * kSecondUs);
}

// 10% loss plus one node that handles every message late (0.8x to 1.6x the probe timeout) for
// five minutes: Lifeguard must keep every node, the slow one included, alive in
// every view. Suspicions are allowed (and counted): a refuted suspicion is the protocol working.
TEST(MembershipSimTest, LossAndASlowNodeDeclareNoHealthyNodeDead) {
  constexpr size_t kNodes = 24;
  Figure false_deaths{"false deaths, 10% loss + slow node, 5 min", {}};
  Figure suspicions{"suspicions raised (failed probes) per minute", {}};
  Figure slow_views{"slow node suspected per view per minute", {}};
  Figure slow_health{"slow node's local health score at the end", {}};
  for (const uint64_t seed : test::test_seeds(4000, 5, 30)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ClusterOptions options = default_options();
    MembershipCluster cluster(seed, options);
    form_settled(cluster, kNodes);
    ASSERT_FALSE(HasFatalFailure());
    const size_t slow = 1 + cluster.simulation().random().uniform(kNodes - 1);
    sim::NetworkConfig lossy = options.network;
    lossy.loss_probability = 0.10;
    cluster.network().set_config(lossy);
    // Around the probe timeout: 0.8x to 1.6x. A node that answers later than the probe interval
    // cannot be told from a dead one, by design.
    const uint64_t timeout_us = options.membership.probe_timeout_ms * kMsUs;
    const uint64_t delay_us =
        cluster.simulation().random().range(timeout_us * 4 / 5, timeout_us * 8 / 5);
    cluster.network().set_processing_delay_us(cluster.id(slow), delay_us);
    const auto accusations = [&] {
      uint64_t total = 0;
      for (size_t i = 0; i < kNodes; i++) total += cluster.membership(i).stats().suspicions_raised;
      return total;
    };
    const uint64_t accusations_before = accusations();
    const uint64_t slow_before = cluster.suspected_count(slow);
    constexpr uint64_t kMinutes = 5;
    cluster.run_for(kMinutes * 60 * kSecondUs);
    uint64_t deaths = 0;
    for (size_t i = 0; i < kNodes; i++) {
      deaths += cluster.declared_dead_count(i);
      EXPECT_EQ(cluster.declared_dead_count(i), 0u) << "node " << i << (i == slow ? " (slow)" : "");
    }
    false_deaths.add(static_cast<double>(deaths));
    suspicions.add(static_cast<double>(accusations() - accusations_before) / kMinutes);
    slow_views.add(static_cast<double>(cluster.suspected_count(slow) - slow_before) / kMinutes /
                   (kNodes - 1));
    slow_health.add(cluster.membership(slow).local_health());
    // Without the faults every view settles back to all alive.
    cluster.network().set_config(options.network);
    cluster.network().set_processing_delay_us(cluster.id(slow), 0);
    EXPECT_TRUE(cluster.run_until([&] { return cluster.converged(); }, 60 * kSecondUs));
  }
  false_deaths.print("");
  suspicions.print("");
  slow_views.print("");
  slow_health.print("");
}

// A node that crashes and comes back with the same id and a fresh state machine (incarnation
// 0) is alive everywhere again: it learns the incarnation the cluster remembers for it and
// refutes above it. Both after the cluster declared it dead and before it noticed.
TEST(MembershipSimTest, RestartedNodeRejoinsAlive) {
  constexpr size_t kNodes = 10;
  Figure rejoin{"restart after death: alive everywhere after", {}};
  Figure quick{"restart before detection: alive everywhere after", {}};
  for (const uint64_t seed : test::test_seeds(5000, 12, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    MembershipCluster cluster(seed, default_options());
    form_settled(cluster, kNodes);
    ASSERT_FALSE(HasFatalFailure());
    const size_t node = 1 + cluster.simulation().random().uniform(kNodes - 1);
    cluster.crash(node);
    ASSERT_TRUE(cluster.run_until([&] { return cluster.all_see(node, MemberState::kDead); },
                                  120 * kSecondUs));
    const uint64_t remembered = cluster.membership(0).members().find(cluster.id(node))->incarnation;
    cluster.restart(node, {0, (node + 1) % kNodes});
    const auto back_us = cluster.run_until([&] { return cluster.converged(); }, 120 * kSecondUs);
    ASSERT_TRUE(back_us.has_value()) << "restarted node " << node << " not alive everywhere";
    EXPECT_GT(cluster.membership(node).incarnation(), remembered);
    rejoin.add(static_cast<double>(*back_us) / kSecondUs);

    // A crash and restart faster than detection: the cluster still remembers the node alive,
    // at the incarnation it refuted with above, which the fresh state machine does not know.
    const uint64_t alive_at = cluster.membership(0).members().find(cluster.id(node))->incarnation;
    ASSERT_GT(alive_at, 0u);
    cluster.crash(node);
    cluster.run_for(300 * kMsUs);
    cluster.restart(node, {0});
    const auto quick_us = cluster.run_until(
        [&] { return cluster.converged() && cluster.membership(node).incarnation() > alive_at; },
        120 * kSecondUs);
    ASSERT_TRUE(quick_us.has_value()) << "quickly restarted node " << node << " not alive";
    quick.add(static_cast<double>(*quick_us) / kSecondUs);
  }
  rejoin.print("s");
  quick.print("s");
}

// A node cut off by a partition is declared dead by the rest; after the heal everyone is alive
// in every view again and all hold one ring. The same for a split into two groups, and for a
// bridge (two groups that reach each other only through one node).
TEST(MembershipSimTest, PartitionedNodesComeBackAfterHeal) {
  constexpr size_t kNodes = 10;
  Figure isolated_dead{"isolated node dead everywhere after", {}};
  Figure isolated_back{"isolated node: all alive after heal in", {}};
  Figure split_back{"6/4 split: all alive after heal in", {}};
  Figure bridge_back{"bridge: all alive after heal in", {}};
  for (const uint64_t seed : test::test_seeds(6000, 10, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    MembershipCluster cluster(seed, default_options());
    form_settled(cluster, kNodes);
    ASSERT_FALSE(HasFatalFailure());
    sim::SimNetwork& network = cluster.network();

    const size_t isolated = cluster.simulation().random().uniform(kNodes);
    network.isolate(cluster.id(isolated));
    const auto dead_us = cluster.run_until(
        [&] { return cluster.all_see(isolated, MemberState::kDead); }, 120 * kSecondUs);
    ASSERT_TRUE(dead_us.has_value()) << "isolated node " << isolated << " not declared dead";
    isolated_dead.add(static_cast<double>(*dead_us) / kSecondUs);
    cluster.run_for(30 * kSecondUs);
    network.heal();
    auto back_us = cluster.run_until([&] { return cluster.converged(); }, 120 * kSecondUs);
    ASSERT_TRUE(back_us.has_value()) << "no convergence after the isolation healed\n"
                                     << cluster.describe();
    isolated_back.add(static_cast<double>(*back_us) / kSecondUs);

    std::vector<size_t> left;
    std::vector<size_t> right;
    for (size_t i = 0; i < kNodes; i++) (i % 5 < 3 ? left : right).push_back(i);
    network.partition(cluster.ids(left), cluster.ids(right));
    cluster.run_for(90 * kSecondUs);
    for (const size_t i : left) {
      for (const size_t j : right) {
        EXPECT_EQ(cluster.membership(i).state(cluster.id(j)), MemberState::kDead);
        EXPECT_EQ(cluster.membership(j).state(cluster.id(i)), MemberState::kDead);
      }
    }
    network.heal();
    back_us = cluster.run_until([&] { return cluster.converged(); }, 120 * kSecondUs);
    ASSERT_TRUE(back_us.has_value()) << "no convergence after the split healed\n"
                                     << cluster.describe();
    split_back.add(static_cast<double>(*back_us) / kSecondUs);

    network.bridge(cluster.ids(left), cluster.ids(right), cluster.id(left.front()));
    cluster.run_for(60 * kSecondUs);
    network.heal();
    back_us = cluster.run_until([&] { return cluster.converged(); }, 120 * kSecondUs);
    ASSERT_TRUE(back_us.has_value()) << "no convergence after the bridge healed\n"
                                     << cluster.describe();
    bridge_back.add(static_cast<double>(*back_us) / kSecondUs);
  }
  isolated_dead.print("s");
  isolated_back.print("s");
  split_back.print("s");
  bridge_back.print("s");
}

// Random faults for two minutes (loss, duplicates, slow nodes, partitions of every shape,
// crashes and restarts, clock jumps), then the network heals and every crashed node restarts:
// all views and the ring must converge again.
TEST(MembershipSimTest, ConvergesAfterRandomFaults) {
  constexpr size_t kNodes = 15;
  Figure recovery{"random faults: converged after the last in", {}};
  for (const uint64_t seed : test::test_seeds(8000, 12, 200)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const ClusterOptions options = default_options();
    MembershipCluster cluster(seed, options);
    form_settled(cluster, kNodes);
    ASSERT_FALSE(HasFatalFailure());
    Random& random = cluster.simulation().random();
    sim::SimNetwork& network = cluster.network();
    const auto random_group = [&] {
      std::vector<size_t> group;
      for (size_t i = 0; i < kNodes; i++) {
        if (random.one_in(2)) group.push_back(i);
      }
      return group;
    };
    const auto rest_of = [&](const std::vector<size_t>& group) {
      std::vector<size_t> rest;
      for (size_t i = 0; i < kNodes; i++) {
        if (std::find(group.begin(), group.end(), i) == group.end()) rest.push_back(i);
      }
      return rest;
    };
    for (int step = 0; step < 24; step++) {
      const size_t node = random.uniform(kNodes);
      switch (random.uniform(8)) {
        case 0: {
          sim::NetworkConfig config = options.network;
          config.loss_probability = static_cast<double>(random.uniform(25)) / 100;
          config.duplicate_probability = static_cast<double>(random.uniform(10)) / 100;
          network.set_config(config);
          break;
        }
        case 1:
          network.set_processing_delay_us(cluster.id(node), random.uniform(800) * kMsUs);
          break;
        case 2: {
          const std::vector<size_t> group = random_group();
          network.partition(cluster.ids(group), cluster.ids(rest_of(group)));
          break;
        }
        case 3: {
          const std::vector<size_t> group = random_group();
          network.partition_one_way(cluster.ids(group), cluster.ids(rest_of(group)));
          break;
        }
        case 4: {
          const std::vector<size_t> group = random_group();
          network.bridge(cluster.ids(group), cluster.ids(rest_of(group)), cluster.id(node));
          break;
        }
        case 5:
          network.heal();
          break;
        case 6: {
          // Restart a crashed node (through another node) or crash a running one.
          std::vector<size_t> crashed;
          for (size_t i = 0; i < kNodes; i++) {
            if (!cluster.running(i)) crashed.push_back(i);
          }
          if (!crashed.empty() && random.one_in(2)) {
            const size_t back = crashed[random.uniform(crashed.size())];
            cluster.restart(back, {(back + 1 + random.uniform(kNodes - 1)) % kNodes});
          } else if (cluster.running(node)) {
            cluster.crash(node);
          }
          break;
        }
        case 7:
          cluster.clock(node).jump_ms(static_cast<int64_t>(random.uniform(20'000)) - 10'000);
          break;
      }
      cluster.run_for(random.range(1, 10) * kSecondUs);
    }
    network.heal();
    network.set_config(options.network);
    std::vector<size_t> restart;
    for (size_t i = 0; i < kNodes; i++) {
      network.set_processing_delay_us(cluster.id(i), 0);
      if (!cluster.running(i)) restart.push_back(i);
    }
    // Restarted through a node that is running (a restarted node's seeds may be down too).
    size_t seed_node = 0;
    while (!cluster.running(seed_node) && seed_node + 1 < kNodes) seed_node++;
    for (const size_t i : restart) {
      if (cluster.running(seed_node)) {
        cluster.restart(i, {seed_node});
      } else {
        cluster.restart(i, {(i + 1) % kNodes});
      }
    }
    const auto converged_us =
        cluster.run_until([&] { return cluster.converged(); }, 120 * kSecondUs);
    ASSERT_TRUE(converged_us.has_value()) << "no convergence after the faults\n"
                                          << cluster.describe();
    recovery.add(static_cast<double>(*converged_us) / kSecondUs);
  }
  recovery.print("s");
}

// Runs a busy scenario (loss, duplicates, a slow node, a one-way partition, a crash and a
// restart) and returns its trace hash and message count.
std::pair<uint64_t, uint64_t> busy_run(uint64_t seed) {
  ClusterOptions options = default_options();
  options.network.loss_probability = 0.05;
  options.network.duplicate_probability = 0.05;
  MembershipCluster cluster(seed, options);
  constexpr size_t kNodes = 12;
  form(cluster, kNodes, 60 * kSecondUs);
  cluster.network().set_processing_delay_us(cluster.id(3), 300 * kMsUs);
  cluster.network().partition_one_way(cluster.ids({1, 2}), cluster.ids({4, 5, 6}));
  cluster.run_for(20 * kSecondUs);
  cluster.network().heal();
  cluster.crash(7);
  cluster.run_for(15 * kSecondUs);
  cluster.restart(7, {0});
  cluster.clock(8).jump_ms(-5'000);
  cluster.run_for(20 * kSecondUs);
  return {cluster.simulation().trace_hash(), cluster.network().stats().delivered};
}

// Two runs of one seed take the same path: equal trace hashes (every event and message folded
// in); another seed takes another.
TEST(MembershipSimTest, OneSeedReplaysTheSameTrace) {
  for (const uint64_t seed : test::test_seeds(7000, 3, 10)) {
    const auto first = busy_run(seed);
    const auto second = busy_run(seed);
    EXPECT_EQ(first, second) << "seed " << seed;
    const auto other = busy_run(seed + 1'000'000);
    EXPECT_NE(first.first, other.first) << "seed " << seed;
    std::printf("[figure] seed %llu: trace hash %016llx over %llu messages\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(first.first),
                static_cast<unsigned long long>(first.second));
  }
}

}  // namespace
}  // namespace cairn
