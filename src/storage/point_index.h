// PointIndex: a fixed-size hash index from a user key to the memtable entry that holds its newest
// version, so that a point lookup in the memtable costs one or two cache misses instead of a
// search of its sorted runs.
//
// Open addressing with linear probing over a power-of-two array of slots. A slot is empty (0) or
// holds a tagged entry pointer: the entry's address in the low 48 bits and 16 bits of the key's
// hash above them, so that probing past other keys rarely touches their entries. Slots are never
// emptied; a key's slot is only ever re-pointed at a newer entry for the same key.
//
// Thread-safety: put() by ONE writer at a time (the memtable's); find() from any thread,
// concurrently with it, without locks. put() publishes with a release store and find() reads
// with acquire loads, so a reader that sees an entry sees its bytes.
// Bound: put() refuses a new key once kPointIndexLoadMax of the slots are used (and an address
// that does not fit 48 bits); the memtable then answers from its sorted runs for that key.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cairn {

// Linear probing stays short below this load: about 2.5 probes for a miss at 0.5, 8.5 at 0.75.
constexpr double kPointIndexLoadMax = 0.75;

class PointIndex {
 public:
  // Decodes the user key of an entry the index was given.
  using EntryUserKey = std::string_view (*)(const char* entry);
  // True if entry a, of the same user key as entry b, is the newer version.
  using EntryIsNewer = bool (*)(const char* a, const char* b);

  // `slot_count_min` rounded up to a power of two; 0 makes an index that holds nothing.
  PointIndex(size_t slot_count_min, EntryUserKey entry_user_key, EntryIsNewer entry_is_newer);
  PointIndex(const PointIndex&) = delete;
  PointIndex& operator=(const PointIndex&) = delete;

  // Points user_key at `entry` unless it points at a newer entry already. Returns false, changing
  // nothing, when user_key is not in the index and cannot be added (the index is at its load
  // limit, or holds nothing).
  // REQUIRES: one writer at a time; `entry`'s user key is user_key; `entry` stays valid as long
  // as the index.
  bool put(std::string_view user_key, const char* entry);

  // The entry user_key points at, or nullptr when it is not in the index.
  const char* find(std::string_view user_key) const;

  // Where probes start, for a prefetch from a thread that holds no reference to the index.
  struct PrefetchTarget {
    const std::atomic<uint64_t>* slots = nullptr;  // null: nothing to prefetch
    size_t mask = 0;
  };
  PrefetchTarget prefetch_target() const {
    return {slots_.get(), slot_count_ == 0 ? 0 : slot_count_ - 1};
  }
  // Prefetches the slot where a probe for user_key starts. `target` may be of an index destroyed
  // since: a prefetch never faults, it only wastes a memory access.
  static void prefetch(const PrefetchTarget& target, std::string_view user_key);

  // True once a new key may be refused: the memtable should be switched.
  bool at_load_limit() const {
    return used_slot_count_.load(std::memory_order_relaxed) >= slot_count_limit_;
  }
  size_t memory_usage_bytes() const { return slot_count_ * sizeof(std::atomic<uint64_t>); }

 private:
  // The slot holding user_key, or the empty slot where it would go, with the value read from it
  // (0 for the empty one); nullptr when neither exists (an index that holds nothing, or a full
  // array).
  std::atomic<uint64_t>* probe(std::string_view user_key, uint64_t hash, uint64_t* value) const;

  const size_t slot_count_;  // a power of two, or 0
  const size_t slot_count_limit_;
  const EntryUserKey entry_user_key_;
  const EntryIsNewer entry_is_newer_;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  std::atomic<size_t> used_slot_count_{0};
};

}  // namespace cairn
