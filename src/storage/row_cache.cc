#include "storage/row_cache.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>

#include "common/assert.h"
#include "common/checksum.h"
#include "storage/cache_slab.h"

namespace cairn {
namespace {

constexpr uint64_t kRowCacheHashSeed = 0x20e5'cace'0000'0001;

}  // namespace

// Each entry is one heap block, [Block header][key][value], and the shard's open-addressing
// index holds a pointer to it beside 16 bits of its hash: a hit reads one index slot and one
// block (the header, key and value are contiguous), two cache misses where a slab entry between
// them made three. The CLOCK hand walks the index slots; an entry's reference bit lives in its
// header. Linear probing, at most half full; deletion shifts later slots of the probe run back,
// so no tombstones pile up.
class RowCache::Shard {
 public:
  explicit Shard(size_t capacity_bytes)
      : capacity_bytes_(capacity_bytes), slots_(kSlotCountMin, kEmptySlot) {}

  ~Shard() {
    for (const uint64_t slot : slots_) {
      if (slot != kEmptySlot) free_block(block_of(slot));
    }
  }

  bool lookup(std::string_view key, uint64_t hash, std::string* value) {
    std::lock_guard lock(mutex_);
    const size_t slot = find_slot(key, hash);
    if (slots_[slot] == kEmptySlot) {
      counters_.misses++;
      return false;
    }
    Block* block = block_of(slots_[slot]);
    block->referenced = true;
    value->assign(block->value());
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
    const size_t existing = find_slot(key, hash);
    if (slots_[existing] != kEmptySlot) erase_slot(existing);
    Block* added = new_block(key, value, hash);
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t slot = home_of(hash);
    while (slots_[slot] != kEmptySlot) slot = next(slot);
    slots_[slot] = slot_value(added, hash);
    size_++;
    usage_bytes_ += charge_bytes;
    counters_.inserts++;
    while (usage_bytes_ > capacity_bytes_) evict_one(added);
  }

  void invalidate(std::string_view key, uint64_t hash, SequenceNumber write_sequence) {
    std::lock_guard lock(mutex_);
    invalidated_through_ = std::max(invalidated_through_, write_sequence);
    const size_t slot = find_slot(key, hash);
    if (slots_[slot] != kEmptySlot) erase_slot(slot);
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
  // The header of an entry's heap block; the key and then the value follow it.
  struct Block {
    uint64_t hash;
    uint32_t key_bytes;
    uint32_t value_bytes;
    bool referenced;  // looked up since the hand last passed

    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return {bytes(), key_bytes}; }
    std::string_view value() const { return {bytes() + key_bytes, value_bytes}; }
    size_t charge_bytes() const { return key_bytes + value_bytes + kEntryOverheadBytes; }
  };

  static constexpr uint64_t kEmptySlot = 0;  // no block lives at address 0
  static constexpr size_t kSlotCountMin = 64;  // a power of two
  static constexpr int kPointerBits = 48;      // x86-64 and AArch64 user addresses fit
  static constexpr uint64_t kPointerMask = (uint64_t{1} << kPointerBits) - 1;

  // A slot holds the block's address in its low 48 bits and 16 bits of the hash (not the bits
  // that pick the shard or the home slot) above them, so most probes past other keys read no
  // block.
  static uint64_t tag_of(uint64_t hash) { return (hash >> 32) & 0xFFFF; }
  static uint64_t slot_value(const Block* block, uint64_t hash) {
    const auto address = reinterpret_cast<uintptr_t>(block);
    CAIRN_ASSERT((address & ~kPointerMask) == 0);
    return (tag_of(hash) << kPointerBits) | address;
  }
  static Block* block_of(uint64_t slot) {
    return reinterpret_cast<Block*>(static_cast<uintptr_t>(slot & kPointerMask));
  }

  static Block* new_block(std::string_view key, std::string_view value, uint64_t hash) {
    void* memory = ::operator new(sizeof(Block) + key.size() + value.size());
    auto* block = new (memory) Block{hash, static_cast<uint32_t>(key.size()),
                                     static_cast<uint32_t>(value.size()), false};
    char* bytes = reinterpret_cast<char*>(block + 1);
    std::memcpy(bytes, key.data(), key.size());
    std::memcpy(bytes + key.size(), value.data(), value.size());
    return block;
  }
  static void free_block(Block* block) {
    block->~Block();
    ::operator delete(block);
  }

  size_t home_of(uint64_t hash) const { return static_cast<size_t>(hash) & (slots_.size() - 1); }
  size_t next(size_t slot) const { return (slot + 1) & (slots_.size() - 1); }

  // The slot holding `key`'s entry, or the empty slot where its probe ends.
  size_t find_slot(std::string_view key, uint64_t hash) const {
    const uint64_t tag = tag_of(hash);
    for (size_t slot = home_of(hash);; slot = next(slot)) {
      const uint64_t value = slots_[slot];
      if (value == kEmptySlot) return slot;
      if ((value >> kPointerBits) != tag) continue;
      const Block* block = block_of(value);
      if (block->hash == hash && block->key() == key) return slot;
    }
  }

  // Doubles the index and re-places every entry (each block keeps its hash).
  void grow() {
    std::vector<uint64_t> old_slots(slots_.size() * 2, kEmptySlot);
    old_slots.swap(slots_);
    for (const uint64_t value : old_slots) {
      if (value == kEmptySlot) continue;
      size_t slot = home_of(block_of(value)->hash);
      while (slots_[slot] != kEmptySlot) slot = next(slot);
      slots_[slot] = value;
    }
  }

  // Frees the entry at `slot` and shifts later entries of its probe run back, so that every
  // probe still reaches its entry.
  void erase_slot(size_t slot) {
    Block* removed = block_of(slots_[slot]);
    CAIRN_ASSERT(usage_bytes_ >= removed->charge_bytes());
    usage_bytes_ -= removed->charge_bytes();
    free_block(removed);
    size_--;
    size_t hole = slot;
    for (size_t later = next(hole); slots_[later] != kEmptySlot; later = next(later)) {
      const size_t home = home_of(block_of(slots_[later])->hash);
      // The entry at `later` may fill the hole unless its home lies cyclically in (hole, later].
      const bool stays =
          hole <= later ? (hole < home && home <= later) : (hole < home || home <= later);
      if (stays) continue;
      slots_[hole] = slots_[later];
      hole = later;
    }
    slots_[hole] = kEmptySlot;
  }

  // Advances the hand to the first entry other than `keep` not looked up since the hand last
  // passed it, clearing the bits it passes, and removes it. The hand stays on an evicted slot,
  // which the shift may have refilled with an entry it has not examined. REQUIRES: a live entry
  // other than `keep` (the second lap finds its bit clear).
  void evict_one(const Block* keep) {
    CAIRN_ASSERT(size_ >= 2);
    while (true) {
      hand_ &= slots_.size() - 1;  // the index may have grown or be new
      const uint64_t value = slots_[hand_];
      Block* candidate = value == kEmptySlot ? nullptr : block_of(value);
      if (candidate == nullptr || candidate == keep) {
        hand_++;
        continue;
      }
      if (candidate->referenced) {
        candidate->referenced = false;
        hand_++;
        continue;
      }
      erase_slot(hand_);
      return;
    }
  }

  const size_t capacity_bytes_;
  std::mutex mutex_;
  // All guarded by mutex_.
  Stats counters_;
  size_t usage_bytes_ = 0;
  SequenceNumber invalidated_through_ = 0;  // the newest write sequence invalidated here
  std::vector<uint64_t> slots_;             // size a power of two; kEmptySlot or a block
  size_t size_ = 0;                         // live entries
  size_t hand_ = 0;                         // the CLOCK hand: an index slot
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
