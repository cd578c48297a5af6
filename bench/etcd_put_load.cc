// etcd_put_load: puts into an etcd cluster through its v3 JSON gateway (POST /v3/kv/put, the
// key and value in base64) from a fixed number of clients, for `make bench-cluster`
// (bench/cluster_bench.py, bench/README.md). etcd's own `benchmark` tool is not in Debian's
// packages, so this is ours.
//
// Each client is one HTTP/1.1 keep-alive connection that sends a put, waits for its whole
// response and sends the next (a closed loop, as redis-benchmark's clients at pipeline 1); the
// clients are spread round-robin over the endpoints given, as redis-benchmark --cluster spreads
// its clients over the masters. Every key is `key:NNNNNNNNNNNN` with a number drawn uniformly
// from the key space; every value is the same `value_bytes` printable bytes. One thread drives
// all connections through epoll. A response other than 200, a malformed response or a closed
// connection ends the run with exit code 1, so an error is never counted as a put.
//
// Output: redis-benchmark's --csv header and one row titled "PUT" (ops/s and latencies in ms),
// so the script reads both tools alike. A latency runs from the first byte of the request written
// to the last byte of the response read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Limits: every buffer and count the program holds is bounded by one of these.
constexpr int kClientsMax = 1000;
constexpr uint64_t kRequestsMax = 100'000'000;  // latencies are kept: 400 MB at most
constexpr size_t kValueBytesMax = 1 << 20;
constexpr size_t kResponseBytesMax = 1 << 20;  // a put's response is a few hundred bytes
constexpr int kEpollEventsMax = 64;

// Stays on in release builds: a failed check is a bug in this program.
#define LOAD_CHECK(condition)                                                              \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "etcd_put_load: check failed at line %d: %s\n", __LINE__,       \
                   #condition);                                                            \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "etcd_put_load: %s\n", message.c_str());
  std::exit(1);
}

using Clock = std::chrono::steady_clock;

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t j = 0; j < 3; j++) {
      group = (group << 8) | (j < n ? static_cast<uint8_t>(bytes[i + j]) : 0u);
    }
    for (size_t j = 0; j < 4; j++) {
      out += j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 63] : '=';
    }
  }
  return out;
}

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

Endpoint parse_endpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) fail("endpoint without a port: " + text);
  const int port = std::atoi(text.c_str() + colon + 1);
  if (port <= 0 || port > 65535) fail("bad port in endpoint: " + text);
  return Endpoint{text.substr(0, colon), static_cast<uint16_t>(port)};
}

// A blocking connect (at start, on loopback), then non-blocking with Nagle off.
int connect_to(const Endpoint& endpoint) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  if (inet_pton(AF_INET, endpoint.host.c_str(), &address.sin_addr) != 1) {
    fail("not an IPv4 address: " + endpoint.host);
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    fail("connect to " + endpoint.host + ":" + std::to_string(endpoint.port) + ": " +
         std::strerror(errno));
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// What is known of an HTTP response from the bytes read so far.
struct ParsedResponse {
  bool complete = false;
  int status = 0;
  size_t bytes = 0;  // the response's length in the buffer, when complete
};

// The value of header `name` (lowercase) in `head`, or an empty view.
std::string_view header_value(std::string_view head, std::string_view name) {
  size_t line_start = head.find("\r\n");
  while (line_start != std::string_view::npos && line_start + 2 < head.size()) {
    line_start += 2;
    const size_t line_end = std::min(head.find("\r\n", line_start), head.size());
    const std::string_view line = head.substr(line_start, line_end - line_start);
    const size_t colon = line.find(':');
    if (colon == name.size() &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    line_start = line_end;
  }
  return {};
}

// The length of a chunked body starting at `body`, or 0 while it is incomplete.
size_t chunked_body_bytes(std::string_view body) {
  size_t offset = 0;
  while (true) {
    const size_t size_end = body.find("\r\n", offset);
    if (size_end == std::string_view::npos) return 0;
    const std::string size_text(body.substr(offset, size_end - offset));
    const size_t chunk_bytes = std::strtoul(size_text.c_str(), nullptr, 16);
    offset = size_end + 2 + chunk_bytes + 2;  // the chunk and its CRLF
    if (offset > body.size()) return 0;
    if (chunk_bytes == 0) return offset;  // the last chunk (this program sends no trailers)
  }
}

ParsedResponse parse_response(std::string_view buffer) {
  ParsedResponse parsed;
  const size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return parsed;
  const std::string_view head = buffer.substr(0, head_end);
  if (!head.starts_with("HTTP/1.1 ") || head.size() < 12) fail("malformed response");
  parsed.status = std::atoi(std::string(head.substr(9, 3)).c_str());
  const size_t body_start = head_end + 4;
  const std::string_view length = header_value(head, "content-length");
  if (!length.empty()) {
    const size_t total = body_start + std::strtoul(std::string(length).c_str(), nullptr, 10);
    parsed.complete = buffer.size() >= total;
    parsed.bytes = total;
  } else if (header_value(head, "transfer-encoding") == "chunked") {
    const size_t body_bytes = chunked_body_bytes(buffer.substr(body_start));
    parsed.complete = body_bytes > 0;
    parsed.bytes = body_start + body_bytes;
  } else {
    fail("response without a length: " + std::string(head));
  }
  return parsed;
}

struct Options {
  std::vector<std::string> endpoints;
  int clients = 50;
  uint64_t requests = 100'000;
  size_t value_bytes = 100;
  uint64_t keyspace = 1'000'000;
  uint64_t seed = 1;
};

// One client: a connection with at most one put in flight.
struct Client {
  int fd = -1;
  std::string host_header;
  std::string out;     // the request being written
  size_t written = 0;  // bytes of `out` written
  std::string in;      // the response read so far
  bool watching_writable = false;
  Clock::time_point start;
};

class Load {
 public:
  explicit Load(const Options& options)
      : options_(options), random_(options.seed), value_base64_(base64(make_value())) {
    latencies_us_.reserve(options.requests);
  }

  void run() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) fail(std::string("epoll_create1: ") + std::strerror(errno));
    connect_clients();
    started_ = Clock::now();
    for (Client& client : clients_) send_next(client);
    epoll_event events[kEpollEventsMax];
    while (completed_ < options_.requests) {
      const int ready = epoll_wait(epoll_fd_, events, kEpollEventsMax, 10'000);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) fail("no progress for 10 s");
      for (int i = 0; i < ready; i++) {
        Client& client = clients_[events[i].data.u32];
        if (events[i].events & EPOLLOUT) write_some(client);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_some(client);
      }
    }
    finished_ = Clock::now();
    for (Client& client : clients_) close(client.fd);
    close(epoll_fd_);
  }

  void report() {
    LOAD_CHECK(latencies_us_.size() == options_.requests);
    std::sort(latencies_us_.begin(), latencies_us_.end());
    const double seconds = std::chrono::duration<double>(finished_ - started_).count();
    double sum_us = 0;
    for (uint32_t latency : latencies_us_) sum_us += latency;
    auto at = [this](double q) {
      const size_t index = static_cast<size_t>(q * static_cast<double>(latencies_us_.size() - 1));
      return latencies_us_[index] / 1000.0;
    };
    std::printf("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\","
                "\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n");
    std::printf("\"PUT\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\"\n",
                static_cast<double>(options_.requests) / seconds,
                sum_us / static_cast<double>(latencies_us_.size()) / 1000.0, at(0.0), at(0.50),
                at(0.95), at(0.99), at(1.0));
  }

 private:
  std::string make_value() {
    std::string value(options_.value_bytes, 'x');
    for (char& c : value) c = static_cast<char>('0' + random_() % 64);
    return value;
  }

  void connect_clients() {
    clients_.resize(static_cast<size_t>(options_.clients));
    for (size_t i = 0; i < clients_.size(); i++) {
      const Endpoint endpoint = parse_endpoint(options_.endpoints[i % options_.endpoints.size()]);
      clients_[i].fd = connect_to(endpoint);
      clients_[i].host_header = endpoint.host + ":" + std::to_string(endpoint.port);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u32 = static_cast<uint32_t>(i);
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, clients_[i].fd, &event) != 0) {
        fail(std::string("epoll_ctl: ") + std::strerror(errno));
      }
    }
  }

  void send_next(Client& client) {
    LOAD_CHECK(client.written == client.out.size() && client.in.empty());
    if (issued_ == options_.requests) return;
    issued_++;
    char key[32];
    std::snprintf(key, sizeof(key), "key:%012llu",
                  static_cast<unsigned long long>(random_() % options_.keyspace));
    const std::string body =
        "{\"key\":\"" + base64(key) + "\",\"value\":\"" + value_base64_ + "\"}";
    client.out = "POST /v3/kv/put HTTP/1.1\r\nHost: " + client.host_header +
                 "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
    client.written = 0;
    client.start = Clock::now();
    write_some(client);
  }

  void write_some(Client& client) {
    while (client.written < client.out.size()) {
      const ssize_t n = send(client.fd, client.out.data() + client.written,
                             client.out.size() - client.written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) fail(std::string("send: ") + std::strerror(errno));
      client.written += static_cast<size_t>(n);
    }
    watch(client, client.written < client.out.size());
  }

  // Asks epoll for writability only while a request is partly written (an epoll_ctl per put
  // would cost as much as the put's own system calls).
  void watch(Client& client, bool writable) {
    if (client.watching_writable == writable) return;
    client.watching_writable = writable;
    epoll_event event{};
    event.events = EPOLLIN | (writable ? EPOLLOUT : 0u);
    event.data.u32 = static_cast<uint32_t>(&client - clients_.data());
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, client.fd, &event) != 0) {
      fail(std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }

  void read_some(Client& client) {
    char buffer[16384];
    while (true) {
      const ssize_t n = recv(client.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) fail(std::string("recv: ") + std::strerror(errno));
      if (n == 0) fail("the server closed a connection");
      client.in.append(buffer, static_cast<size_t>(n));
      if (client.in.size() > kResponseBytesMax) fail("response larger than 1 MiB");
    }
    const ParsedResponse response = parse_response(client.in);
    if (!response.complete) return;
    if (response.status != 200) fail("HTTP " + std::to_string(response.status) + ": " + client.in);
    if (response.bytes != client.in.size()) fail("bytes after the response: " + client.in);
    const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
        Clock::now() - client.start);
    latencies_us_.push_back(static_cast<uint32_t>(latency.count()));
    completed_++;
    client.in.clear();
    send_next(client);
  }

  const Options& options_;
  std::mt19937_64 random_;
  const std::string value_base64_;
  std::vector<Client> clients_;
  std::vector<uint32_t> latencies_us_;
  int epoll_fd_ = -1;
  uint64_t issued_ = 0;
  uint64_t completed_ = 0;
  Clock::time_point started_;
  Clock::time_point finished_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Puts into etcd through its v3 JSON gateway; prints redis-benchmark's CSV"};
  app.add_option("--endpoints", options.endpoints, "client addresses, IP:PORT,...")
      ->required()
      ->delimiter(',');
  app.add_option("--clients", options.clients, "connections, each with one put in flight")
      ->check(CLI::Range(1, kClientsMax))
      ->capture_default_str();
  app.add_option("--requests", options.requests, "puts in all")
      ->check(CLI::Range(uint64_t{1}, kRequestsMax))
      ->capture_default_str();
  app.add_option("--value-bytes", options.value_bytes, "bytes of each value")
      ->check(CLI::Range(size_t{1}, kValueBytesMax))
      ->capture_default_str();
  app.add_option("--keyspace", options.keyspace, "keys are drawn from 0 .. keyspace-1")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000'000}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the keys and the value")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Load load(options);
  load.run();
  load.report();
  return 0;
}
