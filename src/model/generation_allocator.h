// GenerationAllocator: hands out collection generations (collection_meta.h), numbers that are
// never handed out twice by one database, across restarts and crashes. A collection's elements
// are keyed by (user key, generation); a key deleted and created again must get another
// generation, or the old elements, which compaction removes only eventually, would reappear.
//
// Numbers are reserved in blocks: a record [0xFF]['G'] holds a limit L (u64 little-endian), and
// every number handed out is below the limit on disk. Opening starts at L (the numbers below it
// may have been used); reaching L writes L + kBlockSize first. That write enters the WAL before
// any batch that uses a number from the new block, and the WAL recovers a prefix of its batches,
// so a recovered batch's generation is always below the recovered limit. A restart skips at most
// one block of numbers.
//
// Thread-safety: next() may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "storage/database.h"

namespace cairn {

class GenerationAllocator {
 public:
  static constexpr uint64_t kBlockSize = uint64_t{1} << 20;

  // Reads the limit (Corruption if its record is malformed). REQUIRES: `db` outlives it.
  static Result<std::unique_ptr<GenerationAllocator>> open(Database& db);

  // A number never returned before by this database (the first is 1).
  Result<uint64_t> next();

  // The limit record's engine key: [0xFF]['G'], outside the data range and the expiry index.
  static std::string record_key();

 private:
  GenerationAllocator(Database& db, uint64_t limit) : db_(db), next_(limit), limit_(limit) {}

  Database& db_;
  std::mutex mutex_;
  uint64_t next_;   // guarded by mutex_
  uint64_t limit_;  // guarded by mutex_; the limit on disk
};

}  // namespace cairn
