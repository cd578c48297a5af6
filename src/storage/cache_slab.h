// CacheSlab: the entries of one cache shard (block_cache.cc, row_cache.cc) in a single vector,
// addressed by 32-bit index, whose released slots are reused: no heap allocation per entry, and
// indexes small enough for SlotIndex to hold. Also how a cache splits its capacity over shards.
//
// Thread-safety: none; each shard guards its slab with its own mutex.
// Invariants: a released slot holds a default-constructed Entry until allocate() reuses it; the
// entry a shard marks free (a null block, a zero charge) is its Entry{}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/assert.h"
#include "storage/slot_index.h"

namespace cairn {

template <typename Entry>
class CacheSlab {
 public:
  // The index of a slot for a new entry: a released one if any (holding Entry{}), else a new one.
  uint32_t allocate() {
    if (!free_.empty()) {
      const uint32_t index = free_.back();
      free_.pop_back();
      return index;
    }
    CAIRN_ASSERT(entries_.size() < SlotIndex::kNoEntry);
    entries_.emplace_back();
    return static_cast<uint32_t>(entries_.size() - 1);
  }

  // Resets the slot's entry to Entry{} (freeing what it owns) and keeps the slot for reuse.
  // REQUIRES: `index` is allocated and not yet released.
  void release(uint32_t index) {
    entries_[index] = Entry();
    free_.push_back(index);
  }

  Entry& operator[](uint32_t index) { return entries_[index]; }
  const Entry& operator[](uint32_t index) const { return entries_[index]; }
  // Slots ever allocated, live or released (a CLOCK hand walks them all).
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;  // released slots, reused last-released first
};

// The capacity of shard `shard` when `shard_count` shards share `capacity_bytes`: the remainder
// goes one byte each to the first shards, so that the capacities sum exactly.
inline size_t shard_capacity_bytes(size_t capacity_bytes, size_t shard_count, size_t shard) {
  CAIRN_ASSERT(shard < shard_count);
  return capacity_bytes / shard_count + (shard < capacity_bytes % shard_count ? 1 : 0);
}

}  // namespace cairn
