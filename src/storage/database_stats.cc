#include "storage/database_stats.h"

#include <cstdio>

namespace cairn {

double DatabaseStats::write_amplification() const {
  if (user_bytes_written == 0) return 0;
  return static_cast<double>(wal_bytes_written + blob_bytes_written + flush_bytes_written +
                             compaction_bytes_written) /
         static_cast<double>(user_bytes_written);
}

double DatabaseStats::block_cache_hit_rate() const {
  const uint64_t lookups = block_cache_hits + block_cache_misses;
  return lookups == 0 ? 0 : static_cast<double>(block_cache_hits) / static_cast<double>(lookups);
}

std::string format_stats(const DatabaseStats& stats) {
  constexpr double kMiB = 1024.0 * 1024.0;
  std::string report;
  char line[256];
  std::snprintf(line, sizeof(line), "level  files  size_mib\n");
  report += line;
  for (int level = 0; level < kLevelCount; level++) {
    const DatabaseStats::Level& entry = stats.levels[level];
    if (entry.file_count == 0 && level > 1) continue;
    std::snprintf(line, sizeof(line), "L%-5d %5llu %9.2f\n", level,
                  static_cast<unsigned long long>(entry.file_count),
                  static_cast<double>(entry.size_bytes) / kMiB);
    report += line;
  }
  std::snprintf(line, sizeof(line),
                "written: user %.2f MiB, wal %.2f MiB, flush %.2f MiB (%llu flushes), "
                "compaction %.2f MiB; write amplification %.2f\n",
                static_cast<double>(stats.user_bytes_written) / kMiB,
                static_cast<double>(stats.wal_bytes_written) / kMiB,
                static_cast<double>(stats.flush_bytes_written) / kMiB,
                static_cast<unsigned long long>(stats.flush_count),
                static_cast<double>(stats.compaction_bytes_written) / kMiB,
                stats.write_amplification());
  report += line;
  std::snprintf(line, sizeof(line),
                "compaction: %llu runs, %llu trivial moves, %llu manual, %.2f MiB read, "
                "%llu entries dropped, %.3f s; stalls %.3f s\n",
                static_cast<unsigned long long>(stats.compaction_count),
                static_cast<unsigned long long>(stats.trivial_move_count),
                static_cast<unsigned long long>(stats.manual_compaction_count),
                static_cast<double>(stats.compaction_bytes_read) / kMiB,
                static_cast<unsigned long long>(stats.entries_dropped),
                static_cast<double>(stats.compaction_micros) / 1e6,
                static_cast<double>(stats.stall_micros) / 1e6);
  report += line;
  std::snprintf(line, sizeof(line),
                "blob files: %llu, %.2f MiB written, %.2f MiB garbage; gc: %llu tables "
                "rewritten, %.2f MiB relocated\n",
                static_cast<unsigned long long>(stats.blob_file_count),
                static_cast<double>(stats.blob_bytes_written) / kMiB,
                static_cast<double>(stats.blob_garbage_bytes) / kMiB,
                static_cast<unsigned long long>(stats.blob_gc_count),
                static_cast<double>(stats.blob_relocated_bytes) / kMiB);
  report += line;
  std::snprintf(line, sizeof(line), "block cache: %.2f / %.2f MiB, hit rate %.3f\n",
                static_cast<double>(stats.block_cache_usage_bytes) / kMiB,
                static_cast<double>(stats.block_cache_capacity_bytes) / kMiB,
                stats.block_cache_hit_rate());
  report += line;
  return report;
}

}  // namespace cairn
