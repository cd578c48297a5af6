// ClusterNode: one node's replication state machines, wired together: the replica store and hint
// store on the node's database, the HLC, the replica service, the coordinator of single-key
// requests, the keyspace coordinator of keyspace-wide ones, hint delivery and anti-entropy. It
// routes each replication, keyspace or repair message to the one it is for, syncs the WAL on a
// fixed interval (for what no ack waits on), and counts the messages it dropped.
//
// Membership is the caller's: it passes the view (ring and liveness) in, and routes membership
// messages itself.
//
// Thread-safety: none; the driver (the simulator, or one event loop) calls it from one thread.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "cluster/cluster_view.h"
#include "cluster/coordinator.h"
#include "cluster/hint_delivery.h"
#include "cluster/hint_store.h"
#include "cluster/keyspace_coordinator.h"
#include "cluster/partition_cleanup.h"
#include "cluster/repair_horizons.h"
#include "cluster/repair_service.h"
#include "cluster/replica_service.h"
#include "cluster/replica_store.h"
#include "common/hlc.h"
#include "io/network.h"
#include "storage/database.h"

namespace cairn {

struct ClusterNodeConfig {
  CoordinatorConfig coordinator;
  KeyspaceCoordinatorConfig keyspace;
  HintLimits hint_limits;
  HintDeliveryConfig hint_delivery;
  RepairConfig repair;
  // When replicas ack a write (replica_service.h); the interval syncs the rest (read repairs,
  // hints this node stored as coordinator, and with kFlushed every write).
  AckDurability ack_durability = AckDurability::kSynced;
  // The driver calls make_durable() once per batch of work (ClusterRuntime: per event loop
  // iteration) instead of every write making itself durable: one flush or sync for many acks.
  bool grouped_durability = false;
  // A tombstone is purged when its key is next written, once every pair of the key's replicas
  // completed a repair exchange that began this long after it (replica_service.h). Longer than
  // the hint window, so no hint can carry a write older than a purged delete; open() refuses
  // less. With repair disabled and more than one replica, nothing is purged.
  int64_t tombstone_grace_ms = 4 * 60 * 60 * 1000;
  // Dropping the states of partitions a ring change took from this node (partition_cleanup.h),
  // repair.stream_settle_ms after its ring settles. Off only in tests that show why it is on.
  bool partition_cleanup = true;
  uint64_t wal_sync_interval_ms = 100;
};

class ClusterNode {
 public:
  // Opens the node's stores on `database` (bumping its counter incarnation). InvalidArgument if
  // the tombstone grace period is not longer than the hint window. REQUIRES: every pointer
  // outlives the node.
  static Result<std::unique_ptr<ClusterNode>> open(NodeId self, Database* database,
                                                   const ClusterView* view, Network* network,
                                                   ClusterNodeConfig config = {});

  NodeId id() const { return self_; }
  // A message on the replication or keyspace channel; a malformed one is counted and dropped.
  void on_message(NodeId from, std::string_view bytes, NodeTime now);
  // A hint that `messages` will be handed to on_message soon: starts loading the states that
  // the replica reads among them will read, so that their cache misses overlap. Changes nothing.
  void prefetch(std::span<const std::string_view> messages) const;
  // A keyspace-wide request (is_keyspace_wide) goes to the keyspace coordinator, which reads
  // one replica per slot whatever the consistency; any other to the coordinator.
  void submit(ClusterRequest request, Consistency consistency, NodeTime now,
              Coordinator::Completion done);
  // Timeouts, hint delivery, anti-entropy, the WAL sync.
  void tick(NodeTime now);
  // Whether the ring's transition may flip: every member gaining partitions streamed them
  // (RepairService::transition_ready). The claimant's membership asks.
  bool transition_ready(NodeTime now) { return repair_->transition_ready(now); }
  // An on-demand repair pass over the partitions of slots [first_slot, last_slot]
  // (RepairService::start_pass). REQUIRES: first_slot <= last_slot < kSlotCount.
  void start_repair_pass(uint64_t id, uint16_t first_slot, uint16_t last_slot, NodeTime now) {
    repair_->start_pass(id, partition_of_slot(first_slot), partition_of_slot(last_slot), now);
  }
  // With grouped_durability: makes the writes of the batch durable. The driver calls it before
  // it sends the batch's messages or answers its clients; an error means none may go.
  Status make_durable() { return replica_->make_writes_durable(); }

  ReplicaStore& store() { return *store_; }
  HintStore& hints() { return *hints_; }
  const Coordinator& coordinator() const { return *coordinator_; }
  const KeyspaceCoordinator& keyspace() const { return *keyspace_; }
  const ReplicaService& replica() const { return *replica_; }
  const RepairService& repair() const { return *repair_; }
  const RepairHorizons& horizons() const { return *horizons_; }
  const PartitionCleanup& cleanup() const { return *cleanup_; }
  uint64_t malformed_messages() const { return malformed_messages_; }
  // A WAL sync failed (the database stops taking writes after one): the node answers errors.
  const Status& sync_status() const { return sync_status_; }

 private:
  ClusterNode(NodeId self, ClusterNodeConfig config) : self_(self), config_(config) {}
  void on_keyspace_message(NodeId from, std::string_view bytes, NodeTime now);
  void on_repair_message(NodeId from, std::string_view bytes, NodeTime now);

  NodeId self_;
  ClusterNodeConfig config_;
  HybridClock clock_;
  std::unique_ptr<ReplicaStore> store_;
  std::unique_ptr<HintStore> hints_;
  std::unique_ptr<RepairHorizons> horizons_;
  std::unique_ptr<ReplicaService> replica_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<KeyspaceCoordinator> keyspace_;
  std::unique_ptr<HintDelivery> delivery_;
  std::unique_ptr<RepairService> repair_;
  std::unique_ptr<PartitionCleanup> cleanup_;
  uint64_t next_sync_ms_ = 0;
  Status sync_status_;
  uint64_t malformed_messages_ = 0;
};

}  // namespace cairn
