// Proves ThreadPoolScheduler runs every task, drains its queue on destruction and lowers its
// workers' priority when asked, and that InlineScheduler runs nested schedules in FIFO order
// without recursion, each task once, from any thread.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "io/scheduler.h"

namespace cairn {
namespace {

// Proves every scheduled task runs, including tasks scheduled by tasks.
TEST(ThreadPoolSchedulerTest, RunsAllTasks) {
  std::atomic<int> runs{0};
  {
    ThreadPoolScheduler pool(2);
    for (int i = 0; i < 500; ++i) {
      pool.schedule([&runs, &pool] {
        runs.fetch_add(1);
        pool.schedule([&runs] { runs.fetch_add(1); });
      });
    }
  }
  EXPECT_EQ(runs.load(), 1000);
}

// Proves the destructor runs what is still queued: the one worker is held inside the first task
// while the others queue up, and the destructor starts before it is let go.
TEST(ThreadPoolSchedulerTest, DestructorDrainsQueue) {
  std::atomic<bool> release{false};
  std::atomic<int> runs{0};
  std::thread releaser;
  {
    ThreadPoolScheduler pool(1);
    pool.schedule([&release] {
      while (!release.load()) std::this_thread::yield();
    });
    for (int i = 0; i < 100; ++i) pool.schedule([&runs] { runs.fetch_add(1); });
    releaser = std::thread([&release] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      release.store(true);
    });
  }
  EXPECT_EQ(runs.load(), 100);
  releaser.join();
}

// Proves a task runs before schedule() returns and is counted.
// Proves a pool made with a nice increment runs its tasks at that much lower priority than the
// thread that made it (unless the caller's nice value is already at the ceiling).
TEST(ThreadPoolSchedulerTest, WorkersRunNicerByTheIncrement) {
  const int caller_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  std::atomic<int> worker_nice{-100};
  {
    ThreadPoolScheduler pool(1, 5);
    pool.schedule([&] { worker_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); });
  }
  EXPECT_EQ(worker_nice.load(), std::min(caller_nice + 5, 19));
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), caller_nice);
}

TEST(InlineSchedulerTest, RunsBeforeScheduleReturns) {
  InlineScheduler scheduler;
  bool ran = false;
  scheduler.schedule([&ran] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_EQ(scheduler.tasks_run(), 1u);
}

// Proves tasks scheduled from a running task wait for it (depth never exceeds one) and then run
// in schedule order, all before the outermost schedule() returns.
TEST(InlineSchedulerTest, NestedSchedulesRunFifoWithoutRecursion) {
  InlineScheduler scheduler;
  std::vector<char> order;
  int depth = 0;
  int max_depth = 0;
  auto task = [&](char name, std::function<void()> body) {
    return [&, name, body] {
      max_depth = std::max(max_depth, ++depth);
      order.push_back(name);
      if (body) body();
      --depth;
    };
  };
  scheduler.schedule(task('A', [&] {
    scheduler.schedule(task('B', [&] { scheduler.schedule(task('D', nullptr)); }));
    scheduler.schedule(task('C', nullptr));
    EXPECT_EQ(order.size(), 1u);  // B and C have not run yet
  }));
  EXPECT_EQ(std::string(order.begin(), order.end()), "ABCD");
  EXPECT_EQ(max_depth, 1);
  EXPECT_EQ(scheduler.tasks_run(), 4u);
}

// Proves concurrent schedule() calls from several threads run every task exactly once.
TEST(InlineSchedulerTest, ManyThreadsEachTaskRunsOnce) {
  constexpr int kThreads = 4;
  constexpr int kTasksPerThread = 2000;
  InlineScheduler scheduler;
  auto runs = std::make_unique<std::atomic<int>[]>(kThreads * kTasksPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTasksPerThread; ++i) {
        const int index = t * kTasksPerThread + i;
        scheduler.schedule([&runs, index] { runs[index].fetch_add(1); });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kThreads * kTasksPerThread; ++i) ASSERT_EQ(runs[i].load(), 1) << i;
  EXPECT_EQ(scheduler.tasks_run(), static_cast<size_t>(kThreads * kTasksPerThread));
}

}  // namespace
}  // namespace cairn
