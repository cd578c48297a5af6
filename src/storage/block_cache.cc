#include "storage/block_cache.h"

#include <mutex>
#include <utility>
#include <vector>

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

}  // namespace

// One LRU list and the index from key to entry, both without a heap allocation per entry: the
// entries live in a slab (a vector whose free slots are reused) and link to each other by slab
// index, and the index is an open-addressing table (linear probing, at most half full) whose
// slots hold the low 32 bits of the key's hash beside the entry's slab index, so a probe reads
// the entry itself only when those bits match. The counters are the shard's own, beside its
// mutex: shared counters would be written by every core at every lookup, and the cache line
// moving between cores cost a quarter of a lookup.
class BlockCache::Shard {
 public:
  explicit Shard(size_t capacity_bytes)
      : capacity_bytes_(capacity_bytes), slots_(kSlotCountMin, kEmptySlot) {}

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
    const size_t slot = find_slot(key, hash);
    if (slots_[slot] == kEmptySlot) {
      counters_.misses++;
      return nullptr;
    }
    const uint32_t entry = entry_of(slots_[slot]);
    unlink(entry);
    link_at_front(entry);
    counters_.hits++;
    return entries_[entry].block;
  }

  void insert(const Key& key, uint64_t hash, std::shared_ptr<const Block> block,
              size_t charge_bytes) {
    std::lock_guard lock(mutex_);
    if (charge_bytes > capacity_bytes_) return;
    const size_t existing = find_slot(key, hash);
    if (slots_[existing] != kEmptySlot) remove(existing);
    const uint32_t entry = allocate_entry();
    entries_[entry] = Entry{key, std::move(block), charge_bytes, kNoEntry, kNoEntry};
    link_at_front(entry);
    add_to_index(hash, entry);
    usage_bytes_ += charge_bytes;
    counters_.inserts++;
    // The new entry alone fits, so eviction stops before reaching it.
    while (usage_bytes_ > capacity_bytes_) {
      CAIRN_ASSERT(lru_back_ != entry);
      const Entry& victim = entries_[lru_back_];
      remove(find_slot(victim.key, hash_key(victim.key.cache_id, victim.key.offset)));
      counters_.evictions++;
    }
    CAIRN_ASSERT(2 * live_count_ <= slots_.size());
  }

 private:
  static constexpr uint32_t kNoEntry = UINT32_MAX;
  static constexpr uint64_t kEmptySlot = UINT64_MAX;  // entry index kNoEntry: never a live one
  static constexpr size_t kSlotCountMin = 64;         // a power of two

  struct Entry {
    Key key;
    std::shared_ptr<const Block> block;  // null while the slab slot is free
    size_t charge_bytes = 0;
    uint32_t newer = kNoEntry;  // toward the front (most recently used)
    uint32_t older = kNoEntry;
  };

  static uint64_t make_slot(uint64_t hash, uint32_t entry) { return (hash << 32) | entry; }
  static uint32_t entry_of(uint64_t slot) { return static_cast<uint32_t>(slot); }
  static uint32_t hash_bits_of(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  size_t home_of(uint64_t hash) const { return static_cast<size_t>(hash) & (slots_.size() - 1); }

  // The slot holding `key`, or the empty slot where its probe ends.
  size_t find_slot(const Key& key, uint64_t hash) const {
    const auto hash_bits = static_cast<uint32_t>(hash);
    for (size_t slot = home_of(hash);; slot = (slot + 1) & (slots_.size() - 1)) {
      const uint64_t value = slots_[slot];
      if (value == kEmptySlot) return slot;
      if (hash_bits_of(value) == hash_bits && entries_[entry_of(value)].key == key) return slot;
    }
  }

  void add_to_index(uint64_t hash, uint32_t entry) {
    if (2 * (live_count_ + 1) > slots_.size()) grow_index();
    const size_t slot = find_slot(entries_[entry].key, hash);
    CAIRN_ASSERT(slots_[slot] == kEmptySlot);
    slots_[slot] = make_slot(hash, entry);
    live_count_++;
  }

  // Doubles the table and re-places every entry (the hash bits kept in each slot suffice).
  void grow_index() {
    std::vector<uint64_t> old_slots(slots_.size() * 2, kEmptySlot);
    old_slots.swap(slots_);
    for (const uint64_t value : old_slots) {
      if (value == kEmptySlot) continue;
      size_t slot = home_of(hash_bits_of(value));
      while (slots_[slot] != kEmptySlot) slot = (slot + 1) & (slots_.size() - 1);
      slots_[slot] = value;
    }
  }

  // Empties `slot` and shifts later entries of its probe run back, so that every probe still
  // reaches its entry without tombstones.
  void erase_slot(size_t slot) {
    const size_t mask = slots_.size() - 1;
    size_t hole = slot;
    for (size_t next = (hole + 1) & mask; slots_[next] != kEmptySlot; next = (next + 1) & mask) {
      const size_t home = home_of(hash_bits_of(slots_[next]));
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const bool stays =
          hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (stays) continue;
      slots_[hole] = slots_[next];
      hole = next;
    }
    slots_[hole] = kEmptySlot;
  }

  // Drops the entry at `slot` from the index, the LRU list and the usage, and frees its block
  // reference and slab slot.
  void remove(size_t slot) {
    const uint32_t entry = entry_of(slots_[slot]);
    erase_slot(slot);
    live_count_--;
    unlink(entry);
    Entry& removed = entries_[entry];
    CAIRN_ASSERT(usage_bytes_ >= removed.charge_bytes);
    usage_bytes_ -= removed.charge_bytes;
    removed.block.reset();
    free_entries_.push_back(entry);
  }

  uint32_t allocate_entry() {
    if (!free_entries_.empty()) {
      const uint32_t entry = free_entries_.back();
      free_entries_.pop_back();
      return entry;
    }
    CAIRN_ASSERT(entries_.size() < kNoEntry);
    entries_.emplace_back();
    return static_cast<uint32_t>(entries_.size() - 1);
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
  std::vector<Entry> entries_;          // the slab; a slot is live when its block is not null
  std::vector<uint32_t> free_entries_;  // slab slots to reuse
  std::vector<uint64_t> slots_;         // the index; size a power of two, at most half full
  size_t live_count_ = 0;               // live entries = filled index slots
  uint32_t lru_front_ = kNoEntry;       // most recently used
  uint32_t lru_back_ = kNoEntry;        // least recently used, evicted first
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
    shards_.push_back(std::make_unique<Shard>(base_bytes + (i < remainder_bytes ? 1 : 0)));
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
