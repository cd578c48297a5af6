#include "sim/membership_cluster.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/assert.h"

namespace cairn::test {

MembershipCluster::MembershipCluster(uint64_t seed, ClusterOptions options)
    : options_(options), simulation_(seed), network_(&simulation_, options.network) {}

size_t MembershipCluster::add_node(std::string rack) {
  auto node = std::make_unique<Node>();
  Random& random = simulation_.random();
  do {
    node->id = NodeId{random.next_u64()};
  } while (node->id.value == 0 || std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& other) {
             return other->id == node->id;
           }));
  node->rack = std::move(rack);
  const auto skew_span = static_cast<uint64_t>(2 * options_.clock_skew_ms_max);
  const auto drift_span = static_cast<uint64_t>(2 * options_.clock_drift_ppm_max);
  sim::ClockSpec spec;
  spec.skew_ms = static_cast<int64_t>(random.range(0, skew_span)) - options_.clock_skew_ms_max;
  spec.drift_ppm = static_cast<int64_t>(random.range(0, drift_span)) - options_.clock_drift_ppm_max;
  spec.monotonic_start_ms = random.range(1'000, 1'000'000'000);
  node->clock = std::make_unique<sim::SimClock>(&simulation_, spec);
  const size_t index = nodes_.size();
  node->endpoint = network_.add_node(node->id, [this, index](NodeId from, std::string_view bytes) {
    Node& receiver = *nodes_[index];
    if (receiver.membership == nullptr || bytes.empty()) return;
    if (static_cast<uint8_t>(bytes[0]) != static_cast<uint8_t>(MessageChannel::kMembership)) return;
    receiver.membership->on_message(from, bytes, receiver.clock->monotonic_ms());
  });
  index_of_[node->id] = index;
  nodes_.push_back(std::move(node));
  return index;
}

void MembershipCluster::boot(size_t index) {
  Node& node = *nodes_[index];
  CAIRN_ASSERT(node.membership == nullptr);
  node.generation++;
  node.membership = std::make_unique<Membership>(node.id, node.rack, options_.membership,
                                                 node.endpoint, simulation_.random().next_u64());
  node.membership->set_listener([this](NodeId subject, std::optional<MemberState>,
                                       MemberState current) { on_change(subject, current); });
  network_.set_up(node.id, true);
  schedule_tick(index, node.generation, simulation_.random().range(1, options_.tick_interval_us));
}

void MembershipCluster::schedule_tick(size_t index, uint64_t generation, uint64_t delay_us) {
  simulation_.schedule_after(
      delay_us,
      [this, index, generation] {
        Node& node = *nodes_[index];
        if (node.generation != generation || node.membership == nullptr) return;
        node.membership->tick(node.clock->monotonic_ms());
        schedule_tick(index, generation, options_.tick_interval_us);
      },
      "tick");
}

void MembershipCluster::on_change(NodeId subject, MemberState current) {
  const auto it = index_of_.find(subject);
  if (it == index_of_.end()) return;
  Node& node = *nodes_[it->second];
  if (current == MemberState::kSuspect) node.suspected++;
  if (current == MemberState::kDead) node.declared_dead++;
}

void MembershipCluster::found(size_t index) {
  boot(index);
  nodes_[index]->membership->found(nodes_[index]->clock->monotonic_ms());
}

void MembershipCluster::join(size_t index, const std::vector<size_t>& seeds) {
  boot(index);
  nodes_[index]->membership->join(ids(seeds), nodes_[index]->clock->monotonic_ms());
}

void MembershipCluster::crash(size_t index) {
  Node& node = *nodes_[index];
  node.generation++;
  node.membership.reset();
  network_.set_up(node.id, false);
}

void MembershipCluster::restart(size_t index, const std::vector<size_t>& seeds) {
  CAIRN_ASSERT(!running(index));
  join(index, seeds);
}

std::vector<NodeId> MembershipCluster::ids(const std::vector<size_t>& nodes) const {
  std::vector<NodeId> out;
  for (const size_t node : nodes) out.push_back(id(node));
  return out;
}

void MembershipCluster::run_for(uint64_t duration_us) {
  simulation_.run_until(simulation_.now_us() + duration_us);
}

std::optional<uint64_t> MembershipCluster::run_until(const std::function<bool()>& done,
                                                     uint64_t timeout_us, uint64_t check_us) {
  const uint64_t start_us = simulation_.now_us();
  while (!done()) {
    if (simulation_.now_us() - start_us >= timeout_us) return std::nullopt;
    run_for(check_us);
  }
  return simulation_.now_us() - start_us;
}

bool MembershipCluster::converged() const {
  std::vector<NodeId> expected;
  for (const auto& node : nodes_) {
    if (node->membership != nullptr) expected.push_back(node->id);
  }
  std::sort(expected.begin(), expected.end());
  std::optional<uint64_t> digest;
  for (const auto& node : nodes_) {
    if (node->membership == nullptr) continue;
    const Membership& membership = *node->membership;
    if (membership.members().count(MemberState::kSuspect) != 0) return false;
    if (membership.alive_members() != expected) return false;
    const Ring& ring = membership.ring();
    if (digest && *digest != ring.digest()) return false;
    digest = ring.digest();
    for (const NodeId id : expected) {
      if (!ring.contains(id)) return false;
    }
  }
  return true;
}

bool MembershipCluster::all_see(size_t subject, MemberState state) const {
  for (size_t i = 0; i < nodes_.size(); i++) {
    if (i == subject || !running(i)) continue;
    if (membership(i).state(id(subject)) != state) return false;
  }
  return true;
}

std::string MembershipCluster::describe() const {
  std::string out;
  char line[200];
  for (size_t i = 0; i < nodes_.size(); i++) {
    const Node& node = *nodes_[i];
    if (node.membership == nullptr) {
      std::snprintf(line, sizeof line, "node %zu %s: down\n", i, to_string(node.id).c_str());
      out += line;
      continue;
    }
    const Membership& m = *node.membership;
    std::snprintf(line, sizeof line,
                  "node %zu %s: joined %d incarnation %" PRIu64
                  " health %u, alive %zu suspect %zu "
                  "dead %zu, ring epoch %" PRIu64 " of %zu digest %016" PRIx64 "\n",
                  i, to_string(node.id).c_str(), m.joined(), m.incarnation(), m.local_health(),
                  m.members().count(MemberState::kAlive), m.members().count(MemberState::kSuspect),
                  m.members().count(MemberState::kDead), m.ring().epoch(),
                  m.ring().members().size(), m.ring().digest());
    out += line;
    for (const auto& [id, record] : m.members().records()) {
      if (record.state == MemberState::kAlive) continue;
      std::snprintf(line, sizeof line, "  sees %s %s at %" PRIu64 "\n", to_string(id).c_str(),
                    to_string(record.state), record.incarnation);
      out += line;
    }
  }
  return out;
}

}  // namespace cairn::test
