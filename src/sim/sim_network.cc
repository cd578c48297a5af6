#include "sim/sim_network.h"

#include "common/assert.h"
#include "common/checksum.h"

namespace cairn::sim {

namespace {

// Probabilities are compared in integer steps of one in a billion: a draw is the same on every
// platform, whatever the floating-point environment.
constexpr uint64_t kProbabilitySteps = 1'000'000'000;

bool valid_probability(double p) { return p >= 0 && p <= 1; }

}  // namespace

class SimNetwork::Endpoint final : public Network {
 public:
  Endpoint(SimNetwork* network, NodeId id) : network_(network), id_(id) {}
  void send(NodeId to, std::string message) override {
    network_->send(id_, to, std::move(message));
  }

 private:
  SimNetwork* network_;
  NodeId id_;
};

SimNetwork::SimNetwork(Simulation* simulation, NetworkConfig config) : simulation_(simulation) {
  CAIRN_ASSERT(simulation != nullptr);
  set_config(config);
}

SimNetwork::~SimNetwork() = default;

Network* SimNetwork::add_node(NodeId id, Receiver receiver) {
  CAIRN_ASSERT(!nodes_.contains(id));
  Node& added = nodes_[id];
  added.receiver = std::move(receiver);
  added.endpoint = std::make_unique<Endpoint>(this, id);
  return added.endpoint.get();
}

void SimNetwork::set_receiver(NodeId id, Receiver receiver) {
  node(id).receiver = std::move(receiver);
}

void SimNetwork::set_config(const NetworkConfig& config) {
  CAIRN_ASSERT(valid_probability(config.loss_probability));
  CAIRN_ASSERT(valid_probability(config.duplicate_probability));
  config_ = config;
}

void SimNetwork::set_up(NodeId id, bool up) {
  node(id).up = up;
  simulation_->record(up ? "node-up" : "node-down", id.value);
}

bool SimNetwork::is_up(NodeId id) const { return node(id).up; }

void SimNetwork::set_processing_delay_us(NodeId id, uint64_t delay_us) {
  node(id).processing_delay_us = delay_us;
}

void SimNetwork::block(NodeId from, NodeId to) { blocked_.insert({from, to}); }

void SimNetwork::unblock(NodeId from, NodeId to) { blocked_.erase({from, to}); }

bool SimNetwork::is_blocked(NodeId from, NodeId to) const { return blocked_.contains({from, to}); }

void SimNetwork::partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  partition_one_way(a, b);
  partition_one_way(b, a);
}

void SimNetwork::partition_one_way(const std::vector<NodeId>& from, const std::vector<NodeId>& to) {
  for (const NodeId source : from) {
    for (const NodeId destination : to) {
      if (source != destination) block(source, destination);
    }
  }
}

void SimNetwork::isolate(NodeId isolated) {
  for (const auto& [other, unused] : nodes_) {
    if (other == isolated) continue;
    block(isolated, other);
    block(other, isolated);
  }
}

void SimNetwork::bridge(const std::vector<NodeId>& a, const std::vector<NodeId>& b,
                        NodeId bridge_node) {
  std::vector<NodeId> a_side;
  std::vector<NodeId> b_side;
  for (const NodeId id : a) {
    if (id != bridge_node) a_side.push_back(id);
  }
  for (const NodeId id : b) {
    if (id != bridge_node) b_side.push_back(id);
  }
  partition(a_side, b_side);
}

void SimNetwork::heal() {
  blocked_.clear();
  simulation_->record("heal");
}

SimNetwork::Node& SimNetwork::node(NodeId id) {
  const auto it = nodes_.find(id);
  CAIRN_ASSERT(it != nodes_.end());
  return it->second;
}

const SimNetwork::Node& SimNetwork::node(NodeId id) const {
  const auto it = nodes_.find(id);
  CAIRN_ASSERT(it != nodes_.end());
  return it->second;
}

bool SimNetwork::draw(double probability) {
  const auto threshold =
      static_cast<uint64_t>(probability * static_cast<double>(kProbabilitySteps));
  // Always one draw, so that the stream does not depend on whether a knob is zero.
  return simulation_->random().uniform(kProbabilitySteps) < threshold;
}

void SimNetwork::send(NodeId from, NodeId to, std::string message) {
  stats_.sent++;
  stats_.sent_bytes += message.size();
  const bool lost = draw(config_.loss_probability);
  const bool duplicated = draw(config_.duplicate_probability);
  const auto destination = nodes_.find(to);
  if (destination == nodes_.end()) {
    stats_.dropped_unknown++;
    return;
  }
  if (!node(from).up) {
    stats_.dropped_down++;
    return;
  }
  if (is_blocked(from, to)) {
    stats_.dropped_partition++;
    return;
  }
  if (lost) {
    stats_.dropped_loss++;
    return;
  }
  const uint64_t processing_delay_us = destination->second.processing_delay_us;
  if (duplicated) {
    stats_.duplicated++;
    schedule_delivery(from, to, processing_delay_us, message);
  }
  schedule_delivery(from, to, processing_delay_us, std::move(message));
}

void SimNetwork::schedule_delivery(NodeId from, NodeId to, uint64_t extra_delay_us,
                                   std::string message) {
  const uint64_t latency_us = config_.latency_base_us +
                              simulation_->random().range(0, config_.latency_jitter_us) +
                              extra_delay_us;
  simulation_->schedule_after(
      latency_us, [this, from, to, message = std::move(message)] { deliver(from, to, message); },
      "deliver");
}

void SimNetwork::deliver(NodeId from, NodeId to, const std::string& message) {
  Node& destination = node(to);
  if (!destination.up) {
    stats_.dropped_down++;
    return;
  }
  stats_.delivered++;
  simulation_->record("message", from.value, to.value, hash64(message));
  if (destination.receiver) destination.receiver(from, message);
}

}  // namespace cairn::sim
