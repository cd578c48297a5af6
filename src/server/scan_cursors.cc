#include "server/scan_cursors.h"

#include "model/engine_key.h"

namespace cairn {

std::string ScanCursors::resume_point(uint64_t cursor, bool* after) {
  {
    std::lock_guard lock(mutex_);
    const auto it = resume_keys_.find(cursor);
    if (it != resume_keys_.end()) {
      *after = true;
      return it->second;
    }
  }
  *after = false;
  return slot_start_key(static_cast<uint16_t>(cursor & ((uint64_t{1} << kSlotBits) - 1)));
}

uint64_t ScanCursors::remember(std::string_view engine_key, uint16_t slot) {
  std::lock_guard lock(mutex_);
  const uint64_t cursor = (next_sequence_++ << kSlotBits) | slot;
  resume_keys_.emplace(cursor, std::string(engine_key));
  order_.push_back(cursor);
  bytes_ += engine_key.size();
  while (order_.size() > kEntriesMax || bytes_ > kBytesMax) {
    const auto it = resume_keys_.find(order_.front());
    if (it != resume_keys_.end()) {
      bytes_ -= it->second.size();
      resume_keys_.erase(it);
    }
    order_.pop_front();
  }
  return cursor;
}

}  // namespace cairn
