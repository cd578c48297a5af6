// What the engine benchmark measures outside the engines: the process's disk writes and peak
// memory (Linux /proc), the size of a database directory, the page cache, the machine, and the
// disk's own baselines (fdatasync/s, sequential write and read bandwidth) in the same directory.
//
// Thread-safety: the counters are process-wide, so a row reads them while only its own engine
// is running; the functions themselves may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace cairn::bench {

// Bytes this process (every thread) has written toward the disk: /proc/self/io write_bytes. The
// kernel counts a page each time it becomes dirty, so a WAL page counts even when its file is
// deleted before writeback (cancelled_write_bytes is not subtracted, so the figure does not
// depend on when writeback runs).
Result<uint64_t> process_disk_bytes_written();

// Peak memory: reset_peak_rss() returns freed heap memory to the kernel (malloc_trim) and resets
// VmHWM to the current RSS (writing 5 to /proc/self/clear_refs); it returns that RSS. A later
// peak_rss_bytes() is the highest RSS since.
Result<uint64_t> reset_peak_rss();
Result<uint64_t> peak_rss_bytes();

// The sum of the sizes of the regular files under `directory` (what the database occupies).
Result<uint64_t> directory_bytes(const std::string& directory);

// Writes back and evicts every file under `directory` from the page cache (fdatasync, then
// POSIX_FADV_DONTNEED), so the next reads come from the disk. The engines' own caches stay.
Status drop_page_cache(const std::string& directory);

// The disk's own fdatasync rate: one thread appending kFdatasyncAppendBytes to a plain file and
// calling fdatasync, in slices (run_for), so that it can alternate with an engine's slices and
// both see the disk in the same state. One thread at a time.
constexpr size_t kFdatasyncAppendBytes = 128;
class FdatasyncProbe {
 public:
  // Creates the file `path`; the destructor closes and deletes it.
  static Result<std::unique_ptr<FdatasyncProbe>> create(const std::string& path);
  ~FdatasyncProbe();
  FdatasyncProbe(const FdatasyncProbe&) = delete;
  FdatasyncProbe& operator=(const FdatasyncProbe&) = delete;

  // Appends and fdatasyncs until `duration` has passed; returns how many fdatasyncs completed.
  Result<uint64_t> run_for(std::chrono::nanoseconds duration);

 private:
  FdatasyncProbe(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_;
};

// The disk's sequential bandwidth, with a plain file in `directory` that it creates and deletes.
// Sequential bandwidth in MB/s (10^6 bytes): `bytes` written in 1 MiB writes and fsynced, timed
// together; then, after POSIX_FADV_DONTNEED, read back in 1 MiB reads.
struct SequentialBandwidth {
  double write_mb_per_s = 0;
  double read_mb_per_s = 0;
};
Result<SequentialBandwidth> measure_sequential_bandwidth(const std::string& directory,
                                                         uint64_t bytes);

// The CPUs this process may run on (what nproc prints).
int available_cpus();

// One line each: CPUs, CPU model, memory, kernel, and the file system that holds `directory`.
std::string describe_machine(const std::string& directory);

}  // namespace cairn::bench
