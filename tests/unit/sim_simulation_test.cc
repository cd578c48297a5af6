// Proves the simulator's clock and event queue: events run in (time, insertion) order, never
// early; run_until stops at its time; cancelled events do not run; the trace hash depends on
// exactly what ran and is reproducible; and SimClock's monotonic clock only drifts while its
// wall clock also skews and jumps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/sim_clock.h"
#include "sim/simulation.h"

namespace cairn::sim {
namespace {

TEST(SimulationTest, EventsRunInTimeThenInsertionOrder) {
  Simulation simulation(1);
  std::vector<int> order;
  simulation.schedule_at(20, [&] { order.push_back(3); });
  simulation.schedule_at(10, [&] { order.push_back(1); });
  simulation.schedule_at(10, [&] { order.push_back(2); });
  simulation.schedule_at(10, [&] {
    // Scheduled for now, from inside an event: runs after those already due.
    simulation.schedule_after(0, [&] { order.push_back(25); });
  });
  simulation.run_until(15);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 25}));
  EXPECT_EQ(simulation.now_us(), 15u);
  simulation.run_until(20);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 25, 3}));
  EXPECT_FALSE(simulation.step());
}

TEST(SimulationTest, CancelledEventsDoNotRun) {
  Simulation simulation(1);
  int ran = 0;
  const EventId first = simulation.schedule_at(5, [&] { ran += 1; });
  simulation.schedule_at(50, [&] { ran += 10; });
  simulation.cancel(first);
  simulation.run_until(10);  // the cancelled event must not let the one at 50 run early
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(simulation.now_us(), 10u);
  simulation.run_until(50);
  EXPECT_EQ(ran, 10);
  simulation.cancel(first);  // already gone: nothing happens
  EXPECT_EQ(simulation.events_run(), 1u);
}

uint64_t hash_of_run(uint64_t seed, bool extra_record) {
  Simulation simulation(seed);
  for (int i = 0; i < 100; i++) {
    const uint64_t at = simulation.random().uniform(1000);
    simulation.schedule_at(
        at, [&simulation, i] { simulation.record("work", i); }, "step");
  }
  if (extra_record) simulation.schedule_at(500, [&] { simulation.record("extra"); });
  simulation.run_until(1000);
  return simulation.trace_hash();
}

TEST(SimulationTest, TraceHashIsReproducibleAndSensitive) {
  EXPECT_EQ(hash_of_run(7, false), hash_of_run(7, false));
  EXPECT_NE(hash_of_run(7, false), hash_of_run(8, false));
  EXPECT_NE(hash_of_run(7, false), hash_of_run(7, true));
}

TEST(SimulationTest, TraceSinkGetsOneLinePerItem) {
  Simulation simulation(1);
  std::vector<std::string> lines;
  simulation.set_trace_sink([&](std::string_view line) { lines.emplace_back(line); });
  simulation.schedule_at(
      42, [&] { simulation.record("hello", 1, 2, 3); }, "greet");
  simulation.run_until(100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "42 greet 1 0 0");
  EXPECT_EQ(lines[1], "42 hello 1 2 3");
}

TEST(SimClockTest, MonotonicDriftsAndNeverJumps) {
  Simulation simulation(1);
  SimClock clock(&simulation, ClockSpec{0, 1000, 5'000});  // 0.1% fast
  EXPECT_EQ(clock.monotonic_ms(), 5'000u);
  simulation.run_until(10'000'000);  // 10 s
  EXPECT_EQ(clock.monotonic_ms(), 5'000u + 10'010u);
  clock.jump_ms(-60'000);  // the wall clock only
  EXPECT_EQ(clock.monotonic_ms(), 5'000u + 10'010u);
  clock.set_drift_ppm(-1000);  // re-anchored: no step
  EXPECT_EQ(clock.monotonic_ms(), 5'000u + 10'010u);
  simulation.run_until(20'000'000);
  EXPECT_EQ(clock.monotonic_ms(), 5'000u + 10'010u + 9'990u);
}

TEST(SimClockTest, WallClockSkewsDriftsAndJumps) {
  Simulation simulation(1);
  SimClock clock(&simulation, ClockSpec{-1'500, 100, 0});
  EXPECT_EQ(clock.wall_ms(), kSimulationEpochUnixMs - 1'500);
  simulation.run_until(100'000'000);  // 100 s: +10 ms of drift
  EXPECT_EQ(clock.wall_ms(), kSimulationEpochUnixMs - 1'500 + 100'010);
  clock.jump_ms(-30'000);
  EXPECT_EQ(clock.wall_ms(), kSimulationEpochUnixMs - 1'500 + 100'010 - 30'000);
  clock.jump_ms(45'000);
  EXPECT_EQ(clock.wall_ms(), kSimulationEpochUnixMs - 1'500 + 100'010 + 15'000);
}

}  // namespace
}  // namespace cairn::sim
