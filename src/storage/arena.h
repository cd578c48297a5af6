// Arena: a bump allocator for the memtable. Memory comes in blocks and is released only when the
// arena is destroyed, all at once; nothing allocated from it is ever freed or destroyed singly.
//
// Thread-safety: allocate() by one thread at a time (the memtable's single
// writer); memory_usage_bytes() from any thread (an atomic). Memory handed out stays valid and
// unmoved until the arena is destroyed, so concurrent readers may hold pointers into it.
// Invariants: the current block's unused tail is [next_, next_ + remaining_bytes_);
// memory_usage_bytes() counts every block allocated plus its bookkeeping.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace cairn {

constexpr size_t kArenaBlockBytes = 4096;
// Requests above this get a block of their own, so a large request never wastes more than a
// quarter of a block's tail.
constexpr size_t kArenaOwnBlockBytesMin = kArenaBlockBytes / 4;

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` bytes with no alignment guarantee. REQUIRES: bytes > 0.
  char* allocate(size_t bytes);

  size_t memory_usage_bytes() const { return memory_usage_bytes_.load(std::memory_order_relaxed); }

 private:
  // Serves a request the current block cannot.
  char* allocate_fallback(size_t bytes);
  char* allocate_block(size_t block_bytes);

  char* next_ = nullptr;
  size_t remaining_bytes_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_bytes_{0};
};

}  // namespace cairn
