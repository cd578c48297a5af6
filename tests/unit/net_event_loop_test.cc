// EventLoop: posted tasks from many threads, timer order, periodic and cancelled timers, the
// iteration hook, and fd readiness callbacks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "net/event_loop.h"

namespace cairn {
namespace {

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop.is_ok());
  return std::move(loop).value();
}

TEST(EventLoopTest, PostFromManyThreadsRunsEveryTaskOnTheLoopThread) {
  auto loop = make_loop();
  constexpr int kThreads = 4, kTasks = 1000;
  std::atomic<int> ran{0};
  std::atomic<bool> wrong_thread{false};
  std::thread runner([&] { loop->run(); });
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; t++) {
    posters.emplace_back([&] {
      for (int i = 0; i < kTasks; i++) {
        loop->post([&] {
          if (!loop->in_loop_thread()) wrong_thread = true;
          if (++ran == kThreads * kTasks) loop->stop();
        });
      }
    });
  }
  for (auto& p : posters) p.join();
  runner.join();
  EXPECT_EQ(ran.load(), kThreads * kTasks);
  EXPECT_FALSE(wrong_thread.load());
}

TEST(EventLoopTest, TimersFireInDeadlineOrderAndCancelledOnesDoNot) {
  auto loop = make_loop();
  std::vector<int> order;
  loop->add_timer(30, [&] { order.push_back(3); });
  loop->add_timer(10, [&] { order.push_back(1); });
  loop->add_timer(10, [&] { order.push_back(2); });  // same deadline: added later fires later
  const EventLoop::TimerId cancelled = loop->add_timer(20, [&] { order.push_back(99); });
  loop->cancel_timer(cancelled);
  int ticks = 0;
  EventLoop::TimerId periodic = 0;
  periodic = loop->add_periodic_timer(5, [&] {
    if (++ticks == 3) loop->cancel_timer(periodic);
  });
  loop->add_timer(60, [&] { loop->stop(); });
  loop->run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ticks, 3);
}

TEST(EventLoopTest, HookRunsAfterEachIterationsEvents) {
  auto loop = make_loop();
  std::vector<std::string> log;
  loop->add_iteration_hook([&] { log.push_back("hook"); });
  loop->post([&] {
    log.push_back("task");
    loop->stop();
  });
  loop->run();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[0], "task");
  EXPECT_EQ(log[1], "hook");
}

TEST(EventLoopTest, HooksRunInTheOrderAddedAndARemovedOneNoMore) {
  auto loop = make_loop();
  std::vector<std::string> log;
  loop->add_iteration_hook([&] { log.push_back("first"); });
  const EventLoop::HookId second = loop->add_iteration_hook([&] { log.push_back("second"); });
  int iterations = 0;
  loop->add_iteration_hook([&] {
    log.push_back("third");
    if (++iterations == 1) loop->remove_iteration_hook(second);
    if (iterations == 2) loop->stop();
  });
  loop->post([] {});
  loop->add_timer(1, [] {});  // a second iteration
  loop->run();
  EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "third", "first", "third"}));
}

// A task posted from the loop's thread (here by an iteration hook, as a cluster completion wakes
// its client) is run without a wake-up through the eventfd: it must not wait in epoll_wait for
// the loop's next event (a timer five seconds away).
TEST(EventLoopTest, ATaskPostedFromTheLoopThreadDoesNotWaitForTheNextEvent) {
  auto loop = make_loop();
  bool posted = false;
  bool ran = false;
  loop->add_iteration_hook([&] {
    if (posted) return;
    posted = true;
    loop->post([&] {
      ran = true;
      loop->stop();
    });
  });
  loop->add_timer(0, [] {});  // the first iteration
  loop->add_timer(5000, [&] { loop->stop(); });
  const auto start = std::chrono::steady_clock::now();
  loop->run();
  EXPECT_TRUE(ran);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

TEST(EventLoopTest, ReadinessCallsTheHandler) {
  auto loop = make_loop();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  struct Reader : EventLoop::Handler {
    EventLoop* loop;
    int fd;
    std::string got;
    void on_events(uint32_t events) override {
      ASSERT_TRUE(events & EventLoop::kReadable);
      char buffer[16];
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n > 0) got.append(buffer, static_cast<size_t>(n));
      if (got == "hi") loop->stop();
    }
  } reader;
  reader.loop = loop.get();
  reader.fd = fds[0];
  ASSERT_TRUE(loop->watch(fds[0], EventLoop::kReadable, &reader).is_ok());
  std::thread writer([&] { ASSERT_EQ(::write(fds[1], "hi", 2), 2); });
  loop->run();
  writer.join();
  EXPECT_EQ(reader.got, "hi");
  loop->unwatch(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoopTest, StopBeforeRunReturnsAtOnce) {
  auto loop = make_loop();
  loop->stop();
  loop->run();
  SUCCEED();
}

}  // namespace
}  // namespace cairn
