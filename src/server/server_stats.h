// ServerStats: the counters INFO reports that are not the keyspace's or the clients': per-command
// calls, time, rejections and failures (INFO commandstats), commands processed, the
// instantaneous rate, and the fsyncs the server asked for.
//
// Thread-safety: every method may be called from any thread (relaxed atomics: INFO reads
// approximate values while commands run).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace cairn {

struct CommandCounters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> usec{0};
  std::atomic<uint64_t> rejected_calls{0};  // refused before running (arity, MULTI rules)
  std::atomic<uint64_t> failed_calls{0};    // ran and replied an error
};

class ServerStats {
 public:
  // One set of counters per command table entry (CommandEntry::index).
  explicit ServerStats(size_t entry_count);

  CommandCounters& command(size_t index) { return commands_[index]; }
  const CommandCounters& command(size_t index) const { return commands_[index]; }
  size_t entry_count() const { return entry_count_; }

  void add_command_processed() { commands_processed_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t commands_processed() const {
    return commands_processed_.load(std::memory_order_relaxed);
  }

  void add_wal_sync() { wal_syncs_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t wal_syncs() const { return wal_syncs_.load(std::memory_order_relaxed); }

  // Cluster mode: pipelined commands whose calls went to the cluster ahead of their turn
  // (cluster_pipeline.h).
  void add_calls_submitted_ahead(uint64_t count) {
    calls_submitted_ahead_.fetch_add(count, std::memory_order_relaxed);
  }
  uint64_t calls_submitted_ahead() const {
    return calls_submitted_ahead_.load(std::memory_order_relaxed);
  }

  // The maintenance thread samples commands_processed about every 100 ms; the rate is the
  // mean over the last samples (Redis's instantaneous_ops_per_sec).
  void sample_ops(uint64_t now_ms);
  uint64_t instantaneous_ops_per_sec() const;

  // CONFIG RESETSTAT: every counter back to zero.
  void reset();

 private:
  static constexpr size_t kSamples = 16;

  size_t entry_count_;
  std::unique_ptr<CommandCounters[]> commands_;
  std::atomic<uint64_t> commands_processed_{0};
  std::atomic<uint64_t> wal_syncs_{0};
  std::atomic<uint64_t> calls_submitted_ahead_{0};

  mutable std::mutex sample_mutex_;
  uint64_t last_sample_ms_ = 0;
  uint64_t last_sample_commands_ = 0;
  std::array<uint64_t, kSamples> rates_{};
  size_t rate_index_ = 0;
};

}  // namespace cairn
