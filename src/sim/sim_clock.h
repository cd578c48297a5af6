// SimClock: one simulated node's two clocks, derived from the Simulation's true time. A node
// only ever reads its own clocks, never the true time, so that skew, drift and jumps reach the
// code under test the way they would on a real machine.
//
// - monotonic: what timers run on (CLOCK_MONOTONIC). It starts at monotonic_start_ms and runs at
//   the node's rate, true time x (1 + drift_ppm / 10^6). It never jumps and never goes back.
// - wall: Unix time in ms (what a hybrid logical clock reads): the simulation's epoch plus the
//   true time, a fixed skew, the same drift, and any jumps a test injects (an NTP step forward or
//   back). It may go backwards.
//
// Changing the drift re-anchors both clocks at the current time, so neither jumps.
//
// Thread-safety: none; single-threaded with its Simulation.
// Invariants: monotonic_us() never decreases.
#pragma once

#include <cstdint>

#include "sim/simulation.h"

namespace cairn::sim {

// True time zero of every simulation as Unix time (2026-01-01T00:00:00Z): wall clocks read
// plausible dates, and a backward jump of years cannot go below zero.
constexpr uint64_t kSimulationEpochUnixMs = 1'767'225'600'000;
// A rate error of 10%: far beyond a real crystal (tens of ppm), still a clock that runs forward.
constexpr int64_t kClockDriftPpmMax = 100'000;

struct ClockSpec {
  int64_t skew_ms = 0;    // wall clock minus true time at the start
  int64_t drift_ppm = 0;  // +100: gains 100 us per true second. |drift_ppm| <= kClockDriftPpmMax
  uint64_t monotonic_start_ms = 0;
};

class SimClock {
 public:
  // REQUIRES: simulation outlives the clock; spec.drift_ppm within bounds; the skew keeps the
  // wall clock above zero.
  SimClock(const Simulation* simulation, ClockSpec spec);

  uint64_t monotonic_us() const;
  uint64_t monotonic_ms() const { return monotonic_us() / 1000; }
  uint64_t wall_ms() const;

  // Steps the wall clock by delta_ms (negative: backwards). REQUIRES: it stays above zero.
  void jump_ms(int64_t delta_ms);
  // REQUIRES: |drift_ppm| <= kClockDriftPpmMax.
  void set_drift_ppm(int64_t drift_ppm);
  int64_t drift_ppm() const { return drift_ppm_; }

 private:
  // Local microseconds elapsed since the simulation started, at the current drift.
  uint64_t local_elapsed_us() const;

  const Simulation* simulation_;
  int64_t drift_ppm_;
  uint64_t anchor_true_us_ = 0;
  uint64_t anchor_local_us_ = 0;
  uint64_t monotonic_start_us_;
  // kSimulationEpochUnixMs + skew + jumps, in microseconds.
  int64_t wall_offset_us_;
};

}  // namespace cairn::sim
