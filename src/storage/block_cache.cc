#include "storage/block_cache.h"

#include <mutex>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "storage/cache_slab.h"
#include "storage/slot_index.h"

namespace cairn {
namespace {

struct Key {
  uint64_t cache_id;
  uint64_t offset;
  bool operator==(const Key&) const = default;
};

// A 64-bit mix of both halves (the murmur3 finalizer), so that neither the sequential cache ids
// nor the block offsets, which share their low bits, crowd shards or buckets.
uint64_t hash_key(uint64_t cache_id, uint64_t offset) {
  uint64_t h = cache_id * 0x9e3779b97f4a7c15 ^ offset;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 33;
  return h;
}

}  // namespace

// One LRU list and the index from key to entry, both without a heap allocation per entry: the
// entries live in a CacheSlab and link to each other by slab index, and the index (SlotIndex)
// maps a key's hash to its slab index. The counters are the shard's own, beside its mutex:
// shared counters would be written by every core at every lookup, and the cache line moving
// between cores cost a quarter of a lookup.
class BlockCache::Shard {
 public:
  explicit Shard(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  // Adds this shard's counters to *stats.
  void add_stats(Stats* stats) {
    std::lock_guard lock(mutex_);
    stats->hits += counters_.hits;
    stats->misses += counters_.misses;
    stats->inserts += counters_.inserts;
    stats->evictions += counters_.evictions;
    stats->usage_bytes += usage_bytes_;
  }

  std::shared_ptr<const Block> lookup(const Key& key, uint64_t hash) {
    std::lock_guard lock(mutex_);
    const uint32_t entry = index_.find(hash, [&](uint32_t e) { return entries_[e].key == key; });
    if (entry == kNoEntry) {
      counters_.misses++;
      return nullptr;
    }
    unlink(entry);
    link_at_front(entry);
    counters_.hits++;
    return entries_[entry].block;
  }

  void insert(const Key& key, uint64_t hash, std::shared_ptr<const Block> block,
              size_t charge_bytes) {
    std::lock_guard lock(mutex_);
    if (charge_bytes > capacity_bytes_) return;
    const uint32_t existing = index_.find(hash, [&](uint32_t e) { return entries_[e].key == key; });
    if (existing != kNoEntry) remove(existing);
    const uint32_t entry = entries_.allocate();
    entries_[entry] = Entry{key, hash, std::move(block), charge_bytes, kNoEntry, kNoEntry};
    link_at_front(entry);
    index_.insert(hash, entry);
    usage_bytes_ += charge_bytes;
    counters_.inserts++;
    // The new entry alone fits, so eviction stops before reaching it.
    while (usage_bytes_ > capacity_bytes_) {
      CAIRN_ASSERT(lru_back_ != entry);
      remove(lru_back_);
      counters_.evictions++;
    }
  }

 private:
  static constexpr uint32_t kNoEntry = SlotIndex::kNoEntry;

  struct Entry {
    Key key;
    uint64_t hash = 0;
    std::shared_ptr<const Block> block;  // null while the slab slot is free
    size_t charge_bytes = 0;
    uint32_t newer = kNoEntry;  // toward the front (most recently used)
    uint32_t older = kNoEntry;
  };

  // Drops `entry` from the index, the LRU list and the usage, and frees its block reference and
  // slab slot.
  void remove(uint32_t entry) {
    Entry& removed = entries_[entry];
    const bool erased =
        index_.erase(removed.hash, [entry](uint32_t found) { return found == entry; });
    CAIRN_ASSERT(erased);
    unlink(entry);
    CAIRN_ASSERT(usage_bytes_ >= removed.charge_bytes);
    usage_bytes_ -= removed.charge_bytes;
    entries_.release(entry);
  }

  void link_at_front(uint32_t entry) {
    entries_[entry].newer = kNoEntry;
    entries_[entry].older = lru_front_;
    if (lru_front_ != kNoEntry) entries_[lru_front_].newer = entry;
    lru_front_ = entry;
    if (lru_back_ == kNoEntry) lru_back_ = entry;
  }

  void unlink(uint32_t entry) {
    const uint32_t newer = entries_[entry].newer;
    const uint32_t older = entries_[entry].older;
    (newer != kNoEntry ? entries_[newer].older : lru_front_) = older;
    (older != kNoEntry ? entries_[older].newer : lru_back_) = newer;
  }

  const size_t capacity_bytes_;
  std::mutex mutex_;
  // All guarded by mutex_.
  Stats counters_;  // hits, misses, inserts and evictions
  size_t usage_bytes_ = 0;
  CacheSlab<Entry> entries_;       // a slot is live when its block is not null
  SlotIndex index_;                // key hash -> slab slot, for the live entries
  uint32_t lru_front_ = kNoEntry;  // most recently used
  uint32_t lru_back_ = kNoEntry;   // least recently used, evicted first
};

BlockCache::BlockCache(size_t capacity_bytes, int shard_count_log2)
    : capacity_bytes_(capacity_bytes), shard_count_log2_(shard_count_log2) {
  CAIRN_ASSERT(shard_count_log2 >= 0 && shard_count_log2 <= kShardCountLog2Max);
  const size_t shard_count = size_t{1} << shard_count_log2;
  shards_.reserve(shard_count);
  for (size_t i = 0; i < shard_count; i++) {
    shards_.push_back(
        std::make_unique<Shard>(shard_capacity_bytes(capacity_bytes, shard_count, i)));
  }
}

BlockCache::~BlockCache() = default;

uint64_t BlockCache::new_cache_id() {
  return next_cache_id_.fetch_add(1, std::memory_order_relaxed);
}

BlockCache::Shard& BlockCache::shard_for(uint64_t hash) {
  if (shard_count_log2_ == 0) return *shards_[0];
  // The top bits pick the shard; the shard's index uses the low bits of the same hash.
  const uint64_t index = hash >> (64 - shard_count_log2_);
  return *shards_[static_cast<size_t>(index)];
}

std::shared_ptr<const Block> BlockCache::lookup(uint64_t cache_id, uint64_t offset) {
  const uint64_t hash = hash_key(cache_id, offset);
  return shard_for(hash).lookup(Key{cache_id, offset}, hash);
}

void BlockCache::insert(uint64_t cache_id, uint64_t offset, std::shared_ptr<const Block> block) {
  CAIRN_ASSERT(block != nullptr);
  const size_t charge = charge_bytes(*block);
  const uint64_t hash = hash_key(cache_id, offset);
  shard_for(hash).insert(Key{cache_id, offset}, hash, std::move(block), charge);
}

BlockCache::Stats BlockCache::stats() const {
  Stats stats;
  for (const auto& shard : shards_) shard->add_stats(&stats);
  stats.capacity_bytes = capacity_bytes_;
  return stats;
}

}  // namespace cairn
