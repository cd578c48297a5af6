#include "net/loop_context.h"

#include <unistd.h>

#include "net/connection.h"

namespace cairn {

LoopContext::LoopContext(std::unique_ptr<EventLoop> event_loop, EventLoop* shared,
                         size_t loop_index, SessionFactory& session_factory,
                         ProtocolLimits& protocol_limits)
    : owned_loop(std::move(event_loop)),
      loop(shared != nullptr ? shared : owned_loop.get()),
      index(loop_index),
      factory(session_factory),
      limits(protocol_limits) {
  hook_ = loop->add_iteration_hook([this] { end_iteration(); });
}

LoopContext::~LoopContext() {
  std::vector<Connection*> open;
  for (auto& [id, connection] : connections) open.push_back(connection.get());
  for (Connection* connection : open) connection->close("server destroyed");
  closed.clear();
  loop->remove_iteration_hook(hook_);  // a shared loop lives on
}

void LoopContext::end_iteration() {
  if (commands_ran) {
    // Group commit: one call covers every command this iteration ran, before any reply goes.
    commands_ran = false;
    factory.before_replies(index);
  }
  // flush() never adds to to_flush (it parses nothing), so indexing stays valid.
  for (size_t i = 0; i < to_flush.size(); i++) to_flush[i]->flush();
  to_flush.clear();
  closed.clear();
  if (draining && connections.empty()) loop->stop();
}

void LoopContext::drain(uint64_t grace_ms) {
  if (draining) return;
  draining = true;
  std::vector<Connection*> open;
  for (auto& [id, connection] : connections) open.push_back(connection.get());
  for (Connection* connection : open) connection->begin_drain();
  loop->add_timer(grace_ms, [this] {
    std::vector<Connection*> left;
    for (auto& [id, connection] : connections) left.push_back(connection.get());
    for (Connection* connection : left) connection->close("server stopped");
    loop->stop();
  });
}

void LoopContext::add_connection(int fd, uint64_t id) {
  if (draining) {
    ::close(fd);
    return;
  }
  auto connection = std::make_unique<Connection>(*this, fd, id);
  Connection* raw = connection.get();
  connections.emplace(id, std::move(connection));
  raw->start();
}

void LoopContext::close_connection(uint64_t id) {
  auto it = connections.find(id);
  if (it != connections.end()) it->second->close("closed by the server");
}

}  // namespace cairn
