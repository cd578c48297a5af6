#include "sim/sim_clock.h"

#include "common/assert.h"

namespace cairn::sim {

namespace {

constexpr uint64_t kMicrosPerSecond = 1'000'000;

bool drift_in_bounds(int64_t drift_ppm) {
  return drift_ppm >= -kClockDriftPpmMax && drift_ppm <= kClockDriftPpmMax;
}

// `delta_us` of true time at a rate of (10^6 + drift_ppm) / 10^6, rounded down. Split into whole
// seconds and the rest so that the product cannot overflow for any simulated span, and
// non-decreasing in delta_us because the rate is positive.
uint64_t scale(uint64_t delta_us, int64_t drift_ppm) {
  const auto rate = static_cast<uint64_t>(static_cast<int64_t>(kMicrosPerSecond) + drift_ppm);
  return (delta_us / kMicrosPerSecond) * rate +
         (delta_us % kMicrosPerSecond) * rate / kMicrosPerSecond;
}

}  // namespace

SimClock::SimClock(const Simulation* simulation, ClockSpec spec)
    : simulation_(simulation),
      drift_ppm_(spec.drift_ppm),
      monotonic_start_us_(spec.monotonic_start_ms * 1000),
      wall_offset_us_(static_cast<int64_t>(kSimulationEpochUnixMs * 1000) + spec.skew_ms * 1000) {
  CAIRN_ASSERT(simulation != nullptr);
  CAIRN_ASSERT(drift_in_bounds(spec.drift_ppm));
  CAIRN_ASSERT(wall_offset_us_ > 0);
  anchor_true_us_ = simulation->now_us();
  anchor_local_us_ = anchor_true_us_;
}

uint64_t SimClock::local_elapsed_us() const {
  return anchor_local_us_ + scale(simulation_->now_us() - anchor_true_us_, drift_ppm_);
}

uint64_t SimClock::monotonic_us() const { return monotonic_start_us_ + local_elapsed_us(); }

uint64_t SimClock::wall_ms() const {
  const int64_t wall_us = wall_offset_us_ + static_cast<int64_t>(local_elapsed_us());
  return static_cast<uint64_t>(wall_us) / 1000;
}

void SimClock::jump_ms(int64_t delta_ms) {
  wall_offset_us_ += delta_ms * 1000;
  CAIRN_ASSERT(wall_offset_us_ > 0);
}

void SimClock::set_drift_ppm(int64_t drift_ppm) {
  CAIRN_ASSERT(drift_in_bounds(drift_ppm));
  anchor_local_us_ = local_elapsed_us();
  anchor_true_us_ = simulation_->now_us();
  drift_ppm_ = drift_ppm;
}

}  // namespace cairn::sim
