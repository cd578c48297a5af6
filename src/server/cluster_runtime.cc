#include "server/cluster_runtime.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "cluster/node_identity.h"
#include "cluster/replica_store.h"
#include "cluster/ring_store.h"
#include "common/assert.h"
#include "io/clock.h"
#include "server/cluster_seeds.h"
#include "server/server.h"

namespace cairn {

namespace {

constexpr uint64_t kTickIntervalMs = 10;
constexpr uint64_t kSnapshotIntervalMs = 100;
constexpr uint64_t kSeedRetryIntervalMs = 1000;
constexpr int64_t kSeedTimeoutMs = 1000;

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

const ClusterMemberInfo* ClusterSnapshot::member(NodeId id) const {
  for (const ClusterMemberInfo& info : members) {
    if (info.id == id) return &info;
  }
  return nullptr;
}

std::string ClusterRuntime::member_address(const std::string& ip, uint16_t port,
                                           uint16_t bus_port) {
  return ip + ":" + std::to_string(port) + "@" + std::to_string(bus_port);
}

std::optional<ClusterMemberInfo> ClusterRuntime::parse_member_address(std::string_view address) {
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const size_t colon = address.rfind(':', at);
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::optional<uint16_t> port = parse_port(address.substr(colon + 1, at - colon - 1));
  const std::optional<uint16_t> bus_port = parse_port(address.substr(at + 1));
  if (!port || !bus_port) return std::nullopt;
  ClusterMemberInfo info;
  info.ip = std::string(address.substr(0, colon));
  info.port = *port;
  info.bus_port = *bus_port;
  return info;
}

NodeTime ClusterRuntime::now() {
  NodeTime time;
  time.monotonic_ms = coarse_monotonic_time_ms();
  time.unix_ms = coarse_unix_time_ms();
  return time;
}

ClusterRuntime::ClusterRuntime(ClusterRuntimeOptions options, Database* database, NodeId self)
    : options_(std::move(options)), database_(database), self_(self) {}

Result<std::unique_ptr<ClusterRuntime>> ClusterRuntime::start(ClusterRuntimeOptions options,
                                                              Database* database) {
  // A fresh id is never 0, which no node may be.
  const NodeId fresh{options.random_seed | 1};
  CAIRN_ASSIGN_OR_RETURN(const NodeId self, load_or_create_node_id(database, fresh));
  std::unique_ptr<ClusterRuntime> runtime(new ClusterRuntime(std::move(options), database, self));
  CAIRN_RETURN_IF_ERROR(runtime->open_state_machines());
  runtime->begin_membership();
  runtime->publish_snapshot();
  ClusterRuntime* raw = runtime.get();
  if (raw->options_.own_thread) raw->thread_ = std::thread([raw] { raw->loop_->run(); });
  if (!raw->membership_started_) {
    raw->seed_resolver_ = std::thread([raw] { raw->resolve_seeds_loop(); });
  }
  return runtime;
}

Status ClusterRuntime::open_state_machines() {
  CAIRN_ASSIGN_OR_RETURN(loop_, EventLoop::create());
  BusTransportOptions bus_options;
  bus_options.bind = options_.ip;
  bus_options.port = options_.bus_port;
  bus_options.deferred_flush = true;
  CAIRN_ASSIGN_OR_RETURN(bus_, BusTransport::start(loop_.get(), self_, bus_options,
                                                   [this](NodeId from, std::string_view message) {
                                                     on_bus_message(from, message);
                                                   }));
  MembershipConfig membership_config = options_.membership;
  membership_config.replica_count = options_.replicas;
  membership_ = std::make_unique<Membership>(
      self_, options_.rack, membership_config, bus_.get(), options_.random_seed,
      member_address(options_.ip, options_.port, bus_->port()));
  membership_->set_listener(
      [this](NodeId, std::optional<MemberState>, MemberState) { members_changed_ = true; });
  membership_->set_ring_listener([this](const Ring&) { members_changed_ = true; });
  view_ = std::make_unique<MembershipView>(membership_.get());
  ClusterNodeConfig node_config = options_.node;
  node_config.ack_durability = options_.ack_durability;
  node_config.wal_sync_interval_ms = options_.wal_sync_interval_ms;
  node_config.grouped_durability = true;
  CAIRN_ASSIGN_OR_RETURN(node_,
                         ClusterNode::open(self_, database_, view_.get(), bus_.get(), node_config));
  bus_->set_lookahead(
      [this](std::span<const std::string_view> messages) { node_->prefetch(messages); });
  membership_->set_transition_check([this] { return node_->transition_ready(now()); });
  loop_->add_periodic_timer(kTickIntervalMs, [this] { tick(); });
  loop_->add_iteration_hook([this] { end_iteration(); });
  return Status::ok();
}

void ClusterRuntime::begin_membership() {
  const uint64_t now_ms = now().monotonic_ms;
  Result<std::optional<Ring>> saved = load_ring(database_);
  Result<std::map<NodeId, std::string>> addresses = load_member_addresses(database_);
  if (!saved.is_ok() || !addresses.is_ok()) {
    spdlog::warn("cluster: the saved ring is unreadable ({}); joining afresh",
                 (saved.is_ok() ? addresses.status() : saved.status()).to_string());
  } else if (saved->has_value() && (*saved)->contains(self_)) {
    for (const auto& [id, address] : *addresses) {
      const std::optional<ClusterMemberInfo> info = parse_member_address(address);
      if (info.has_value() && id != self_) bus_->set_peer_address(id, info->ip, info->bus_port);
    }
    saved_addresses_ = std::move(addresses).value();
    saved_ring_epoch_ = (*saved)->epoch();
    membership_->resume(**saved, now_ms);
    membership_started_ = true;
    spdlog::info("cluster: {} resumed from its saved ring (epoch {}, {} members)",
                 cluster_node_name(self_), (*saved)->epoch(), (*saved)->members().size());
    return;
  }
  if (options_.seeds.empty()) {
    membership_->found(now_ms);
    membership_started_ = true;
    spdlog::info("cluster: {} founded a new cluster", cluster_node_name(self_));
  }
}

// Group commit for the cluster: the iteration's writes are made durable once, then the
// iteration's messages (acks among them) go out with one write per peer, then its clients are
// answered.
void ClusterRuntime::end_iteration() {
  if (members_changed_) refresh_members();
  const Status durable = node_->make_durable();
  std::vector<std::pair<Completion, ClusterReply>> completions;
  completions.swap(completions_);
  if (durable.is_ok()) {
    bus_->flush_queued();
  } else {
    spdlog::error("cluster: cannot make writes durable, dropping their acks: {}",
                  durable.to_string());
    bus_->discard_queued();
    for (auto& [done, reply] : completions) {
      if (reply.status.is_ok()) reply.status = durable.with_context("the write is not durable");
    }
  }
  for (auto& [done, reply] : completions) done(std::move(reply));
}

void ClusterRuntime::resolve_seeds_loop() {
  while (!stopping_.load()) {
    std::vector<ResolvedSeed> resolved;
    bool only_self = true;
    for (const HostPort& seed : options_.seeds) {
      Result<ResolvedSeed> found = resolve_seed(seed, kSeedTimeoutMs);
      if (!found.is_ok()) {
        spdlog::info("cluster: seed {} not reachable yet: {}", seed.to_string(),
                     found.status().to_string());
        only_self = false;
        continue;
      }
      if (found->id == self_) continue;
      only_self = false;
      resolved.push_back(std::move(found).value());
    }
    if (!resolved.empty() || only_self) {
      loop_->post([this, resolved] {
        if (membership_started_) return;
        const uint64_t now_ms = now().monotonic_ms;
        membership_started_ = true;
        if (resolved.empty()) {
          membership_->found(now_ms);
          spdlog::info("cluster: {} is its own only seed: founded a new cluster",
                       cluster_node_name(self_));
          return;
        }
        std::vector<NodeId> ids;
        for (const ResolvedSeed& seed : resolved) {
          bus_->set_peer_address(seed.id, seed.ip, seed.bus_port);
          ids.push_back(seed.id);
        }
        membership_->join(ids, now_ms);
        spdlog::info("cluster: {} joining through {} seed(s)", cluster_node_name(self_),
                     ids.size());
      });
      return;
    }
    for (uint64_t waited = 0; waited < kSeedRetryIntervalMs && !stopping_.load(); waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void ClusterRuntime::on_bus_message(NodeId from, std::string_view message) {
  if (message.empty()) return;
  const NodeTime time = now();
  if (static_cast<uint8_t>(message[0]) == static_cast<uint8_t>(MessageChannel::kMembership)) {
    membership_->on_message(from, message, time.monotonic_ms);
  } else {
    node_->on_message(from, message, time);
  }
}

void ClusterRuntime::tick() {
  const NodeTime time = now();
  if (membership_started_) membership_->tick(time.monotonic_ms);
  node_->tick(time);
  if (time.monotonic_ms >= next_publish_ms_) {
    next_publish_ms_ = time.monotonic_ms + kSnapshotIntervalMs;
    publish_snapshot();
  }
}

void ClusterRuntime::refresh_members() {
  members_changed_ = false;
  std::map<NodeId, std::string> addresses;
  for (const auto& [id, record] : membership_->members().records()) {
    if (record.address.empty()) {
      // A member resumed from the saved ring that has not spoken yet keeps its saved address.
      const auto saved = saved_addresses_.find(id);
      if (saved != saved_addresses_.end()) addresses[id] = saved->second;
      continue;
    }
    addresses[id] = record.address;
    if (id == self_) continue;
    const std::optional<ClusterMemberInfo> info = parse_member_address(record.address);
    if (info.has_value()) bus_->set_peer_address(id, info->ip, info->bus_port);
  }
  if (addresses != saved_addresses_) {
    const Status saved = save_member_addresses(database_, addresses);
    if (!saved.is_ok())
      spdlog::warn("cluster: cannot save member addresses: {}", saved.to_string());
    saved_addresses_ = std::move(addresses);
  }
  const Ring& ring = membership_->ring();
  if (!ring.empty() && ring.epoch() != saved_ring_epoch_) {
    const Status saved = save_ring(database_, ring);
    if (!saved.is_ok()) spdlog::warn("cluster: cannot save the ring: {}", saved.to_string());
    saved_ring_epoch_ = ring.epoch();
    spdlog::info("cluster: ring epoch {} with {} members", ring.epoch(), ring.members().size());
  }
  publish_snapshot();
}

void ClusterRuntime::publish_snapshot() {
  auto snapshot = std::make_shared<ClusterSnapshot>();
  snapshot->self = self_;
  snapshot->joined = membership_->joined();
  snapshot->ring = membership_->ring();
  for (const auto& [id, record] : membership_->members().records()) {
    // A member resumed from the saved ring has no address until it speaks: the saved one.
    const auto saved = saved_addresses_.find(id);
    const std::string& address =
        record.address.empty() && saved != saved_addresses_.end() ? saved->second : record.address;
    ClusterMemberInfo info = parse_member_address(address).value_or(ClusterMemberInfo{});
    info.id = id;
    info.state = record.state;
    info.rack = record.rack;
    snapshot->members.push_back(std::move(info));
  }
  if (snapshot->member(self_) == nullptr) {
    ClusterMemberInfo info{self_,       MemberState::kAlive, options_.rack,
                           options_.ip, options_.port,       bus_->port()};
    snapshot->members.push_back(std::move(info));
    std::sort(snapshot->members.begin(), snapshot->members.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  snapshot->coordinator = node_->coordinator().stats();
  snapshot->replica = node_->replica().stats();
  snapshot->repair = node_->repair().stats();
  snapshot->repair_pass = node_->repair().pass_status(now());
  snapshot->claimant = membership_->claimant();
  snapshot->partitions_streamed = node_->repair().stats().partitions_streamed;
  snapshot->stream = node_->repair().stream_progress();
  snapshot->cleanup = node_->cleanup().stats();
  snapshot->membership = membership_->stats();
  snapshot->bus = bus_->stats();
  for (const NodeId target : node_->hints().targets()) {
    snapshot->hints_pending += node_->hints().count(target);
  }
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(snapshot);
}

std::shared_ptr<const ClusterSnapshot> ClusterRuntime::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

void ClusterRuntime::submit(ClusterRequest request, Consistency consistency, Completion done) {
  auto run = [this, request = std::move(request), consistency, done = std::move(done)]() mutable {
    // Answered at the end of the iteration, once what the reply acknowledges is durable.
    node_->submit(std::move(request), consistency, now(),
                  [this, done = std::move(done)](ClusterReply reply) mutable {
                    completions_.emplace_back(std::move(done), std::move(reply));
                  });
  };
  if (loop_->in_loop_thread()) {
    run();
  } else {
    loop_->post(std::move(run));
  }
}

uint64_t ClusterRuntime::start_repair(uint16_t first_slot, uint16_t last_slot) {
  CAIRN_ASSERT(first_slot <= last_slot && last_slot < kSlotCount);
  const uint64_t id = next_repair_pass_id_++;
  loop_->post([this, id, first_slot, last_slot] {
    node_->start_repair_pass(id, first_slot, last_slot, now());
    publish_snapshot();
  });
  return id;
}

void ClusterRuntime::request_removal(NodeId id) {
  loop_->post([this, id] {
    const Status status = membership_->request_removal(id);
    if (status.is_ok()) {
      spdlog::info("cluster: {} is to leave the ring", cluster_node_name(id));
    } else {
      spdlog::warn("cluster: cannot remove {}: {}", cluster_node_name(id), status.to_string());
    }
  });
}

Status ClusterRuntime::meet(HostPort seed) {
  const std::shared_ptr<const ClusterSnapshot> snapshot = this->snapshot();
  if (!snapshot->joined || snapshot->members.size() != 1 || snapshot->ring.members().size() != 1 ||
      snapshot->ring.transition() != Ring::Transition::kNone) {
    return Status::invalid_argument("this node is not alone in its cluster (" +
                                    std::to_string(snapshot->members.size()) +
                                    " known nodes): only a node alone joins another cluster");
  }
  CAIRN_RETURN_IF_ERROR(check_empty());
  std::lock_guard lock(meet_mutex_);
  if (meeting_) return Status::busy("an earlier CLUSTER MEET is still reaching its node");
  if (meet_thread_.joinable()) meet_thread_.join();
  meeting_ = true;
  meet_thread_ = std::thread([this, seed = std::move(seed)] { meet_through(seed); });
  return Status::ok();
}

Status ClusterRuntime::check_empty() const {
  // One live key is enough to refuse: no walk over a large node's data.
  CAIRN_ASSIGN_OR_RETURN(const ReplicaKeyCounts counts,
                         count_replica_keys(database_, Server::now_ms(), /*keys_max=*/1));
  if (counts.keys == 0) return Status::ok();
  return Status::invalid_argument("this node holds keys: only an empty node joins another cluster");
}

void ClusterRuntime::meet_through(const HostPort& seed) {
  Result<ResolvedSeed> found = resolve_seed(seed, kSeedTimeoutMs);
  {
    std::lock_guard lock(meet_mutex_);
    meeting_ = false;
  }
  if (!found.is_ok() || found->id == self_) {
    spdlog::warn("cluster: CLUSTER MEET {}: {}", seed.to_string(),
                 found.is_ok() ? "that is this node" : found.status().to_string());
    return;
  }
  loop_->post([this, seed, found = std::move(found).value()] {
    const Status empty = check_empty();
    if (!membership_->alone() || !empty.is_ok()) {
      spdlog::warn("cluster: CLUSTER MEET {} given up: {}", seed.to_string(),
                   empty.is_ok() ? "this node is no longer alone" : empty.to_string());
      return;
    }
    bus_->set_peer_address(found.id, found.ip, found.bus_port);
    saved_ring_epoch_ = 0;  // the ring it adopts is saved, whatever its epoch
    membership_->rejoin({found.id}, now().monotonic_ms);
    spdlog::info("cluster: {} gave up its own cluster to join through {}", cluster_node_name(self_),
                 seed.to_string());
  });
}

void ClusterRuntime::set_partitioned(std::set<NodeId> peers) {
  loop_->post(
      [this, peers = std::move(peers)]() mutable { bus_->set_partitioned(std::move(peers)); });
}

void ClusterRuntime::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  if (seed_resolver_.joinable()) seed_resolver_.join();
  std::thread meeting;
  {
    std::lock_guard lock(meet_mutex_);
    meeting = std::move(meet_thread_);
  }
  if (meeting.joinable()) meeting.join();  // it takes meet_mutex_ on its way out
  if (loop_ != nullptr) loop_->stop();
  if (thread_.joinable()) thread_.join();
  if (node_ == nullptr) return;  // start() failed before the node opened
  const Status synced = node_->store().sync();
  if (!synced.is_ok()) spdlog::error("cluster: final sync failed: {}", synced.to_string());
}

ClusterRuntime::~ClusterRuntime() {
  stop();
  // The loop no longer runs: the transport may go (bus_transport.h).
  node_.reset();
  view_.reset();
  membership_.reset();
  bus_.reset();
}

}  // namespace cairn
