// LoopContext: what one event loop of the NetServer holds for its connections: the loop, the
// connections it owns (by id), the ones with replies to write at the end of this iteration, and
// the closed ones whose memory is released once the iteration's event batch is done.
//
// Thread-safety: touched only by its loop's thread (other threads reach it through
// loop->post()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/event_loop.h"
#include "net/session.h"

namespace cairn {

class Connection;

struct LoopContext {
  // `event_loop`: the loop, owned here unless `shared` (a loop the caller owns, which must
  // outlive the context).
  LoopContext(std::unique_ptr<EventLoop> event_loop, EventLoop* shared, size_t index,
              SessionFactory& factory, ProtocolLimits& limits);
  ~LoopContext();

  // The per-iteration hook: before_replies once if commands ran, then one flush per connection
  // with output; then frees closed connections.
  void end_iteration();
  // Stop: finish the replies of commands already read, close every connection, stop the loop
  // (at the latest after `grace_ms`).
  void drain(uint64_t grace_ms);
  // Adopts an accepted socket.
  void add_connection(int fd, uint64_t id);
  // Closes the connection `id` if it is still open (ConnectionControl::close).
  void close_connection(uint64_t id);

  std::unique_ptr<EventLoop> owned_loop;
  EventLoop* const loop;
  const size_t index;
  SessionFactory& factory;
  ProtocolLimits& limits;

  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;
  std::vector<Connection*> to_flush;
  std::vector<std::unique_ptr<Connection>> closed;
  bool commands_ran = false;
  bool draining = false;

 private:
  EventLoop::HookId hook_ = 0;
};

}  // namespace cairn
