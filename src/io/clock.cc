#include "io/clock.h"

#include <time.h>

#include <chrono>
#include <thread>

namespace cairn {
namespace {

// steady_clock, not system_clock: wall time jumps (NTP, an operator), and callers measure
// intervals with this clock.
class RealClock final : public Clock {
 public:
  uint64_t now_micros() const override {
    const auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
  }
  void sleep_micros(uint64_t micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
};

}  // namespace

int64_t coarse_unix_time_ms() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

uint64_t coarse_monotonic_time_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000;
}

Clock* Clock::real() {
  // Leaked on purpose: threads may still read the clock while static destructors run.
  static Clock* const clock = new RealClock();
  return clock;
}

}  // namespace cairn
