// SimNetwork: the simulated network between the nodes of one Simulation. Each node gets a
// Network endpoint to send through and registers a receiver that the network calls, from a
// simulation event, with each message that reaches it.
//
// Per message (all drawn from the simulation's Random, so a seed replays them):
// - latency: latency_base_us plus a uniform jitter in [0, latency_jitter_us], so messages
//   between two nodes can overtake each other; plus the receiver's processing delay (below);
// - loss with loss_probability, and duplication with duplicate_probability (the copy gets its
//   own latency).
// The configuration may change during a run; a change applies to messages sent after it.
//
// Faults a test can inject:
// - blocked directed links (partitions): a message sent over a blocked link is dropped. The
//   helpers build the usual shapes: a symmetric partition between two groups, a one-way one,
//   an isolated node, a bridge (two groups that reach each other only through one node). heal()
//   unblocks everything. A block applies when a message is sent; messages already in flight
//   still arrive.
// - a node marked down receives nothing: a message that arrives while it is down is dropped,
//   and what it sends while down is dropped too (a crashed process sends nothing).
// - a slow node: an extra processing delay added to every message it receives. It still
//   answers, only late, which is what Lifeguard's local health has to tolerate.
//
// Thread-safety: none; single-threaded with its Simulation.
// Invariants: sent + duplicated == delivered + dropped() + messages in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/node_id.h"
#include "io/network.h"
#include "sim/simulation.h"

namespace cairn::sim {

struct NetworkConfig {
  uint64_t latency_base_us = 500;
  uint64_t latency_jitter_us = 1000;
  double loss_probability = 0;       // in [0, 1]
  double duplicate_probability = 0;  // in [0, 1]
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t sent_bytes = 0;
  uint64_t delivered = 0;
  uint64_t duplicated = 0;
  uint64_t dropped_loss = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_down = 0;     // the sender or the receiver was down
  uint64_t dropped_unknown = 0;  // sent to a node never added

  uint64_t dropped() const {
    return dropped_loss + dropped_partition + dropped_down + dropped_unknown;
  }
};

class SimNetwork {
 public:
  using Receiver = std::function<void(NodeId from, std::string_view bytes)>;

  // REQUIRES: simulation outlives this network.
  SimNetwork(Simulation* simulation, NetworkConfig config);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // Adds a node (up, no delay) and returns its endpoint, valid as long as this network.
  // REQUIRES: id was not added before.
  Network* add_node(NodeId id, Receiver receiver);
  // Replaces the node's receiver (a restarted node's new state machines). REQUIRES: added.
  void set_receiver(NodeId id, Receiver receiver);

  const NetworkConfig& config() const { return config_; }
  void set_config(const NetworkConfig& config);

  void set_up(NodeId id, bool up);
  bool is_up(NodeId id) const;
  void set_processing_delay_us(NodeId id, uint64_t delay_us);

  void block(NodeId from, NodeId to);
  void unblock(NodeId from, NodeId to);
  bool is_blocked(NodeId from, NodeId to) const;
  // Blocks every link between the groups, both ways.
  void partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b);
  // Blocks the links from `from` to `to` only: `to` still reaches `from`.
  void partition_one_way(const std::vector<NodeId>& from, const std::vector<NodeId>& to);
  // Blocks every link between `node` and every other node, both ways.
  void isolate(NodeId node);
  // Cuts `a` from `b` both ways, except that `bridge` (in either group or in neither) keeps its
  // links to both: the two groups can only both reach the bridge.
  void bridge(const std::vector<NodeId>& a, const std::vector<NodeId>& b, NodeId bridge);
  // Unblocks every link.
  void heal();

  const NetworkStats& stats() const { return stats_; }

 private:
  class Endpoint;
  struct Node {
    Receiver receiver;
    bool up = true;
    uint64_t processing_delay_us = 0;
    std::unique_ptr<Endpoint> endpoint;
  };

  void send(NodeId from, NodeId to, std::string message);
  void schedule_delivery(NodeId from, NodeId to, uint64_t extra_delay_us, std::string message);
  void deliver(NodeId from, NodeId to, const std::string& message);
  bool draw(double probability);
  Node& node(NodeId id);
  const Node& node(NodeId id) const;

  Simulation* simulation_;
  NetworkConfig config_;
  std::map<NodeId, Node> nodes_;
  std::set<std::pair<NodeId, NodeId>> blocked_;  // (from, to)
  NetworkStats stats_;
};

}  // namespace cairn::sim
