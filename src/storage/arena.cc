#include "storage/arena.h"

#include "common/assert.h"

namespace cairn {

char* Arena::allocate(size_t bytes) {
  CAIRN_ASSERT(bytes > 0);
  if (bytes <= remaining_bytes_) {
    char* result = next_;
    next_ += bytes;
    remaining_bytes_ -= bytes;
    return result;
  }
  return allocate_fallback(bytes);
}

char* Arena::allocate_fallback(size_t bytes) {
  if (bytes > kArenaOwnBlockBytesMin) return allocate_block(bytes);
  // The current block's tail is abandoned: at most kArenaOwnBlockBytesMin bytes of it.
  next_ = allocate_block(kArenaBlockBytes);
  remaining_bytes_ = kArenaBlockBytes;
  char* result = next_;
  next_ += bytes;
  remaining_bytes_ -= bytes;
  return result;
}

char* Arena::allocate_block(size_t block_bytes) {
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(block_bytes));
  memory_usage_bytes_.fetch_add(block_bytes + sizeof(blocks_.back()), std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace cairn
