// DatabaseStats: what the engine has done since it was opened, for INFO, benchmarks and tuning.
// A value type; Database::stats() returns a consistent copy.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "storage/version_edit.h"

namespace cairn {

struct DatabaseStats {
  struct Level {
    uint64_t file_count = 0;
    uint64_t size_bytes = 0;
  };

  // Bytes of keys and values in the write batches callers wrote (values moved to blob files
  // included).
  uint64_t user_bytes_written = 0;
  uint64_t wal_bytes_written = 0;
  // Bytes appended to blob files (records, abandoned ones included, and file headers).
  uint64_t blob_bytes_written = 0;
  // Blob files in the database: those found at open and those created since, less those deleted
  // once unreachable.
  uint64_t blob_file_count = 0;
  // Value bytes of the blob references compactions dropped since open: records left dead in
  // their blob files (counted once per dropped reference; not persisted yet).
  uint64_t blob_garbage_bytes = 0;
  // Blob garbage collection: tables rewritten to move their references out of mostly dead blob
  // files, and the value bytes copied to new blob records.
  uint64_t blob_gc_count = 0;
  uint64_t blob_relocated_bytes = 0;
  uint64_t flush_bytes_written = 0;
  uint64_t flush_count = 0;
  // Background sorts of the memtable's pending entries (sort-ahead, database_flush.cc).
  uint64_t memtable_sort_ahead_count = 0;
  uint64_t compaction_bytes_read = 0;
  uint64_t compaction_bytes_written = 0;
  uint64_t compaction_count = 0;
  uint64_t trivial_move_count = 0;  // files moved down a level without rewriting
  uint64_t manual_compaction_count = 0;  // compact_range calls that completed
  uint64_t compaction_micros = 0;
  uint64_t entries_dropped = 0;  // overwritten, deleted or filtered entries compaction removed
  // Time writers spent delayed or stopped by compaction debt.
  uint64_t stall_micros = 0;
  std::array<Level, kLevelCount> levels{};
  // Block cache (zero without one).
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  uint64_t block_cache_usage_bytes = 0;
  uint64_t block_cache_capacity_bytes = 0;
  // Row cache (zero without one).
  uint64_t row_cache_hits = 0;
  uint64_t row_cache_misses = 0;
  uint64_t row_cache_usage_bytes = 0;

  // Bytes written to disk (WAL, blob files, flushes, compactions) per byte the user wrote.
  double write_amplification() const;
  double block_cache_hit_rate() const;
};

// A multi-line human-readable report.
std::string format_stats(const DatabaseStats& stats);

}  // namespace cairn
