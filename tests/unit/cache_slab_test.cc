// Proves the cache slab reuses released slots (and resets their entries), and that shard
// capacities sum exactly to the cache's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/cache_slab.h"

namespace cairn {
namespace {

struct TestEntry {
  std::string bytes;
  std::shared_ptr<int> owned;
};

// Proves a released slot is handed out again before the slab grows, holding a fresh entry, and
// that releasing frees what the entry owned.
TEST(CacheSlabTest, ReleasedSlotsAreReusedAndReset) {
  CacheSlab<TestEntry> slab;
  const uint32_t first = slab.allocate();
  const uint32_t second = slab.allocate();
  EXPECT_NE(first, second);
  EXPECT_EQ(slab.size(), 2u);
  auto owned = std::make_shared<int>(7);
  slab[first] = TestEntry{"first", owned};
  slab[second] = TestEntry{"second", nullptr};
  EXPECT_EQ(owned.use_count(), 2);

  slab.release(first);
  EXPECT_EQ(owned.use_count(), 1);  // the entry's reference went with the release
  EXPECT_TRUE(slab[first].bytes.empty());
  const uint32_t reused = slab.allocate();
  EXPECT_EQ(reused, first);
  EXPECT_EQ(slab.size(), 2u);
  EXPECT_TRUE(slab[reused].bytes.empty());
  EXPECT_EQ(slab[second].bytes, "second");
  EXPECT_EQ(slab.allocate(), 2u);  // no released slot left: the slab grows
}

// Proves released slots come back last-released first and each only once.
TEST(CacheSlabTest, EachReleasedSlotComesBackOnce) {
  CacheSlab<TestEntry> slab;
  for (int i = 0; i < 10; i++) slab.allocate();
  for (uint32_t index : {3u, 7u, 5u}) slab.release(index);
  EXPECT_EQ(slab.allocate(), 5u);
  EXPECT_EQ(slab.allocate(), 7u);
  EXPECT_EQ(slab.allocate(), 3u);
  EXPECT_EQ(slab.allocate(), 10u);
}

// Proves the shards' capacities differ by at most one byte and sum to the whole.
TEST(CacheSlabTest, ShardCapacitiesSumExactly) {
  for (const size_t capacity : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{1000003}}) {
    for (const size_t shards : {size_t{1}, size_t{16}, size_t{64}}) {
      size_t total = 0;
      size_t smallest = SIZE_MAX;
      size_t largest = 0;
      for (size_t i = 0; i < shards; i++) {
        const size_t bytes = shard_capacity_bytes(capacity, shards, i);
        total += bytes;
        smallest = std::min(smallest, bytes);
        largest = std::max(largest, bytes);
      }
      EXPECT_EQ(total, capacity) << capacity << " over " << shards;
      EXPECT_LE(largest - smallest, 1u) << capacity << " over " << shards;
    }
  }
}

}  // namespace
}  // namespace cairn
