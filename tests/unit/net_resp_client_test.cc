// RespClient against a canned server on 127.0.0.1 that writes fixed bytes: the command arrives
// as a RESP array of bulk strings; every reply type comes back parsed, whole even when written
// in pieces; error replies are values; malformed and hostile replies, a server that closes, one
// that never answers and a port where nothing listens are error statuses with clear messages,
// within the time-outs; a host name is resolved.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/resp_client.h"
#include "net/socket.h"

namespace cairn {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Chunk {
  std::string bytes;
  int delay_ms = 0;  // before writing this chunk
};

// Serves one connection on 127.0.0.1: waits for `request_bytes` bytes of request, writes the
// chunks, then closes (close_after) or keeps the connection open until destroyed.
class CannedServer {
 public:
  CannedServer(std::vector<Chunk> chunks, size_t request_bytes, bool close_after = false)
      : chunks_(std::move(chunks)), request_bytes_(request_bytes), close_after_(close_after) {
    listen_fd_ = listen_tcp("127.0.0.1", 0, 16).value();
    port_ = local_port(listen_fd_);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    stop_.store(true);
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  // The request bytes received; REQUIRES: a reply was read (the server writes its chunks only
  // after the request arrived).
  std::string received() const {
    EXPECT_TRUE(request_read_.load(std::memory_order_acquire));
    return received_;
  }

 private:
  // Polls `fd` for `events` in 10 ms steps until ready or stopped.
  bool wait(int fd, short events) {
    while (!stop_.load()) {
      pollfd entry{fd, events, 0};
      if (::poll(&entry, 1, 10) > 0) return true;
    }
    return false;
  }

  void serve() {
    if (!wait(listen_fd_, POLLIN)) return;
    const int fd = accept_connection(listen_fd_);
    if (fd < 0) return;
    char buffer[4096];
    while (received_.size() < request_bytes_ && wait(fd, POLLIN)) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      received_.append(buffer, static_cast<size_t>(n));
    }
    request_read_.store(true, std::memory_order_release);
    for (const Chunk& chunk : chunks_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(chunk.delay_ms));
      size_t sent = 0;
      while (sent < chunk.bytes.size() && wait(fd, POLLOUT)) {
        const ssize_t n =
            ::send(fd, chunk.bytes.data() + sent, chunk.bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
    }
    if (!close_after_) {
      // Hold the connection open (draining anything sent) until the test ends.
      while (wait(fd, POLLIN)) {
        if (::recv(fd, buffer, sizeof(buffer), 0) <= 0) break;
      }
    }
    ::close(fd);
  }

  std::vector<Chunk> chunks_;
  size_t request_bytes_;
  bool close_after_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> request_read_{false};
  std::string received_;
  std::thread thread_;
};

const std::vector<std::string> kPing = {"PING"};
const size_t kPingBytes = encode_resp_command(kPing).size();

RespClientOptions fast_options() {
  RespClientOptions options;
  options.connect_timeout_ms = 1000;
  options.io_timeout_ms = 2000;
  return options;
}

RespClient connect_to(const CannedServer& server,
                      const RespClientOptions& options = fast_options()) {
  Result<RespClient> client = RespClient::connect({"127.0.0.1", server.port()}, options);
  EXPECT_TRUE(client.is_ok()) << client.status().to_string();
  return std::move(client).value();
}

// The reply the canned server's bytes make, through a real connection.
Result<RespValue> reply_to_ping(std::vector<Chunk> chunks, bool close_after = false) {
  CannedServer server(std::move(chunks), kPingBytes, close_after);
  RespClient client = connect_to(server);
  return client.call(kPing);
}

// Proves the command goes out as a RESP array of bulk strings, binary-safe, and the reply of
// each command comes back in order.
TEST(RespClientTest, SendsCommandsAndReadsRepliesInOrder) {
  const std::vector<std::string> set = {"SET", std::string("k\0\r\n", 4), ""};
  const std::vector<std::string> get = {"GET", "k"};
  const size_t request_bytes = encode_resp_command(set).size() + encode_resp_command(get).size();
  CannedServer server({{"+OK\r\n$-1\r\n"}}, request_bytes);
  RespClient client = connect_to(server);
  ASSERT_TRUE(client.send(set).is_ok());
  ASSERT_TRUE(client.send(get).is_ok());
  Result<RespValue> first = client.read_reply();
  Result<RespValue> second = client.read_reply();
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(*first, RespValue::simple_string("OK"));
  EXPECT_EQ(*second, RespValue::null());
  EXPECT_EQ(server.received(), encode_resp_command(set) + encode_resp_command(get));
}

// Proves every reply type arrives parsed over a real socket, and an error reply is a value.
TEST(RespClientTest, EveryReplyType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"+PONG\r\n", "PONG"},
      {"-ERR This instance has cluster support disabled\r\n",
       "(error) ERR This instance has cluster support disabled"},
      {":-7\r\n", "(integer) -7"},
      {"$5\r\nhello\r\n", "\"hello\""},
      {"$-1\r\n", "(nil)"},
      {"*-1\r\n", "(nil)"},
      {"*2\r\n*1\r\n:1\r\n$0\r\n\r\n", "[[(integer) 1], \"\"]"},
      {"_\r\n", "(nil)"},
      {"%1\r\n+a\r\n#t\r\n", "{a: (true)}"},
      {"~1\r\n,2.5\r\n", "[(double) 2.5]"},
      {">1\r\n(123\r\n", "[(big number) 123]"},
      {"=8\r\ntxt:a\r\nb\r\n", "\"a\\r\\nb\""},
      {"!4\r\nOOPS\r\n", "(error) OOPS"},
  };
  for (const auto& [bytes, rendered] : cases) {
    Result<RespValue> reply = reply_to_ping({{bytes}});
    ASSERT_TRUE(reply.is_ok()) << bytes << ": " << reply.status().to_string();
    EXPECT_EQ(reply->to_string(), rendered) << bytes;
  }
  Result<RespValue> error = reply_to_ping({{"-ERR no\r\n"}});
  ASSERT_TRUE(error.is_ok());
  EXPECT_TRUE(error->is_error());
}

// Proves a reply written in pieces (one byte at a time, then a 1 MiB bulk string in 16 writes)
// is read whole.
TEST(RespClientTest, SplitWrites) {
  const std::string reply = "*3\r\n$3\r\nabc\r\n:12\r\n%1\r\n+k\r\n$1\r\nv\r\n";
  std::vector<Chunk> bytes;
  for (const char c : reply) bytes.push_back({std::string(1, c), 1});
  Result<RespValue> small = reply_to_ping(bytes);
  ASSERT_TRUE(small.is_ok()) << small.status().to_string();
  EXPECT_EQ(small->to_string(), "[\"abc\", (integer) 12, {k: \"v\"}]");

  const std::string body(1 << 20, 'z');
  const std::string whole = "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n";
  std::vector<Chunk> pieces;
  const size_t step = whole.size() / 16 + 1;
  for (size_t at = 0; at < whole.size(); at += step) pieces.push_back({whole.substr(at, step), 2});
  Result<RespValue> big = reply_to_ping(pieces);
  ASSERT_TRUE(big.is_ok()) << big.status().to_string();
  EXPECT_EQ(big->text, body);
}

// Proves a malformed reply is a Corruption naming the server, and the connection refuses
// further use instead of reading from the middle of a reply.
TEST(RespClientTest, MalformedReplyBreaksTheConnection) {
  CannedServer server({{"%x\r\n"}}, kPingBytes);
  RespClient client = connect_to(server);
  Result<RespValue> reply = client.call(kPing);
  ASSERT_FALSE(reply.is_ok());
  EXPECT_TRUE(reply.status().is_corruption()) << reply.status().to_string();
  EXPECT_NE(reply.status().message().find("127.0.0.1:" + std::to_string(server.port())),
            std::string_view::npos);
  EXPECT_NE(reply.status().message().find("bad aggregate count"), std::string_view::npos);
  Result<RespValue> again = client.call(kPing);
  ASSERT_FALSE(again.is_ok());
  EXPECT_NE(again.status().message().find("unusable"), std::string_view::npos);
}

// Proves a hostile size is refused when its header arrives, without waiting for the body or
// reserving it.
TEST(RespClientTest, HostileSizesFailAtOnce) {
  RespClientOptions options = fast_options();
  options.limits.bulk_bytes_max = 1 << 20;
  for (const std::string header : {"$1073741824\r\n", "*1000000000\r\n", "%1000000000\r\n"}) {
    CannedServer server({{header}}, kPingBytes);
    RespClient client = connect_to(server, options);
    const auto start = Clock::now();
    Result<RespValue> reply = client.call(kPing);
    ASSERT_FALSE(reply.is_ok()) << header;
    EXPECT_TRUE(reply.status().is_corruption()) << reply.status().to_string();
    EXPECT_LT(Clock::now() - start, 1s) << header;
  }
}

// Proves a server that closes in the middle of a reply is an IOError saying so.
TEST(RespClientTest, ServerClosesMidReply) {
  Result<RespValue> reply = reply_to_ping({{"$10\r\nabc"}}, /*close_after=*/true);
  ASSERT_FALSE(reply.is_ok());
  EXPECT_TRUE(reply.status().is_io_error());
  EXPECT_NE(reply.status().message().find("connection closed by the server"),
            std::string_view::npos)
      << reply.status().to_string();
}

// Proves a server that never answers (or answers part of a reply and stalls) costs the I/O
// time-out and no more.
TEST(RespClientTest, ReadTimesOut) {
  RespClientOptions options = fast_options();
  options.io_timeout_ms = 200;
  for (const std::string partial : {"", "*2\r\n:1\r\n"}) {
    CannedServer server({{partial}}, kPingBytes);
    RespClient client = connect_to(server, options);
    const auto start = Clock::now();
    Result<RespValue> reply = client.call(kPing);
    const auto elapsed = Clock::now() - start;
    ASSERT_FALSE(reply.is_ok());
    EXPECT_TRUE(reply.status().is_io_error());
    EXPECT_NE(reply.status().message().find("timed out after 200 ms waiting for a reply"),
              std::string_view::npos)
        << reply.status().to_string();
    EXPECT_GE(elapsed, 190ms);
    EXPECT_LT(elapsed, 2s);
  }
}

// Proves a port where nothing listens is "connection refused", at once.
TEST(RespClientTest, ConnectionRefused) {
  const int fd = listen_tcp("127.0.0.1", 0, 1).value();
  const uint16_t port = local_port(fd);
  ::close(fd);
  const auto start = Clock::now();
  Result<RespClient> client = RespClient::connect({"127.0.0.1", port}, fast_options());
  ASSERT_FALSE(client.is_ok());
  EXPECT_TRUE(client.status().is_io_error());
  EXPECT_EQ(client.status().message(),
            "127.0.0.1:" + std::to_string(port) + ": connection refused");
  EXPECT_LT(Clock::now() - start, 1s);
}

// Proves a connect that is never answered costs the connect time-out: a listener with a full
// backlog that never accepts drops further SYNs, so the handshake does not complete.
TEST(RespClientTest, ConnectTimesOut) {
  const int listen_fd = listen_tcp("127.0.0.1", 0, 0).value();
  const uint16_t port = local_port(listen_fd);
  // Fill the backlog with connections nobody accepts.
  std::vector<int> fillers;
  for (int i = 0; i < 4; i++) fillers.push_back(connect_tcp("127.0.0.1", port).value());
  std::this_thread::sleep_for(50ms);
  RespClientOptions options = fast_options();
  options.connect_timeout_ms = 300;
  const auto start = Clock::now();
  Result<RespClient> client = RespClient::connect({"127.0.0.1", port}, options);
  const auto elapsed = Clock::now() - start;
  for (const int fd : fillers) ::close(fd);
  ::close(listen_fd);
  ASSERT_FALSE(client.is_ok());
  EXPECT_NE(client.status().message().find("timed out after 300 ms connecting"),
            std::string_view::npos)
      << client.status().to_string();
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 2s);
}

// Proves a host name is resolved: "localhost" reaches a server on 127.0.0.1 (trying its other
// addresses first if it has them).
TEST(RespClientTest, ResolvesHostNames) {
  CannedServer server({{"+PONG\r\n"}}, kPingBytes);
  Result<RespClient> client = RespClient::connect({"localhost", server.port()}, fast_options());
  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  Result<RespValue> reply = client->call(kPing);
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(*reply, RespValue::simple_string("PONG"));
}

// Proves HOST:PORT parsing, IPv6 included, and its errors.
TEST(RespClientTest, ParsesHostPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:7379").value(), (HostPort{"127.0.0.1", 7379}));
  EXPECT_EQ(parse_host_port("node-1.example:1").value(), (HostPort{"node-1.example", 1}));
  EXPECT_EQ(parse_host_port("[::1]:7379").value(), (HostPort{"::1", 7379}));
  EXPECT_EQ(parse_host_port("::1:7379").value(), (HostPort{"::1", 7379}));
  EXPECT_EQ((HostPort{"::1", 7379}).to_string(), "[::1]:7379");
  EXPECT_EQ((HostPort{"a", 2}).to_string(), "a:2");
  for (const char* bad : {"", "7379", "host", ":7379", "host:", "host:0", "host:65536", "host:12x",
                          "host:-1", "[]:1"}) {
    Result<HostPort> parsed = parse_host_port(bad);
    EXPECT_FALSE(parsed.is_ok()) << bad;
    if (!parsed.is_ok()) {
      EXPECT_TRUE(parsed.status().is_invalid_argument());
      EXPECT_NE(parsed.status().message().find("bad address"), std::string_view::npos);
    }
  }
}

}  // namespace
}  // namespace cairn
