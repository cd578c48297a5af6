// SimCluster: a cluster of real nodes inside one Simulation. Each node runs the production state
// machines (Membership, and ClusterNode's coordinator, replica service and hint delivery) on the
// real storage engine over its own FaultEnv disk, with its own skewed, drifting clock, over the
// SimNetwork. The simulator only drives them: it delivers their messages, ticks them, and
// injects crashes (with power loss), restarts, clock jumps and slow disks.
//
// A crashed node's state machines and database are destroyed, its disk loses what was never
// synced, and the network drops everything to and from it. A restart reopens the database from
// that disk and starts fresh state machines under the same id, which rejoin through the seeds.
//
// Thread-safety: none; single-threaded with its Simulation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/cluster_view.h"
#include "cluster/membership.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "sim/sim_clock.h"
#include "sim/sim_network.h"
#include "sim/simulation.h"
#include "storage/database.h"

namespace cairn::sim {

struct SimClusterOptions {
  size_t node_count = 5;
  size_t seed_count = 2;  // nodes 1..seed_count are the seeds others join through
  // The last late_count nodes do not start with the others: restart() joins each later, through
  // a ring transition (ring.h). REQUIRES: late_count < node_count, and no seed is late.
  size_t late_count = 0;
  NetworkConfig network;
  MembershipConfig membership;
  ClusterNodeConfig node;
  uint64_t tick_interval_us = 10'000;
  // Clocks: skew drawn in [-clock_skew_ms_max, +clock_skew_ms_max], drift in +-drift_ppm_max.
  int64_t clock_skew_ms_max = 0;
  int64_t clock_drift_ppm_max = 0;
  // Each storage operation of a slow node's disk costs this much more simulated time: its
  // messages are processed this much later.
  uint64_t slow_disk_delay_us = 20'000;
};

class SimCluster {
 public:
  using Completion = std::function<void(ClusterReply)>;

  // REQUIRES: simulation outlives the cluster.
  SimCluster(Simulation* simulation, SimClusterOptions options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // Node 1 founds the cluster; the others but the late ones join through the seeds.
  void start();
  // Every up node is joined, sees every other up node alive, and holds the same ring, out of any
  // transition, with every node that ever started in it.
  bool converged() const;
  // What keeps converged() false: per up node, whether it joined, its ring, and whom it does not
  // see alive.
  std::string convergence_report() const;

  size_t size() const { return nodes_.size(); }
  NodeId id(size_t index) const { return NodeId{index + 1}; }
  std::vector<NodeId> ids() const;
  bool is_up(NodeId id) const;

  // Runs `request` with `id` as coordinator. REQUIRES: is_up(id).
  void submit(NodeId id, const ClusterRequest& request, Consistency consistency, Completion done);

  void crash(NodeId id);
  // Gives a crashed node a new, empty disk: it lost everything. REQUIRES: !is_up(id).
  void lose_disk(NodeId id);
  void restart(NodeId id);
  // Stops `id` for good (a node that left, or a dead one removed): restart() leaves it down and
  // converged() no longer expects it in the ring.
  void retire(NodeId id);
  void set_slow_disk(NodeId id, bool slow);
  SimClock& clock(NodeId id);
  SimNetwork& network() { return network_; }
  // REQUIRES: is_up(id).
  const Membership& membership(NodeId id) const;
  // Membership::request_removal on node `at`. REQUIRES: is_up(at).
  Status request_removal(NodeId at, NodeId leaving);
  ClusterNode& cluster_node(NodeId id);
  // The node's time now, as its ClusterNode sees it. REQUIRES: is_up(id).
  NodeTime node_time(NodeId id) const;

  // The ring most up nodes hold (the first up node's).
  const Ring& ring() const;
  // What each replica of `key` (per ring()) stores. REQUIRES: every node is up.
  std::vector<std::pair<NodeId, KeyState>> replica_states(const std::string& key);

 private:
  struct Node;

  void open_node(Node& node);
  void schedule_tick(Node& node);
  void receive(Node& node, NodeId from, std::string_view bytes);
  NodeTime time_of(const Node& node) const;
  Node& node(NodeId id);
  const Node& node(NodeId id) const;

  Simulation* simulation_;
  SimClusterOptions options_;
  SimNetwork network_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace cairn::sim
