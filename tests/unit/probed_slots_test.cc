// Proves the caches' open-addressing table: every stored value stays reachable from its hash
// through growth and the backward shifts of deletions, with long probe runs that wrap around the
// end of the table, and keeps the flag bits set in place; the table stays at most half full.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>

#include "io/random.h"
#include "storage/probed_slots.h"

namespace cairn {
namespace {

// Values are (key << 16) | hash, hashes taken from few home slots near the table's end so that
// runs collide and wrap.
struct LowBitsOf {
  uint64_t operator()(uint64_t value) const { return value & 0xFFFF; }
};

uint64_t hash_of_key(uint64_t key) { return 60 + key % 7; }  // homes 60..66 of 64+ slots
constexpr uint64_t kFlag = uint64_t{1} << 63;                 // a user bit LowBitsOf ignores

TEST(ProbedSlotsTest, EveryValueStaysReachable) {
  ProbedSlots<LowBitsOf> slots(0, LowBitsOf());
  std::map<uint64_t, uint64_t> model;  // key -> stored value
  Random random(11);
  const auto find = [&](uint64_t key) {
    const uint64_t hash = hash_of_key(key);
    return slots.find(hash, [&](uint64_t value) { return ((value & ~kFlag) >> 16) == key; });
  };
  for (int step = 0; step < 20000; step++) {
    const uint64_t key = 1 + random.uniform(300);
    const size_t position = find(key);
    const uint64_t operation = random.uniform(3);
    if (operation == 2) {
      if (!slots.is_empty(position)) {
        slots.update_flags_at(position, slots.at(position) ^ kFlag, kFlag);
        model[key] ^= kFlag;
      }
    } else if (operation == 0) {
      if (slots.is_empty(position)) {
        const uint64_t value = (key << 16) | hash_of_key(key);
        slots.insert(hash_of_key(key), value);
        model[key] = value;
      }
    } else if (!slots.is_empty(position)) {
      slots.erase_at(position);
      model.erase(key);
    }
    ASSERT_EQ(slots.size(), model.size());
    ASSERT_LE(2 * slots.size(), slots.slot_count());
    if (step % 97 == 0) {
      for (const auto& [stored_key, value] : model) {
        const size_t found = find(stored_key);
        ASSERT_FALSE(slots.is_empty(found)) << "key " << stored_key << " lost at step " << step;
        ASSERT_EQ(slots.at(found), value);
      }
    }
  }
  size_t visited = 0;
  slots.for_each([&](uint64_t value) {
    EXPECT_EQ(model.at((value & ~kFlag) >> 16), value);
    visited++;
  });
  EXPECT_EQ(visited, model.size());
}

// Proves find_bounded answers as find within its bound and gives up (slot_count()) past it, and
// slot_data() is the slots at() reads.
TEST(ProbedSlotsTest, BoundedFindStopsAfterItsSlots) {
  ProbedSlots<LowBitsOf> slots(0, LowBitsOf());
  const uint64_t home = 62;  // a run of five values from slot 62 wraps past the end at 64
  for (uint64_t key = 1; key <= 5; key++) slots.insert(home, (key << 16) | home);
  ASSERT_EQ(slots.slot_count(), 64u);
  for (size_t position = 0; position < slots.slot_count(); position++) {
    EXPECT_EQ(slots.slot_data()[position], slots.at(position));
  }
  const auto is_key = [](uint64_t key) {
    return [key](uint64_t value) { return (value >> 16) == key; };
  };
  for (uint64_t key = 1; key <= 5; key++) {
    const size_t position = slots.find(home, is_key(key));
    EXPECT_EQ(position, (home + key - 1) % 64);
    EXPECT_EQ(slots.find_bounded(home, key, is_key(key)), position);
    EXPECT_EQ(slots.find_bounded(home, key - 1, is_key(key)), slots.slot_count());
  }
  EXPECT_EQ(slots.find_bounded(home, 6, is_key(9)), slots.find(home, is_key(9)));  // the empty end
}

}  // namespace
}  // namespace cairn
