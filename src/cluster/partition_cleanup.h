// PartitionCleanup: drops what a ring change left behind on this node. A member that stops
// replicating a partition (a join gave it to the joiner; a leave or a removal reshuffled the
// lists) still holds its states of the partition's keys when the ring settles without it there.
// Nothing reads them, they take disk, and they are a danger: should a later change hand the
// partition back to this member after a delete's tombstone was purged on the replicas
// (replica_service.h), the state kept here would win against nothing and the key would come back.
//
// So once this node's ring has been settled (no transition) for settle_ms, the time a ring takes
// to reach every node (RepairConfig::stream_settle_ms, cairnd's --ring-settle-ms), it walks the
// partitions the ring does not give it and deletes their states whose newest write is older than
// the moment it saw the ring settle, less settle_ms. By then no coordinator still writes there
// for the ring that moved the partition away. The age test spares any write a coordinator sent
// here for a newer ring this node has not heard of yet, in which it would gain the partition;
// what the dual writes of the transition's last settle_ms left stays behind.
//
// The walk is bounded per tick (kStatesPerTickMax states, a slot with none counting as one) and
// starts again whenever the ring changes. A node that is not in its own ring (departing, or
// joining) drops nothing.
//
// Thread-safety: none; driven by its ClusterNode's tick.
#pragma once

#include <cstdint>
#include <vector>

#include "cluster/cluster_view.h"
#include "cluster/node_time.h"
#include "cluster/replica_store.h"
#include "common/node_id.h"

namespace cairn {

struct PartitionCleanupStats {
  uint64_t partitions_walked = 0;  // partitions not replicated here, walked to their end
  uint64_t states_dropped = 0;
  uint64_t errors = 0;  // store errors; the walk goes on at the next tick
};

class PartitionCleanup {
 public:
  static constexpr size_t kStatesPerTickMax = 256;

  // REQUIRES: view and store outlive the cleanup.
  PartitionCleanup(NodeId self, const ClusterView* view, ReplicaStore* store, uint64_t settle_ms)
      : self_(self), view_(view), store_(store), settle_ms_(settle_ms) {}

  void tick(NodeTime now);
  const PartitionCleanupStats& stats() const { return stats_; }

 private:
  // The partitions the settled ring does not give this node, last first; the walk starts.
  void plan();
  // Advances the walk by up to kStatesPerTickMax states.
  void step();

  NodeId self_;
  const ClusterView* view_;
  ReplicaStore* store_;
  uint64_t settle_ms_;
  PartitionCleanupStats stats_;

  uint64_t epoch_ = 0;                // the settled ring's, 0 when none is
  uint64_t start_ms_ = 0;             // when the walk may start (monotonic)
  HlcTimestamp older_than_;           // states as new as this stay
  bool planned_ = false;              // partitions_ holds the walk
  std::vector<uint32_t> partitions_;  // still to walk, the current one last
  uint16_t slot_ = 0;                 // the current slot, of partitions_.back()
  ReplicaStore::SlotCursor cursor_;   // where the walk of slot_ stands
};

}  // namespace cairn
