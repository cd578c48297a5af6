#include "sim/sim_cluster.h"

#include "cluster/membership_view.h"
#include "cluster/ring_store.h"
#include "common/assert.h"

namespace cairn::sim {

struct SimCluster::Node {
  NodeId id;
  std::unique_ptr<FaultEnv> env;
  InlineScheduler scheduler;
  Options database_options;
  std::unique_ptr<SimClock> clock;
  Network* endpoint = nullptr;
  bool up = false;
  bool started = false;  // opened at least once
  bool retired = false;  // stopped for good
  bool slow_disk = false;
  uint64_t incarnations = 0;  // starts, for the seeds of its state machines
  // Destroyed in reverse: the node's state machines before the database they use.
  std::unique_ptr<Database> database;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<MembershipView> view;
  std::unique_ptr<ClusterNode> cluster;
};

SimCluster::SimCluster(Simulation* simulation, SimClusterOptions options)
    : simulation_(simulation), options_(options), network_(simulation, options.network) {
  CAIRN_ASSERT(options.node_count >= 1 && options.seed_count >= 1);
  CAIRN_ASSERT(options.late_count < options.node_count &&
               options.seed_count <= options.node_count - options.late_count);
  Random& random = simulation_->random();
  for (size_t i = 0; i < options.node_count; i++) {
    auto node = std::make_unique<Node>();
    node->id = NodeId{i + 1};
    node->env = std::make_unique<FaultEnv>(random.next_u64());
    node->database_options.env = node->env.get();
    node->database_options.scheduler = &node->scheduler;
    node->database_options.fsync = FsyncPolicy::kNever;  // the node syncs (cluster_node.h)
    node->database_options.write_buffer_size_bytes = 256 << 10;
    ClockSpec spec;
    if (options.clock_skew_ms_max > 0) {
      spec.skew_ms = static_cast<int64_t>(
                         random.uniform(2 * static_cast<uint64_t>(options.clock_skew_ms_max) + 1)) -
                     options.clock_skew_ms_max;
    }
    if (options.clock_drift_ppm_max > 0) {
      spec.drift_ppm = static_cast<int64_t>(random.uniform(
                           2 * static_cast<uint64_t>(options.clock_drift_ppm_max) + 1)) -
                       options.clock_drift_ppm_max;
    }
    node->clock = std::make_unique<SimClock>(simulation_, spec);
    Node* raw = node.get();
    node->endpoint = network_.add_node(
        node->id, [this, raw](NodeId from, std::string_view bytes) { receive(*raw, from, bytes); });
    network_.set_up(node->id, false);
    nodes_.push_back(std::move(node));
  }
}

SimCluster::~SimCluster() = default;

std::vector<NodeId> SimCluster::ids() const {
  std::vector<NodeId> ids;
  for (const auto& node : nodes_) ids.push_back(node->id);
  return ids;
}

SimCluster::Node& SimCluster::node(NodeId id) {
  CAIRN_ASSERT(id.value >= 1 && id.value <= nodes_.size());
  return *nodes_[id.value - 1];
}

const SimCluster::Node& SimCluster::node(NodeId id) const {
  CAIRN_ASSERT(id.value >= 1 && id.value <= nodes_.size());
  return *nodes_[id.value - 1];
}

NodeTime SimCluster::time_of(const Node& node) const {
  return NodeTime{node.clock->monotonic_ms(), static_cast<int64_t>(node.clock->wall_ms())};
}

void SimCluster::open_node(Node& node) {
  CAIRN_ASSERT(!node.up);
  node.started = true;
  Result<std::unique_ptr<Database>> database = Database::open(node.database_options, "/db");
  CAIRN_ASSERT(database.is_ok());  // FaultEnv recovers every power loss (the crash tests prove it)
  node.database = std::move(database).value();
  const uint64_t seed =
      simulation_->seed() * 1'000'003 + node.id.value * 7919 + node.incarnations++;
  node.membership =
      std::make_unique<Membership>(node.id, "", options_.membership, node.endpoint, seed);
  Database* database_ptr = node.database.get();
  node.membership->set_ring_listener(
      [database_ptr](const Ring& ring) { (void)save_ring(database_ptr, ring); });
  node.view = std::make_unique<MembershipView>(node.membership.get());
  Result<std::unique_ptr<ClusterNode>> cluster = ClusterNode::open(
      node.id, node.database.get(), node.view.get(), node.endpoint, options_.node);
  CAIRN_ASSERT(cluster.is_ok());
  node.cluster = std::move(cluster).value();
  node.membership->set_transition_check(
      [this, &node] { return node.cluster->transition_ready(time_of(node)); });
  node.up = true;
  network_.set_up(node.id, true);
  network_.set_processing_delay_us(node.id, node.slow_disk ? options_.slow_disk_delay_us : 0);
  schedule_tick(node);
}

void SimCluster::schedule_tick(Node& node) {
  // Ticks of different nodes fall at different offsets, as real timers would.
  const uint64_t delay_us =
      options_.tick_interval_us + simulation_->random().uniform(options_.tick_interval_us / 10 + 1);
  const uint64_t incarnation = node.incarnations;
  simulation_->schedule_after(
      delay_us,
      [this, &node, incarnation] {
        if (!node.up || node.incarnations != incarnation) return;  // crashed since
        const NodeTime now = time_of(node);
        node.membership->tick(now.monotonic_ms);
        node.cluster->tick(now);
        schedule_tick(node);
      },
      "tick");
}

void SimCluster::start() {
  const size_t starting = nodes_.size() - options_.late_count;
  for (size_t i = 0; i < starting; i++) open_node(*nodes_[i]);
  nodes_.front()->membership->found(time_of(*nodes_.front()).monotonic_ms);
  std::vector<NodeId> seeds;
  for (size_t i = 0; i < std::min(options_.seed_count, nodes_.size()); i++) seeds.push_back(id(i));
  for (size_t i = 1; i < starting; i++) {
    nodes_[i]->membership->join(seeds, time_of(*nodes_[i]).monotonic_ms);
  }
}

bool SimCluster::converged() const {
  const size_t started = static_cast<size_t>(std::count_if(
      nodes_.begin(), nodes_.end(), [](const auto& n) { return n->started && !n->retired; }));
  const Node* reference = nullptr;
  for (const auto& n : nodes_) {
    if (!n->up) continue;
    if (!n->membership->joined()) return false;
    if (reference == nullptr) reference = n.get();
    const Ring& ring = n->membership->ring();
    if (ring.digest() != reference->membership->ring().digest()) return false;
    if (ring.transition() != Ring::Transition::kNone) return false;
    if (ring.members().size() != started) return false;
    for (const auto& other : nodes_) {
      if (other->up && !n->membership->is_alive(other->id)) return false;
    }
  }
  return reference != nullptr;
}

std::string SimCluster::convergence_report() const {
  std::string report;
  for (const auto& n : nodes_) {
    if (!n->up) continue;
    const Ring& ring = n->membership->ring();
    report += "\n    " + to_string(n->id) + (n->membership->joined() ? "" : " (not joined)") +
              ": ring epoch " + std::to_string(ring.epoch()) + " with " +
              std::to_string(ring.members().size()) + " members, digest " +
              std::to_string(ring.digest() % 100000);
    for (const auto& other : nodes_) {
      if (!other->up || n->membership->is_alive(other->id)) continue;
      const std::optional<MemberState> state = n->membership->state(other->id);
      report += "; sees " + to_string(other->id) + " " +
                (!state                            ? "unknown"
                 : *state == MemberState::kSuspect ? "suspect"
                                                   : "dead");
    }
  }
  return report;
}

bool SimCluster::is_up(NodeId id) const { return node(id).up; }

void SimCluster::receive(Node& node, NodeId from, std::string_view bytes) {
  if (!node.up || bytes.empty()) return;
  const NodeTime now = time_of(node);
  if (static_cast<uint8_t>(bytes[0]) == static_cast<uint8_t>(MessageChannel::kMembership)) {
    node.membership->on_message(from, bytes, now.monotonic_ms);
  } else {
    node.cluster->on_message(from, bytes, now);
  }
}

void SimCluster::submit(NodeId id, const ClusterRequest& request, Consistency consistency,
                        Completion done) {
  Node& n = node(id);
  CAIRN_ASSERT(n.up);
  n.cluster->submit(request, consistency, time_of(n), std::move(done));
}

void SimCluster::crash(NodeId id) {
  Node& n = node(id);
  if (!n.up) return;
  n.up = false;
  network_.set_up(id, false);
  // Power goes first, so nothing the dying process does reaches the disk.
  n.env->power_loss();
  n.env->crash_after_mutating_ops(1);
  n.cluster.reset();
  n.view.reset();
  n.membership.reset();
  n.database.reset();
  n.env->restart();
  simulation_->record("crash", id.value);
}

void SimCluster::lose_disk(NodeId id) {
  Node& n = node(id);
  CAIRN_ASSERT(!n.up);
  n.env = std::make_unique<FaultEnv>(simulation_->random().next_u64());
  n.database_options.env = n.env.get();
  simulation_->record("lose-disk", id.value);
}

void SimCluster::retire(NodeId id) {
  crash(id);
  node(id).retired = true;
  simulation_->record("retire", id.value);
}

void SimCluster::restart(NodeId id) {
  Node& n = node(id);
  if (n.up || n.retired) return;
  open_node(n);
  Result<std::optional<Ring>> saved = load_ring(n.database.get());
  if (saved.is_ok() && saved->has_value() && (*saved)->contains(id)) {
    n.membership->resume(**saved, time_of(n).monotonic_ms);
    simulation_->record("restart-resume", id.value);
    return;
  }
  std::vector<NodeId> seeds;
  for (size_t i = 0; i < std::min(options_.seed_count, nodes_.size()); i++) {
    if (this->id(i) != id) seeds.push_back(this->id(i));
  }
  if (seeds.empty()) {
    n.membership->found(time_of(n).monotonic_ms);
  } else {
    n.membership->join(seeds, time_of(n).monotonic_ms);
  }
  simulation_->record("restart", id.value);
}

void SimCluster::set_slow_disk(NodeId id, bool slow) {
  Node& n = node(id);
  n.slow_disk = slow;
  if (n.up) network_.set_processing_delay_us(id, slow ? options_.slow_disk_delay_us : 0);
}

SimClock& SimCluster::clock(NodeId id) { return *node(id).clock; }

const Membership& SimCluster::membership(NodeId id) const {
  const Node& n = node(id);
  CAIRN_ASSERT(n.up);
  return *n.membership;
}

NodeTime SimCluster::node_time(NodeId id) const {
  const Node& n = node(id);
  CAIRN_ASSERT(n.up);
  return time_of(n);
}

Status SimCluster::request_removal(NodeId at, NodeId leaving) {
  Node& n = node(at);
  CAIRN_ASSERT(n.up);
  return n.membership->request_removal(leaving);
}

ClusterNode& SimCluster::cluster_node(NodeId id) {
  Node& n = node(id);
  CAIRN_ASSERT(n.up);
  return *n.cluster;
}

const Ring& SimCluster::ring() const {
  for (const auto& n : nodes_) {
    if (n->up) return n->membership->ring();
  }
  CAIRN_ASSERT(false);
  return nodes_.front()->membership->ring();
}

std::vector<std::pair<NodeId, KeyState>> SimCluster::replica_states(const std::string& key) {
  std::vector<std::pair<NodeId, KeyState>> states;
  for (const NodeId replica : ring().preference_list_of_slot(key_slot(key))) {
    Node& n = node(replica);
    CAIRN_ASSERT(n.up);
    Result<KeyState> state = n.cluster->store().read(key);
    CAIRN_ASSERT(state.is_ok());
    states.emplace_back(replica, std::move(state).value());
  }
  return states;
}

}  // namespace cairn::sim
