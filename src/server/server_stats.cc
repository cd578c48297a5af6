#include "server/server_stats.h"

namespace cairn {

ServerStats::ServerStats(size_t entry_count)
    : entry_count_(entry_count), commands_(std::make_unique<CommandCounters[]>(entry_count)) {}

void ServerStats::sample_ops(uint64_t now_ms) {
  std::lock_guard lock(sample_mutex_);
  uint64_t processed = commands_processed();
  if (last_sample_ms_ != 0 && now_ms > last_sample_ms_) {
    uint64_t delta = processed >= last_sample_commands_ ? processed - last_sample_commands_ : 0;
    rates_[rate_index_ % kSamples] = delta * 1000 / (now_ms - last_sample_ms_);
    ++rate_index_;
  }
  last_sample_ms_ = now_ms;
  last_sample_commands_ = processed;
}

uint64_t ServerStats::instantaneous_ops_per_sec() const {
  std::lock_guard lock(sample_mutex_);
  size_t count = rate_index_ < kSamples ? rate_index_ : kSamples;
  if (count == 0) return 0;
  uint64_t sum = 0;
  for (size_t i = 0; i < count; ++i) sum += rates_[i];
  return sum / count;
}

void ServerStats::reset() {
  for (size_t i = 0; i < entry_count_; ++i) {
    commands_[i].calls = 0;
    commands_[i].usec = 0;
    commands_[i].rejected_calls = 0;
    commands_[i].failed_calls = 0;
  }
  commands_processed_ = 0;
  calls_submitted_ahead_ = 0;
  std::lock_guard lock(sample_mutex_);
  last_sample_commands_ = 0;
  rates_.fill(0);
}

}  // namespace cairn
