#include "server/building_generations.h"

#include "common/assert.h"

namespace cairn {

BuildingGenerations::Hold BuildingGenerations::hold(uint64_t generation) {
  {
    std::lock_guard lock(mutex_);
    const bool inserted = generations_.insert(generation).second;
    CAIRN_ASSERT(inserted);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  // The deleter does the work; the pointer itself is never read.
  return Hold(this, [this, generation](const void*) { release(generation); });
}

bool BuildingGenerations::contains(uint64_t generation) const {
  if (count_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard lock(mutex_);
  return generations_.contains(generation);
}

void BuildingGenerations::release(uint64_t generation) {
  std::lock_guard lock(mutex_);
  const size_t erased = generations_.erase(generation);
  CAIRN_ASSERT(erased == 1);
  count_.fetch_sub(1, std::memory_order_release);
}

}  // namespace cairn
