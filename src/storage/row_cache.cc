#include "storage/row_cache.h"

#include <algorithm>
#include <mutex>

#include "common/assert.h"
#include "common/checksum.h"
#include "storage/cache_slab.h"
#include "storage/slot_index.h"

namespace cairn {
namespace {

constexpr uint64_t kRowCacheHashSeed = 0x20e5'cace'0000'0001;

}  // namespace

// The entries live in a CacheSlab, each holding its key and value in one string; the SlotIndex maps a key's hash to its slab slot. The CLOCK hand walks
// the slab.
class RowCache::Shard {
 public:
  explicit Shard(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  bool lookup(std::string_view key, uint64_t hash, std::string* value) {
    std::lock_guard lock(mutex_);
    const uint32_t entry = find(key, hash);
    if (entry == SlotIndex::kNoEntry) {
      counters_.misses++;
      return false;
    }
    entries_[entry].referenced = true;
    value->assign(entries_[entry].value());
    counters_.hits++;
    return true;
  }

  void insert(std::string_view key, uint64_t hash, std::string_view value,
              SequenceNumber read_sequence) {
    const size_t charge_bytes = key.size() + value.size() + kEntryOverheadBytes;
    std::lock_guard lock(mutex_);
    if (read_sequence < invalidated_through_) {
      counters_.refused_inserts++;
      return;
    }
    if (charge_bytes > capacity_bytes_) return;
    const uint32_t existing = find(key, hash);
    if (existing != SlotIndex::kNoEntry) remove(existing);
    const uint32_t entry = entries_.allocate();
    Entry& added = entries_[entry];
    added.hash = hash;
    added.bytes.assign(key);
    added.bytes.append(value);
    added.key_bytes = key.size();
    added.charge_bytes = charge_bytes;
    // Not referenced until looked up, so a stream of keys read once does not push out the keys
    // read again and again.
    added.referenced = false;
    index_.insert(hash, entry);
    usage_bytes_ += charge_bytes;
    counters_.inserts++;
    while (usage_bytes_ > capacity_bytes_) evict_one(entry);
  }

  void invalidate(std::string_view key, uint64_t hash, SequenceNumber write_sequence) {
    std::lock_guard lock(mutex_);
    invalidated_through_ = std::max(invalidated_through_, write_sequence);
    const uint32_t entry = find(key, hash);
    if (entry != SlotIndex::kNoEntry) remove(entry);
  }

  void add_stats(Stats* stats) {
    std::lock_guard lock(mutex_);
    stats->hits += counters_.hits;
    stats->misses += counters_.misses;
    stats->inserts += counters_.inserts;
    stats->refused_inserts += counters_.refused_inserts;
    stats->usage_bytes += usage_bytes_;
  }

 private:
  struct Entry {
    uint64_t hash = 0;
    std::string bytes;  // key ++ value
    size_t key_bytes = 0;
    size_t charge_bytes = 0;  // 0 while the slab slot is free
    bool referenced = false;  // looked up since the hand last passed

    std::string_view key() const { return std::string_view(bytes).substr(0, key_bytes); }
    std::string_view value() const { return std::string_view(bytes).substr(key_bytes); }
  };

  uint32_t find(std::string_view key, uint64_t hash) const {
    return index_.find(hash, [&](uint32_t entry) { return entries_[entry].key() == key; });
  }

  // Advances the hand to the first entry other than `keep` not referenced since the hand last
  // passed it, clearing the bits it passes, and removes it. REQUIRES: a live entry other than
  // `keep` (the second lap finds its bit clear).
  void evict_one(uint32_t keep) {
    CAIRN_ASSERT(index_.size() >= 2);
    while (true) {
      if (hand_ >= entries_.size()) hand_ = 0;
      const auto entry = static_cast<uint32_t>(hand_++);
      Entry& candidate = entries_[entry];
      if (candidate.charge_bytes == 0 || entry == keep) continue;
      if (candidate.referenced) {
        candidate.referenced = false;
        continue;
      }
      remove(entry);
      return;
    }
  }

  void remove(uint32_t entry) {
    Entry& removed = entries_[entry];
    const bool erased =
        index_.erase(removed.hash, [entry](uint32_t found) { return found == entry; });
    CAIRN_ASSERT(erased);
    CAIRN_ASSERT(usage_bytes_ >= removed.charge_bytes);
    usage_bytes_ -= removed.charge_bytes;
    entries_.release(entry);  // frees the bytes
  }

  const size_t capacity_bytes_;
  std::mutex mutex_;
  // All guarded by mutex_.
  Stats counters_;
  size_t usage_bytes_ = 0;
  SequenceNumber invalidated_through_ = 0;  // the newest write sequence invalidated here
  CacheSlab<Entry> entries_;                // a slot is live when its charge is not 0
  SlotIndex index_;                         // key hash -> slab slot, for the live entries
  size_t hand_ = 0;                         // the CLOCK hand: a slab slot
};

RowCache::RowCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {
  const size_t shard_count = size_t{1} << kShardCountLog2;
  shards_.reserve(shard_count);
  for (size_t i = 0; i < shard_count; i++) {
    shards_.push_back(
        std::make_unique<Shard>(shard_capacity_bytes(capacity_bytes, shard_count, i)));
  }
}

RowCache::~RowCache() = default;

bool RowCache::lookup(std::string_view user_key, std::string* value) {
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  return shard_for(hash).lookup(user_key, hash, value);
}

void RowCache::insert(std::string_view user_key, std::string_view value,
                      SequenceNumber read_sequence) {
  if (value.size() > kValueBytesMax) return;
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  shard_for(hash).insert(user_key, hash, value, read_sequence);
}

void RowCache::invalidate(std::string_view user_key, SequenceNumber write_sequence) {
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  shard_for(hash).invalidate(user_key, hash, write_sequence);
}

RowCache::Stats RowCache::stats() const {
  Stats stats;
  for (const auto& shard : shards_) shard->add_stats(&stats);
  stats.capacity_bytes = capacity_bytes_;
  return stats;
}

}  // namespace cairn
