// ReplicaStore: this node's replicas of the keys it holds, one KeyState per key in the storage
// engine, and the node's counter incarnation (docs/cluster-replication.md).
//
// Engine layout (beside the keyspace's records, in the same slot ranges):
//   replica state: [slot: u16 big-endian][0x04][user key bytes] -> KeyState::encode()
//   incarnation:   [0xFF]['N']"incarnation"                     -> fixed64
//   counter ops:   [0xFF]['C'][coordinator: u64 big-endian]     -> fixed64 incarnation,
//                  fixed64 highest sequence, fixed64 window (bit i: highest - i was applied)
//   flush:         [0xFF]['F']"flush"                           -> fixed64 HLC, fixed64 node,
//                  u8 done (0 while the rewrite it starts has not finished)
//   version bound: [0xFF]['B']"bound"                           -> fixed64 HLC
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
// FLUSHALL (flush_older_than) is a delete of every key at the flush's version F, applied as a
// horizon rather than as one tombstone per key: the store drops every state whose writes are all
// older than F, merges the tombstone deleted(F) into the others, and from then on merges it into
// every delta it applies and drops deltas wholly older than F. So a write, read repair or hint
// from before the flush that arrives late cannot bring a key back, and one made after it (newer
// than F: every node's clock absorbed F) survives. The horizon is durable; a rewrite a crash
// interrupted is finished when the store next opens.
//
// A write that replaces its key (SET, DEL, a list written whole) and is newer than every state
// stored for the key is applied without reading the key: the merge would keep nothing of what
// is stored (KeyState::replaces_older_states()). StoredVersionBounds tells, per bucket of keys,
// an upper bound of what is stored. They start, on open, at the version bound record: a
// timestamp no stored state exceeds, raised (kVersionBoundLeadMs ahead, so rarely) in the same
// batch as any write that would pass it. After a restart, writes skip the read again once the
// clocks pass the bound, within the lead.
//
// Thread-safety: none; one node's state machines call it from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cluster/slot_scan.h"
#include "cluster/stored_version_bounds.h"
#include "common/result.h"
#include "model/key_state.h"
#include "storage/database.h"

namespace cairn {

// A key a replica holds and the digest of its state (anti-entropy: replica_digests.cc).
struct KeyDigest {
  std::string key;
  uint64_t digest = 0;

  bool operator==(const KeyDigest&) const = default;
};

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

  // The key's state; an empty KeyState if this replica holds nothing for it. `stored_bytes`,
  // when given, is set to the size of its stored encoding (0 for nothing held).
  Result<KeyState> read(std::string_view key, size_t* stored_bytes = nullptr);
  // A hint that the states of `keys` will be read soon (a pipeline's GETs, a batch of replica
  // reads): starts loading what their lookups will touch (Database::prefetch). Changes nothing;
  // unlike the rest of the store, callable from any thread.
  void prefetch(std::span<const std::string_view> keys) const;
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

  // The live keys of `scan`'s ranges from scan.start, in key order, within its limits and the
  // bounds of slot_scan.h (replica_scan.cc). REQUIRES: slot_scan_is_valid(scan).
  Result<SlotScanResult> scan(const SlotScan& scan);
  // ---- Anti-entropy digests (replica_digests.cc). A key's digest is hash64 of its stored
  // state's bytes: replicas that merged the same writes hold equal states, which encode alike.
  // The keys of `slot` with their digests, ascending by key: those after `after` (empty: from
  // the first; the empty key sorts first) up to and including `through` (nullopt: to the last),
  // at most count_max of them.
  Result<std::vector<KeyDigest>> key_digests(uint16_t slot, std::string_view after = {},
                                             std::optional<std::string_view> through = {},
                                             size_t count_max = SIZE_MAX);
  // The digest of each slot of [first_slot, last_slot]: a hash over its keys and their digests
  // in key order; 0 for a slot that holds no key. One pass over the run.
  // REQUIRES: first_slot <= last_slot < kSlotCount.
  Result<std::vector<uint64_t>> slot_digests(uint16_t first_slot, uint16_t last_slot);
  // The bytes (keys and states) the digests above have read so far.
  uint64_t digest_bytes_read() const { return digest_bytes_read_; }

  // ---- Dropping a partition this node no longer replicates (partition_cleanup.h,
  // replica_scan.cc). Where a walk over one slot's states stands.
  struct SlotCursor {
    std::optional<std::string> after;  // the last key looked at (the empty key is a key)
    bool done = false;                 // every state of the slot was looked at
    uint64_t looked = 0;               // states looked at so far
    uint64_t dropped = 0;              // of them, deleted
  };
  // Looks at up to `count_max` more of `slot`'s states after the cursor and deletes (from the
  // engine: no tombstone) those whose newest write is older than `older_than`.
  // REQUIRES: slot < kSlotCount, count_max > 0, !cursor->done.
  Status drop_states_older_than(uint16_t slot, HlcTimestamp older_than, size_t count_max,
                                SlotCursor* cursor);

  // FLUSHALL at `version` (see above); nothing for a version not newer than the horizon already
  // held. Durable once the WAL is synced or flushed (sync(), flush()).
  Status flush_older_than(WriteVersion version);
  // The flush horizon: zero when no flush ever ran.
  WriteVersion flush_version() const { return flush_version_; }

  uint64_t incarnation() const { return incarnation_; }
  // The writes apply() stored without reading the key first.
  uint64_t writes_without_read() const { return writes_without_read_; }

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

  // Reads the flush record, finishing a rewrite a crash interrupted.
  Status load_flush();
  // The flush record: the horizon, and whether its rewrite finished.
  Status save_flush(WriteVersion version, bool done);
  // Drops or rewrites every state holding writes older than `version` (flush_older_than).
  Status rewrite_older_than(WriteVersion version);

  // Reads the version bound record into version_bound_ and stored_bounds_. A store without one
  // (new, or written before the record existed) reads every state once for their newest
  // timestamp, and saves that.
  Status load_version_bound();
  // When a state as new as `newest` would pass the version bound, adds a raised record to
  // `batch` and returns the raised bound, for version_bound_ once the batch is written.
  std::optional<HlcTimestamp> raise_version_bound(HlcTimestamp newest, WriteBatch* batch);
  // Makes `timestamp` bound every key's states, durably (a FLUSHALL's rewrite).
  Status bound_every_key_by(HlcTimestamp timestamp);

  Database* database_;
  uint64_t incarnation_;
  HlcTimestamp version_bound_;  // durable: no stored state is newer
  StoredVersionBounds stored_bounds_{HlcTimestamp{}};
  uint64_t writes_without_read_ = 0;
  uint64_t digest_bytes_read_ = 0;
  WriteVersion flush_version_;
  std::string engine_key_;  // reused buffer
};

// The tag byte after the slot in a replica state's engine key.
constexpr char kReplicaStateTag = 0x04;

// What a node's replicas hold, for INFO keyspace: live keys, and those of them with an expiry.
struct ReplicaKeyCounts {
  uint64_t keys = 0;
  uint64_t keys_with_expiry = 0;
};
// Counts every live replica key in `database` as a reader at now_unix_ms (replica_scan.cc),
// stopping once it has counted `keys_max` (1: whether there is any). Reads the engine only, so
// any thread may call it. O(replica keys).
Result<ReplicaKeyCounts> count_replica_keys(Database* database, int64_t now_unix_ms,
                                            uint64_t keys_max = UINT64_MAX);

// The keys of `slot` whose replicas `database` holds and that a reader at now_unix_ms sees
// (neither deleted nor expired). Reads the engine only, so any thread may call it.
Result<uint64_t> count_replica_keys_in_slot(Database* database, uint16_t slot, int64_t now_unix_ms);

}  // namespace cairn
