// RespClient: a small blocking client of a Redis-protocol server, for tools (cairnctl) and for
// start-up work that runs before any event loop (a node asking its seed nodes). One connection:
// send a command, read its reply, fully parsed into a RespValue.
//
// Every wait is bounded: connect by connect_timeout_ms (over all the addresses a host name
// resolves to, tried in order), each send() and each read_reply() as a whole by io_timeout_ms,
// so a server that trickles bytes cannot hold a caller longer than that. Replies are bounded by
// RespReplyLimits (resp_reply_reader.h). Host names are resolved with getaddrinfo, which is
// not itself bounded by the time-out (/etc/hosts and the resolver's own time-outs apply).
//
// Errors are values: IOError for the network ("127.0.0.1:7379: connection refused",
// "...: timed out after 2000 ms waiting for a reply"), Corruption for a malformed reply. An error
// reply from the server is not an error of the call: it is a RespValue of kind kError. After a
// failed send or read the connection's state is unknown and every later call fails; connect
// anew.
//
// Thread-safety: none; one client per thread. Movable, not copyable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/resp_reply_reader.h"
#include "net/resp_value.h"

namespace cairn {

// A server's address: a host name or IP literal, and a port.
struct HostPort {
  std::string host;
  uint16_t port = 0;

  // "host:port", with an IPv6 literal in brackets: "[::1]:7379".
  std::string to_string() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Parses "host:port", "[ipv6]:port" or "ipv6:port" (the port after the last colon, as Redis
// writes IPv6 addresses). InvalidArgument naming the text when malformed or the port is not in
// 1..65535.
Result<HostPort> parse_host_port(std::string_view text);

struct RespClientOptions {
  int64_t connect_timeout_ms = 2000;
  int64_t io_timeout_ms = 5000;
  RespReplyLimits limits;
};

class RespClient {
 public:
  // Resolves address.host and connects to the first of its addresses that accepts.
  static Result<RespClient> connect(const HostPort& address, const RespClientOptions& options = {});

  RespClient(RespClient&& other) noexcept;
  RespClient& operator=(RespClient&& other) noexcept;
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;
  ~RespClient();

  // Sends one command as a RESP array of bulk strings. REQUIRES: !argv.empty().
  Status send(const std::vector<std::string>& argv);
  // Reads the next reply (replies come in the order of the commands sent).
  Result<RespValue> read_reply();
  // send() then read_reply().
  Result<RespValue> call(const std::vector<std::string>& argv);

  const HostPort& address() const { return address_; }

 private:
  RespClient(int fd, HostPort address, const RespClientOptions& options);
  void close();
  // Records the first error that leaves the connection unusable, and returns it.
  Status broken(Status status);

  int fd_ = -1;
  HostPort address_;
  RespClientOptions options_;
  RespReplyReader reader_;
  Status broken_;  // OK while the connection is usable
};

}  // namespace cairn
