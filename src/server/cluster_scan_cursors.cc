#include "server/cluster_scan_cursors.h"

#include "common/assert.h"

namespace cairn {

// splitmix64: consecutive states give unrelated tokens, and a different seed another sequence.
uint64_t ClusterScanCursors::next_token() {
  while (true) {
    next_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = next_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    const uint64_t token = (z ^ (z >> 31)) & kTokenMask;
    if (token != 0 && !entries_.contains(token)) return token;
  }
}

uint64_t ClusterScanCursors::remember(const ScanPosition& position) {
  CAIRN_ASSERT(position.slot < kSlotCount);
  if (!position.after.has_value()) return encode(position.slot, 0);
  std::lock_guard lock(mutex_);
  const uint64_t token = next_token();
  entries_.emplace(token, Entry{position.slot, *position.after});
  order_.push_back(token);
  bytes_ += position.after->size();
  while (order_.size() > kEntriesMax || bytes_ > kBytesMax) {
    const auto oldest = entries_.find(order_.front());
    bytes_ -= oldest->second.key.size();
    entries_.erase(oldest);
    order_.pop_front();
  }
  return encode(position.slot, token);
}

std::optional<ScanPosition> ClusterScanCursors::resume(uint64_t cursor) {
  const uint64_t slot = slot_of(cursor);
  if (slot >= kSlotCount) return std::nullopt;
  ScanPosition position{static_cast<uint16_t>(slot), std::nullopt};
  const uint64_t token = token_of(cursor);
  if (token == 0) return position;
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(token);
  // An unknown token, or one of another slot (a cursor from another node that happens to share
  // it): the slot's start, so that no key is skipped.
  if (it != entries_.end() && it->second.slot == slot) position.after = it->second.key;
  return position;
}

}  // namespace cairn
