// SlotIndex: the hash index of the caches (block_cache.h, row_cache.h) — from a 64-bit key hash
// to the index of the cache's entry, without a heap allocation per entry. Open addressing with
// linear probing, at most half full; each slot holds the low 32 bits of the key's hash beside the
// entry index, so a probe looks at an entry (to compare whole keys) only when those bits match.
// Deletion shifts later slots of the probe run back, so no tombstones pile up.
//
// Thread-safety: none; each cache shard guards its index with its own mutex.
// Invariants: size() <= capacity / 2; every filled slot is reachable from its home slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/assert.h"

namespace cairn {

class SlotIndex {
 public:
  static constexpr uint32_t kNoEntry = UINT32_MAX;

  SlotIndex() : slots_(kSlotCountMin, kEmptySlot) {}

  // The entry whose key hashes to `hash` and for which matches(entry) is true, or kNoEntry.
  template <typename Matches>
  uint32_t find(uint64_t hash, Matches&& matches) const {
    const size_t slot = find_slot(hash, matches);
    return slots_[slot] == kEmptySlot ? kNoEntry : entry_of(slots_[slot]);
  }

  // Adds `entry` under `hash`. REQUIRES: no entry with an equal key is in the index.
  void insert(uint64_t hash, uint32_t entry) {
    CAIRN_ASSERT(entry != kNoEntry);
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t slot = home_of(hash);
    while (slots_[slot] != kEmptySlot) slot = next(slot);
    slots_[slot] = (hash << 32) | entry;
    size_++;
  }

  // Removes the entry found as find(hash, matches) would; false if there is none.
  template <typename Matches>
  bool erase(uint64_t hash, Matches&& matches) {
    const size_t slot = find_slot(hash, matches);
    if (slots_[slot] == kEmptySlot) return false;
    erase_slot(slot);
    size_--;
    return true;
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmptySlot = UINT64_MAX;  // entry index kNoEntry: never a live one
  static constexpr size_t kSlotCountMin = 64;         // a power of two

  static uint32_t entry_of(uint64_t slot) { return static_cast<uint32_t>(slot); }
  static uint32_t hash_bits_of(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  size_t home_of(uint64_t hash) const { return static_cast<size_t>(hash) & (slots_.size() - 1); }
  size_t next(size_t slot) const { return (slot + 1) & (slots_.size() - 1); }

  // The slot holding the matching entry, or the empty slot where its probe ends.
  template <typename Matches>
  size_t find_slot(uint64_t hash, Matches& matches) const {
    const auto hash_bits = static_cast<uint32_t>(hash);
    for (size_t slot = home_of(hash);; slot = next(slot)) {
      const uint64_t value = slots_[slot];
      if (value == kEmptySlot) return slot;
      if (hash_bits_of(value) == hash_bits && matches(entry_of(value))) return slot;
    }
  }

  // Doubles the table and re-places every entry (the hash bits kept in each slot suffice).
  void grow() {
    std::vector<uint64_t> old_slots(slots_.size() * 2, kEmptySlot);
    old_slots.swap(slots_);
    for (const uint64_t value : old_slots) {
      if (value == kEmptySlot) continue;
      size_t slot = home_of(hash_bits_of(value));
      while (slots_[slot] != kEmptySlot) slot = next(slot);
      slots_[slot] = value;
    }
  }

  // Empties `slot` and shifts later entries of its probe run back, so that every probe still
  // reaches its entry.
  void erase_slot(size_t slot) {
    size_t hole = slot;
    for (size_t later = next(hole); slots_[later] != kEmptySlot; later = next(later)) {
      const size_t home = home_of(hash_bits_of(slots_[later]));
      // The entry at `later` may fill the hole unless its home lies cyclically in (hole, later].
      const bool stays =
          hole <= later ? (hole < home && home <= later) : (hole < home || home <= later);
      if (stays) continue;
      slots_[hole] = slots_[later];
      hole = later;
    }
    slots_[hole] = kEmptySlot;
  }

  std::vector<uint64_t> slots_;  // size a power of two
  size_t size_ = 0;
};

}  // namespace cairn
