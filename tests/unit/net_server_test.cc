// NetServer over loopback with a fake session: pipelining, protocol errors, backpressure,
// streamed arguments and bodies, stop(), ConnectionControl::close, maxclients, listen errors,
// blocked commands that poll on a timer or refuse to end.
#include "net/net_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/reply_writer.h"

namespace cairn {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(10);

// Generated bodies and arguments repeat a pseudo-random table whose period (a prime) does not
// divide any buffer size, so a lost, repeated or reordered chunk is caught.
constexpr size_t kPatternPeriod = 65521;

const std::string& pattern_table() {
  static const std::string table = [] {
    std::string t(kPatternPeriod, '\0');
    uint32_t x = 12345;
    for (char& c : t) {
      x = x * 1103515245u + 12345u;
      c = static_cast<char>(x >> 24);
    }
    return t;
  }();
  return table;
}


// Copies (or compares) pattern bytes [offset, offset + n) segment by segment.
void fill_pattern(char* out, size_t n, uint64_t offset) {
  while (n > 0) {
    const size_t at = offset % kPatternPeriod;
    const size_t take = std::min(n, kPatternPeriod - at);
    std::memcpy(out, pattern_table().data() + at, take);
    out += take, n -= take, offset += take;
  }
}
bool matches_pattern(const char* data, size_t n, uint64_t offset) {
  while (n > 0) {
    const size_t at = offset % kPatternPeriod;
    const size_t take = std::min(n, kPatternPeriod - at);
    if (std::memcmp(data, pattern_table().data() + at, take) != 0) return false;
    data += take, n -= take, offset += take;
  }
  return true;
}

class PatternSource : public ByteSource {
 public:
  explicit PatternSource(uint64_t size) : size_(size) {}
  uint64_t size_bytes() const override { return size_ + 2; }
  Result<size_t> read(char* buffer, size_t n) override {
    size_t written = 0;
    if (position_ < size_) {
      written = static_cast<size_t>(std::min<uint64_t>(n, size_ - position_));
      fill_pattern(buffer, written, position_);
      position_ += written;
    }
    while (written < n && position_ < size_ + 2) {
      buffer[written++] = position_ == size_ ? '\r' : '\n';
      position_++;
    }
    return written;
  }

 private:
  const uint64_t size_;
  uint64_t position_ = 0;
};

struct Shared {
  std::mutex mutex;
  std::vector<std::shared_ptr<ConnectionControl>> controls;  // by open order
  std::vector<ConnectionInfo> infos;
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> executed{0};
  std::atomic<int> before_replies_calls{0};
  std::atomic<int> executed_at_last_commit{0};
  std::atomic<bool> accepting{true};
  // Commands shown to Session::prefetch, and how many of them were not the next to run.
  std::atomic<int> prefetched{0};
  std::atomic<int> prefetch_mismatches{0};
  // The last streamed argument and how many appends delivered it.
  std::string streamed;
  std::atomic<int> stream_appends{0};
  // "sink destroyed" / "closed" in the order they happened.
  std::vector<std::string> events;
};

class StringSink : public ByteSink {
 public:
  explicit StringSink(Shared& shared) : shared_(shared) {}
  ~StringSink() override {
    std::lock_guard lock(shared_.mutex);
    shared_.events.push_back("sink destroyed");
  }
  Status append(std::string_view bytes) override {
    std::lock_guard lock(shared_.mutex);
    shared_.streamed.append(bytes);
    shared_.stream_appends++;
    return Status::ok();
  }

 private:
  Shared& shared_;
};

// Replies the arguments joined by spaces, except: QUIT (closes), BIG n (a bulk of n bytes),
// BODY n (a streamed body of n pattern bytes), SET k <streamed> (replies the streamed length).
class EchoSession : public Session {
 public:
  explicit EchoSession(Shared& shared) : shared_(shared) {}
  Outcome execute(std::span<const std::string_view> argv, std::string& out) override {
    shared_.executed++;
    if (!ahead_.empty()) {
      const std::string_view key = argv.size() > 1 ? argv[1] : std::string_view();
      if (ahead_.front() != std::make_pair(std::string(argv[0]), std::string(key))) {
        shared_.prefetch_mismatches++;
      }
      ahead_.pop_front();
    }
    ReplyWriter writer(&out, RespVersion::kResp2);
    Outcome outcome;
    if (argv[0] == "QUIT") {
      writer.ok();
      outcome.close_after_reply = true;
    } else if (argv[0] == "BIG" && argv.size() == 2) {
      writer.bulk_string(std::string(std::stoul(std::string(argv[1])), 'x'));
    } else if (argv[0] == "BODY" && argv.size() == 2) {
      const uint64_t size = std::stoull(std::string(argv[1]));
      writer.bulk_header(size);
      outcome.body = std::make_unique<PatternSource>(size);
    } else if (argv[0] == "POLL" && argv.size() == 2) {
      polls_left_ = std::stoi(std::string(argv[1]));
      polls_done_ = 0;
      return polling();
    } else if (argv[0] == "STUCK") {
      stuck_ = true;
      outcome.blocked = true;
    } else if (argv[0] == "SET" && streaming_) {
      streaming_ = false;
      std::lock_guard lock(shared_.mutex);
      writer.integer(static_cast<int64_t>(shared_.streamed.size()));
    } else {
      std::string joined;
      for (size_t i = 0; i < argv.size(); i++) {
        if (i > 0) joined += ' ';
        joined += argv[i];
      }
      writer.bulk_string(joined);
    }
    return outcome;
  }
  // POLL n runs again on its timer until its n-th run, which replies n. STUCK waits for a
  // wake-up and refuses to end before it (as a cluster pop writing what it took).
  Outcome retry_blocked(std::string& out) override {
    ReplyWriter writer(&out, RespVersion::kResp2);
    if (stuck_) {
      stuck_ = false;
      writer.simple_string("done");
      return Outcome();
    }
    polls_done_++;
    if (polls_done_ < polls_left_) return polling();
    writer.integer(polls_done_);
    return Outcome();
  }
  bool end_block(std::string& out, ConnectionControl::BlockEnd) override {
    if (stuck_) return false;
    ReplyWriter(&out, RespVersion::kResp2).null();
    return true;
  }
  std::unique_ptr<ByteSink> stream_argument(std::span<const std::string_view> argv_so_far, size_t index,
                                            size_t argc, uint64_t) override {
    if (argv_so_far[0] != "SET" || index != 2 || argc != 3) return nullptr;
    streaming_ = true;
    std::lock_guard lock(shared_.mutex);
    shared_.streamed.clear();
    return std::make_unique<StringSink>(shared_);
  }
  // Every command shown must be among the next to run, in order; a new call comes only once
  // the previous ones ran.
  void prefetch(std::span<const PeekedCommand> commands) override {
    if (!ahead_.empty()) shared_.prefetch_mismatches++;
    ahead_.clear();
    for (const PeekedCommand& command : commands) {
      ahead_.emplace_back(std::string(command.name), std::string(command.key));
    }
    shared_.prefetched += static_cast<int>(commands.size());
  }
  void on_close() override {
    {
      std::lock_guard lock(shared_.mutex);
      shared_.events.push_back("closed");
    }
    shared_.closed++;
  }

 private:
  static Outcome polling() {
    Outcome outcome;
    outcome.blocked = true;
    outcome.retry_after_ms = 5;
    return outcome;
  }

  Shared& shared_;
  bool streaming_ = false;
  std::deque<std::pair<std::string, std::string>> ahead_;  // prefetched, not yet run
  int polls_left_ = 0;
  int polls_done_ = 0;
  bool stuck_ = false;
};

class FakeFactory : public SessionFactory {
 public:
  explicit FakeFactory(Shared& shared) : shared_(shared) {}
  std::unique_ptr<Session> open_session(const ConnectionInfo& info,
                                        std::shared_ptr<ConnectionControl> control) override {
    {
      std::lock_guard lock(shared_.mutex);
      shared_.controls.push_back(std::move(control));
      shared_.infos.push_back(info);
    }
    shared_.opened++;
    return std::make_unique<EchoSession>(shared_);
  }
  void before_replies(size_t) override {
    shared_.before_replies_calls++;
    shared_.executed_at_last_commit = shared_.executed.load();
  }
  bool accepting_clients() override { return shared_.accepting; }

 private:
  Shared& shared_;
};

bool wait_for(const std::function<bool()>& condition) {
  const auto deadline = Clock::now() + kTimeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

class Client {
 public:
  explicit Client(uint16_t port, int receive_buffer_bytes = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer_bytes > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof(receive_buffer_bytes));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads until `n` bytes arrived, EOF, or the timeout.
  std::string read_exactly(size_t n) {
    std::string got;
    while (got.size() < n && read_some(&got, n - got.size())) {}
    return got;
  }
  // Reads one chunk into `got`; false on EOF, error or timeout.
  bool read_some(std::string* got, size_t max_bytes) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kTimeout).count())) <= 0) {
      return false;
    }
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, std::min(sizeof(buffer), max_bytes), 0);
    if (n <= 0) return false;
    got->append(buffer, static_cast<size_t>(n));
    return true;
  }
  // True once the server closed the connection (EOF or reset) within the timeout.
  bool sees_close() {
    std::string ignored;
    const auto deadline = Clock::now() + kTimeout;
    while (Clock::now() < deadline) {
      if (!read_some(&ignored, 65536)) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string command(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

std::string bulk(std::string_view text) {
  return "$" + std::to_string(text.size()) + "\r\n" + std::string(text) + "\r\n";
}

class NetServerTest : public ::testing::Test {
 protected:
  void start(int threads = 2) {
    NetOptions options;
    options.port = 0;
    options.threads = threads;
    auto server = NetServer::listen(options, factory_, limits_);
    ASSERT_TRUE(server.is_ok()) << server.status().to_string();
    server_ = std::move(server).value();
    runner_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->stop();
      runner_.join();
      server_.reset();
    }
  }
  std::shared_ptr<ConnectionControl> control(size_t i) {
    std::lock_guard lock(shared_.mutex);
    return shared_.controls.at(i);
  }

  Shared shared_;
  FakeFactory factory_{shared_};
  ProtocolLimits limits_;
  std::unique_ptr<NetServer> server_;
  std::thread runner_;
};

TEST_F(NetServerTest, PipelinedCommandsAllReplyInOrder) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  std::string request, expected;
  for (int i = 0; i < 2000; i++) {
    const std::string value = "value-" + std::to_string(i);
    request += command({"ECHO", value});
    expected += bulk("ECHO " + value);
  }
  request += "PING inline\r\n";
  expected += bulk("PING inline");
  client.send(request);
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
  // Group commit: before_replies ran after every command it covers, and far fewer times.
  EXPECT_EQ(shared_.executed_at_last_commit.load(), 2001);
  EXPECT_LT(shared_.before_replies_calls.load(), 2001);
  // The session saw most commands ahead of their turn, each shown only just before it ran.
  EXPECT_GT(shared_.prefetched.load(), 1000);
  EXPECT_EQ(shared_.prefetch_mismatches.load(), 0);
}

TEST_F(NetServerTest, PollingCommandRunsAgainOnItsTimerAndHoldsTheNextCommand) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  client.send(command({"POLL", "3"}) + command({"PING"}));
  const std::string expected = ":3\r\n" + bulk("PING");
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
}

TEST_F(NetServerTest, BlockedCommandThatRefusesToEndFinishesWhenWoken) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  client.send(command({"STUCK"}) + command({"PING"}));
  ASSERT_TRUE(wait_for([&] { return shared_.executed.load() == 1; }));
  control(0)->end_block(ConnectionControl::BlockEnd::kTimeout);  // refused: no null reply
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(shared_.executed.load(), 1);  // PING still waits behind it
  control(0)->wake_blocked();
  const std::string expected = "+done\r\n" + bulk("PING");
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
}

TEST_F(NetServerTest, LoneCommandsAreNotPrefetched) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 20; i++) {
    client.send(command({"ECHO", "x"}));
    EXPECT_EQ(client.read_exactly(bulk("ECHO x").size()), bulk("ECHO x"));
  }
  EXPECT_EQ(shared_.prefetched.load(), 0);
}

TEST_F(NetServerTest, ReplyLargerThanTheSocketBufferIsWrittenOverSeveralEvents) {
  start();
  Client client(server_->port(), 16 * 1024);
  client.send("BIG 3000000\r\nPING\r\n");
  const std::string expected = bulk(std::string(3000000, 'x')) + bulk("PING");
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
}

TEST_F(NetServerTest, ConnectionInfoHasIdsAndAddresses) {
  start();
  Client a(server_->port()), b(server_->port());
  a.send("PING\r\n");
  b.send("PING\r\n");
  EXPECT_EQ(a.read_exactly(10), bulk("PING"));
  EXPECT_EQ(b.read_exactly(10), bulk("PING"));
  std::lock_guard lock(shared_.mutex);
  ASSERT_EQ(shared_.infos.size(), 2u);
  std::vector<uint64_t> ids = {shared_.infos[0].id, shared_.infos[1].id};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(shared_.infos[0].local, "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(shared_.infos[0].peer.rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(shared_.infos[0].loop_index, shared_.infos[1].loop_index);  // round-robin
}

TEST_F(NetServerTest, ProtocolErrorClosesOnlyThatClient) {
  start();
  Client bad(server_->port()), good(server_->port());
  good.send("PING\r\n");
  EXPECT_EQ(good.read_exactly(10), bulk("PING"));
  bad.send(command({"ECHO", "first"}) + "*1\r\n$x\r\n" + command({"ECHO", "never"}));
  const std::string expected = bulk("ECHO first") + "-ERR Protocol error: invalid bulk length\r\n";
  EXPECT_EQ(bad.read_exactly(expected.size()), expected);
  EXPECT_TRUE(bad.sees_close());
  good.send(command({"ECHO", "still"}));
  EXPECT_EQ(good.read_exactly(bulk("ECHO still").size()), bulk("ECHO still"));
  EXPECT_TRUE(wait_for([&] { return shared_.closed == 1; }));
}

TEST_F(NetServerTest, QueryBufferOverTheLimitRepliesAnErrorAndCloses) {
  limits_.query_buffer_bytes_max = 64 * 1024;
  limits_.stream_argument_bytes_min = 1ull << 40;  // never streamed: the value is buffered
  start();
  Client client(server_->port());
  client.send("*2\r\n$4\r\nECHO\r\n$1000000\r\n" + std::string(100 * 1024, 'x'));
  const std::string expected = "-ERR Protocol error: query buffer limit exceeded\r\n";
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
  EXPECT_TRUE(client.sees_close());
}

TEST_F(NetServerTest, QuitRepliesThenCloses) {
  start();
  Client client(server_->port());
  client.send("QUIT\r\nPING\r\n");
  EXPECT_EQ(client.read_exactly(5), "+OK\r\n");
  EXPECT_TRUE(client.sees_close());
}

TEST_F(NetServerTest, ClientThatDoesNotReadIsDisconnectedAndOthersAreServed) {
  limits_.output_buffer_bytes_max = 1 << 20;
  start(1);  // one loop: the slow client must not stall the other on the same thread
  Client slow(server_->port(), 4096), fast(server_->port());
  std::string flood;
  for (int i = 0; i < 400; i++) flood += "BIG 100000\r\n";  // 40 MB of replies never read
  slow.send(flood);
  fast.send("PING\r\n");
  EXPECT_EQ(fast.read_exactly(10), bulk("PING"));
  EXPECT_TRUE(wait_for([&] { return shared_.closed >= 1; }));
  fast.send("PING again\r\n");
  EXPECT_EQ(fast.read_exactly(bulk("PING again").size()), bulk("PING again"));
  EXPECT_EQ(shared_.closed.load(), 1);
  EXPECT_TRUE(slow.sees_close());
}

TEST_F(NetServerTest, StreamedArgumentArrivesIntactInTheSink) {
  limits_.stream_argument_bytes_min = 64 * 1024;
  limits_.query_buffer_bytes_max = 1 << 20;  // far below the value: it must not be buffered
  start();
  Client client(server_->port());
  const size_t value_bytes = 8 << 20;
  client.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value_bytes) + "\r\n");
  std::string chunk;
  for (size_t sent = 0; sent < value_bytes;) {
    chunk.resize(std::min<size_t>(100'000, value_bytes - sent));
    fill_pattern(chunk.data(), chunk.size(), sent);
    client.send(chunk);
    sent += chunk.size();
  }
  client.send("\r\nPING\r\n");
  const std::string expected = ":" + std::to_string(value_bytes) + "\r\n" + bulk("PING");
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
  std::lock_guard lock(shared_.mutex);
  ASSERT_EQ(shared_.streamed.size(), value_bytes);
  EXPECT_TRUE(matches_pattern(shared_.streamed.data(), value_bytes, 0));
  EXPECT_GT(shared_.stream_appends.load(), 1);
}

TEST_F(NetServerTest, ClientGoneMidStreamDestroysTheSinkBeforeOnClose) {
  limits_.stream_argument_bytes_min = 1000;
  start();
  {
    Client client(server_->port());
    client.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + std::string(5000, 'x'));
    ASSERT_TRUE(wait_for([&] {
      std::lock_guard lock(shared_.mutex);
      return shared_.streamed.size() == 5000;
    }));
    // The partial frame is not counted as buffered query bytes: the value went to the sink.
    EXPECT_LT(control(0)->query_buffer_bytes(), 1000u);
  }
  ASSERT_TRUE(wait_for([&] { return shared_.closed == 1; }));
  std::lock_guard lock(shared_.mutex);
  EXPECT_EQ(shared_.events, (std::vector<std::string>{"sink destroyed", "closed"}));
}

TEST_F(NetServerTest, ControlReportsBufferedQueryBytes) {
  start();
  Client client(server_->port());
  client.send("*2\r\n$4\r\nECHO\r\n$100\r\n" + std::string(50, 'q'));
  ASSERT_TRUE(wait_for([&] { return shared_.opened == 1; }));
  const auto control0 = control(0);
  EXPECT_TRUE(wait_for([&] { return control0->query_buffer_bytes() >= 50; }));
  client.send(std::string(50, 'q') + "\r\n");
  EXPECT_EQ(client.read_exactly(bulk("ECHO " + std::string(100, 'q')).size()),
            bulk("ECHO " + std::string(100, 'q')));
  EXPECT_TRUE(wait_for([&] { return control0->query_buffer_bytes() == 0; }));
}

TEST_F(NetServerTest, StreamedBodyArrivesIntactWhileServerOutputStaysSmall) {
  start();
  Client client(server_->port());
  const uint64_t body_bytes = 64ull << 20;
  client.send("BODY " + std::to_string(body_bytes) + "\r\nPING\r\n");
  const std::string header = "$" + std::to_string(body_bytes) + "\r\n";
  EXPECT_EQ(client.read_exactly(header.size()), header);
  ASSERT_TRUE(wait_for([&] { return shared_.opened == 1; }));
  const auto control0 = control(0);
  uint64_t received = 0, max_output = 0;
  std::string got;
  while (received < body_bytes) {
    got.clear();
    ASSERT_TRUE(client.read_some(&got, body_bytes - received));
    ASSERT_TRUE(matches_pattern(got.data(), got.size(), received)) << "at " << received;
    received += got.size();
    max_output = std::max(max_output, control0->output_buffer_bytes());
  }
  EXPECT_LE(max_output, 64u * 1024);
  // The command pipelined behind the body runs once the body is done.
  const std::string rest = "\r\n" + bulk("PING");
  EXPECT_EQ(client.read_exactly(rest.size()), rest);
}

TEST_F(NetServerTest, StopFinishesRepliesInFlightThenClosesAll) {
  start();
  Client busy(server_->port()), idle(server_->port());
  busy.send("BODY 4000000\r\n");
  idle.send("PING\r\n");
  EXPECT_EQ(idle.read_exactly(10), bulk("PING"));
  const std::string header = "$4000000\r\n";
  EXPECT_EQ(busy.read_exactly(header.size()), header);  // the body has started
  server_->stop();
  // The body still arrives whole, then the server closes.
  const std::string body = busy.read_exactly(4000002);
  ASSERT_EQ(body.size(), 4000002u);
  EXPECT_EQ(body.substr(4000000), "\r\n");
  EXPECT_TRUE(busy.sees_close());
  EXPECT_TRUE(idle.sees_close());
  runner_.join();
  server_.reset();
  EXPECT_EQ(shared_.closed.load(), 2);
}

TEST_F(NetServerTest, StopFromAnotherThreadWithNoClientsReturnsPromptly) {
  start(3);
  const auto begin = Clock::now();
  std::thread stopper([&] { server_->stop(); });
  stopper.join();
  runner_.join();
  server_.reset();
  EXPECT_LT(Clock::now() - begin, std::chrono::milliseconds(900));
}

TEST_F(NetServerTest, ControlCloseFromAnotherThreadClosesTheConnection) {
  start();
  Client client(server_->port());
  client.send("PING\r\n");
  EXPECT_EQ(client.read_exactly(10), bulk("PING"));
  const auto control0 = control(0);
  std::thread killer([&] { control0->close(); });
  killer.join();
  EXPECT_TRUE(client.sees_close());
  EXPECT_TRUE(wait_for([&] { return shared_.closed == 1; }));
  control0->close();  // after the close: nothing happens
  EXPECT_EQ(control0->output_buffer_bytes(), 0u);
}

TEST_F(NetServerTest, MaxClientsRefusesWithRedisError) {
  start();
  shared_.accepting = false;
  Client client(server_->port());
  const std::string expected = "-ERR max number of clients reached\r\n";
  EXPECT_EQ(client.read_exactly(expected.size()), expected);
  EXPECT_TRUE(client.sees_close());
  EXPECT_EQ(shared_.opened.load(), 0);
}

TEST_F(NetServerTest, ListenErrorsAreClear) {
  start();
  NetOptions options;
  options.port = server_->port();
  auto taken = NetServer::listen(options, factory_, limits_);
  ASSERT_FALSE(taken.is_ok());
  EXPECT_TRUE(taken.status().is_busy());
  EXPECT_EQ(taken.status().message(),
            "address already in use: 127.0.0.1:" + std::to_string(server_->port()));
  options.bind = "not-an-address";
  auto bad = NetServer::listen(options, factory_, limits_);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_TRUE(bad.status().is_invalid_argument());
}

}  // namespace
}  // namespace cairn
