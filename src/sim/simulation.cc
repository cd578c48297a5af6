#include "sim/simulation.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn::sim {

Simulation::Simulation(uint64_t seed) : seed_(seed), random_(seed) {}

EventId Simulation::schedule_at(uint64_t time_us, std::function<void()> action,
                                std::string_view label) {
  CAIRN_ASSERT(time_us >= now_us_);
  CAIRN_ASSERT(action);
  const uint64_t sequence = next_sequence_++;
  queue_.push_back(Event{time_us, sequence, label, std::move(action)});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
  return EventId{sequence};
}

void Simulation::cancel(EventId id) {
  for (Event& event : queue_) {
    if (event.sequence == id.value) {
      event.action = nullptr;
      return;
    }
  }
}

Simulation::Event Simulation::pop_next() {
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  Event event = std::move(queue_.back());
  queue_.pop_back();
  return event;
}

void Simulation::drop_cancelled() {
  while (!queue_.empty() && !queue_.front().action) pop_next();
}

bool Simulation::step() {
  drop_cancelled();
  if (queue_.empty()) return false;
  Event event = pop_next();
  CAIRN_ASSERT(event.time_us >= now_us_);
  now_us_ = event.time_us;
  events_run_++;
  record(event.label, event.sequence);
  event.action();
  return true;
}

void Simulation::run_until(uint64_t time_us) {
  CAIRN_ASSERT(time_us >= now_us_);
  for (;;) {
    drop_cancelled();
    if (queue_.empty() || queue_.front().time_us > time_us) break;
    step();
  }
  now_us_ = time_us;
}

void Simulation::record(std::string_view kind, uint64_t a, uint64_t b, uint64_t c) {
  // Fixed-width fields then the name: no two distinct items pack to the same bytes.
  char packed[32];
  encode_fixed64(packed, now_us_);
  encode_fixed64(packed + 8, a);
  encode_fixed64(packed + 16, b);
  encode_fixed64(packed + 24, c);
  trace_hash_ = hash64(std::string_view(packed, sizeof packed), trace_hash_);
  trace_hash_ = hash64(kind, trace_hash_);
  if (trace_sink_) {
    char line[160];
    const int length = std::snprintf(
        line, sizeof line, "%llu %.*s %llu %llu %llu", static_cast<unsigned long long>(now_us_),
        static_cast<int>(std::min<size_t>(kind.size(), 64)), kind.data(),
        static_cast<unsigned long long>(a), static_cast<unsigned long long>(b),
        static_cast<unsigned long long>(c));
    const size_t written = std::min(static_cast<size_t>(std::max(length, 0)), sizeof line - 1);
    trace_sink_(std::string_view(line, written));
  }
}

}  // namespace cairn::sim
