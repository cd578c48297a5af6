// The rows of the engine benchmark, written once against the Engine interface (engine.h). Each
// phase opens a fresh database in its own directory, runs its rows in order, records one figure
// per row for its engine in the Report, closes the database and deletes the directory.
//
//   fill_sequential:  fillseq
//   random:           fillrandom, overwrite, write amp, space amp, readrandom (+ p50/p99),
//                     seekrandom + scan, readwhilewriting
//   sync:             fillsync from 1 and from many threads (every write fsynced)
//   large_values:     per size: write, read, peak RSS growth
//
// Thread-safety: a phase runs on the calling thread and starts and joins its own workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine.h"
#include "report.h"

namespace cairn::bench {

// The writer threads of the second fillsync row.
constexpr int kSyncThreadsMany = 8;

struct LargeValueSpec {
  uint64_t size_bytes = 0;
  uint64_t count = 0;
};

struct BenchConfig {
  bool quick = false;
  uint64_t key_count = 0;
  size_t key_bytes = 16;
  size_t value_bytes = 100;
  // Entries per write in the fill rows; 1 writes with put(), more with write_batch().
  size_t batch_entries = 1;
  uint64_t read_count = 0;  // readrandom
  uint64_t seek_count = 0;  // seekrandom
  size_t scan_length = 100;
  std::chrono::milliseconds read_while_writing_duration{0};
  int reader_threads = 1;
  uint64_t writer_rate_per_s = 0;  // the one writer of readwhilewriting, paced
  // The engine's writing time in each fillsync row; the disk's own loop gets as much between.
  std::chrono::milliseconds sync_duration{0};
  // The size of the disk's own sequential write and read, measured before the large values.
  uint64_t disk_sequential_bytes = 0;
  std::vector<LargeValueSpec> large_values;
  uint64_t seed = 0;
  EngineOptions engine;
};

// Row names, shared by the phases and by whoever declares and reads the rows.
namespace rows {
inline constexpr std::string_view kFillSeq = "fillseq";
inline constexpr std::string_view kFillRandom = "fillrandom";
inline constexpr std::string_view kOverwrite = "overwrite";
inline constexpr std::string_view kReadRandom = "readrandom";
inline constexpr std::string_view kReadP50 = "readrandom p50";
inline constexpr std::string_view kReadP99 = "readrandom p99";
inline constexpr std::string_view kSeekRandom = "seekrandom + scan 100";
inline constexpr std::string_view kReadWhileWriting = "readwhilewriting";
inline constexpr std::string_view kFillSync1 = "fillsync 1 thread";
inline constexpr std::string_view kFillSyncMany = "fillsync 8 threads";
inline constexpr std::string_view kDiskFdatasync = "disk fdatasync/s amid fillsync 8 thr";
inline constexpr std::string_view kFillSyncManyPerDiskSync = "fillsync 8 threads / disk fdatasync";
inline constexpr std::string_view kDiskWrite = "disk seq write beside large values";
inline constexpr std::string_view kDiskRead = "disk seq read beside large values";
inline constexpr std::string_view kSpaceAmp = "space amp after overwrite";
inline constexpr std::string_view kWriteAmp = "write amp fillrandom+overwrite";
}  // namespace rows
// "4 MiB x 200 write", "... read", "... peak RSS growth".
std::string large_row(const LargeValueSpec& spec, std::string_view what);

// Declares every row in print order.
void declare_rows(const BenchConfig& config, Report& report);

// Where one engine's figures go: its column of the report.
struct Column {
  Report* report;
  size_t engine;
};

// The phases, in the order they run. Each runs for every engine before the next starts.
enum class Phase { kFillSequential, kRandom, kSync, kLargeValues };
inline constexpr Phase kPhases[] = {Phase::kFillSequential, Phase::kRandom, Phase::kSync,
                                    Phase::kLargeValues};
std::string_view phase_name(Phase phase);
// The rows `phase` records.
std::vector<std::string> phase_rows(Phase phase, const BenchConfig& config);

// Runs `phase` for `engine` in `directory` (which must not exist yet; the phase deletes what it
// creates there) and records its figures in `column`. On an error, records it for every row of
// the phase that has no figure and returns it. The sync and large-value phases first measure the
// disk itself in the same directory, so each engine is set against the disk as it was then (on
// a shared machine the disk's speed moves with its neighbours' load).
Status run_phase(Phase phase, Engine& engine, const BenchConfig& config,
                 const std::string& directory, Column column);

// The phases themselves (run_phase calls them). The rows of the sync and large-value phases are
// independent: a failed one records its error and the phase goes on with the next.
Status run_fill_sequential(Engine& engine, const BenchConfig& config, const std::string& directory,
                           Column column);
Status run_random(Engine& engine, const BenchConfig& config, const std::string& directory,
                  Column column);
Status run_sync(Engine& engine, const BenchConfig& config, const std::string& directory,
                Column column);
Status run_large_values(Engine& engine, const BenchConfig& config, const std::string& directory,
                        Column column);

}  // namespace cairn::bench
