#include "storage/block_cache.h"

#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "common/assert.h"

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

struct KeyHash {
  size_t operator()(const Key& key) const {
    return static_cast<size_t>(hash_key(key.cache_id, key.offset));
  }
};

}  // namespace

// One LRU list (front = most recently used) and the map from key to its node. The owner's
// counters are updated under the shard's mutex so that per-shard changes to usage_bytes are
// applied in order and the total never dips below zero or rises above the capacity.
class BlockCache::Shard {
 public:
  Shard(BlockCache* owner, size_t capacity_bytes)
      : owner_(owner), capacity_bytes_(capacity_bytes) {}

  std::shared_ptr<const Block> lookup(const Key& key) {
    std::lock_guard lock(mutex_);
    const auto found = index_.find(key);
    if (found == index_.end()) {
      owner_->misses_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, found->second);
    owner_->hits_.fetch_add(1, std::memory_order_relaxed);
    return found->second->block;
  }

  void insert(const Key& key, std::shared_ptr<const Block> block, size_t charge_bytes) {
    std::lock_guard lock(mutex_);
    if (charge_bytes > capacity_bytes_) return;
    const auto existing = index_.find(key);
    if (existing != index_.end()) {
      remove(existing->second);
      index_.erase(existing);
    }
    lru_.push_front(Entry{key, std::move(block), charge_bytes});
    index_.emplace(key, lru_.begin());
    usage_bytes_ += charge_bytes;
    owner_->usage_bytes_.fetch_add(charge_bytes, std::memory_order_relaxed);
    owner_->inserts_.fetch_add(1, std::memory_order_relaxed);
    // The new entry alone fits, so eviction stops before reaching it.
    while (usage_bytes_ > capacity_bytes_) {
      CAIRN_ASSERT(lru_.size() > 1);
      const auto victim = std::prev(lru_.end());
      index_.erase(victim->key);
      remove(victim);
      owner_->evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    CAIRN_ASSERT(index_.size() == lru_.size());
  }

 private:
  struct Entry {
    Key key;
    std::shared_ptr<const Block> block;
    size_t charge_bytes;
  };
  using EntryIterator = std::list<Entry>::iterator;

  // Drops the entry from the LRU list and its charge from the usage; the caller unmaps it.
  void remove(EntryIterator entry) {
    CAIRN_ASSERT(usage_bytes_ >= entry->charge_bytes);
    usage_bytes_ -= entry->charge_bytes;
    owner_->usage_bytes_.fetch_sub(entry->charge_bytes, std::memory_order_relaxed);
    lru_.erase(entry);
  }

  BlockCache* const owner_;
  const size_t capacity_bytes_;
  std::mutex mutex_;
  size_t usage_bytes_ = 0;                                 // guarded by mutex_
  std::list<Entry> lru_;                                   // guarded by mutex_
  std::unordered_map<Key, EntryIterator, KeyHash> index_;  // guarded by mutex_; never iterated
};

BlockCache::BlockCache(size_t capacity_bytes, int shard_count_log2)
    : capacity_bytes_(capacity_bytes), shard_count_log2_(shard_count_log2) {
  CAIRN_ASSERT(shard_count_log2 >= 0 && shard_count_log2 <= kShardCountLog2Max);
  const size_t shard_count = size_t{1} << shard_count_log2;
  // The remainder goes one byte each to the first shards, so the capacities sum exactly.
  const size_t base_bytes = capacity_bytes / shard_count;
  const size_t remainder_bytes = capacity_bytes % shard_count;
  shards_.reserve(shard_count);
  for (size_t i = 0; i < shard_count; i++) {
    shards_.push_back(std::make_unique<Shard>(this, base_bytes + (i < remainder_bytes ? 1 : 0)));
  }
}

BlockCache::~BlockCache() = default;

uint64_t BlockCache::new_cache_id() {
  return next_cache_id_.fetch_add(1, std::memory_order_relaxed);
}

BlockCache::Shard& BlockCache::shard_for(uint64_t cache_id, uint64_t offset) {
  if (shard_count_log2_ == 0) return *shards_[0];
  // The top bits pick the shard; the map's buckets use the low bits of the same hash.
  const uint64_t index = hash_key(cache_id, offset) >> (64 - shard_count_log2_);
  return *shards_[static_cast<size_t>(index)];
}

std::shared_ptr<const Block> BlockCache::lookup(uint64_t cache_id, uint64_t offset) {
  return shard_for(cache_id, offset).lookup(Key{cache_id, offset});
}

void BlockCache::insert(uint64_t cache_id, uint64_t offset, std::shared_ptr<const Block> block) {
  CAIRN_ASSERT(block != nullptr);
  const size_t charge = charge_bytes(*block);
  shard_for(cache_id, offset).insert(Key{cache_id, offset}, std::move(block), charge);
}

BlockCache::Stats BlockCache::stats() const {
  Stats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.inserts = inserts_.load(std::memory_order_relaxed);
  stats.evictions = evictions_.load(std::memory_order_relaxed);
  stats.usage_bytes = usage_bytes_.load(std::memory_order_relaxed);
  stats.capacity_bytes = capacity_bytes_;
  return stats;
}

}  // namespace cairn
