// ReplicaService: the replica side of replication. It serves other coordinators' requests for
// the keys this node holds (merge a write, send the state, apply an increment as the key's
// counter leader), holds sloppy writes meant for others as hints, and offers the same operations
// directly to this node's own coordinator, which needs no message to reach itself.
//
// A replica acks only what its WAL holds: synced, or handed to the operating system
// (AckDurability).
//
// Every state that arrives moves this node's HLC past its newest version, so writes this node
// coordinates later order after everything it has seen (the clock absorbs skew).
//
// Thread-safety: none; one node's state machines run on one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "cluster/hint_store.h"
#include "cluster/keyspace_message.h"
#include "cluster/node_time.h"
#include "cluster/repair_horizons.h"
#include "cluster/replica_store.h"
#include "cluster/replication_message.h"
#include "common/hlc.h"
#include "io/network.h"

namespace cairn {

// When a replica's write counts as acknowledged: after its WAL record is synced (it survives a
// power loss), or after the record is handed to the operating system (it survives a crash of the
// process; a power loss may take back what the periodic sync had not reached yet).
enum class AckDurability : uint8_t { kSynced, kFlushed };

struct ReplicaStats {
  uint64_t writes_applied = 0;       // merges that changed a state
  uint64_t concurrent_writes = 0;    // merges whose version vectors were concurrent
  uint64_t hints_held = 0;           // sloppy writes stored as hints for another node
  uint64_t failures = 0;             // errors answered to a coordinator
  uint64_t counter_replays = 0;      // increments refused as already applied
  uint64_t writes_without_read = 0;  // writes stored without reading the key (replica_store.h)
};

class ReplicaService {
 public:
  // REQUIRES: every pointer outlives the service.
  // A write (or hint, or increment) counts as acknowledged once `durability` holds for it: each
  // write makes itself durable, or, with `grouped`, the driver calls make_writes_durable() once
  // per batch of work, before any message of the batch is sent and any client is answered.
  // A tombstone goes when its key is next written, once it is older than tombstone_grace_ms and
  // every pair of the key's replicas completed a repair exchange that began more than
  // tombstone_grace_ms after it (`horizons`): by then no hint for it is left and every replica
  // holds it, so no replica can bring back what it deleted.
  ReplicaService(NodeId self, ReplicaStore* store, HintStore* hints, HybridClock* clock,
                 const RepairHorizons* horizons, Network* network, AckDurability durability,
                 bool grouped, int64_t tombstone_grace_ms)
      : self_(self),
        store_(store),
        hints_(hints),
        clock_(clock),
        horizons_(horizons),
        network_(network),
        durability_(durability),
        grouped_(grouped),
        tombstone_grace_ms_(tombstone_grace_ms) {}

  // A request (kWrite, kRead) from `from`; the reply goes back through the network.
  void on_request(NodeId from, const ReplicationMessage& request, NodeTime now);

  // A keyspace request (kSlotScan, kFlush) from `from`; the reply goes back through the network.
  void on_keyspace_request(NodeId from, const KeyspaceMessage& request, NodeTime now);

  // The same operations for this node's own coordinator.
  Result<SlotScanResult> scan(const SlotScan& scan) { return store_->scan(scan); }
  // FLUSHALL at `version` (replica_store.h): the clock absorbs it first, so every write this node
  // coordinates afterwards is newer and survives it; then the replicas and the hints drop what
  // is older. Acknowledged once durable, as a write is.
  Status flush(WriteVersion version, NodeTime now);
  Status write(std::string_view key, const KeyState& state, std::optional<NodeId> hint_for,
               NodeTime now);
  // `stored_bytes` as ReplicaStore::read.
  Result<KeyState> read(std::string_view key, size_t* stored_bytes = nullptr);
  // As the key's counter leader: adds `delta` to this node's shard, under a version of its own
  // newer than the key's state and the coordinator's; answers the delta to replicate and the
  // value after it. `op` names an increment from another coordinator, which
  // is refused (invalid_argument) if it was applied before; this node's own have none.
  Result<KeyState> counter_add(std::string_view key, WriteVersion coordinator_version,
                               int64_t delta, int64_t coordinator_unix_ms, const CounterOp* op,
                               int64_t* value_after, NodeTime now);
  uint64_t incarnation() const { return store_->incarnation(); }
  // Whether counter_add would refuse `op` as applied before (counted as a replay when so).
  Result<bool> counter_op_refused(const CounterOp& op);

  // Makes the writes since the last call durable (a sync or a flush, per the AckDurability);
  // nothing to do when none was made.
  Status make_writes_durable();

  ReplicaStats stats() const {
    ReplicaStats stats = stats_;
    stats.writes_without_read = store_->writes_without_read();
    return stats;
  }

 private:
  // Makes what this replica wrote as durable as an ack promises.
  Status make_durable();
  void absorb(const KeyState& state, NodeTime now);
  // Tombstones of `key` older than this may go (zero: none).
  HlcTimestamp purge_horizon(std::string_view key, NodeTime now) const;

  NodeId self_;
  ReplicaStore* store_;
  HintStore* hints_;
  HybridClock* clock_;
  const RepairHorizons* horizons_;
  Network* network_;
  AckDurability durability_;
  bool grouped_;
  bool written_ = false;  // since the last make_writes_durable()
  int64_t tombstone_grace_ms_;
  ReplicaStats stats_;
};

}  // namespace cairn
