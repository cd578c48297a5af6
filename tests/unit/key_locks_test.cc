// Proves the striped key locks: a guard excludes others from its keys until it is destroyed or
// moved out and unlocked once; guards of many keys (past the inline stripes, with repeats) lock
// each stripe once; and commands locking overlapping key sets in any order neither deadlock nor
// lose an update.
#include "server/key_locks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

// Proves a second locker of the same key waits until the first guard is gone.
TEST(KeyLocksTest, AGuardExcludesOthersUntilDestroyed) {
  KeyLocks locks;
  std::atomic<bool> acquired{false};
  std::thread waiter;
  {
    KeyLockGuard guard = locks.lock_one("counter");
    waiter = std::thread([&] {
      KeyLockGuard other = locks.lock_one("counter");
      acquired = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(acquired.load()) << "the key was locked twice";
  }
  waiter.join();
  EXPECT_TRUE(acquired.load());
}

// Proves a guard of more keys than it holds inline, with repeated keys, locks and releases each
// stripe once (a stripe locked twice would deadlock here; one left locked would block the relock),
// and that a moved guard releases its stripes once, when its new owner goes.
TEST(KeyLocksTest, ManyKeysAndMovedGuardsReleaseEachStripeOnce) {
  KeyLocks locks;
  std::vector<std::string> names;
  for (int i = 0; i < 20; i++) names.push_back("key" + std::to_string(i % 15));
  const std::vector<std::string_view> keys(names.begin(), names.end());
  KeyLockGuard moved;
  {
    KeyLockGuard guard = locks.lock(keys);
    moved = std::move(guard);
  }  // the moved-from guard unlocks nothing
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    KeyLockGuard again = locks.lock(keys);
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(acquired.load()) << "the moved guard lost its locks";
  moved.unlock();
  waiter.join();
  EXPECT_TRUE(acquired.load());
  KeyLockGuard relocked = locks.lock(keys);  // every stripe was released
}

// Proves threads locking overlapping key sets, named in different orders, finish (no deadlock)
// and lose no read-modify-write of the counters they share.
TEST(KeyLocksTest, OverlappingKeySetsInAnyOrderNeitherDeadlockNorLoseUpdates) {
  KeyLocks locks;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  std::vector<int> counters(names.size(), 0);  // guarded by the stripes of names[i]
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; round++) {
        // Three keys, in an order that differs by thread and round.
        std::vector<size_t> picked;
        for (int k = 0; k < 3; k++) picked.push_back((t * 7 + round * (k + 3)) % names.size());
        std::vector<std::string_view> keys;
        for (size_t i : picked) keys.push_back(names[i]);
        KeyLockGuard guard = locks.lock(keys);
        for (size_t i : picked) {
          const int read = counters[i];
          counters[i] = read + 1;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int total = 0;
  for (int count : counters) total += count;
  EXPECT_EQ(total, kThreads * kRounds * 3);
}

}  // namespace
}  // namespace cairn
