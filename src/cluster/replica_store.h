// ReplicaStore: this node's replicas of the keys it holds, one KeyState per key in the storage
// engine, and the node's counter incarnation (docs/cluster-replication.md).
//
// Engine layout (beside the keyspace's records, in the same slot ranges):
//   replica state: [slot: u16 big-endian][0x04][user key bytes] -> KeyState::encode()
//   incarnation:   [0xFF]['N']"incarnation"                     -> fixed64
//   counter ops:   [0xFF]['C'][coordinator: u64 big-endian]     -> fixed64 incarnation,
//                  fixed64 highest sequence, fixed64 window (bit i: highest - i was applied)
// A key's state lives in its slot's range, so a slot can later be streamed or repaired as one
// range. The incarnation rises by one, durably, every time the store opens: a counter leader's
// shards are per incarnation, so a restart that lost unsynced increments never reuses a total.
//
// Counter increments are the one write that is not idempotent by itself: as a key's leader, the
// store remembers per coordinator which increments it applied, by (coordinator incarnation,
// sequence), over a window of the 64 latest sequences, so a duplicated or replayed increment is
// refused. One older than the window, or from an earlier incarnation, is refused too (its
// coordinator answers its client an error: the increment was not applied). The record is written
// in the same batch as the shard, so after a power loss either both or neither remain.
//
// Thread-safety: none; one node's state machines call it from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "model/key_state.h"
#include "storage/database.h"

namespace cairn {

// One increment, named by its coordinator.
struct CounterOp {
  NodeId coordinator;
  uint64_t incarnation = 0;
  uint64_t sequence = 0;
};

class ReplicaStore {
 public:
  // REQUIRES: `database` outlives the store. Bumps and syncs the incarnation.
  static Result<std::unique_ptr<ReplicaStore>> open(Database* database);

  // The key's state; an empty KeyState if this replica holds nothing for it.
  Result<KeyState> read(std::string_view key);
  // Merges `delta` into the key's state, writing it only when the merge changed it. A state
  // written is first purged of tombstones older than `purge_horizon` (zero: none), which the
  // caller sets a grace period in the past, longer than the hint window: by then no hint or
  // replica still carries a write the tombstone must win against. With `op`, records that
  // increment as applied in the same batch.
  Result<MergeResult> apply(std::string_view key, const KeyState& delta,
                            HlcTimestamp purge_horizon = {}, const CounterOp* op = nullptr);
  // Whether `op` must not be applied: it was applied, or is too old to tell.
  Result<bool> counter_op_refused(const CounterOp& op);
  // Makes every apply() so far durable.
  Status sync();
  // Hands every apply() so far to the operating system, so a crash of the process keeps it.
  Status flush();

  // Every key held, ascending by engine key (slot order), with its state.
  Status for_each(const std::function<void(std::string_view key, const KeyState& state)>& visit);

  uint64_t incarnation() const { return incarnation_; }

 private:
  ReplicaStore(Database* database, uint64_t incarnation)
      : database_(database), incarnation_(incarnation) {}

  struct CounterWindow {
    uint64_t incarnation = 0;
    uint64_t highest_sequence = 0;
    uint64_t applied_bits = 0;
  };
  Result<CounterWindow> counter_window(NodeId coordinator);
  // The window after `op` is applied. REQUIRES: !counter_op_refused(op).
  static CounterWindow with_applied(CounterWindow window, const CounterOp& op);

  Database* database_;
  uint64_t incarnation_;
  std::string engine_key_;  // reused buffer
};

// The keys of `slot` whose replicas `database` holds and that a reader at now_unix_ms sees
// (neither deleted nor expired). Reads the engine only, so any thread may call it.
Result<uint64_t> count_replica_keys_in_slot(Database* database, uint16_t slot, int64_t now_unix_ms);

}  // namespace cairn
