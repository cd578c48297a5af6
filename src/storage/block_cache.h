// BlockCache: uncompressed, parsed data blocks of open tables, shared by every table that reads
// through it and bounded in bytes with least-recently-used eviction (docs/sstable-format.md,
// "Block cache").
//
// Ownership: the cache holds one shared reference to each cached Block. A reader that looked a
// block up keeps it alive through its own shared_ptr after the cache evicts it, so an evicted
// block's memory is freed when its last reader lets go; usage_bytes counts only what the cache
// itself holds.
// Thread-safety: every method may be called from any number of threads at once. Entries are
// spread over 2^shard_count_log2 shards by a hash of their key; each shard has its own mutex,
// LRU list, index and counters, so readers of different blocks rarely wait for each other.
// stats() adds up the shards one at a time, so the fields of one snapshot may be a moment apart.
// Invariants: each shard's usage stays within its capacity after every call, and the shard
// capacities sum to capacity_bytes, so usage_bytes <= capacity_bytes; an entry is in its shard's
// index exactly when it is in its LRU list.
// Keys: (cache id of the table, block offset). Each open Table takes a fresh id from
// new_cache_id(), so a reopened table never sees another's blocks; the blocks of a closed table
// are never hit again and leave the cache through LRU eviction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "storage/block.h"

namespace cairn {

class BlockCache {
 public:
  // What each entry is charged beyond its block's contents: the Block object with its shared
  // count, its slab entry and index slots. An estimate; it keeps a cache of many tiny
  // blocks from holding far more memory than its capacity says.
  static constexpr size_t kEntryOverheadBytes = 160;
  static constexpr int kShardCountLog2Max = 10;

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t inserts = 0;
    uint64_t evictions = 0;  // entries dropped to make room (not replacements)
    size_t usage_bytes = 0;
    size_t capacity_bytes = 0;
  };

  // REQUIRES: 0 <= shard_count_log2 <= kShardCountLog2Max. A capacity of 0 caches nothing.
  explicit BlockCache(size_t capacity_bytes, int shard_count_log2 = 4);
  ~BlockCache();

  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A process-unique id for one open table's keys; never 0.
  uint64_t new_cache_id();

  // The cached block, marked most recently used; null if absent. Counts a hit or a miss.
  std::shared_ptr<const Block> lookup(uint64_t cache_id, uint64_t offset);

  // Caches `block` under the key, replacing any block cached under it, as the most recently
  // used entry, and evicts least recently used entries of its shard until the shard fits. A
  // block whose charge exceeds its shard's capacity is not cached (the caller still has it).
  // REQUIRES: block != nullptr.
  void insert(uint64_t cache_id, uint64_t offset, std::shared_ptr<const Block> block);

  // What an entry holding `block` counts against the capacity.
  static size_t charge_bytes(const Block& block) {
    return block.size_bytes() + kEntryOverheadBytes;
  }

  Stats stats() const;  // takes each shard's lock in turn
  size_t capacity_bytes() const { return capacity_bytes_; }

 private:
  class Shard;

  // The shard of the key whose hash is `hash`.
  Shard& shard_for(uint64_t hash);

  const size_t capacity_bytes_;
  const int shard_count_log2_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> next_cache_id_{1};
};

}  // namespace cairn
