// Proves the arena hands out aligned, stable memory and counts it, and that the skiplist is an
// ordered set that lock-free readers can iterate while one writer inserts.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/arena.h"
#include "storage/skiplist.h"

namespace cairn {
namespace {

struct U64Comparator {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};
using U64SkipList = SkipList<uint64_t, U64Comparator>;

std::vector<uint64_t> scan(const U64SkipList& list) {
  std::vector<uint64_t> keys;
  U64SkipList::Iterator iterator(&list);
  for (iterator.seek_to_first(); iterator.valid(); iterator.next()) keys.push_back(iterator.key());
  return keys;
}

// Proves allocations are aligned when asked, keep their contents while later ones are made, and
// that memory usage covers every byte handed out.
TEST(MemTableArenaTest, AllocationsAreStableAlignedAndCounted) {
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
    const bool aligned = random() % 2 == 0;
    char* memory = aligned ? arena.allocate_aligned(bytes) : arena.allocate(bytes);
    if (aligned) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(memory) % kArenaAlignmentBytes, 0u);
    }
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

// Proves an empty list has no keys and positions nowhere.
TEST(MemTableSkipListTest, EmptyListHasNoKeys) {
  Arena arena;
  U64SkipList list(U64Comparator(), &arena, 1);
  EXPECT_FALSE(list.contains(10));
  U64SkipList::Iterator iterator(&list);
  EXPECT_FALSE(iterator.valid());
  iterator.seek_to_first();
  EXPECT_FALSE(iterator.valid());
  iterator.seek(100);
  EXPECT_FALSE(iterator.valid());
}

// Proves random inserts give the same contents, order and seek results as std::set.
TEST(MemTableSkipListTest, RandomInsertsMatchStdSet) {
  for (uint64_t seed : {1ULL, 2ULL, 0xdecafULL}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    Arena arena;
    U64SkipList list(U64Comparator(), &arena, seed);
    std::set<uint64_t> model;
    for (int i = 0; i < 3000; i++) {
      const uint64_t key = random() % 10000;
      if (model.insert(key).second) list.insert(key);
    }
    EXPECT_EQ(scan(list), std::vector<uint64_t>(model.begin(), model.end()));
    for (uint64_t key = 0; key < 10010; key += 7) {
      EXPECT_EQ(list.contains(key), model.contains(key)) << key;
      U64SkipList::Iterator iterator(&list);
      iterator.seek(key);
      const auto expected = model.lower_bound(key);
      ASSERT_EQ(iterator.valid(), expected != model.end()) << key;
      if (iterator.valid()) {
        EXPECT_EQ(iterator.key(), *expected) << key;
      }
    }
  }
}

// Keys that live in their own nodes: NUL-terminated strings written by insert_with_payload.
struct CStringComparator {
  int operator()(const char* a, const char* b) const { return std::strcmp(a, b); }
};

// Proves keys written into their nodes' payload are ordered and found like separately held ones,
// and that the payload bytes stay intact as later nodes are allocated.
TEST(MemTableSkipListTest, PayloadKeysMatchStdSet) {
  const uint64_t seed = 0x9a710ad;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  Arena arena;
  SkipList<const char*, CStringComparator> list(CStringComparator(), &arena, seed);
  std::set<std::string> model;
  for (int i = 0; i < 3000; i++) {
    // Lengths up to past an arena block, so some nodes get blocks of their own.
    const std::string key =
        std::to_string(random() % 5000) + std::string(random() % 20 == 0 ? 1500 : 0, 'p');
    if (!model.insert(key).second) continue;
    list.insert_with_payload(key.size() + 1, [&](char* payload) -> const char* {
      std::memcpy(payload, key.c_str(), key.size() + 1);
      return payload;
    });
  }
  SkipList<const char*, CStringComparator>::Iterator iterator(&list);
  auto expected = model.begin();
  for (iterator.seek_to_first(); iterator.valid(); iterator.next(), ++expected) {
    ASSERT_NE(expected, model.end());
    ASSERT_EQ(std::string(iterator.key()), *expected);
  }
  EXPECT_EQ(expected, model.end());
  for (const std::string& key : {std::string("1"), std::string("250"), std::string("9")}) {
    iterator.seek(key.c_str());
    const auto lower_bound = model.lower_bound(key);
    ASSERT_EQ(iterator.valid(), lower_bound != model.end()) << key;
    if (iterator.valid()) {
      EXPECT_EQ(std::string(iterator.key()), *lower_bound) << key;
    }
    EXPECT_EQ(list.contains(key.c_str()), model.contains(key)) << key;
  }
}

// Keys of the concurrent test: the low bits hold the insertion index, the high bits scatter the
// keys so inserts land all over the list. A reader can check a key it sees was generated.
constexpr int kIndexBits = 20;
uint64_t concurrent_key(uint64_t index) {
  uint64_t mixed = (index + 1) * 0x9e3779b97f4a7c15ULL;
  mixed ^= mixed >> 29;
  return (mixed << kIndexBits) | index;
}
uint64_t index_of(uint64_t key) { return key & ((uint64_t{1} << kIndexBits) - 1); }

// One reader's pass: the keys are strictly ascending, each was inserted (its index is below the
// count published after the pass), and every key inserted before the pass began is seen.
void check_one_pass(const U64SkipList& list, const std::atomic<uint64_t>& inserted_count) {
  const uint64_t inserted_before = inserted_count.load(std::memory_order_acquire);
  std::vector<uint64_t> seen;
  U64SkipList::Iterator iterator(&list);
  for (iterator.seek_to_first(); iterator.valid(); iterator.next()) seen.push_back(iterator.key());
  const uint64_t inserted_after = inserted_count.load(std::memory_order_acquire);

  uint64_t seen_from_before = 0;
  for (size_t i = 0; i < seen.size(); i++) {
    if (i > 0) {
      ASSERT_LT(seen[i - 1], seen[i]);
    }
    const uint64_t index = index_of(seen[i]);
    // The writer publishes the count after the insert, so a key may be seen just before.
    ASSERT_LE(index, inserted_after);
    ASSERT_EQ(seen[i], concurrent_key(index));
    if (index < inserted_before) seen_from_before++;
  }
  ASSERT_EQ(seen_from_before, inserted_before);
}

// Proves readers iterating while one writer inserts always see a sorted list of inserted keys
// that includes everything inserted before they started.
TEST(MemTableSkipListTest, ConcurrentReadersSeeSortedInsertedKeys) {
  const uint64_t seed = 0xc0c0;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  constexpr uint64_t kKeyCount = 20000;
  constexpr int kReaderCount = 3;
  static_assert(kKeyCount < (uint64_t{1} << kIndexBits));
  Arena arena;
  U64SkipList list(U64Comparator(), &arena, seed);
  std::atomic<uint64_t> inserted_count{0};
  std::atomic<bool> writer_done{false};

  std::vector<std::thread> readers;
  std::atomic<int> passes{0};
  for (int r = 0; r < kReaderCount; r++) {
    readers.emplace_back([&] {
      // At least one pass after the writer finished, so the last state is checked too.
      bool last = false;
      while (!last) {
        last = writer_done.load(std::memory_order_acquire);
        check_one_pass(list, inserted_count);
        passes.fetch_add(1, std::memory_order_relaxed);
        if (::testing::Test::HasFatalFailure()) return;
      }
    });
  }
  for (uint64_t index = 0; index < kKeyCount; index++) {
    list.insert(concurrent_key(index));
    inserted_count.store(index + 1, std::memory_order_release);
  }
  writer_done.store(true, std::memory_order_release);
  for (std::thread& reader : readers) reader.join();
  EXPECT_GE(passes.load(), kReaderCount);
  EXPECT_EQ(scan(list).size(), kKeyCount);
}

}  // namespace
}  // namespace cairn
