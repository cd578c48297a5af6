// Slot scans: how the keyspace-wide commands (DBSIZE, SCAN, KEYS, RANDOMKEY) read the names of
// the keys a node holds replicas of, a run of slots at a time (docs/cluster-operations.md).
//
// A SlotScan asks one node for the live keys (neither deleted nor expired) of a list of slot
// ranges, walked in the cluster's key order: by slot, then by the key's bytes (the order of the
// engine's replica records, replica_store.h). The walk starts at a ScanPosition and stops at the
// end of the ranges, or earlier at a limit; a SlotScanResult then names the position to resume
// from. Every limit is bounded here, so one message costs a bounded amount of work and bytes
// whatever the request asks.
//
// Thread-safety: values and pure functions.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/key_state.h"
#include "model/slot.h"

namespace cairn {

// Records (live or not) one node visits for one SlotScan at most; a larger request is cut to it.
constexpr uint64_t kSlotScanRecordsMax = 100'000;
// Keys one SlotScanResult carries at most, and the bytes of their names at most (a reply always
// carries at least one key when one matched, however long: a key is at most 64 KiB).
constexpr uint64_t kSlotScanKeysMax = 100'000;
constexpr uint64_t kSlotScanReplyBytesMax = 1 << 20;
// Ranges of one SlotScan: at most one per slot, in practice one per run of ring partitions.
constexpr size_t kSlotScanRangesMax = kSlotCount;
// A MATCH pattern travels in every message: bounded like a key.
constexpr size_t kScanPatternBytesMax = 64 * 1024;

// Slots first..last, inclusive.
struct ScanRange {
  uint16_t first = 0;
  uint16_t last = 0;

  bool operator==(const ScanRange&) const = default;
};

// A point in the key order: the start of `slot` (no key), or just after key `after` in it.
struct ScanPosition {
  uint16_t slot = 0;
  std::optional<std::string> after;

  bool operator==(const ScanPosition&) const = default;
  // The key order: by slot, a slot's start before its keys, keys by their bytes (unsigned).
  std::strong_ordering operator<=>(const ScanPosition& other) const;
};

struct SlotScan {
  // Ascending, disjoint, within [0, kSlotCount). The walk starts at start (which lies in the
  // first range) and ends at the end of the last range.
  std::vector<ScanRange> ranges;
  ScanPosition start;
  std::string pattern = "*";             // glob (common/glob_match.h); "*" matches every key
  std::optional<KeyStateType> type;      // only keys of this type; kNone matches none
  bool count_only = false;               // count the matches, carry no names
  uint64_t keys_max = kSlotScanKeysMax;  // stop once this many matched (count_only: unbounded)
  uint64_t records_max = kSlotScanRecordsMax;  // stop once this many records were visited
  int64_t now_unix_ms = 0;                     // the coordinator's clock, which judges expiry

  bool operator==(const SlotScan&) const = default;
};

struct SlotScanResult {
  std::vector<std::string> keys;  // the matches in key order (none when count_only)
  uint64_t matched = 0;           // how many matched (keys.size() unless count_only)
  // Where the walk stopped, to resume from (after the last record it visited); nullopt when it
  // reached the end of its ranges.
  std::optional<ScanPosition> resume;

  bool operator==(const SlotScanResult&) const = default;
};

// Whether `scan` is one a node serves: ranges ascending, disjoint, in bounds and not too many;
// start inside the first range; the pattern not too long.
bool slot_scan_is_valid(const SlotScan& scan);

}  // namespace cairn
