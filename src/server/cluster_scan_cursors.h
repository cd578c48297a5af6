// ClusterScanCursors: SCAN's cursors in cluster mode (docs/cluster-operations.md, "SCAN
// cursors"). A cursor names a point of the cluster's key order (slot, then key bytes), where the
// next page starts:
//
//   cursor = slot << 49 | token        (so every cursor is below 2^63)
//
// Token 0 is the start of the slot. Any other token names an entry of this node's table: the
// key of that slot to resume after (a key does not fit in 64 bits). Tokens are drawn from a
// sequence seeded by the node's id, so two nodes' tokens differ: a cursor taken to another node,
// or past a restart or the table's eviction, is unknown there and resumes from the start of its
// slot, which may return some keys again (SCAN allows that) but skips none. (A foreign token
// matches one of this node's for the same slot with odds of about kEntriesMax / 2^49, below
// 1 in 10^10.) Cursor 0 both starts a scan and, as a reply, ends it, as in Redis.
//
// The table is bounded (kEntriesMax cursors, kBytesMax key bytes; the oldest go first).
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "cluster/slot_scan.h"

namespace cairn {

class ClusterScanCursors {
 public:
  static constexpr int kTokenBits = 49;
  static constexpr uint64_t kTokenMask = (uint64_t{1} << kTokenBits) - 1;
  static constexpr size_t kEntriesMax = 16384;
  static constexpr size_t kBytesMax = 64u << 20;
  static_assert(uint64_t{kSlotCount - 1} << kTokenBits < uint64_t{1} << 63);

  explicit ClusterScanCursors(uint64_t seed) : next_(seed) {}

  static uint64_t encode(uint16_t slot, uint64_t token) {
    return uint64_t{slot} << kTokenBits | (token & kTokenMask);
  }
  static uint64_t slot_of(uint64_t cursor) { return cursor >> kTokenBits; }
  static uint64_t token_of(uint64_t cursor) { return cursor & kTokenMask; }

  // A cursor for `position`: encode(slot, 0) for a slot's start, else a new token for its key.
  uint64_t remember(const ScanPosition& position);
  // Where the page of `cursor` starts; nullopt when the cursor names no slot (it is past the
  // last one), which ends the scan.
  std::optional<ScanPosition> resume(uint64_t cursor);

 private:
  struct Entry {
    uint16_t slot = 0;
    std::string key;
  };
  uint64_t next_token();

  std::mutex mutex_;
  uint64_t next_;                      // the token sequence's state
  std::map<uint64_t, Entry> entries_;  // by token
  std::deque<uint64_t> order_;         // tokens, oldest first
  size_t bytes_ = 0;
};

}  // namespace cairn
