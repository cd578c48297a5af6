#include "storage/row_cache.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>

#include "common/assert.h"
#include "common/checksum.h"
#include "storage/cache_slab.h"
#include "storage/probed_slots.h"

namespace cairn {
namespace {

constexpr uint64_t kRowCacheHashSeed = 0x20e5'cace'0000'0001;

}  // namespace

// Each entry is one heap block, [Block header][key][value], and the shard's index (ProbedSlots)
// holds a pointer to it beside 15 bits of its hash: a hit reads one index slot and one block (the
// header, key and value are contiguous), two cache misses where a slab entry between them made
// three. The CLOCK hand walks the index slots; an entry's reference bit lives in its slot.
class RowCache::Shard {
 public:
  explicit Shard(size_t capacity_bytes)
      : capacity_bytes_(capacity_bytes), slots_(kEmptySlot, BlockHashOf()) {
    publish_slot_array();
  }

  ~Shard() {
    slots_.for_each([](uint64_t slot) { free_block(block_of(slot)); });
  }

  Answer lookup(std::string_view key, uint64_t hash, SequenceNumber read_sequence,
                std::string* value) {
    std::lock_guard lock(mutex_);
    const size_t position = find(key, hash);
    const uint64_t slot = slots_.at(position);
    const Block* block = slot == kEmptySlot ? nullptr : block_of(slot);
    if (block == nullptr || block->valid_from > read_sequence) {
      counters_.misses++;
      return Answer::kMiss;
    }
    if ((slot & kReferencedBit) == 0) {
      slots_.update_flags_at(position, slot | kReferencedBit, kReferencedBit);
    }
    counters_.hits++;
    if (block->is_absent()) return Answer::kAbsent;
    value->assign(block->value());
    return Answer::kValue;
  }

  // prefetch()'s first stage: the home slot of `hash`. Without the mutex: a locked instruction
  // after each prefetch made the prefetches wait for one another (measured: the unlock held 88%
  // of prefetch's time), and a stale array address only sends the prefetch astray (it never
  // faults).
  void prefetch_slot(uint64_t hash) const {
    const uintptr_t array = slot_array_address_.load(std::memory_order_relaxed);
    const size_t mask = slot_array_mask_.load(std::memory_order_relaxed);
    __builtin_prefetch(reinterpret_cast<const void*>(array + (hash & mask) * sizeof(uint64_t)));
  }

  // prefetch()'s second stage: the block of the first slot in `hash`'s probe run whose tag
  // matches (most likely the key's), looking at a few slots at most.
  void prefetch_block(uint64_t hash) {
    constexpr size_t kSlotsProbedMax = 4;
    const uint64_t tag = tag_of(hash);
    std::lock_guard lock(mutex_);
    const size_t position = slots_.find_bounded(
        hash, kSlotsProbedMax, [&](uint64_t slot) { return slot_tag(slot) == tag; });
    if (position < slots_.slot_count() && !slots_.is_empty(position)) {
      __builtin_prefetch(block_of(slots_.at(position)));
    }
  }

  // `value` nullopt: the key is absent.
  void insert(std::string_view key, uint64_t hash, std::optional<std::string_view> value,
              SequenceNumber read_sequence) {
    const size_t charge_bytes = key.size() + value.value_or("").size() + kEntryOverheadBytes;
    std::lock_guard lock(mutex_);
    if (read_sequence < invalidated_through_) {
      counters_.refused_inserts++;
      return;
    }
    if (charge_bytes > capacity_bytes_) return;
    const size_t existing = find(key, hash);
    if (!slots_.is_empty(existing)) remove(existing);
    Block* added = new_block(key, value, hash, read_sequence);
    slots_.insert(hash, slot_value(added, hash));
    publish_slot_array();  // the insert may have grown it
    usage_bytes_ += charge_bytes;
    counters_.inserts++;
    while (usage_bytes_ > capacity_bytes_) evict_one(added);
  }

  void refresh(std::string_view key, uint64_t hash, std::string_view value,
               SequenceNumber write_sequence) {
    const size_t charge_bytes = key.size() + value.size() + kEntryOverheadBytes;
    std::lock_guard lock(mutex_);
    invalidated_through_ = std::max(invalidated_through_, write_sequence);
    const size_t position = find(key, hash);
    if (slots_.is_empty(position)) return;
    Block* old = block_of(slots_.at(position));
    if (value.size() > kValueBytesMax || charge_bytes > capacity_bytes_) {
      remove(position);
      return;
    }
    counters_.refreshes++;
    if (!old->is_absent() && old->value_bytes == value.size()) {  // a counter's usual case
      std::memcpy(old->mutable_value(), value.data(), value.size());
      old->valid_from = write_sequence;
      return;
    }
    Block* updated = new_block(key, value, hash, write_sequence);
    usage_bytes_ = usage_bytes_ - old->charge_bytes() + charge_bytes;
    slots_.replace_at(position,
                      slot_value(updated, hash) | (slots_.at(position) & kReferencedBit));
    free_block(old);
    while (usage_bytes_ > capacity_bytes_) evict_one(updated);
  }

  void invalidate(std::string_view key, uint64_t hash, SequenceNumber write_sequence) {
    std::lock_guard lock(mutex_);
    invalidated_through_ = std::max(invalidated_through_, write_sequence);
    const size_t position = find(key, hash);
    if (!slots_.is_empty(position)) remove(position);
  }

  void add_stats(Stats* stats) {
    std::lock_guard lock(mutex_);
    stats->hits += counters_.hits;
    stats->misses += counters_.misses;
    stats->inserts += counters_.inserts;
    stats->refused_inserts += counters_.refused_inserts;
    stats->refreshes += counters_.refreshes;
    stats->usage_bytes += usage_bytes_;
  }

 private:
  // The header of an entry's heap block; the key and then the value follow it.
  struct Block {
    // value_bytes of an entry saying the key has no value (no value bytes follow the key).
    static constexpr uint32_t kAbsent = UINT32_MAX;
    static_assert(kValueBytesMax < kAbsent);

    uint64_t hash;
    SequenceNumber valid_from;  // lookups at older sequences miss: the value may be newer
    uint32_t key_bytes;
    uint32_t value_bytes;  // or kAbsent

    bool is_absent() const { return value_bytes == kAbsent; }
    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return {bytes(), key_bytes}; }
    // REQUIRES: !is_absent().
    std::string_view value() const { return {bytes() + key_bytes, value_bytes}; }
    char* mutable_value() { return reinterpret_cast<char*>(this + 1) + key_bytes; }
    size_t charge_bytes() const {
      return key_bytes + (is_absent() ? 0 : value_bytes) + kEntryOverheadBytes;
    }
  };

  static constexpr uint64_t kEmptySlot = 0;  // no block lives at address 0
  static constexpr int kPointerBits = 48;    // x86-64 and AArch64 user addresses fit
  static constexpr uint64_t kPointerMask = (uint64_t{1} << kPointerBits) - 1;
  static constexpr int kTagBits = 15;
  static constexpr uint64_t kTagMask = (uint64_t{1} << kTagBits) - 1;
  static constexpr uint64_t kReferencedBit = uint64_t{1} << 63;
  static_assert(kPointerBits + kTagBits + 1 == 64, "a slot is pointer, tag and reference bit");

  // A slot holds the block's address in its low 48 bits, 15 bits of the hash (not the bits that
  // pick the shard or the home slot) above them, so most probes past other keys read no block,
  // and in its top bit the CLOCK reference bit: set by a hit since the hand last passed. The bit
  // lives in the slot, not the block, so the hand sweeps the slot array without a cache miss per
  // entry it passes (measured: with the cache full of hot entries, checking a bit in each block
  // was half of insert's time).
  static uint64_t tag_of(uint64_t hash) { return (hash >> 32) & kTagMask; }
  static uint64_t slot_tag(uint64_t slot) { return (slot >> kPointerBits) & kTagMask; }
  static uint64_t slot_value(const Block* block, uint64_t hash) {
    const auto address = reinterpret_cast<uintptr_t>(block);
    CAIRN_ASSERT(address != 0 && (address & ~kPointerMask) == 0);
    return (tag_of(hash) << kPointerBits) | address;
  }
  static Block* block_of(uint64_t slot) {
    return reinterpret_cast<Block*>(static_cast<uintptr_t>(slot & kPointerMask));
  }
  struct BlockHashOf {
    uint64_t operator()(uint64_t slot) const { return block_of(slot)->hash; }
  };

  // `value` nullopt: an entry saying the key is absent.
  static Block* new_block(std::string_view key, std::optional<std::string_view> value,
                          uint64_t hash, SequenceNumber valid_from) {
    const size_t value_bytes = value.value_or("").size();
    void* memory = ::operator new(sizeof(Block) + key.size() + value_bytes);
    auto* block = new (memory)
        Block{hash, valid_from, static_cast<uint32_t>(key.size()),
              value.has_value() ? static_cast<uint32_t>(value_bytes) : Block::kAbsent};
    char* bytes = reinterpret_cast<char*>(block + 1);
    std::memcpy(bytes, key.data(), key.size());
    if (value_bytes != 0) std::memcpy(bytes + key.size(), value->data(), value_bytes);
    return block;
  }
  static void free_block(Block* block) {
    block->~Block();
    ::operator delete(block);
  }

  // The position of `key`'s slot, or of the empty slot where its probe ends.
  size_t find(std::string_view key, uint64_t hash) const {
    const uint64_t tag = tag_of(hash);
    return slots_.find(hash, [&](uint64_t slot) {
      if (slot_tag(slot) != tag) return false;
      const Block* block = block_of(slot);
      return block->hash == hash && block->key() == key;
    });
  }

  // Tells prefetch_slot where the slot array is now. REQUIRES: mutex_ held, or the constructor.
  void publish_slot_array() {
    slot_array_address_.store(reinterpret_cast<uintptr_t>(slots_.slot_data()),
                              std::memory_order_relaxed);
    slot_array_mask_.store(slots_.slot_count() - 1, std::memory_order_relaxed);
  }

  // Frees the entry at `position` and empties its slot (which a later slot may move into).
  void remove(size_t position) {
    Block* removed = block_of(slots_.at(position));
    CAIRN_ASSERT(usage_bytes_ >= removed->charge_bytes());
    usage_bytes_ -= removed->charge_bytes();
    slots_.erase_at(position);  // reads the hashes of later blocks, so before the free
    free_block(removed);
  }

  // Advances the hand to the first entry other than `keep` not looked up since the hand last
  // passed it, clearing the bits it passes, and removes it. The hand stays on an evicted slot,
  // which the shift may have refilled with an entry it has not examined. REQUIRES: a live entry
  // other than `keep` (the second lap finds its bit clear).
  void evict_one(const Block* keep) {
    CAIRN_ASSERT(slots_.size() >= 2);
    while (true) {
      hand_ &= slots_.slot_count() - 1;  // the table may have grown since
      const uint64_t slot = slots_.at(hand_);
      if (slot == kEmptySlot || block_of(slot) == keep) {
        hand_++;
        continue;
      }
      if ((slot & kReferencedBit) != 0) {
        slots_.update_flags_at(hand_, slot & ~kReferencedBit, kReferencedBit);
        hand_++;
        continue;
      }
      remove(hand_);
      return;
    }
  }

  const size_t capacity_bytes_;
  std::mutex mutex_;
  // All guarded by mutex_.
  Stats counters_;
  size_t usage_bytes_ = 0;
  SequenceNumber invalidated_through_ = 0;  // the newest write sequence seen here
  ProbedSlots<BlockHashOf> slots_;          // kEmptySlot, or a block's address and tag
  size_t hand_ = 0;                         // the CLOCK hand: a slot position
  // slots_'s array and slot count - 1, for prefetch_slot, which reads them without the mutex.
  std::atomic<uintptr_t> slot_array_address_{0};
  std::atomic<size_t> slot_array_mask_{0};
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

RowCache::Answer RowCache::lookup(std::string_view user_key, SequenceNumber read_sequence,
                                  std::string* value) {
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  return shard_for(hash).lookup(user_key, hash, read_sequence, value);
}

void RowCache::prefetch(std::span<const std::string_view> user_keys) {
  // Each stage issues all its loads before the next stage waits on any: the second reads the
  // slots the first asked for.
  constexpr size_t kKeysPerRound = 16;
  std::array<uint64_t, kKeysPerRound> hashes;
  for (size_t begin = 0; begin < user_keys.size(); begin += kKeysPerRound) {
    const size_t count = std::min(kKeysPerRound, user_keys.size() - begin);
    for (size_t i = 0; i < count; i++) {
      hashes[i] = hash64(user_keys[begin + i], kRowCacheHashSeed);
      shard_for(hashes[i]).prefetch_slot(hashes[i]);
    }
    for (size_t i = 0; i < count; i++) shard_for(hashes[i]).prefetch_block(hashes[i]);
  }
}

void RowCache::insert(std::string_view user_key, std::string_view value,
                      SequenceNumber read_sequence) {
  if (value.size() > kValueBytesMax) return;
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  shard_for(hash).insert(user_key, hash, value, read_sequence);
}

void RowCache::insert_absent(std::string_view user_key, SequenceNumber read_sequence) {
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  shard_for(hash).insert(user_key, hash, std::nullopt, read_sequence);
}

void RowCache::refresh(std::string_view user_key, std::string_view value,
                       SequenceNumber write_sequence) {
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  shard_for(hash).refresh(user_key, hash, value, write_sequence);
}

void RowCache::invalidate(std::string_view user_key, SequenceNumber write_sequence) {
  const uint64_t hash = hash64(user_key, kRowCacheHashSeed);
  shard_for(hash).invalidate(user_key, hash, write_sequence);
}

void RowCache::GroupUpdate::refresh(std::string_view user_key, std::string_view value) {
  add({user_key, value, hash64(user_key, kRowCacheHashSeed), false});
}

void RowCache::GroupUpdate::invalidate(std::string_view user_key) {
  add({user_key, {}, hash64(user_key, kRowCacheHashSeed), true});
}

void RowCache::GroupUpdate::add(const Operation& operation) {
  if (size_ == kLookahead) {
    apply_one(ring_[first_]);
    first_ = (first_ + 1) % kLookahead;
    size_--;
  }
  cache_.shard_for(operation.hash).prefetch_slot(operation.hash);
  ring_[(first_ + size_) % kLookahead] = operation;
  size_++;
}

void RowCache::GroupUpdate::apply() {
  for (; size_ > 0; size_--) {
    apply_one(ring_[first_]);
    first_ = (first_ + 1) % kLookahead;
  }
}

void RowCache::GroupUpdate::apply_one(const Operation& operation) {
  Shard& shard = cache_.shard_for(operation.hash);
  if (operation.invalidate) {
    shard.invalidate(operation.key, operation.hash, write_sequence_);
  } else {
    shard.refresh(operation.key, operation.hash, operation.value, write_sequence_);
  }
}

RowCache::Stats RowCache::stats() const {
  Stats stats;
  for (const auto& shard : shards_) shard->add_stats(&stats);
  stats.capacity_bytes = capacity_bytes_;
  return stats;
}

}  // namespace cairn
