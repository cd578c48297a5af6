#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "common/assert.h"

namespace cairn {

namespace {

constexpr int kEventBatch = 256;

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint32_t to_epoll(uint32_t interest) {
  uint32_t events = 0;
  if (interest & EventLoop::kReadable) events |= EPOLLIN | EPOLLRDHUP;
  if (interest & EventLoop::kWritable) events |= EPOLLOUT;
  return events;
}

Status errno_status(const char* what) {
  return Status::io_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return errno_status("epoll_create1");
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    Status status = errno_status("eventfd");
    ::close(epoll_fd);
    return status;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // nullptr marks the wake fd
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    Status status = errno_status("epoll_ctl(eventfd)");
    ::close(wake_fd);
    ::close(epoll_fd);
    return status;
  }
  return std::unique_ptr<EventLoop>(new EventLoop(epoll_fd, wake_fd));
}

EventLoop::EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

Status EventLoop::watch(int fd, uint32_t interest, Handler* handler) {
  CAIRN_ASSERT(handler != nullptr);
  epoll_event event{};
  event.events = to_epoll(interest);
  event.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return errno_status("epoll_ctl add");
  return Status::ok();
}

Status EventLoop::change(int fd, uint32_t interest, Handler* handler) {
  epoll_event event{};
  event.events = to_epoll(interest);
  event.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) return errno_status("epoll_ctl mod");
  return Status::ok();
}

void EventLoop::unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(std::function<void()> task) {
  const bool local = in_loop_thread();
  bool need_wake = false;
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
    if (local) {
      local_tasks_ = true;  // run() looks before it waits: no wake-up needed
    } else {
      need_wake = !wake_pending_;
      wake_pending_ = true;
    }
  }
  if (need_wake) wake();
}

EventLoop::HookId EventLoop::add_iteration_hook(std::function<void()> hook) {
  const HookId id = next_hook_id_++;
  hooks_.emplace_back(id, std::move(hook));
  return id;
}

void EventLoop::remove_iteration_hook(HookId id) {
  std::erase_if(hooks_, [id](const auto& entry) { return entry.first == id; });
}

void EventLoop::wake() {
  const uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void EventLoop::run_tasks() {
  {
    std::lock_guard lock(tasks_mutex_);
    running_tasks_.swap(tasks_);
    wake_pending_ = false;
    local_tasks_ = false;
  }
  for (auto& task : running_tasks_) task();
  running_tasks_.clear();
}

EventLoop::TimerId EventLoop::schedule(uint64_t delay_ms, uint64_t period_ms,
                                       std::function<void()> fn) {
  const TimerId id = next_timer_id_++;
  timers_.emplace(id, TimerEntry{std::move(fn), period_ms});
  timer_heap_.push(HeapItem{now_ms() + delay_ms, next_sequence_++, id});
  return id;
}

EventLoop::TimerId EventLoop::add_timer(uint64_t delay_ms, std::function<void()> fn) {
  return schedule(delay_ms, 0, std::move(fn));
}

EventLoop::TimerId EventLoop::add_periodic_timer(uint64_t period_ms, std::function<void()> fn) {
  CAIRN_ASSERT(period_ms > 0);
  return schedule(period_ms, period_ms, std::move(fn));
}

void EventLoop::cancel_timer(TimerId id) { timers_.erase(id); }

int EventLoop::timeout_ms() const {
  if (timer_heap_.empty()) return -1;
  const uint64_t now = now_ms();
  const uint64_t deadline = timer_heap_.top().deadline_ms;
  if (deadline <= now) return 0;
  const uint64_t wait = deadline - now;
  return wait > 60'000 ? 60'000 : static_cast<int>(wait);
}

void EventLoop::run_timers() {
  const uint64_t now = now_ms();
  while (!timer_heap_.empty() && timer_heap_.top().deadline_ms <= now) {
    const HeapItem item = timer_heap_.top();
    timer_heap_.pop();
    auto it = timers_.find(item.id);
    if (it == timers_.end()) continue;  // cancelled
    if (it->second.period_ms == 0) {
      std::function<void()> fn = std::move(it->second.fn);
      timers_.erase(it);
      fn();
    } else {
      // Next deadline from the scheduled one, so a periodic timer does not drift.
      timer_heap_.push(
          HeapItem{item.deadline_ms + it->second.period_ms, next_sequence_++, item.id});
      std::function<void()> fn = it->second.fn;  // copy: fn may cancel its own timer
      fn();
    }
  }
}

void EventLoop::run() {
  thread_id_.store(std::this_thread::get_id());
  epoll_event events[kEventBatch];
  while (!stop_.load(std::memory_order_acquire)) {
    const int n = epoll_wait(epoll_fd_, events, kEventBatch, local_tasks_ ? 0 : timeout_ms());
    if (n < 0 && errno != EINTR) CAIRN_ASSERT(false && "epoll_wait failed");
    for (int i = 0; i < n; i++) {
      auto* handler = static_cast<Handler*>(events[i].data.ptr);
      if (handler == nullptr) {
        uint64_t counter = 0;
        [[maybe_unused]] ssize_t read = ::read(wake_fd_, &counter, sizeof(counter));
        run_tasks();
        continue;
      }
      uint32_t ready = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ready |= kReadable;
      if (events[i].events & EPOLLOUT) ready |= kWritable;
      handler->on_events(ready);
    }
    if (local_tasks_) run_tasks();
    run_timers();
    // By index: a hook may add another (which runs from the next iteration on).
    for (size_t i = 0, count = hooks_.size(); i < count && i < hooks_.size(); i++) {
      hooks_[i].second();
    }
  }
  thread_id_.store(std::thread::id());
}

void EventLoop::stop() {
  stop_.store(true, std::memory_order_release);
  wake();
}

}  // namespace cairn
