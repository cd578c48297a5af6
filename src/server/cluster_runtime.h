// ClusterRuntime: one cairnd node's part of the cluster, running on a thread of its own: the
// cluster bus (net/bus_transport.h) on an event loop, the node's Membership and its ClusterNode
// (coordinator, replica, hints) on the node's database, driven by a 10 ms tick. The same state
// machines the simulator proves, now between processes (docs/cluster-operations.md).
//
// Start-up: a node that holds a saved ring resumes from it (ring_store.h) with the members'
// saved bus addresses; otherwise a node with seeds asks them (cluster_seeds.h) until one
// answers, then joins through those that did; a node without seeds founds a new cluster.
//
// Group commit: each loop iteration's writes are made durable once at its end, before its
// messages go out (one write per peer) and before its completions run.
//
// Client threads talk to it through submit() (the request runs on the cluster thread; its
// completion too, at the end of the iteration that finished it) and snapshot(): an immutable copy
// of the ring, the members and the counters, republished on every change and every 100 ms, which
// CLUSTER, INFO and routing read without waiting on the cluster thread.
//
// Each member's address, as gossiped, is "ip:port@busport" (Redis Cluster's form): the client
// port for CLUSTER SLOTS and NODES, the bus port for the transport.
//
// The cluster thread is the runtime's own, or (options.own_thread false) the thread that runs
// loop(): cairnd hands it to the network server as the loop of its first client thread, so that
// a command and the cluster work it starts run on one thread, without hops between threads.
//
// Thread-safety: submit(), snapshot(), self() and stop() may be called from any thread. The
// completions run on the cluster thread and must not block it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency.h"
#include "cluster/membership.h"
#include "cluster/membership_view.h"
#include "common/result.h"
#include "net/bus_transport.h"
#include "net/event_loop.h"
#include "net/resp_client.h"
#include "storage/database.h"

namespace cairn {

struct ClusterRuntimeOptions {
  std::string ip = "127.0.0.1";  // the address clients and peers reach this node at
  uint16_t port = 0;             // the client (RESP) port, announced to the cluster
  uint16_t bus_port = 0;
  std::string rack;
  size_t replicas = 3;
  std::vector<HostPort> seeds;
  AckDurability ack_durability = AckDurability::kFlushed;
  uint64_t wal_sync_interval_ms = 1000;
  uint64_t random_seed = 0;  // membership's randomness, and a new node's id
  MembershipConfig membership;
  ClusterNodeConfig node;
  // Whether the runtime runs its loop on a thread of its own; if not, the caller runs loop().
  bool own_thread = true;
};

// What a member looks like to the client side.
struct ClusterMemberInfo {
  NodeId id;
  MemberState state = MemberState::kAlive;
  std::string rack;
  std::string ip;  // empty while the address is unknown
  uint16_t port = 0;
  uint16_t bus_port = 0;
};

struct ClusterSnapshot {
  NodeId self;
  bool joined = false;
  Ring ring{1};
  std::vector<ClusterMemberInfo> members;  // ascending by id, this node included
  CoordinatorStats coordinator;
  ReplicaStats replica;
  RepairStats repair;
  RepairPassStatus repair_pass;          // the latest on-demand pass (CAIRN REPAIR)
  std::optional<NodeId> claimant;        // who makes ring changes, as this node sees it
  uint64_t partitions_streamed = 0;      // by this node, in ring transitions
  RepairService::StreamProgress stream;  // this node's, in the current transition
  PartitionCleanupStats cleanup;
  MembershipStats membership;
  BusStats bus;
  uint64_t hints_pending = 0;

  const ClusterMemberInfo* member(NodeId id) const;
};

class ClusterRuntime {
 public:
  using Completion = Coordinator::Completion;

  // Starts the bus (listening on options.ip:options.bus_port) and the cluster thread on
  // `database`. REQUIRES: database outlives the runtime.
  static Result<std::unique_ptr<ClusterRuntime>> start(ClusterRuntimeOptions options,
                                                       Database* database);
  ~ClusterRuntime();
  ClusterRuntime(const ClusterRuntime&) = delete;
  ClusterRuntime& operator=(const ClusterRuntime&) = delete;

  NodeId self() const { return self_; }
  // The cluster's event loop; with options.own_thread false, the caller runs it (and must not
  // after stop()).
  EventLoop* loop() const { return loop_.get(); }
  // Runs `request` on the cluster thread; `done` runs there too. From the cluster thread itself
  // (a completion starting its next step) it runs at once.
  void submit(ClusterRequest request, Consistency consistency, Completion done);
  std::shared_ptr<const ClusterSnapshot> snapshot() const;
  // A hint that requests will read the states of `keys` soon (ReplicaStore::prefetch).
  void prefetch(std::span<const std::string_view> keys) const { node_->store().prefetch(keys); }
  // Starts an on-demand repair pass over the partitions of slots [first_slot, last_slot] on the
  // cluster thread (RepairService::start_pass); answers its id, which the snapshot's repair_pass
  // shows from the next publish on. REQUIRES: first_slot <= last_slot < kSlotCount.
  uint64_t start_repair(uint16_t first_slot, uint16_t last_slot);
  // Asks membership, on the cluster thread, to take `id` out of the ring (request_removal); a
  // refusal there (this node no longer the claimant) is logged. CAIRN RING REMOVE.
  void request_removal(NodeId id);
  // CLUSTER MEET: joins the cluster of the node at `seed` (its client address), giving up the
  // cluster this node founded. InvalidArgument unless this node is alone in its cluster (the
  // only member of its ring and the only node it knows of) and holds no keys; Busy while an
  // earlier meet is resolving its seed. The seed is reached and the join made in the background
  // (CLUSTER INFO shows it), each condition checked again on the cluster thread first.
  Status meet(HostPort seed);
  // Test fault: drops bus messages to and from `peers` (none when empty). CAIRN FAULT sets it.
  void set_partitioned(std::set<NodeId> peers);
  // Stops the cluster thread and syncs what the node wrote. Idempotent.
  void stop();

  // "ip:port@busport", and back (nullopt when malformed).
  static std::string member_address(const std::string& ip, uint16_t port, uint16_t bus_port);
  static std::optional<ClusterMemberInfo> parse_member_address(std::string_view address);

 private:
  ClusterRuntime(ClusterRuntimeOptions options, Database* database, NodeId self);
  Status open_state_machines();
  void begin_membership();
  void resolve_seeds_loop();
  void meet_through(const HostPort& seed);
  // InvalidArgument when this node holds a live key: it would be lost to a cluster it joins.
  Status check_empty() const;
  void on_bus_message(NodeId from, std::string_view message);
  void tick();
  void end_iteration();
  // After membership may have changed: peer addresses, the saved ring and addresses.
  void refresh_members();
  void publish_snapshot();
  // From the kernel's coarse clocks: a tick of a few ms is fine against timeouts of tens of ms
  // and more, and the precise clocks, read for every message, took 3% of a node's CPU under
  // pipelined GETs.
  static NodeTime now();

  const ClusterRuntimeOptions options_;
  Database* const database_;
  const NodeId self_;

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<BusTransport> bus_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<MembershipView> view_;
  std::unique_ptr<ClusterNode> node_;
  std::thread thread_;
  std::thread seed_resolver_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_repair_pass_id_{1};
  std::mutex meet_mutex_;  // guards meet_thread_ and meeting_
  std::thread meet_thread_;
  bool meeting_ = false;  // meet_thread_ is resolving a seed
  bool stopped_ = false;

  // Cluster thread only (and start(), before the thread runs).
  bool membership_started_ = false;  // found(), join() or resume() was called
  bool members_changed_ = true;
  uint64_t next_publish_ms_ = 0;
  uint64_t saved_ring_epoch_ = 0;
  std::map<NodeId, std::string> saved_addresses_;
  // Completions of this iteration, run at its end (end_iteration).
  std::vector<std::pair<Completion, ClusterReply>> completions_;

  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const ClusterSnapshot> snapshot_;
};

}  // namespace cairn
