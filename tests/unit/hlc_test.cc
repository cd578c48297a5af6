// Proves the hybrid logical clock: timestamps strictly increase under any physical clock (one
// that stands still, jumps back or races ahead), follow physical time when it moves forward, and
// order after every timestamp a message brought in.
#include "common/hlc.h"

#include <gtest/gtest.h>

#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

// Proves a clock that moves forward gives its own milliseconds with a zero counter.
TEST(HlcTest, FollowsPhysicalTimeWhenItAdvances) {
  HybridClock clock;
  EXPECT_EQ(clock.now(1000), HlcTimestamp::of(1000, 0));
  EXPECT_EQ(clock.now(1000), HlcTimestamp::of(1000, 1));
  EXPECT_EQ(clock.now(1005), HlcTimestamp::of(1005, 0));
}

// Proves a jump back keeps the physical part and advances the counter, and that a full counter
// borrows the next millisecond rather than wrap.
TEST(HlcTest, NeverGoesBackwards) {
  HybridClock clock;
  clock.now(5000);
  EXPECT_EQ(clock.now(10), HlcTimestamp::of(5000, 1));
  for (uint64_t i = 2; i <= HlcTimestamp::kLogicalMax; i++) clock.now(10);
  EXPECT_EQ(clock.last(), HlcTimestamp::of(5000, HlcTimestamp::kLogicalMax));
  EXPECT_EQ(clock.now(10), HlcTimestamp::of(5001, 0));
}

// Proves a timestamp from a node whose clock is ahead pulls this clock past it.
TEST(HlcTest, AbsorbsSkewFromMessages) {
  HybridClock behind;
  behind.now(1000);
  const HlcTimestamp ahead = HlcTimestamp::of(9000, 7);
  EXPECT_EQ(behind.update(ahead, 1001), HlcTimestamp::of(9000, 8));
  EXPECT_GT(behind.now(1002), ahead);
  // An older timestamp changes nothing but the counter.
  EXPECT_EQ(behind.update(HlcTimestamp::of(10, 0), 1003), HlcTimestamp::of(9000, 10));
}

// Proves, under random clock moves and messages, that every timestamp exceeds the previous one
// and every absorbed one.
TEST(HlcTest, StrictlyIncreasesUnderRandomClocksAndMessages) {
  for (const uint64_t seed : test::test_seeds(40, 20, 500)) {
    Random random(seed);
    HybridClock clock;
    HlcTimestamp previous;
    uint64_t physical_ms = 1'000'000;
    for (int i = 0; i < 2000; i++) {
      physical_ms =
          random.one_in(4) ? physical_ms - random.uniform(500) : physical_ms + random.uniform(3);
      if (random.one_in(3)) {
        const HlcTimestamp received =
            HlcTimestamp::of(physical_ms + random.uniform(2000) - 1000, random.uniform(100));
        const HlcTimestamp got = clock.update(received, physical_ms);
        ASSERT_GT(got, received) << "seed " << seed;
        ASSERT_GT(got, previous) << "seed " << seed;
        previous = got;
      } else {
        const HlcTimestamp got = clock.now(physical_ms);
        ASSERT_GT(got, previous) << "seed " << seed;
        ASSERT_GE(got.physical_ms(), physical_ms) << "seed " << seed;
        previous = got;
      }
    }
  }
}

}  // namespace
}  // namespace cairn
