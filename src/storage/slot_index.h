// SlotIndex: the block cache's hash index, from a 64-bit key hash to the index of the cache's
// entry in its slab, without a heap allocation per entry. Each slot holds the low 32 bits of the
// key's hash beside the entry index, so a probe looks at an entry (to compare whole keys) only
// when those bits match, and the table re-places slots from their own bits (ProbedSlots).
//
// Thread-safety: none; each cache shard guards its index with its own mutex.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/assert.h"
#include "storage/probed_slots.h"

namespace cairn {

class SlotIndex {
 public:
  static constexpr uint32_t kNoEntry = UINT32_MAX;

  SlotIndex() : slots_(kEmptySlot, HashBitsOf()) {}

  // The entry whose key hashes to `hash` and for which matches(entry) is true, or kNoEntry.
  template <typename Matches>
  uint32_t find(uint64_t hash, Matches&& matches) const {
    const size_t position = find_position(hash, matches);
    return slots_.is_empty(position) ? kNoEntry : entry_of(slots_.at(position));
  }

  // Adds `entry` under `hash`. REQUIRES: no entry with an equal key is in the index.
  void insert(uint64_t hash, uint32_t entry) {
    CAIRN_ASSERT(entry != kNoEntry);
    slots_.insert(hash, (hash << 32) | entry);
  }

  // Removes the entry found as find(hash, matches) would; false if there is none.
  template <typename Matches>
  bool erase(uint64_t hash, Matches&& matches) {
    const size_t position = find_position(hash, matches);
    if (slots_.is_empty(position)) return false;
    slots_.erase_at(position);
    return true;
  }

  size_t size() const { return slots_.size(); }

 private:
  static constexpr uint64_t kEmptySlot = UINT64_MAX;  // entry index kNoEntry: never a live one

  struct HashBitsOf {
    uint64_t operator()(uint64_t slot) const { return slot >> 32; }
  };

  static uint32_t entry_of(uint64_t slot) { return static_cast<uint32_t>(slot); }

  template <typename Matches>
  size_t find_position(uint64_t hash, Matches& matches) const {
    const auto hash_bits = static_cast<uint32_t>(hash);
    return slots_.find(
        hash, [&](uint64_t slot) { return (slot >> 32) == hash_bits && matches(entry_of(slot)); });
  }

  ProbedSlots<HashBitsOf> slots_;
};

}  // namespace cairn
