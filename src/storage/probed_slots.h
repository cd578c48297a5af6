// ProbedSlots: the open-addressing table under the caches' hash indexes (slot_index.h for the
// block cache, the row cache's own). Each slot is a 64-bit value whose layout the user chooses;
// `HashOf` tells the table, from a stored value, the hash it was inserted under (at least the bits
// that pick its home slot), which growing and deleting need. Linear probing, at most half full;
// deletion shifts later slots of the probe run back, so no tombstones pile up.
//
// Thread-safety: none; each cache shard guards its table with its own mutex.
// Invariants: size() <= slot_count() / 2; every filled slot is reachable from its home slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/assert.h"

namespace cairn {

template <typename HashOf>
class ProbedSlots {
 public:
  // `empty` is the value of an empty slot, never stored.
  ProbedSlots(uint64_t empty, HashOf hash_of)
      : empty_(empty), hash_of_(hash_of), slots_(kSlotCountMin, empty) {}

  // The position of the first slot in `hash`'s probe run whose value matches(value), or of the
  // empty slot where the run ends.
  template <typename Matches>
  size_t find(uint64_t hash, Matches&& matches) const {
    for (size_t position = home_of(hash);; position = next(position)) {
      const uint64_t value = slots_[position];
      if (value == empty_ || matches(value)) return position;
    }
  }

  // As find, but gives up after `slots_max` slots (returning slot_count()): for hints that must
  // stay cheap.
  template <typename Matches>
  size_t find_bounded(uint64_t hash, size_t slots_max, Matches&& matches) const {
    size_t position = home_of(hash);
    for (size_t probed = 0; probed < slots_max; probed++, position = next(position)) {
      const uint64_t value = slots_[position];
      if (value == empty_ || matches(value)) return position;
    }
    return slots_.size();
  }

  // The slot array, slot_count() values; valid until an insert grows it.
  const uint64_t* slot_data() const { return slots_.data(); }

  // Stores `value` under `hash`. REQUIRES: value != empty, and no stored value has an equal key.
  void insert(uint64_t hash, uint64_t value) {
    CAIRN_ASSERT(value != empty_);
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t position = home_of(hash);
    while (slots_[position] != empty_) position = next(position);
    slots_[position] = value;
    size_++;
  }

  // Empties the slot at `position` and shifts later slots of its probe run back, so that every
  // probe still reaches its value; a later value may move into `position`.
  // REQUIRES: the slot at `position` is filled.
  void erase_at(size_t position) {
    CAIRN_ASSERT(slots_[position] != empty_);
    size_t hole = position;
    for (size_t later = next(hole); slots_[later] != empty_; later = next(later)) {
      const size_t home = home_of(hash_of_(slots_[later]));
      // The value at `later` may fill the hole unless its home lies cyclically in (hole, later].
      const bool stays =
          hole <= later ? (hole < home && home <= later) : (hole < home || home <= later);
      if (stays) continue;
      slots_[hole] = slots_[later];
      hole = later;
    }
    slots_[hole] = empty_;
    size_--;
  }

  // Stores `value` in place of the filled slot at `position`. REQUIRES: hash_of(value) equals the
  // hash of the value it replaces (so the slot stays reachable), and value != empty.
  void replace_at(size_t position, uint64_t value) {
    CAIRN_ASSERT(slots_[position] != empty_ && value != empty_);
    CAIRN_ASSERT(home_of(hash_of_(value)) == home_of(hash_of_(slots_[position])));
    slots_[position] = value;
  }

  // Stores `value` in place of the filled slot at `position`, which it differs from only in the
  // bits of `flag_mask`: bits the user keeps beside the key, which HashOf ignores. Unlike
  // replace_at, computes no hash (HashOf may read memory the caller wants left alone).
  void update_flags_at(size_t position, uint64_t value, uint64_t flag_mask) {
    CAIRN_ASSERT(slots_[position] != empty_ && ((value ^ slots_[position]) & ~flag_mask) == 0);
    slots_[position] = value;
  }

  uint64_t at(size_t position) const { return slots_[position]; }
  bool is_empty(size_t position) const { return slots_[position] == empty_; }
  size_t slot_count() const { return slots_.size(); }  // a power of two
  size_t size() const { return size_; }                // filled slots

  // Every filled slot's value, in slot order.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const uint64_t value : slots_) {
      if (value != empty_) visit(value);
    }
  }

 private:
  static constexpr size_t kSlotCountMin = 64;  // a power of two

  size_t home_of(uint64_t hash) const { return static_cast<size_t>(hash) & (slots_.size() - 1); }
  size_t next(size_t position) const { return (position + 1) & (slots_.size() - 1); }

  // Doubles the table and re-places every value.
  void grow() {
    std::vector<uint64_t> old_slots(slots_.size() * 2, empty_);
    old_slots.swap(slots_);
    for (const uint64_t value : old_slots) {
      if (value == empty_) continue;
      size_t position = home_of(hash_of_(value));
      while (slots_[position] != empty_) position = next(position);
      slots_[position] = value;
    }
  }

  const uint64_t empty_;
  HashOf hash_of_;
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

}  // namespace cairn
