// EventLoop: one epoll instance driven by one thread. It owns the readiness wait, a queue of
// tasks posted from other threads (woken through an eventfd), one-shot and periodic timers (a
// min-heap whose earliest deadline is epoll_wait's timeout) and hooks run once at the end of
// every iteration, after that iteration's events, tasks and timers. The network server uses a
// hook for group commit: run every command read in the iteration, call
// SessionFactory::before_replies once, then write each connection's replies with one write; a
// cluster node sharing the loop adds its own (server/cluster_runtime.h).
//
// A task posted from the loop's own thread costs no syscall: the loop runs it after the current
// iteration's events without waiting in epoll_wait.
//
// Why epoll and not io_uring for now: with readiness notification each connection costs one
// read and one write per iteration (pipelined commands and their replies are batched), so the
// syscall count is already low and the code stays simple. An io_uring backend (liburing) can
// come later behind this same interface.
//
// Thread-safety: post() and stop() may be called from any thread. Everything else is called
// from the loop's thread (or before run() starts). Handlers registered with watch() must stay
// alive until unwatch() and until the end of the iteration in which they were unwatched (the
// iteration's event batch may still name them).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace cairn {

class EventLoop {
 public:
  // Interest and event bits.
  static constexpr uint32_t kReadable = 1;
  static constexpr uint32_t kWritable = 2;

  class Handler {
   public:
    virtual ~Handler() = default;
    // `events` holds kReadable (also on hang-up and error, so the handler's read sees them)
    // and/or kWritable.
    virtual void on_events(uint32_t events) = 0;
  };

  using TimerId = uint64_t;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers `fd` with the given interest (kReadable | kWritable, possibly 0).
  Status watch(int fd, uint32_t interest, Handler* handler);
  // Changes the interest of a watched fd.
  Status change(int fd, uint32_t interest, Handler* handler);
  // Stops watching `fd` (before it is closed).
  void unwatch(int fd);

  // Runs `task` on the loop thread soon, in posting order. Thread-safe.
  void post(std::function<void()> task);

  // Runs `fn` once after `delay_ms` (loop thread). Timers due at the same time fire in the order
  // they were added.
  TimerId add_timer(uint64_t delay_ms, std::function<void()> fn);
  // Runs `fn` every `period_ms` (REQUIRES > 0) until cancelled.
  TimerId add_periodic_timer(uint64_t period_ms, std::function<void()> fn);
  // Cancels a timer; unknown or fired one-shot ids are ignored. May be called from a timer.
  void cancel_timer(TimerId id);

  // Adds a hook called at the end of every iteration, after those added before it; the id
  // removes it.
  using HookId = uint64_t;
  HookId add_iteration_hook(std::function<void()> hook);
  void remove_iteration_hook(HookId id);

  // Runs until stop(). Returns at once if stop() was already called.
  void run();
  // Makes run() return after the current iteration. Thread-safe.
  void stop();
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_.load(); }

 private:
  struct TimerEntry {
    std::function<void()> fn;
    uint64_t period_ms = 0;
  };
  struct HeapItem {
    uint64_t deadline_ms;
    uint64_t sequence;
    TimerId id;
    bool operator>(const HeapItem& other) const {
      return deadline_ms != other.deadline_ms ? deadline_ms > other.deadline_ms
                                              : sequence > other.sequence;
    }
  };

  EventLoop(int epoll_fd, int wake_fd);
  void wake();
  void run_tasks();
  void run_timers();
  int timeout_ms() const;
  TimerId schedule(uint64_t delay_ms, uint64_t period_ms, std::function<void()> fn);

  const int epoll_fd_;
  const int wake_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<std::thread::id> thread_id_{};
  std::vector<std::pair<HookId, std::function<void()>>> hooks_;
  HookId next_hook_id_ = 1;

  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by tasks_mutex_
  bool wake_pending_ = false;                 // guarded by tasks_mutex_
  bool local_tasks_ = false;  // loop thread only: a task was posted from the loop's own thread
  std::vector<std::function<void()>> running_tasks_;

  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<HeapItem>> timer_heap_;
  std::unordered_map<TimerId, TimerEntry> timers_;
  TimerId next_timer_id_ = 1;
  uint64_t next_sequence_ = 0;
};

}  // namespace cairn
