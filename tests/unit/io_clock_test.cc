// Proves the real clocks: the coarse monotonic clock is at most a tick (a few ms) behind the
// precise one and never goes back; the coarse Unix time is the wall time within a tick; and the
// manual clock moves only when advanced.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "io/clock.h"

namespace cairn {
namespace {

// A kernel tick is at most 10 ms (HZ >= 100); more slack for a descheduled test thread.
constexpr uint64_t kTickSlackMs = 50;

TEST(ClockTest, CoarseMonotonicTimeTrailsThePreciseClockByATick) {
  uint64_t last_ms = 0;
  for (int i = 0; i < 200; i++) {
    const uint64_t coarse_ms = coarse_monotonic_time_ms();
    const uint64_t precise_ms = Clock::real()->now_micros() / 1000;
    EXPECT_GE(coarse_ms, last_ms);
    EXPECT_LE(coarse_ms, precise_ms + 1);
    EXPECT_GE(coarse_ms + kTickSlackMs, precise_ms);
    last_ms = coarse_ms;
    if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(ClockTest, CoarseUnixTimeIsTheWallTimeWithinATick) {
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  const int64_t coarse_ms = coarse_unix_time_ms();
  EXPECT_LE(coarse_ms, wall_ms + 1);
  EXPECT_GE(coarse_ms + static_cast<int64_t>(kTickSlackMs), wall_ms);
}

TEST(ClockTest, ManualClockMovesOnlyWhenAdvanced) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.now_micros(), 1000u);
  clock.advance_micros(500);
  EXPECT_EQ(clock.now_micros(), 1500u);
  clock.sleep_micros(250);
  EXPECT_EQ(clock.now_micros(), 1750u);
}

}  // namespace
}  // namespace cairn
