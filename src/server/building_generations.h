// The generations of collections being built in batches of their own (CollectionBuilder:
// RENAME, COPY, SUNIONSTORE and the like), whose elements reach the engine before the record that
// makes them reachable. The compaction filter keeps the elements of these generations, which
// would otherwise look like those of a deleted collection (keyspace_internal.h).
//
// A build holds its generation from its start until the last copy of the collection it built is
// gone, which a command keeps until its record is committed: from then on the record names the
// generation. A build given up without a record releases it the same way, and compaction drops
// its elements.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace cairn {

class BuildingGenerations {
 public:
  // Releases its generation when the last copy goes. REQUIRES: the BuildingGenerations outlives
  // it.
  using Hold = std::shared_ptr<const void>;

  // REQUIRES: `generation` is not held, and no element of it is in the engine yet.
  Hold hold(uint64_t generation);
  bool contains(uint64_t generation) const;

 private:
  void release(uint64_t generation);

  mutable std::mutex mutex_;
  std::unordered_set<uint64_t> generations_;
  // Generations held: the filter skips the lock while there are none, as almost always.
  std::atomic<size_t> count_{0};
};

}  // namespace cairn
