// The row declarations and the small-value phases of the engine benchmark (workload.h): fillseq,
// and fillrandom through readwhilewriting on one database.
#include "workload.h"

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "bench_support.h"
#include "system_probe.h"

namespace cairn::bench {
namespace {

// The seeds of the phases' random streams, offset from config.seed so the streams differ.
constexpr uint64_t kShuffleFillSeed = 1;
constexpr uint64_t kShuffleOverwriteSeed = 2;
constexpr uint64_t kReadSeed = 3;
constexpr uint64_t kSeekSeed = 4;
constexpr uint64_t kReadWhileWritingSeed = 100;

std::vector<uint64_t> shuffled_indexes(uint64_t count, uint64_t seed) {
  std::vector<uint64_t> indexes(count);
  std::iota(indexes.begin(), indexes.end(), uint64_t{0});
  std::mt19937_64 random(seed);
  std::shuffle(indexes.begin(), indexes.end(), random);
  return indexes;
}

// Writes key_at(0) ... key_at(count - 1) with small values, config.batch_entries per write, and
// returns the keys written per second (the writes only; no flush).
template <typename KeyAt>
Result<double> fill(Engine& engine, const BenchConfig& config, const ValueSource& values,
                    uint64_t count, KeyAt key_at) {
  KeyBuffer key(config.key_bytes);
  std::vector<std::string> batch_keys;
  std::vector<std::string_view> batch_values;
  std::vector<KeyValue> batch;
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < count; i++) {
    const uint64_t index = key_at(i);
    const std::string_view value = values.small(index + i, config.value_bytes);
    if (config.batch_entries <= 1) {
      CAIRN_RETURN_IF_ERROR(engine.put(key.at(index), value));
      continue;
    }
    batch_keys.emplace_back(key.at(index));
    batch_values.push_back(value);
    if (batch_keys.size() == config.batch_entries || i + 1 == count) {
      batch.clear();
      for (size_t entry = 0; entry < batch_keys.size(); entry++) {
        batch.push_back(KeyValue{batch_keys[entry], batch_values[entry]});
      }
      CAIRN_RETURN_IF_ERROR(engine.write_batch(batch));
      batch_keys.clear();
      batch_values.clear();
    }
  }
  return static_cast<double>(count) / seconds_since(start);
}

Status read_random(Engine& engine, const BenchConfig& config, Column column) {
  KeyBuffer key(config.key_bytes);
  std::mt19937_64 random(config.seed + kReadSeed);
  std::uniform_int_distribution<uint64_t> pick(0, config.key_count - 1);
  std::vector<uint64_t> latencies_ns(config.read_count);
  std::string value;
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < config.read_count; i++) {
    const std::string_view wanted = key.at(pick(random));
    const auto read_start = SteadyClock::now();
    CAIRN_RETURN_IF_ERROR(engine.get(wanted, &value).with_context(wanted));
    latencies_ns[i] = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - read_start)
            .count());
    if (value.size() != config.value_bytes) {
      return Status::corruption("value of " + std::string(wanted) + " has " +
                                std::to_string(value.size()) + " bytes");
    }
  }
  column.report->set(rows::kReadRandom, column.engine,
                     static_cast<double>(config.read_count) / seconds_since(start));
  column.report->set(rows::kReadP50, column.engine,
                     static_cast<double>(quantile(latencies_ns, 0.50)) / 1000.0);
  column.report->set(rows::kReadP99, column.engine,
                     static_cast<double>(quantile(latencies_ns, 0.99)) / 1000.0);
  return Status::ok();
}

Status seek_random(Engine& engine, const BenchConfig& config, Column column) {
  KeyBuffer key(config.key_bytes);
  std::mt19937_64 random(config.seed + kSeekSeed);
  std::uniform_int_distribution<uint64_t> pick(0, config.key_count - 1);
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < config.seek_count; i++) {
    const uint64_t first = pick(random);
    CAIRN_ASSIGN_OR_RETURN(const size_t read, engine.scan(key.at(first), config.scan_length));
    const uint64_t expected = std::min<uint64_t>(config.scan_length, config.key_count - first);
    if (read != expected) {
      return Status::corruption("scan from " + std::to_string(first) + " read " +
                                std::to_string(read) + " entries, not " + std::to_string(expected));
    }
  }
  column.report->set(rows::kSeekRandom, column.engine,
                     static_cast<double>(config.seek_count) / seconds_since(start));
  return Status::ok();
}

// config.reader_threads readers read random keys as fast as they can while one writer overwrites
// random keys at config.writer_rate_per_s; the figure is reads per second.
Status read_while_writing(Engine& engine, const BenchConfig& config, const ValueSource& values,
                          Column column) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::mutex error_mutex;
  Status first_error;
  auto record_error = [&](const Status& status) {
    std::lock_guard<std::mutex> guard(error_mutex);
    if (first_error.is_ok()) first_error = status;
    stop = true;
  };
  auto reader = [&](uint64_t seed) {
    KeyBuffer key(config.key_bytes);
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<uint64_t> pick(0, config.key_count - 1);
    std::string value;
    uint64_t done = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const Status status = engine.get(key.at(pick(random)), &value);
      if (!status.is_ok()) return record_error(status);
      done++;
    }
    reads += done;
  };
  auto writer = [&] {
    KeyBuffer key(config.key_bytes);
    std::mt19937_64 random(config.seed + kReadWhileWritingSeed);
    std::uniform_int_distribution<uint64_t> pick(0, config.key_count - 1);
    const auto interval = std::chrono::nanoseconds(1'000'000'000 / config.writer_rate_per_s);
    auto next_write = SteadyClock::now();
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); i++) {
      std::this_thread::sleep_until(next_write);
      next_write += interval;
      const uint64_t index = pick(random);
      const Status status = engine.put(key.at(index), values.small(index + i, config.value_bytes));
      if (!status.is_ok()) return record_error(status);
    }
  };

  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  threads.emplace_back(writer);
  for (int thread = 0; thread < config.reader_threads; thread++) {
    threads.emplace_back(reader, config.seed + kReadWhileWritingSeed + 1 + thread);
  }
  std::this_thread::sleep_for(config.read_while_writing_duration);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  const double seconds = seconds_since(start);
  CAIRN_RETURN_IF_ERROR(first_error);
  column.report->set(rows::kReadWhileWriting, column.engine,
                     static_cast<double>(reads.load()) / seconds);
  return Status::ok();
}

// fillrandom and overwrite (each key once, in two shuffled orders), settling after each; the
// write and space amplification they cause.
Status fill_and_overwrite(Engine& engine, const BenchConfig& config, const ValueSource& values,
                          const std::string& directory, Column column) {
  const std::vector<uint64_t> fill_order =
      shuffled_indexes(config.key_count, config.seed + kShuffleFillSeed);
  const std::vector<uint64_t> overwrite_order =
      shuffled_indexes(config.key_count, config.seed + kShuffleOverwriteSeed);
  CAIRN_ASSIGN_OR_RETURN(const uint64_t disk_written_before, process_disk_bytes_written());
  CAIRN_ASSIGN_OR_RETURN(const double fill_rate, fill(engine, config, values, config.key_count,
                                                      [&](uint64_t i) { return fill_order[i]; }));
  column.report->set(rows::kFillRandom, column.engine, fill_rate);
  CAIRN_RETURN_IF_ERROR(engine.settle());
  CAIRN_ASSIGN_OR_RETURN(const double overwrite_rate,
                         fill(engine, config, values, config.key_count,
                              [&](uint64_t i) { return overwrite_order[i]; }));
  column.report->set(rows::kOverwrite, column.engine, overwrite_rate);
  CAIRN_RETURN_IF_ERROR(engine.settle());
  CAIRN_ASSIGN_OR_RETURN(const uint64_t disk_written_after, process_disk_bytes_written());

  const double logical_bytes = static_cast<double>(config.key_count) *
                               static_cast<double>(config.key_bytes + config.value_bytes);
  column.report->set(
      rows::kWriteAmp, column.engine,
      static_cast<double>(disk_written_after - disk_written_before) / (2 * logical_bytes));
  CAIRN_ASSIGN_OR_RETURN(const uint64_t database_bytes, directory_bytes(directory));
  column.report->set(rows::kSpaceAmp, column.engine,
                     static_cast<double>(database_bytes) / logical_bytes);
  return Status::ok();
}

}  // namespace

std::string large_row(const LargeValueSpec& spec, std::string_view what) {
  return format_bytes(spec.size_bytes) + " x " + std::to_string(spec.count) + " " +
         std::string(what);
}

void declare_rows(const BenchConfig& config, Report& report) {
  const auto throughput = [&](std::string_view name, const char* unit) {
    report.add_row(RowSpec{std::string(name), unit, Better::kHigher, true});
  };
  const auto lower = [&](std::string_view name, const char* unit) {
    report.add_row(RowSpec{std::string(name), unit, Better::kLower, false});
  };
  throughput(rows::kFillSeq, "ops/s");
  throughput(rows::kFillRandom, "ops/s");
  throughput(rows::kOverwrite, "ops/s");
  throughput(rows::kReadRandom, "ops/s");
  lower(rows::kReadP50, "us");
  lower(rows::kReadP99, "us");
  throughput(rows::kSeekRandom, "seeks/s");
  throughput(rows::kReadWhileWriting, "reads/s");
  const auto context = [&](std::string_view name, const char* unit) {
    report.add_row(RowSpec{std::string(name), unit, Better::kHigher, false, false});
  };
  throughput(rows::kFillSync1, "writes/s");
  throughput(rows::kFillSyncMany, "writes/s");
  context(rows::kDiskFdatasync, "syncs/s");
  report.add_row(RowSpec{std::string(rows::kFillSyncManyPerDiskSync), "x", Better::kHigher, false});
  context(rows::kDiskWrite, "MB/s");
  context(rows::kDiskRead, "MB/s");
  for (const LargeValueSpec& spec : config.large_values) {
    throughput(large_row(spec, "write"), "MB/s");
    throughput(large_row(spec, "read"), "MB/s");
    lower(large_row(spec, "peak RSS growth"), "MiB");
  }
  lower(rows::kSpaceAmp, "x");
  lower(rows::kWriteAmp, "x");
}

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::kFillSequential:
      return "fillseq";
    case Phase::kRandom:
      return "random";
    case Phase::kSync:
      return "fillsync";
    case Phase::kLargeValues:
      return "large";
  }
  CAIRN_ASSERT(false && "unknown phase");
  __builtin_unreachable();
}

std::vector<std::string> phase_rows(Phase phase, const BenchConfig& config) {
  std::vector<std::string> names;
  const auto add = [&](std::initializer_list<std::string_view> rows) {
    for (std::string_view row : rows) names.emplace_back(row);
  };
  switch (phase) {
    case Phase::kFillSequential:
      add({rows::kFillSeq});
      break;
    case Phase::kRandom:
      add({rows::kFillRandom, rows::kOverwrite, rows::kWriteAmp, rows::kSpaceAmp, rows::kReadRandom,
           rows::kReadP50, rows::kReadP99, rows::kSeekRandom, rows::kReadWhileWriting});
      break;
    case Phase::kSync:
      add({rows::kFillSync1, rows::kFillSyncMany, rows::kDiskFdatasync,
           rows::kFillSyncManyPerDiskSync});
      break;
    case Phase::kLargeValues:
      add({rows::kDiskWrite, rows::kDiskRead});
      for (const LargeValueSpec& spec : config.large_values) {
        for (const char* what : {"write", "read", "peak RSS growth"}) {
          names.push_back(large_row(spec, what));
        }
      }
      break;
  }
  return names;
}

Status run_phase(Phase phase, Engine& engine, const BenchConfig& config,
                 const std::string& directory, Column column) {
  Status status;
  switch (phase) {
    case Phase::kFillSequential:
      status = run_fill_sequential(engine, config, directory, column);
      break;
    case Phase::kRandom:
      status = run_random(engine, config, directory, column);
      break;
    case Phase::kSync:
      status = run_sync(engine, config, directory, column);
      break;
    case Phase::kLargeValues:
      status = run_large_values(engine, config, directory, column);
      break;
  }
  if (!status.is_ok()) {
    for (const std::string& row : phase_rows(phase, config)) {
      column.report->set_error(row, column.engine, status.to_string());
    }
  }
  return status;
}

Status run_fill_sequential(Engine& engine, const BenchConfig& config, const std::string& directory,
                           Column column) {
  const ValueSource values(config.seed);
  Session session(engine, directory);
  CAIRN_RETURN_IF_ERROR(session.open(config.engine));
  CAIRN_ASSIGN_OR_RETURN(const double rate, fill(engine, config, values, config.key_count,
                                                 [](uint64_t i) { return i; }));
  column.report->set(rows::kFillSeq, column.engine, rate);
  CAIRN_RETURN_IF_ERROR(engine.settle());
  return session.close();
}

Status run_random(Engine& engine, const BenchConfig& config, const std::string& directory,
                  Column column) {
  const ValueSource values(config.seed);
  Session session(engine, directory);
  CAIRN_RETURN_IF_ERROR(session.open(config.engine));
  CAIRN_RETURN_IF_ERROR(fill_and_overwrite(engine, config, values, directory, column));
  CAIRN_RETURN_IF_ERROR(read_random(engine, config, column));
  CAIRN_RETURN_IF_ERROR(seek_random(engine, config, column));
  CAIRN_RETURN_IF_ERROR(read_while_writing(engine, config, values, column));
  return session.close();
}

}  // namespace cairn::bench
