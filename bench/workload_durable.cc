// The phases of the engine benchmark that measure against the disk itself (workload.h): fillsync
// (every write fsynced) and large values (bandwidth and peak memory).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "bench_support.h"
#include "system_probe.h"
#include "workload.h"

namespace cairn::bench {
namespace {

// fillsync thread t writes keys t * kSyncKeysPerThread + i, so threads never share a key.
constexpr uint64_t kSyncKeysPerThread = 1'000'000'000;
constexpr double kBytesPerMiB = 1024.0 * 1024.0;
// A fillsync row alternates this many slices of the engine with slices of the disk's own loop.
constexpr int kSyncSliceCount = 10;
// Disk slices whose rates differ by more than this factor get a note under the table.
constexpr double kDiskDriftMax = 2.0;

// `threads` writers each put small values with fsync per write until `duration` has passed,
// continuing their key sequences from next_index[thread]; returns the writes done.
Result<uint64_t> fill_sync_slice(Engine& engine, const BenchConfig& config,
                                 const ValueSource& values, std::chrono::nanoseconds duration,
                                 std::vector<uint64_t>& next_index) {
  std::atomic<uint64_t> writes{0};
  std::mutex error_mutex;
  Status first_error;
  const auto deadline = SteadyClock::now() + duration;
  auto writer = [&](size_t thread) {
    KeyBuffer key(config.key_bytes);
    uint64_t& i = next_index[thread];
    uint64_t done = 0;
    for (; i < kSyncKeysPerThread && SteadyClock::now() < deadline; i++) {
      const uint64_t index = thread * kSyncKeysPerThread + i;
      const Status status = engine.put(key.at(index), values.small(index, config.value_bytes));
      if (!status.is_ok()) {
        std::lock_guard<std::mutex> guard(error_mutex);
        if (first_error.is_ok()) first_error = status;
        break;
      }
      done++;
    }
    writes += done;
  };
  std::vector<std::thread> workers;
  for (size_t thread = 0; thread < next_index.size(); thread++) {
    workers.emplace_back(writer, thread);
  }
  for (std::thread& worker : workers) worker.join();
  CAIRN_RETURN_IF_ERROR(first_error);
  return writes.load();
}

struct SyncFigures {
  double writes_per_s = 0;
  double disk_fdatasync_per_s = 0;
  double disk_slice_min_per_s = 0;  // the slowest and fastest slice of the disk's own loop
  double disk_slice_max_per_s = 0;
};

// One fillsync row: kSyncSliceCount slices of the engine's writers, each followed by a slice of
// the disk's own fdatasync loop in the same file system, so the two rates are measured under the
// same conditions even when the machine's other load changes the disk's speed meanwhile.
Result<SyncFigures> sync_row(Engine& engine, const BenchConfig& config,
                             const std::string& directory, int threads) {
  const ValueSource values(config.seed);
  EngineOptions options = config.engine;
  options.sync_every_write = true;
  Session session(engine, directory);
  CAIRN_RETURN_IF_ERROR(session.open(options));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FdatasyncProbe> probe,
                         FdatasyncProbe::create(directory + "/disk-probe"));
  const auto slice = config.sync_duration / kSyncSliceCount;
  std::vector<uint64_t> next_index(static_cast<size_t>(threads), 0);
  uint64_t writes = 0;
  uint64_t syncs = 0;
  double engine_seconds = 0;
  double disk_seconds = 0;
  SyncFigures figures;
  for (int i = 0; i < kSyncSliceCount; i++) {
    auto start = SteadyClock::now();
    CAIRN_ASSIGN_OR_RETURN(const uint64_t slice_writes,
                           fill_sync_slice(engine, config, values, slice, next_index));
    writes += slice_writes;
    engine_seconds += seconds_since(start);
    start = SteadyClock::now();
    CAIRN_ASSIGN_OR_RETURN(const uint64_t slice_syncs, probe->run_for(slice));
    const double slice_seconds = seconds_since(start);
    syncs += slice_syncs;
    disk_seconds += slice_seconds;
    const double slice_rate = static_cast<double>(slice_syncs) / slice_seconds;
    figures.disk_slice_min_per_s =
        i == 0 ? slice_rate : std::min(figures.disk_slice_min_per_s, slice_rate);
    figures.disk_slice_max_per_s = std::max(figures.disk_slice_max_per_s, slice_rate);
  }
  probe.reset();
  CAIRN_RETURN_IF_ERROR(session.close());
  figures.writes_per_s = static_cast<double>(writes) / engine_seconds;
  figures.disk_fdatasync_per_s = static_cast<double>(syncs) / disk_seconds;
  return figures;
}

// Checks the bytes of large value `number` as get_large() hands them over.
class LargeValueChecker {
 public:
  LargeValueChecker(const ValueSource& values, uint64_t number)
      : values_(values), number_(number), expected_(kLargeValueChunkBytes) {}

  Status check(std::string_view chunk) {
    while (!chunk.empty()) {
      const size_t length = std::min(chunk.size(), expected_.size());
      values_.large_chunk(number_, offset_, std::span<char>(expected_.data(), length));
      if (std::memcmp(chunk.data(), expected_.data(), length) != 0) {
        return Status::corruption("large value " + std::to_string(number_) +
                                  " differs near offset " + std::to_string(offset_));
      }
      offset_ += length;
      chunk.remove_prefix(length);
    }
    return Status::ok();
  }
  uint64_t bytes_checked() const { return offset_; }

 private:
  const ValueSource& values_;
  const uint64_t number_;
  std::vector<char> expected_;
  uint64_t offset_ = 0;
};

struct LargeFigures {
  double write_mb_per_s = 0;
  double read_mb_per_s = 0;
  double peak_rss_growth_mib = 0;
};

// Writes spec.count values (timed until they are durable and the engine has settled), drops the
// database's files from the page cache, reads them all back and checks every byte.
Result<LargeFigures> large_values(Engine& engine, const BenchConfig& config,
                                  const LargeValueSpec& spec, const std::string& directory) {
  const ValueSource values(config.seed);
  KeyBuffer key(config.key_bytes);
  Session session(engine, directory);
  CAIRN_RETURN_IF_ERROR(session.open(config.engine));
  const double total_mb =
      static_cast<double>(spec.size_bytes) * static_cast<double>(spec.count) / 1e6;
  LargeFigures figures;

  CAIRN_ASSIGN_OR_RETURN(const uint64_t rss_before_write, reset_peak_rss());
  auto start = SteadyClock::now();
  for (uint64_t number = 0; number < spec.count; number++) {
    const ChunkSource source = [&](uint64_t offset, std::span<char> out) {
      values.large_chunk(number, offset, out);
    };
    CAIRN_RETURN_IF_ERROR(engine.put_large(key.at(number), spec.size_bytes, source));
  }
  CAIRN_RETURN_IF_ERROR(engine.sync());
  CAIRN_RETURN_IF_ERROR(engine.settle());
  figures.write_mb_per_s = total_mb / seconds_since(start);
  CAIRN_ASSIGN_OR_RETURN(const uint64_t peak_write, peak_rss_bytes());

  CAIRN_RETURN_IF_ERROR(drop_page_cache(directory));
  CAIRN_ASSIGN_OR_RETURN(const uint64_t rss_before_read, reset_peak_rss());
  start = SteadyClock::now();
  for (uint64_t number = 0; number < spec.count; number++) {
    LargeValueChecker checker(values, number);
    CAIRN_RETURN_IF_ERROR(engine.get_large(
        key.at(number), [&](std::string_view chunk) { return checker.check(chunk); }));
    if (checker.bytes_checked() != spec.size_bytes) {
      return Status::corruption("large value " + std::to_string(number) + " has " +
                                std::to_string(checker.bytes_checked()) + " bytes");
    }
  }
  figures.read_mb_per_s = total_mb / seconds_since(start);
  CAIRN_ASSIGN_OR_RETURN(const uint64_t peak_read, peak_rss_bytes());
  CAIRN_RETURN_IF_ERROR(session.close());

  const uint64_t growth =
      std::max(peak_write > rss_before_write ? peak_write - rss_before_write : 0,
               peak_read > rss_before_read ? peak_read - rss_before_read : 0);
  figures.peak_rss_growth_mib = static_cast<double>(growth) / kBytesPerMiB;
  return figures;
}

}  // namespace

Status run_sync(Engine& engine, const BenchConfig& config, const std::string& directory,
                Column column) {
  Status first_error;
  const Result<SyncFigures> one = sync_row(engine, config, directory + "-1", 1);
  if (one.is_ok()) {
    column.report->set(rows::kFillSync1, column.engine, one->writes_per_s);
  } else {
    column.report->set_error(rows::kFillSync1, column.engine, one.status().to_string());
    first_error = one.status();
  }
  const Result<SyncFigures> many = sync_row(
      engine, config, directory + "-" + std::to_string(kSyncThreadsMany), kSyncThreadsMany);
  if (!many.is_ok()) return first_error.is_ok() ? many.status() : first_error;
  column.report->set(rows::kFillSyncMany, column.engine, many->writes_per_s);
  column.report->set(rows::kDiskFdatasync, column.engine, many->disk_fdatasync_per_s);
  column.report->set(rows::kFillSyncManyPerDiskSync, column.engine,
                     many->writes_per_s / many->disk_fdatasync_per_s);
  if (many->disk_slice_max_per_s > kDiskDriftMax * many->disk_slice_min_per_s) {
    column.report->add_note(
        column.engine, "the disk's own fdatasync/s ranged from " +
                           format_figure(many->disk_slice_min_per_s) + " to " +
                           format_figure(many->disk_slice_max_per_s) + " across the slices of " +
                           std::string(rows::kFillSyncMany) +
                           " (other load on the machine): its writes/s is noisy, its ratio to "
                           "the disk less so");
  }
  return first_error;
}

Status run_large_values(Engine& engine, const BenchConfig& config, const std::string& directory,
                        Column column) {
  Status first_error;
  const std::string disk_directory = directory + "-disk";
  std::error_code error;
  if (std::filesystem::create_directory(disk_directory, error)) {
    const Result<SequentialBandwidth> disk =
        measure_sequential_bandwidth(disk_directory, config.disk_sequential_bytes);
    std::filesystem::remove_all(disk_directory, error);
    if (disk.is_ok()) {
      column.report->set(rows::kDiskWrite, column.engine, disk->write_mb_per_s);
      column.report->set(rows::kDiskRead, column.engine, disk->read_mb_per_s);
    } else {
      first_error = disk.status();
    }
  } else {
    first_error = Status::io_error("cannot create " + disk_directory);
  }
  for (size_t i = 0; i < config.large_values.size(); i++) {
    const LargeValueSpec& spec = config.large_values[i];
    Result<LargeFigures> figures =
        large_values(engine, config, spec, directory + "-" + std::to_string(i));
    if (!figures.is_ok()) {
      for (const char* what : {"write", "read", "peak RSS growth"}) {
        column.report->set_error(large_row(spec, what), column.engine,
                                 figures.status().to_string());
      }
      if (first_error.is_ok()) first_error = figures.status();
      continue;
    }
    column.report->set(large_row(spec, "write"), column.engine, figures->write_mb_per_s);
    column.report->set(large_row(spec, "read"), column.engine, figures->read_mb_per_s);
    column.report->set(large_row(spec, "peak RSS growth"), column.engine,
                       figures->peak_rss_growth_mib);
  }
  return first_error;
}

}  // namespace cairn::bench
