// Scheduler: where background work (memtable flushes, later compactions) runs. Production uses
// ThreadPoolScheduler; tests use InlineScheduler, which runs each task on the thread that
// scheduled it, in schedule order, so a run is deterministic.
//
// Contract for callers: schedule() may run the task before it returns (InlineScheduler does), so
// never call schedule() while holding a lock that the task takes.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual void schedule(std::function<void()> task) = 0;
};

// A fixed pool of threads draining one FIFO queue. The destructor runs every task already
// queued, then joins the threads. Thread-safety: schedule() may be called from any thread,
// including from inside a task.
class ThreadPoolScheduler final : public Scheduler {
 public:
  // Each worker adds `nice_increment` (0 to 19) to its own nice value, so that when it and a
  // foreground thread both want a core, the foreground thread (a server's event loop) mostly
  // gets it. Linux keeps a nice value per thread. A failure to change it is ignored: the work
  // then runs at normal priority, which is only slower for the foreground.
  explicit ThreadPoolScheduler(size_t thread_count, int nice_increment = 0);
  ~ThreadPoolScheduler() override;
  ThreadPoolScheduler(const ThreadPoolScheduler&) = delete;
  ThreadPoolScheduler& operator=(const ThreadPoolScheduler&) = delete;

  void schedule(std::function<void()> task) override;

 private:
  void run_worker(int nice_increment);

  std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Runs tasks on the calling thread. A task scheduled from inside a running task is queued and
// runs after the current one finishes (no recursion), before the outermost schedule() returns.
// Thread-safety: schedule() may be called from any thread; tasks run on the thread that
// started draining.
class InlineScheduler final : public Scheduler {
 public:
  void schedule(std::function<void()> task) override;
  size_t tasks_run() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::function<void()>> queue_;
  bool draining_ = false;
  size_t tasks_run_ = 0;
};

}  // namespace cairn
