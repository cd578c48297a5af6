// MembershipCluster: a cluster of Membership state machines under the simulator, for the sim
// tests. Each node has its own skewed, drifting SimClock, a SimNetwork endpoint and a periodic
// tick; a node can be started (found or join), crashed (marked down, its state machine dropped)
// and restarted with the same id and fresh state. Listeners count every suspicion and death each
// node sees, per subject, so tests can assert on false positives.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/membership.h"
#include "sim/sim_clock.h"
#include "sim/sim_network.h"
#include "sim/simulation.h"

namespace cairn::test {

struct ClusterOptions {
  MembershipConfig membership;
  sim::NetworkConfig network;
  uint64_t tick_interval_us = 10'000;
  // Each node's wall clock skew and drift are drawn uniformly within these.
  int64_t clock_skew_ms_max = 2'000;
  int64_t clock_drift_ppm_max = 200;
};

class MembershipCluster {
 public:
  MembershipCluster(uint64_t seed, ClusterOptions options);

  // Adds a node with a random id, not started. Returns its index.
  size_t add_node(std::string rack = {});
  void found(size_t node);
  void join(size_t node, const std::vector<size_t>& seeds);
  // The node stops: down in the network, no ticks, state machine gone.
  void crash(size_t node);
  // A fresh state machine with the same id (incarnation 0) joins through `seeds`.
  void restart(size_t node, const std::vector<size_t>& seeds);

  size_t size() const { return nodes_.size(); }
  NodeId id(size_t node) const { return nodes_[node]->id; }
  bool running(size_t node) const { return nodes_[node]->membership != nullptr; }
  Membership& membership(size_t node) { return *nodes_[node]->membership; }
  const Membership& membership(size_t node) const { return *nodes_[node]->membership; }
  sim::SimClock& clock(size_t node) { return *nodes_[node]->clock; }
  sim::Simulation& simulation() { return simulation_; }
  sim::SimNetwork& network() { return network_; }
  std::vector<NodeId> ids(const std::vector<size_t>& nodes) const;

  void run_for(uint64_t duration_us);
  // Runs until done() holds (checked every check_us); returns how long that took, or nothing if
  // it did not hold within timeout_us.
  std::optional<uint64_t> run_until(const std::function<bool()>& done, uint64_t timeout_us,
                                    uint64_t check_us = 50'000);

  // Every running node sees exactly the running nodes alive (and no one suspect), and all hold
  // one ring that contains every running node.
  bool converged() const;
  // Every running node other than `subject` sees it in `state`.
  bool all_see(size_t subject, MemberState state) const;
  // Every running node other than `subject` knows it and sees it alive.
  bool all_see_alive(size_t subject) const { return all_see(subject, MemberState::kAlive); }

  // Every node's view, one line per node and one per member it does not see alive: for the
  // message of a failed convergence.
  std::string describe() const;

  // How many times any node saw `subject` become suspect, or dead, since the start.
  uint64_t suspected_count(size_t subject) const { return nodes_[subject]->suspected; }
  uint64_t declared_dead_count(size_t subject) const { return nodes_[subject]->declared_dead; }

 private:
  struct Node {
    NodeId id;
    std::string rack;
    std::unique_ptr<sim::SimClock> clock;
    Network* endpoint = nullptr;
    std::unique_ptr<Membership> membership;
    uint64_t generation = 0;  // bumped by crash and restart: stale ticks stop
    uint64_t suspected = 0;   // as a subject
    uint64_t declared_dead = 0;
  };

  void boot(size_t node);
  void schedule_tick(size_t node, uint64_t generation, uint64_t delay_us);
  void on_change(NodeId subject, MemberState current);

  ClusterOptions options_;
  sim::Simulation simulation_;
  sim::SimNetwork network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<NodeId, size_t> index_of_;
};

}  // namespace cairn::test
