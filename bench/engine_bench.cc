// engine_bench: Cairn's storage engine beside RocksDB and LevelDB, in one run on one machine,
// with the same keys, values and options. Prints a header (machine, libraries, options, what
// each row does), one table (row | unit | cairn | rocksdb | leveldb | cairn/best) that includes
// the disk's own speed measured beside the rows that depend on it, Cairn's targets, and last the
// line `geomean vs best peer: X.XX`. Each phase of each engine runs in a child process, so an
// engine that crashes loses its own cells, not the run.
//
//   engine_bench [--quick] [--dir PARENT] [--keys N] [--batch N] [--seed N]
//                [--compression none|fast] [--engines cairn,rocksdb,leveldb]
//                [--phases fillseq,random,fillsync,large]
//
// All data goes to a directory it creates under PARENT (default: the current directory) and
// removes at the end. bench/README.md says how each figure is measured.
#include <stdlib.h>  // mkdtemp
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_support.h"
#include "report.h"
#include "system_probe.h"
#include "workload.h"

namespace cairn::bench {
namespace {

constexpr uint64_t kFullKeyCount = 2'000'000;
constexpr uint64_t kQuickKeyCount = 200'000;
constexpr uint64_t kDiskSequentialBytesMin = uint64_t{256} << 20;
constexpr uint64_t kWriterRatePerS = 10'000;
constexpr uint64_t kDefaultSeed = 20240601;
constexpr double kBandwidthTarget = 0.70;       // of the disk's sequential bandwidth
constexpr double kPeakRssGrowthMaxMiB = 64;     // for any value size
constexpr double kSpaceAmplificationMax = 1.2;  // after a full overwrite, settled

struct CommandLine {
  bool quick = false;
  std::string parent_directory = ".";
  uint64_t key_count = 0;  // 0: the mode's default
  size_t batch_entries = 1;
  uint64_t seed = kDefaultSeed;
  Compression compression = Compression::kNone;
  std::vector<std::string> engines = {"cairn", "rocksdb", "leveldb"};
  std::vector<Phase> phases = {std::begin(kPhases), std::end(kPhases)};
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "engine_bench: %s\nusage: engine_bench [--quick] [--dir PARENT] [--keys N] "
               "[--batch N] [--seed N] [--compression none|fast] [--engines cairn,rocksdb,leveldb] "
               "[--phases fillseq,random,fillsync,large]\n",
               problem);
  std::exit(2);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

// The phases named in `text`, in the order they always run (kPhases), whatever order they are
// named in.
std::vector<Phase> parse_phases(const std::string& text) {
  const std::vector<std::string> names = split_commas(text);
  for (const std::string& name : names) {
    const bool known = std::any_of(std::begin(kPhases), std::end(kPhases),
                                   [&](Phase phase) { return phase_name(phase) == name; });
    if (!known) usage(("unknown phase " + name).c_str());
  }
  std::vector<Phase> phases;
  for (const Phase phase : kPhases) {
    if (std::find(names.begin(), names.end(), phase_name(phase)) != names.end()) {
      phases.push_back(phase);
    }
  }
  return phases;
}

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine line;
  for (int i = 1; i < argc; i++) {
    const std::string flag = argv[i];
    auto argument = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
      return argv[++i];
    };
    if (flag == "--help") {
      std::printf(
          "usage: engine_bench [--quick] [--dir PARENT] [--keys N] [--batch N] [--seed N] "
          "[--compression none|fast] [--engines cairn,rocksdb,leveldb] "
          "[--phases fillseq,random,fillsync,large]\n");
      std::exit(0);
    } else if (flag == "--quick") {
      line.quick = true;
    } else if (flag == "--dir") {
      line.parent_directory = argument();
    } else if (flag == "--keys") {
      line.key_count = std::stoull(argument());
    } else if (flag == "--batch") {
      line.batch_entries = std::stoull(argument());
    } else if (flag == "--seed") {
      line.seed = std::stoull(argument());
    } else if (flag == "--compression") {
      const std::string name = argument();
      if (name != "none" && name != "fast") usage("--compression takes none or fast");
      line.compression = name == "fast" ? Compression::kFast : Compression::kNone;
    } else if (flag == "--engines") {
      line.engines = split_commas(argument());
    } else if (flag == "--phases") {
      line.phases = parse_phases(argument());
    } else {
      usage(("unknown argument " + flag).c_str());
    }
  }
  if (line.engines.empty() || line.engines[0] != "cairn") usage("--engines must start with cairn");
  if (line.batch_entries == 0) usage("--batch must be at least 1");
  if (line.phases.empty()) usage("--phases must name at least one phase");
  return line;
}

BenchConfig make_config(const CommandLine& line) {
  BenchConfig config;
  config.quick = line.quick;
  config.key_count =
      line.key_count != 0 ? line.key_count : (line.quick ? kQuickKeyCount : kFullKeyCount);
  config.batch_entries = line.batch_entries;
  config.read_count = config.key_count;
  config.seek_count = std::max<uint64_t>(1, config.key_count / 10);
  config.read_while_writing_duration = std::chrono::seconds(line.quick ? 2 : 10);
  config.reader_threads = std::max(1, available_cpus() - 1);
  config.writer_rate_per_s = kWriterRatePerS;
  config.sync_duration = std::chrono::seconds(line.quick ? 1 : 5);
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  config.large_values = line.quick ? std::vector<LargeValueSpec>{{4 * kMiB, 20}, {256 * kMiB, 1}}
                                   : std::vector<LargeValueSpec>{{4 * kMiB, 200}, {256 * kMiB, 2}};
  // The disk is measured with as many bytes as the largest large-value row writes: a virtual
  // disk may sustain less than it bursts, and the rows are compared with it.
  config.disk_sequential_bytes = kDiskSequentialBytesMin;
  for (const LargeValueSpec& spec : config.large_values) {
    config.disk_sequential_bytes =
        std::max(config.disk_sequential_bytes, spec.size_bytes * spec.count);
  }
  config.seed = line.seed;
  config.engine.compression = line.compression;
  return config;
}

std::unique_ptr<Engine> make_engine(const std::string& name) {
  if (name == "cairn") return make_cairn_engine();
  if (name == "rocksdb") return make_rocksdb_engine();
  if (name == "leveldb") return make_leveldb_engine();
  usage(("unknown engine " + name).c_str());
}

void print_header(const BenchConfig& config, const std::vector<std::unique_ptr<Engine>>& engines,
                  const std::string& run_directory) {
  const EngineOptions& options = config.engine;
  std::printf("Cairn engine beside its peers (%s mode, seed %llu)\n",
              config.quick ? "quick" : "full", static_cast<unsigned long long>(config.seed));
  std::printf("machine:\n%s", describe_machine(run_directory).c_str());
  std::printf("libraries:\n");
  for (const auto& engine : engines) {
    std::printf("  %-8s %s\n", std::string(engine->name()).c_str(), engine->version().c_str());
  }
  std::printf(
      "options, the same for every engine: write buffer %s, bloom %d bits/key, block %s, "
      "block cache %s, compression %s; the WAL is written on every write and fsynced "
      "only in the fillsync rows\n",
      format_bytes(options.write_buffer_bytes).c_str(), options.bloom_bits_per_key,
      format_bytes(options.block_size_bytes).c_str(),
      format_bytes(options.block_cache_bytes).c_str(),
      options.compression == Compression::kFast ? "lz4 (snappy for LevelDB)" : "none");
  for (const auto& engine : engines) {
    std::printf("  %-8s %s\n", std::string(engine->name()).c_str(),
                engine->describe_options(options).c_str());
  }
  std::printf(
      "workload: %llu keys of %zu B, values of %zu B (half random, half repeated), %zu per write; "
      "fillrandom and overwrite write every key once in shuffled orders; fill rows time the "
      "writes, the settle after them is untimed\n"
      "  readrandom: %llu uniform reads of present keys, p50/p99 over every read; seekrandom: %llu "
      "seeks, each a new iterator reading %zu entries\n"
      "  readwhilewriting: %d reader thread(s) for %lld s beside 1 writer paced at %llu writes/s; "
      "fillsync: %lld s of writes per row in 10 slices, fsync on every write\n"
      "  large values: puts + sync + settle timed together; reads after the database's files are "
      "dropped from the page cache, every byte checked; peak RSS growth = VmHWM (reset through "
      "/proc/self/clear_refs after malloc_trim) minus RSS at the start, the larger of write and "
      "read\n"
      "  space amp = file sizes / (keys x (key + value)) after overwrite and settle; write amp = "
      "/proc/self/io write_bytes (WAL pages included even if deleted before writeback) over "
      "fillrandom + overwrite and their settles / 2 x keys x (key + value)\n"
      "  the disk's own speed is measured beside each engine's rows: fdatasync/s of %zu B appends "
      "in slices alternating with the slices of its fillsync 8 threads row, and 1 MiB writes of "
      "%s + fsync, read back after POSIX_FADV_DONTNEED, before its large values\n"
      "  MB = 10^6 bytes; cairn/best = cairn / the best peer (the faster; for us, MiB and x "
      "rows the lower, where below 1 means Cairn is ahead)\n\n",
      static_cast<unsigned long long>(config.key_count), config.key_bytes, config.value_bytes,
      config.batch_entries, static_cast<unsigned long long>(config.read_count),
      static_cast<unsigned long long>(config.seek_count), config.scan_length, config.reader_threads,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::seconds>(config.read_while_writing_duration)
              .count()),
      static_cast<unsigned long long>(config.writer_rate_per_s),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::seconds>(config.sync_duration).count()),
      kFdatasyncAppendBytes, format_bytes(config.disk_sequential_bytes).c_str());
  std::fflush(stdout);
}

std::string verdict(bool met) { return met ? "met" : "NOT met"; }

// Cairn's figures against the targets of the issue, each set against the disk as measured beside
// Cairn's own rows.
void print_targets(const BenchConfig& config, const Report& report) {
  constexpr size_t kCairn = 0;
  std::printf("\ncairn's targets (against the disk measured beside cairn's rows):\n");
  const auto many = report.value(rows::kFillSyncMany, kCairn);
  const auto disk_syncs = report.value(rows::kDiskFdatasync, kCairn);
  if (many.has_value() && disk_syncs.has_value()) {
    std::printf("  fillsync %d threads: %s writes/s = %sx the disk's %s fdatasync/s\n",
                kSyncThreadsMany, format_figure(*many).c_str(),
                format_figure(*many / *disk_syncs).c_str(), format_figure(*disk_syncs).c_str());
  }
  const auto disk_write = report.value(rows::kDiskWrite, kCairn);
  const auto disk_read = report.value(rows::kDiskRead, kCairn);
  for (const LargeValueSpec& spec : config.large_values) {
    for (const auto& [what, disk] :
         {std::pair{"write", disk_write}, std::pair{"read", disk_read}}) {
      const std::string row = large_row(spec, what);
      const auto figure = report.value(row, kCairn);
      if (!figure.has_value() || !disk.has_value()) continue;
      const double share = *figure / *disk;
      std::printf("  %s: %s MB/s = %.0f%% of the disk's %s MB/s (>= %.0f%%: %s)\n", row.c_str(),
                  format_figure(*figure).c_str(), 100 * share, format_figure(*disk).c_str(),
                  100 * kBandwidthTarget, verdict(share >= kBandwidthTarget).c_str());
    }
    const std::string row = large_row(spec, "peak RSS growth");
    if (const auto figure = report.value(row, kCairn); figure.has_value()) {
      std::printf("  %s: %s MiB (< %.0f MiB: %s)\n", row.c_str(), format_figure(*figure).c_str(),
                  kPeakRssGrowthMaxMiB, verdict(*figure < kPeakRssGrowthMaxMiB).c_str());
    }
  }
  if (const auto space = report.value(rows::kSpaceAmp, kCairn); space.has_value()) {
    std::printf("  %s: %s (<= %.1f: %s)\n", std::string(rows::kSpaceAmp).c_str(),
                format_figure(*space).c_str(), kSpaceAmplificationMax,
                verdict(*space <= kSpaceAmplificationMax).c_str());
  }
}

// Runs one phase for one engine in a child process: an engine that aborts (an assertion in an
// engine under development) then costs its own cells, not the run, and each phase starts with
// a heap, threads and I/O counters no other engine touched. The child sends its column of the
// report through a pipe as each figure is recorded; the parent merges them and deletes whatever
// the phase left on disk.
Status run_phase_in_child(Phase phase, Engine& engine, const BenchConfig& config,
                          const std::string& run_directory, Report& report, size_t engine_index) {
  const std::string directory =
      run_directory + "/" + std::string(engine.name()) + "-" + std::string(phase_name(phase));
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return Status::io_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) return Status::io_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::close(pipe_fds[0]);
    report.send_cells_to([fd = pipe_fds[1]](const std::string& line) {
      for (size_t sent = 0; sent < line.size();) {
        const ssize_t wrote = ::write(fd, line.data() + sent, line.size() - sent);
        if (wrote <= 0) ::_exit(3);
        sent += static_cast<size_t>(wrote);
      }
    });
    const Status status =
        run_phase(phase, engine, config, directory, Column{&report, engine_index});
    ::_exit(status.is_ok() ? 0 : 1);  // no destructors: the parent owns the run directory
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<size_t>(got));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  if (::waitpid(child, &wait_status, 0) != child) {
    return Status::io_error(std::string("waitpid: ") + std::strerror(errno));
  }
  report.import_cells(engine_index, text);
  for (const auto& entry : std::filesystem::directory_iterator(run_directory)) {
    std::error_code ignored;
    std::filesystem::remove_all(entry.path(), ignored);
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return Status::ok();
  const std::string cause =
      WIFSIGNALED(wait_status)
          ? std::string("the engine's process died of signal ") + ::strsignal(WTERMSIG(wait_status))
          : "failed (exit status " + std::to_string(WEXITSTATUS(wait_status)) + ")";
  for (const std::string& row : phase_rows(phase, config)) {
    report.set_error(row, engine_index, cause);
  }
  return Status::io_error(cause);
}

int run(const CommandLine& line) {
  const BenchConfig config = make_config(line);
  std::string run_directory = line.parent_directory + "/engine_bench.XXXXXX";
  if (::mkdtemp(run_directory.data()) == nullptr) {
    std::fprintf(stderr, "engine_bench: cannot create %s: %s\n", run_directory.c_str(),
                 std::strerror(errno));
    return 1;
  }
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_on_exit{run_directory};

  std::vector<std::unique_ptr<Engine>> engines;
  for (const std::string& name : line.engines) engines.push_back(make_engine(name));
  print_header(config, engines, run_directory);

  Report report(line.engines);
  declare_rows(config, report);
  bool failed = false;
  for (const Phase phase : line.phases) {
    for (size_t i = 0; i < engines.size(); i++) {
      const auto start = SteadyClock::now();
      // Dirty pages an earlier phase left (of any engine) are written back first, so that
      // their writeback does not load the disk while this phase is timed.
      ::sync();
      const Status status =
          run_phase_in_child(phase, *engines[i], config, run_directory, report, i);
      std::fprintf(stderr, "engine_bench: %-8s %-9s %6.1f s%s%s\n",
                   std::string(engines[i]->name()).c_str(), std::string(phase_name(phase)).c_str(),
                   seconds_since(start), status.is_ok() ? "" : "  ",
                   status.is_ok() ? "" : status.to_string().c_str());
      failed = failed || !status.is_ok();
    }
  }

  report.print(stdout);
  print_targets(config, report);
  const std::optional<double> geomean = report.geomean_of_throughput_ratios();
  std::printf("geomean vs best peer: %.2f\n", geomean.value_or(0.0));
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) {
  return cairn::bench::run(cairn::bench::parse_command_line(argc, argv));
}
