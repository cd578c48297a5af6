// NetServer: the listening socket and one event loop per thread (event_loop.h). Accepted
// connections are spread over the loops round-robin; each loop owns its connections for their
// whole life, so a connection's state is touched by one thread only.
//
// Thread-safety: stop() may be called from any thread (and from a signal-handling thread);
// the other methods from the thread that created the server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/session.h"

namespace cairn {

struct NetOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 7379;  // 0 picks a free port (tests); port() tells which
  int threads = 2;       // event loops, REQUIRES >= 1
  // Loop 0, if not null: a loop the caller owns (a cluster node's, which then runs its cluster
  // work on the thread that serves these clients, without a hop between threads). It must
  // outlive the server and not run except through run().
  EventLoop* first_loop = nullptr;
};

class NetServer {
 public:
  // Binds and listens. Busy ("address already in use: 127.0.0.1:7379") if the port is taken;
  // InvalidArgument for an address that does not parse. REQUIRES: `sessions` and `limits`
  // outlive the server.
  static Result<std::unique_ptr<NetServer>> listen(const NetOptions& options,
                                                   SessionFactory& sessions,
                                                   ProtocolLimits& limits);
  virtual ~NetServer() = default;

  // The port listened on.
  virtual uint16_t port() const = 0;
  // Runs the loops until stop(); returns once every loop thread has finished. On stop: the
  // listening socket closes, each connection's already-read commands finish and their replies
  // are written (for a bounded time), then every connection closes (Session::on_close).
  virtual void run() = 0;
  virtual void stop() = 0;
};

}  // namespace cairn
