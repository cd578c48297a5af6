// RowCache: the newest value of user keys that point lookups found in the tables (or, for a read
// before a write, in a memtable, or found to have none), kept current by writes, so that the next
// lookup of a hot key
// costs one hash probe instead of a walk through the memtables, the filters, a table index and a
// data block (RocksDB's row_cache, Cassandra's row cache). A GET served from the block cache
// spent about half its CPU on that walk.
//
// Consistency: the cache answers only lookups of the latest state (no snapshot), and only with
// what the database would answer at the reader's sequence. Each entry carries the sequence from
// which its value is valid. Writers call, for every key of a write, after it is in the memtable
// and before it is visible to readers, either refresh(key, value, sequence), which gives a cached
// entry the new value valid from the write's sequence (so a key that is read, then written, then
// read again, as INCR does, stays cached), or invalidate(key, sequence) for a delete or a value
// the cache does not hold. A lookup at an older sequence than an entry's misses, and falls back
// to the memtable, which answers at that sequence. A reader that read at `read_sequence` offers
// what it found with insert(), which each shard refuses when it saw a write newer than the read
// (one the reader may have missed). All run under the shard's mutex, so either the insert comes
// first and the write replaces it, or the write comes first and the insert is refused.
//
// Ownership: one per Database (the keys are its user keys, so a cache is never shared). Values
// are copied in and out. Thread-safety: every method may be called from any thread; 2^6 shards,
// each with its own mutex, index and counters.
// Invariants: each shard's usage stays within its capacity; values above kValueBytesMax are not
// cached. Eviction is CLOCK (second chance): a hit only sets a bit in the index slot it read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/internal_key.h"

namespace cairn {

class RowCache {
 public:
  // What each entry is charged beyond its key and value: its block header (24 bytes), the heap
  // allocator's header and rounding, and two to four index slots (the index is between a quarter
  // and half full). Measured: a cache filled with 1 M entries of 18-byte keys and 110-byte values
  // (index about half full) grew the resident size by 49 bytes per entry beyond the key and value
  // bytes (65 while the reference bit took a padded field of the header, charged 64); the charge
  // leaves room for a sparser index.
  static constexpr size_t kEntryOverheadBytes = 56;
  static constexpr size_t kValueBytesMax = 4096;
  static constexpr int kShardCountLog2 = 6;

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t inserts = 0;
    uint64_t refused_inserts = 0;  // a newer write to the shard could have changed the value
    uint64_t refreshes = 0;        // cached entries a write gave its new value
    size_t usage_bytes = 0;
    size_t capacity_bytes = 0;
  };

  // A capacity of 0 caches nothing.
  explicit RowCache(size_t capacity_bytes);
  ~RowCache();
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  enum class Answer {
    kMiss,    // not cached, or cached only from a sequence after the read's
    kValue,   // the cached value was copied into *value
    kAbsent,  // cached as having no value (insert_absent)
  };
  // What the cache holds for `user_key` as read at `read_sequence`.
  Answer lookup(std::string_view user_key, SequenceNumber read_sequence, std::string* value);

  // A hint that `user_keys` will be looked up soon: starts loading the index slot, then the
  // entry, of each, so that the misses of many keys overlap instead of following one another
  // (two dependent misses per key, as a lookup takes them). Changes nothing else.
  void prefetch(std::span<const std::string_view> user_keys);

  // Caches `value` as the newest value of `user_key`, as read at `read_sequence`, unless the
  // shard saw an invalidation at a later sequence, or the value is too large, or the entry alone
  // exceeds the shard's capacity.
  void insert(std::string_view user_key, std::string_view value, SequenceNumber read_sequence);
  // Caches that `user_key` had no value (never written, or deleted) as read at `read_sequence`,
  // under the same conditions as insert(). For a read before a write: the write gives the entry
  // its value (refresh), so the key's next read is a hit, as for a key that had a value.
  void insert_absent(std::string_view user_key, SequenceNumber read_sequence);

  // `user_key` was written with `value` at `write_sequence`: a cached entry takes the value, valid
  // from that sequence (or is forgotten when the value is too large to cache); an uncached key
  // stays uncached. Refuses later inserts of reads older than the write.
  void refresh(std::string_view user_key, std::string_view value, SequenceNumber write_sequence);

  // Forgets `user_key`, written at `write_sequence`, and refuses inserts of reads older than it.
  void invalidate(std::string_view user_key, SequenceNumber write_sequence);

  // The refreshes and invalidations of one write group, applied in order, each a few operations
  // after it was given: meanwhile its index slot is loaded (as prefetch() does), so that the
  // cache misses of a group's keys overlap. A write's keys are mostly cold in the cache (new
  // members, the score and sample records of a popped element): applied one at a time, the slot
  // load of each invalidation was 83% of its time and invalidation 16% of a ZPOPMIN loop thread.
  // REQUIRES: the keys and values given stay valid until the group is applied (its destructor,
  // or apply()); one thread uses it.
  class GroupUpdate {
   public:
    GroupUpdate(RowCache& cache, SequenceNumber write_sequence)
        : cache_(cache), write_sequence_(write_sequence) {}
    ~GroupUpdate() { apply(); }
    GroupUpdate(const GroupUpdate&) = delete;
    GroupUpdate& operator=(const GroupUpdate&) = delete;

    void refresh(std::string_view user_key, std::string_view value);
    void invalidate(std::string_view user_key);
    // Applies every operation given so far.
    void apply();

   private:
    // Operations in flight: enough to cover a memory access with a few operations' work, few
    // enough that their slots stay in the L1 cache until used.
    static constexpr size_t kLookahead = 8;
    struct Operation {
      std::string_view key;
      std::string_view value;
      uint64_t hash = 0;
      bool invalidate = false;
    };
    void add(const Operation& operation);
    void apply_one(const Operation& operation);

    RowCache& cache_;
    const SequenceNumber write_sequence_;
    std::array<Operation, kLookahead> ring_;
    size_t first_ = 0;  // the oldest operation not yet applied, in ring_
    size_t size_ = 0;
  };

  Stats stats() const;  // takes each shard's lock in turn
  size_t capacity_bytes() const { return capacity_bytes_; }

 private:
  class Shard;

  Shard& shard_for(uint64_t hash) { return *shards_[hash >> (64 - kShardCountLog2)]; }

  const size_t capacity_bytes_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace cairn
