// Proves the cluster bus over real TCP on 127.0.0.1: messages arrive whole, in order, with their
// sender (small and 1 MiB ones); a peer that is not there costs failed connects and dropped
// messages, then gets messages once it listens (after the backoff); a peer that never reads
// holds at most the send queue's bound; a client speaking anything but bus frames is cut off
// without disturbing real peers; a message to a peer without an address is dropped; and the
// lookahead sees the messages of a read ahead of their delivery.
#include "net/bus_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <span>
#include <thread>

#include "net/socket.h"

namespace cairn {
namespace {

using namespace std::chrono_literals;

// An event loop on its own thread; tests act on it through on_loop(), which waits for the result.
// Transports are destroyed only once it stopped (Node's destructor stops it first): a handler
// must outlive the loop iteration that may still name it.
class LoopThread {
 public:
  LoopThread() : loop_(EventLoop::create().value()), thread_([this] { loop_->run(); }) {}
  ~LoopThread() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    loop_->stop();
    thread_.join();
  }
  EventLoop* loop() { return loop_.get(); }

  template <typename F>
  auto on_loop(F f) {
    std::promise<decltype(f())> promise;
    loop_->post([&] {
      if constexpr (std::is_void_v<decltype(f())>) {
        f();
        promise.set_value();
      } else {
        promise.set_value(f());
      }
    });
    return promise.get_future().get();
  }
  // Polls `condition` on the loop every 5 ms until it holds or `timeout` passes.
  template <typename F>
  bool wait_for(F condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (on_loop(condition)) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

struct Received {
  NodeId from;
  std::string message;
};

// A transport on the loop whose received messages are kept (read them on the loop).
struct Node {
  Node(LoopThread& thread_in, NodeId id_in, BusTransportOptions options = {})
      : thread(thread_in), id(id_in) {
    transport = thread.on_loop([&] {
      return BusTransport::start(thread.loop(), id, options,
                                 [this](NodeId from, std::string_view message) {
                                   received.push_back({from, std::string(message)});
                                 })
          .value();
    });
  }
  ~Node() { thread.stop(); }
  LoopThread& thread;
  NodeId id;
  std::unique_ptr<BusTransport> transport;
  std::vector<Received> received;
};

// Points `from` at `to` and sends a first message (flushed, for a deferred transport): true once
// it arrived, the connection then being up.
bool connect(Node& from, Node& to) {
  from.thread.on_loop([&] {
    from.transport->set_peer_address(to.id, "127.0.0.1", to.transport->port());
    from.transport->send(to.id, "connects");
    from.transport->flush_queued();
  });
  return to.thread.wait_for([&] { return to.received.size() == 1; });
}

// A port that was free a moment ago.
uint16_t free_port() {
  const int fd = listen_tcp("127.0.0.1", 0, 1).value();
  const uint16_t port = local_port(fd);
  ::close(fd);
  return port;
}

// Proves many messages, and a large one, arrive in order with their sender's id.
TEST(BusTransportTest, MessagesArriveWholeInOrderWithTheirSender) {
  LoopThread thread;
  Node a(thread, NodeId{1});
  Node b(thread, NodeId{2});
  const uint16_t b_port = b.transport->port();
  const std::string big(1 << 20, 'x');
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", b_port);
    for (int i = 0; i < 1000; i++) a.transport->send(NodeId{2}, "m" + std::to_string(i));
    a.transport->send(NodeId{2}, big);
  });
  ASSERT_TRUE(thread.wait_for([&] { return b.received.size() == 1001; }));
  thread.on_loop([&] {
    for (int i = 0; i < 1000; i++) {
      EXPECT_EQ(b.received[i].from, NodeId{1});
      EXPECT_EQ(b.received[i].message, "m" + std::to_string(i));
    }
    EXPECT_EQ(b.received[1000].message, big);
    EXPECT_EQ(a.transport->stats().messages_sent, 1001u);
    EXPECT_EQ(b.transport->stats().messages_received, 1001u);
  });
}

// Proves that with deferred_flush nothing leaves before flush_queued() (an owner makes its
// writes durable first), everything queued then arrives in order, and discard_queued() drops
// what was queued, counted as lost.
TEST(BusTransportTest, DeferredMessagesWaitForTheFlush) {
  LoopThread thread;
  BusTransportOptions deferred;
  deferred.deferred_flush = true;
  Node a(thread, NodeId{1}, deferred);
  Node b(thread, NodeId{2});
  ASSERT_TRUE(connect(a, b));
  thread.on_loop([&] {
    for (int i = 0; i < 10; i++) a.transport->send(NodeId{2}, "m" + std::to_string(i));
  });
  EXPECT_FALSE(thread.wait_for([&] { return b.received.size() > 1; }, 300ms));
  thread.on_loop([&] { a.transport->flush_queued(); });
  ASSERT_TRUE(thread.wait_for([&] { return b.received.size() == 11; }));
  thread.on_loop([&] {
    for (int i = 0; i < 10; i++) EXPECT_EQ(b.received[1 + i].message, "m" + std::to_string(i));
    a.transport->send(NodeId{2}, "never");
    a.transport->discard_queued();
    EXPECT_EQ(a.transport->stats().dropped_connection_lost, 1u);
  });
  EXPECT_FALSE(thread.wait_for([&] { return b.received.size() > 11; }, 300ms));
}

// Proves the lookahead is shown the messages of a read in windows of at most 16 consecutive
// ones, each message at most once and before it is delivered, the next window while the one
// before it is still being delivered; delivery itself is unchanged (all, in order).
TEST(BusTransportTest, TheLookaheadSeesWindowsAheadOfDelivery) {
  LoopThread thread;
  BusTransportOptions deferred;
  deferred.deferred_flush = true;
  Node a(thread, NodeId{1}, deferred);
  Node b(thread, NodeId{2});
  ASSERT_TRUE(connect(a, b));
  std::vector<std::vector<std::string>> windows;
  std::map<std::string, size_t> shown_before;  // message: deliveries before it was shown
  thread.on_loop([&] {
    b.transport->set_lookahead([&](std::span<const std::string_view> messages) {
      windows.emplace_back(messages.begin(), messages.end());
      for (const std::string_view message : messages) {
        EXPECT_TRUE(shown_before.emplace(message, b.received.size()).second) << message;
      }
    });
    for (int i = 0; i < 100; i++) a.transport->send(NodeId{2}, "m" + std::to_string(i));
    a.transport->flush_queued();  // one write: the messages arrive in one read, or a few
  });
  ASSERT_TRUE(thread.wait_for([&] { return b.received.size() == 101; }));
  thread.on_loop([&] {
    bool shown_a_window_ahead = false;
    for (int i = 0; i < 100; i++) {
      const std::string message = "m" + std::to_string(i);
      EXPECT_EQ(b.received[1 + i].message, message);
      const auto shown = shown_before.find(message);
      if (shown == shown_before.end()) continue;
      EXPECT_LE(shown->second, size_t(1 + i)) << message << " was shown after its delivery";
      if (shown->second < size_t(i)) shown_a_window_ahead = true;
    }
    EXPECT_GE(shown_before.size(), 50u);
    EXPECT_TRUE(shown_a_window_ahead);
    for (const std::vector<std::string>& window : windows) {
      EXPECT_GE(window.size(), 1u);
      EXPECT_LE(window.size(), 16u);
      for (size_t i = 1; i < window.size(); i++) {
        EXPECT_EQ(std::stoi(window[i].substr(1)), std::stoi(window[i - 1].substr(1)) + 1);
      }
    }
  });
}

// Proves a partition (the test fault) drops messages both ways, counted, and healing it lets
// them through again.
TEST(BusTransportTest, APartitionDropsBothWaysUntilHealed) {
  LoopThread thread;
  Node a(thread, NodeId{1});
  Node b(thread, NodeId{2});
  const uint16_t a_port = a.transport->port();
  const uint16_t b_port = b.transport->port();
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", b_port);
    b.transport->set_peer_address(NodeId{1}, "127.0.0.1", a_port);
    a.transport->set_partitioned({NodeId{2}});
    a.transport->send(NodeId{2}, "lost on the way out");
    b.transport->send(NodeId{1}, "lost on the way in");
  });
  ASSERT_TRUE(thread.wait_for([&] { return a.transport->stats().dropped_partitioned == 2; }));
  thread.on_loop([&] {
    EXPECT_TRUE(a.received.empty());
    EXPECT_TRUE(b.received.empty());
    a.transport->set_partitioned({});
    a.transport->send(NodeId{2}, "after");
    b.transport->send(NodeId{1}, "healed");
  });
  ASSERT_TRUE(thread.wait_for([&] { return a.received.size() == 1 && b.received.size() == 1; }));
  thread.on_loop([&] {
    EXPECT_EQ(a.received[0].message, "healed");
    EXPECT_EQ(b.received[0].message, "after");
  });
}

// Proves a peer that is not listening costs failed connects and dropped messages, and that once
// it listens, messages sent after the backoff arrive.
TEST(BusTransportTest, AnAbsentPeerIsReachedOnceItListens) {
  LoopThread thread;
  Node a(thread, NodeId{1});
  const uint16_t port = free_port();
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", port);
    a.transport->send(NodeId{2}, "lost");
  });
  ASSERT_TRUE(thread.wait_for([&] { return a.transport->stats().connect_failures >= 1; }));
  BusTransportOptions options;
  options.port = port;
  Node b(thread, NodeId{2}, options);
  // Keep sending until one arrives: those sent while backing off are dropped.
  ASSERT_TRUE(thread.wait_for([&] {
    a.transport->send(NodeId{2}, "hello");
    return !b.received.empty();
  }));
  thread.on_loop([&] {
    EXPECT_EQ(b.received.front().message, "hello");
    const BusStats& stats = a.transport->stats();
    EXPECT_GE(stats.dropped_connection_lost + stats.dropped_backing_off, 1u);
  });
}

// Proves a peer that accepts but never reads holds at most the send queue's bound: past it,
// messages are dropped and counted.
// Proves a peer that comes back is reached as soon as it speaks, not after the backoff: a
// restarted node's first requests would otherwise fail for up to reconnect_backoff_max_ms.
TEST(BusTransportTest, AMessageFromAPeerEndsTheBackoffToIt) {
  LoopThread thread;
  BusTransportOptions slow;
  slow.reconnect_backoff_min_ms = 60'000;  // longer than the test may wait
  slow.reconnect_backoff_max_ms = 60'000;
  Node a(thread, NodeId{1}, slow);
  const uint16_t port = free_port();
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", port);
    a.transport->send(NodeId{2}, "lost");
  });
  ASSERT_TRUE(thread.wait_for([&] { return a.transport->stats().connect_failures >= 1; }));
  thread.on_loop([&] {
    a.transport->send(NodeId{2}, "dropped while backing off");
    EXPECT_EQ(a.transport->stats().dropped_backing_off, 1u);
  });
  BusTransportOptions options;
  options.port = port;
  Node b(thread, NodeId{2}, options);
  thread.on_loop([&] {
    b.transport->set_peer_address(NodeId{1}, "127.0.0.1", a.transport->port());
    b.transport->send(NodeId{1}, "back");
  });
  ASSERT_TRUE(thread.wait_for([&] { return !a.received.empty(); }));
  thread.on_loop([&] { a.transport->send(NodeId{2}, "reached"); });
  ASSERT_TRUE(thread.wait_for([&] { return !b.received.empty(); }));
  thread.on_loop([&] {
    EXPECT_EQ(b.received.front().message, "reached");
    EXPECT_EQ(a.transport->stats().dropped_backing_off, 1u);
  });
}

TEST(BusTransportTest, ASlowPeerCostsBoundedMemory) {
  LoopThread thread;
  BusTransportOptions options;
  options.send_queue_bytes_max = 4 << 20;
  Node a(thread, NodeId{1}, options);
  const int silent = listen_tcp("127.0.0.1", 0, 4).value();  // never accepts, never reads
  const uint16_t port = local_port(silent);
  const std::string message(1 << 20, 'y');
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", port);
    for (int i = 0; i < 100; i++) a.transport->send(NodeId{2}, message);
  });
  ASSERT_TRUE(thread.wait_for([&] { return a.transport->stats().dropped_queue_full > 0; }));
  thread.on_loop([&] {
    // Sent or queued: what the bound and the kernel's socket buffers hold, far from 100 MiB.
    EXPECT_LT(a.transport->stats().messages_sent, 40u);
  });
  thread.stop();
  ::close(silent);
}

// Proves a message larger than the send queue's bound goes while the queue is under the bound
// (values travel whole), and one larger than a frame may carry is dropped and counted, not sent.
TEST(BusTransportTest, AMessageOverTheQueueBoundGoesAlone) {
  LoopThread thread;
  BusTransportOptions options;
  options.send_queue_bytes_max = 1 << 20;
  options.payload_bytes_max = 8 << 20;
  Node a(thread, NodeId{1}, options);
  Node b(thread, NodeId{2}, options);
  const std::string large(4 << 20, 'l');
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", b.transport->port());
    a.transport->send(NodeId{2}, "small");  // queued while the connection is being made
    a.transport->send(NodeId{2}, large);
    a.transport->send(NodeId{2}, std::string((8 << 20) + 1, 't'));
  });
  ASSERT_TRUE(thread.wait_for([&] { return b.received.size() == 2; }));
  thread.on_loop([&] {
    EXPECT_EQ(b.received[0].message, "small");
    EXPECT_EQ(b.received[1].message, large);
    EXPECT_EQ(a.transport->stats().dropped_too_large, 1u);
    EXPECT_EQ(a.transport->stats().dropped_queue_full, 0u);
  });
  thread.stop();
}

// Proves a client that speaks anything but bus frames is cut off, counted, and a real peer
// keeps being served.
TEST(BusTransportTest, AForeignClientIsCutOff) {
  LoopThread thread;
  Node a(thread, NodeId{1});
  Node b(thread, NodeId{2});
  const uint16_t b_port = b.transport->port();
  const int client = connect_tcp("127.0.0.1", b_port).value();
  // Wait for the connection, then write a RESP command.
  for (int i = 0; i < 200 && !connect_result(client).is_ok(); i++) std::this_thread::sleep_for(5ms);
  const std::string resp = "*1\r\n$4\r\nPING\r\n";
  ASSERT_EQ(::send(client, resp.data(), resp.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(resp.size()));
  ASSERT_TRUE(thread.wait_for([&] { return b.transport->stats().protocol_errors == 1; }));
  // The bus closed it: a read ends (0) rather than waiting.
  char byte;
  ssize_t n = -1;
  for (int i = 0; i < 400 && n != 0; i++) {
    n = ::recv(client, &byte, 1, MSG_DONTWAIT);
    if (n != 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(n, 0);
  ::close(client);
  thread.on_loop([&] {
    a.transport->set_peer_address(NodeId{2}, "127.0.0.1", b_port);
    a.transport->send(NodeId{2}, "still here");
  });
  ASSERT_TRUE(thread.wait_for([&] { return b.received.size() == 1; }));
  thread.on_loop([&] {
    a.transport->send(NodeId{3}, "nobody");
    EXPECT_EQ(a.transport->stats().dropped_unknown_peer, 1u);
  });
}

}  // namespace
}  // namespace cairn
