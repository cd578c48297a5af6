// HintStore: writes this node holds for other replicas that could not take them (hinted
// handoff; docs/cluster-replication.md), durable in the storage engine until delivered.
//
// A hint is stored when a sloppy write picks this node as a stand-in for a replica that is down,
// and when this node coordinated a write that a replica did not acknowledge in time. Delivery
// (HintDelivery) sends a target its hints once membership sees it alive and removes each when the
// target acknowledges it. Hints are bounded per target by count (a new one past the bound is
// dropped) and by age (the hint window: older ones are dropped, not delivered); both drops are
// counted, since a dropped hint leaves repair to read repair and anti-entropy.
//
// Engine layout: [0xFF]['H'][target: u64 big-endian][sequence: u64 big-endian] ->
//   varint64 created unix ms, length-prefixed key, length-prefixed KeyState::encode().
// Sequences rise per store, so a target's hints are delivered oldest first.
//
// Thread-safety: none; one node's state machines call it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/node_id.h"
#include "common/result.h"
#include "model/key_state.h"
#include "storage/database.h"

namespace cairn {

struct HintLimits {
  size_t hints_per_target_max = 100'000;
  int64_t window_ms = 3 * 60 * 60 * 1000;  // 3 hours, as Cassandra's default
};

struct Hint {
  NodeId target;
  uint64_t sequence = 0;
  int64_t created_unix_ms = 0;
  std::string key;
  KeyState state;
};

struct HintStats {
  uint64_t stored = 0;
  uint64_t delivered = 0;
  uint64_t dropped_full = 0;     // refused: the target had hints_per_target_max already
  uint64_t dropped_expired = 0;  // older than the window when their turn came
  uint64_t dropped_flushed = 0;  // older than a FLUSHALL
};

class HintStore {
 public:
  // Scans the hints left by a previous run. REQUIRES: `database` outlives the store.
  static Result<std::unique_ptr<HintStore>> open(Database* database, HintLimits limits);

  // Stores a hint for `target` (or drops it, counted, when the target has too many).
  Status add(NodeId target, std::string_view key, const KeyState& state, int64_t now_unix_ms);
  // Up to `limit` of target's hints, oldest first, after dropping those past the window.
  Result<std::vector<Hint>> oldest(NodeId target, size_t limit, int64_t now_unix_ms);
  // Removes a delivered hint (nothing if it is already gone, as after a duplicate ack).
  Status remove_delivered(NodeId target, uint64_t sequence);
  // FLUSHALL: removes every hint whose writes are all older than `version` (the flush's), which
  // its target would drop anyway. Hints with a newer write stay whole: the target filters them.
  Status drop_older_than(WriteVersion version);

  // Targets with at least one hint, ascending.
  std::vector<NodeId> targets() const;
  size_t count(NodeId target) const;
  const HintStats& stats() const { return stats_; }

 private:
  HintStore(Database* database, HintLimits limits) : database_(database), limits_(limits) {}
  Status remove(NodeId target, uint64_t sequence);

  Database* database_;
  HintLimits limits_;
  uint64_t next_sequence_ = 1;
  std::map<NodeId, size_t> counts_;
  HintStats stats_;
};

}  // namespace cairn
