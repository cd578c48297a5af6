#include "net/resp_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <utility>

namespace cairn {

namespace {

using Clock = std::chrono::steady_clock;

// strerror's text with a lower-case first letter: "connection refused".
std::string error_text(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

int64_t milliseconds_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<int64_t>(0, left.count());
}

// Waits until `fd` is ready for `events` or the deadline passes: OK when ready (or when the
// socket has an error or hang-up, which the next call reports), IOError "timed out" otherwise.
Status wait_ready(int fd, short events, Clock::time_point deadline, const std::string& timed_out) {
  while (true) {
    // Round up, so a deadline a fraction of a millisecond away is still waited for.
    const int64_t left_ms = milliseconds_left(deadline + std::chrono::microseconds(999));
    if (left_ms <= 0) return Status::io_error(timed_out);
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(std::min<int64_t>(left_ms, 1 << 30)));
    if (ready > 0) return Status::ok();
    if (ready < 0 && errno != EINTR) return Status::io_error("poll: " + error_text(errno));
  }
}

// One connection attempt to one resolved address, within the deadline: the socket, or the error.
Result<int> connect_one(const addrinfo& address, Clock::time_point deadline,
                        const std::string& where, int64_t timeout_ms) {
  const int fd = ::socket(address.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error(where + ": socket: " + error_text(errno));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      const int error = errno;
      ::close(fd);
      return Status::io_error(where + ": " + error_text(error));
    }
    const std::string timed_out =
        where + ": timed out after " + std::to_string(timeout_ms) + " ms connecting";
    Status ready = wait_ready(fd, POLLOUT, deadline, timed_out);
    int error = 0;
    socklen_t length = sizeof(error);
    if (ready.is_ok() && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
      error = errno;
    }
    if (!ready.is_ok() || error != 0) {
      ::close(fd);
      if (!ready.is_ok()) return ready;
      return Status::io_error(where + ": " + error_text(error));
    }
  }
  return fd;
}

// Reads a connection's bytes until a deadline.
class SocketSource : public ReplyByteSource {
 public:
  SocketSource(int fd, Clock::time_point deadline, const std::string& where, int64_t timeout_ms)
      : fd_(fd), deadline_(deadline), where_(where), timeout_ms_(timeout_ms) {}

  Result<size_t> read_some(char* data, size_t capacity) override {
    while (true) {
      const ssize_t n = ::recv(fd_, data, capacity, 0);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) return Status::io_error(where_ + ": connection closed by the server");
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Status::io_error(where_ + ": " + error_text(errno));
      }
      CAIRN_RETURN_IF_ERROR(wait_ready(
          fd_, POLLIN, deadline_,
          where_ + ": timed out after " + std::to_string(timeout_ms_) + " ms waiting for a reply"));
    }
  }

 private:
  int fd_;
  Clock::time_point deadline_;
  const std::string& where_;
  int64_t timeout_ms_;
};

}  // namespace

std::string HostPort::to_string() const {
  const bool bracket = host.find(':') != std::string::npos;
  return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::invalid_argument("bad address '" + std::string(text) + "': " + std::string(why));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("expected HOST:PORT");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return bad("no host");
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return bad("the port must be a number in 1..65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

Result<RespClient> RespClient::connect(const HostPort& address, const RespClientOptions& options) {
  CAIRN_ASSERT(options.connect_timeout_ms > 0 && options.io_timeout_ms > 0);
  const std::string where = address.to_string();
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.connect_timeout_ms);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port_text = std::to_string(address.port);
  const int resolved = ::getaddrinfo(address.host.c_str(), port_text.c_str(), &hints, &list);
  if (resolved != 0) {
    std::string why = resolved == EAI_SYSTEM ? error_text(errno) : ::gai_strerror(resolved);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return Status::io_error(where + ": cannot resolve '" + address.host + "': " + why);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(list, &::freeaddrinfo);
  Status last = Status::io_error(where + ": no address to connect to");
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    Result<int> fd = connect_one(*entry, deadline, where, options.connect_timeout_ms);
    if (fd.is_ok()) return RespClient(*fd, address, options);
    last = fd.status();
    if (Clock::now() >= deadline) break;
  }
  return last;
}

RespClient::RespClient(int fd, HostPort address, const RespClientOptions& options)
    : fd_(fd), address_(std::move(address)), options_(options), reader_(options.limits) {}

RespClient::RespClient(RespClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(std::move(other.address_)),
      options_(other.options_),
      reader_(std::move(other.reader_)),
      broken_(std::move(other.broken_)) {}

RespClient& RespClient::operator=(RespClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
    options_ = other.options_;
    reader_ = std::move(other.reader_);
    broken_ = std::move(other.broken_);
  }
  return *this;
}

RespClient::~RespClient() { close(); }

void RespClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status RespClient::broken(Status status) {
  CAIRN_ASSERT(!status.is_ok());
  broken_ = status.with_context("connection unusable after an earlier error");
  return status;
}

Status RespClient::send(const std::vector<std::string>& argv) {
  CAIRN_ASSERT(!argv.empty());
  if (!broken_.is_ok()) return broken_;
  if (fd_ < 0) return Status::io_error(address_.to_string() + ": not connected");
  const std::string where = address_.to_string();
  const std::string request = encode_resp_command(argv);
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.io_timeout_ms);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return broken(Status::io_error(where + ": " + error_text(errno)));
    }
    Status ready = wait_ready(
        fd_, POLLOUT, deadline,
        where + ": timed out after " + std::to_string(options_.io_timeout_ms) + " ms sending");
    if (!ready.is_ok()) return broken(ready);
  }
  return Status::ok();
}

Result<RespValue> RespClient::read_reply() {
  if (!broken_.is_ok()) return broken_;
  if (fd_ < 0) return Status::io_error(address_.to_string() + ": not connected");
  const std::string where = address_.to_string();
  SocketSource source(fd_, Clock::now() + std::chrono::milliseconds(options_.io_timeout_ms), where,
                      options_.io_timeout_ms);
  Result<RespValue> reply = reader_.read(source);
  if (!reply.is_ok()) {
    // A malformed reply names the server it came from; the source's errors already do.
    Status status = reply.status();
    if (status.is_corruption()) status = status.with_context(where);
    return broken(status);
  }
  return reply;
}

Result<RespValue> RespClient::call(const std::vector<std::string>& argv) {
  CAIRN_RETURN_IF_ERROR(send(argv));
  return read_reply();
}

}  // namespace cairn
