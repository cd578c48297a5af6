#include "storage/point_index.h"

#include <bit>

#include "common/assert.h"
#include "common/checksum.h"

namespace cairn {
namespace {

constexpr int kAddressBits = 48;
constexpr uint64_t kAddressMask = (uint64_t{1} << kAddressBits) - 1;

// The hash's top 16 bits, in the slot's tag position; the low bits pick the home slot.
uint64_t tag_of(uint64_t hash) { return hash & ~kAddressMask; }

const char* address_of(uint64_t slot_value) {
  return reinterpret_cast<const char*>(slot_value & kAddressMask);
}

}  // namespace

PointIndex::PointIndex(size_t slot_count_min, EntryUserKey entry_user_key,
                       EntryIsNewer entry_is_newer)
    : slot_count_(slot_count_min == 0 ? 0 : std::bit_ceil(slot_count_min)),
      slot_count_limit_(static_cast<size_t>(static_cast<double>(slot_count_) * kPointIndexLoadMax)),
      entry_user_key_(entry_user_key),
      entry_is_newer_(entry_is_newer),
      slots_(slot_count_ == 0 ? nullptr : new std::atomic<uint64_t>[slot_count_]) {
  CAIRN_ASSERT(entry_user_key_ != nullptr && entry_is_newer_ != nullptr);
  for (size_t i = 0; i < slot_count_; i++) slots_[i].store(0, std::memory_order_relaxed);
}

std::atomic<uint64_t>* PointIndex::probe(std::string_view user_key, uint64_t hash,
                                         uint64_t* value) const {
  if (slot_count_ == 0) return nullptr;
  const uint64_t tag = tag_of(hash);
  const size_t mask = slot_count_ - 1;
  // The load limit keeps empty slots, so a probe ends well before it wraps around; the bound
  // only guards the invariant.
  for (size_t i = 0, slot = hash & mask; i < slot_count_; i++, slot = (slot + 1) & mask) {
    *value = slots_[slot].load(std::memory_order_acquire);
    if (*value == 0) return &slots_[slot];
    if ((*value & ~kAddressMask) == tag && entry_user_key_(address_of(*value)) == user_key) {
      return &slots_[slot];
    }
  }
  return nullptr;
}

bool PointIndex::put(std::string_view user_key, const char* entry) {
  const uint64_t address = reinterpret_cast<uint64_t>(entry);
  CAIRN_ASSERT(address != 0);
  if ((address & ~kAddressMask) != 0) return false;  // cannot be tagged: left to the sorted runs
  const uint64_t hash = hash64(user_key);
  uint64_t value = 0;
  std::atomic<uint64_t>* const slot = probe(user_key, hash, &value);
  if (slot == nullptr) return false;
  if (value == 0) {
    if (at_load_limit()) return false;
    used_slot_count_.fetch_add(1, std::memory_order_relaxed);
  } else if (!entry_is_newer_(entry, address_of(value))) {
    return true;  // it already points at a newer version
  }
  slot->store(tag_of(hash) | address, std::memory_order_release);
  return true;
}

void PointIndex::prefetch(const PrefetchTarget& target, std::string_view user_key) {
  if (target.slots != nullptr) __builtin_prefetch(target.slots + (hash64(user_key) & target.mask));
}

const char* PointIndex::find(std::string_view user_key) const {
  // The value read while probing: the slot may since have been claimed by another key, but a
  // slot that held user_key holds it for good.
  uint64_t value = 0;
  if (probe(user_key, hash64(user_key), &value) == nullptr) return nullptr;
  return value == 0 ? nullptr : address_of(value);
}

}  // namespace cairn
