// Proves the arena hands out stable memory and counts it.
#include "storage/arena.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace cairn {
namespace {

// Proves allocations keep their contents while later ones are made, and
// that memory usage covers every byte handed out.
TEST(ArenaTest, AllocationsAreStableAndCounted) {
  const uint64_t seed = 0xa7e4a;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  Arena arena;
  EXPECT_EQ(arena.memory_usage_bytes(), 0u);
  std::vector<std::pair<char*, size_t>> allocations;
  size_t requested_bytes = 0;
  for (int i = 0; i < 2000; i++) {
    // Mostly small, sometimes above a block, to exercise both the bump and own-block paths.
    const size_t bytes = i % 100 == 0 ? 6000 + random() % 5000 : 1 + random() % 200;
    char* memory = arena.allocate(bytes);
    std::memset(memory, i & 0xff, bytes);
    allocations.emplace_back(memory, bytes);
    requested_bytes += bytes;
    EXPECT_GE(arena.memory_usage_bytes(), requested_bytes);
  }
  for (size_t i = 0; i < allocations.size(); i++) {
    const auto [memory, bytes] = allocations[i];
    for (size_t j = 0; j < bytes; j++) ASSERT_EQ(memory[j], static_cast<char>(i & 0xff));
  }
  // Bump allocation wastes at most a quarter block per block, plus bookkeeping.
  EXPECT_LT(arena.memory_usage_bytes(), requested_bytes * 2);
}

}  // namespace
}  // namespace cairn
