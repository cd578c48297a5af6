// Clock: the one source of time for code driven through io/. Production uses a monotonic
// clock; tests use ManualClock, whose time moves only when the test advances it.
// Thread-safety: both implementations may be used from many threads.
#pragma once

#include <atomic>
#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since an arbitrary fixed point; never decreases.
  virtual uint64_t now_micros() const = 0;
  // Waits `micros` (a manual clock just moves forward).
  virtual void sleep_micros(uint64_t micros) = 0;

  // The process-wide monotonic clock (never destroyed).
  static Clock* real();
};

// Unix time in milliseconds from the kernel's coarse clock: it advances once per timer tick
// (a few ms at most) and costs a fraction of a precise read, for per-command bookkeeping such
// as a client's idle time, shown in seconds.
int64_t coarse_unix_time_ms();
// The same coarse tick on the monotonic clock (Clock::real()'s, up to a tick behind it): for
// deadlines of tens of ms and more read for every message on a busy path.
uint64_t coarse_monotonic_time_ms();

class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_micros = 0) : now_micros_(start_micros) {}
  uint64_t now_micros() const override { return now_micros_.load(std::memory_order_acquire); }
  void sleep_micros(uint64_t micros) override { advance_micros(micros); }
  void advance_micros(uint64_t delta_micros) {
    now_micros_.fetch_add(delta_micros, std::memory_order_acq_rel);
  }

 private:
  std::atomic<uint64_t> now_micros_;
};

}  // namespace cairn
