#include "io/scheduler.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/assert.h"

namespace cairn {

ThreadPoolScheduler::ThreadPoolScheduler(size_t thread_count, int nice_increment) {
  CAIRN_ASSERT(thread_count > 0);
  CAIRN_ASSERT(nice_increment >= 0 && nice_increment <= 19);
  threads_.reserve(thread_count);
  for (size_t i = 0; i < thread_count; ++i) {
    threads_.emplace_back([this, nice_increment] { run_worker(nice_increment); });
  }
}

ThreadPoolScheduler::~ThreadPoolScheduler() {
  // A task that destroys its own pool would join itself and hang forever.
  const auto self = std::this_thread::get_id();
  CAIRN_ASSERT(std::none_of(threads_.begin(), threads_.end(),
                            [self](const std::thread& thread) { return thread.get_id() == self; }));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  CAIRN_ASSERT(queue_.empty());
}

void ThreadPoolScheduler::schedule(std::function<void()> task) {
  CAIRN_ASSERT(task != nullptr);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
  }
  work_available_.notify_one();
}

void ThreadPoolScheduler::run_worker(int nice_increment) {
  if (nice_increment > 0) {
    // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value alone.
    const int current = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), current + nice_increment);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_available_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Stopping still drains: a worker leaves only once the queue is empty. A task that schedules
    // another while the pool stops is safe, because its own worker is still here to run it.
    if (queue_.empty()) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

void InlineScheduler::schedule(std::function<void()> task) {
  CAIRN_ASSERT(task != nullptr);
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.push_back(std::move(task));
  // Someone (this thread, further up the stack, or another thread) is draining already and
  // will run the task after the ones before it: returning here is what avoids recursion.
  if (draining_) return;
  draining_ = true;
  while (!queue_.empty()) {
    std::function<void()> next = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();  // the task may schedule, and other threads may too
    next();
    lock.lock();
    ++tasks_run_;
  }
  draining_ = false;
}

size_t InlineScheduler::tasks_run() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tasks_run_;
}

}  // namespace cairn
