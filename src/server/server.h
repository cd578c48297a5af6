// Server: one cairnd node's command side. It owns the keyspace (the engine), the command table,
// the registry of connected clients, WATCH bookkeeping, run-time configuration and counters,
// and the maintenance thread (everysec fsync, active expiry). It is the SessionFactory the
// network layer opens a Session from for each connection.
//
// Thread-safety: every public method may be called from any loop thread at once.
#pragma once

#include <functional>
#include <memory>

#include "common/result.h"
#include "net/session.h"
#include "server/keyspace.h"
#include "server/server_config.h"

namespace cairn {

class Server : public SessionFactory {
 public:
  // Opens the keyspace in config.dir and starts the maintenance thread.
  static Result<std::unique_ptr<Server>> open(const ServerConfig& config);
  ~Server() override;

  Keyspace& keyspace();
  // The limits the network layer enforces; CONFIG SET changes them.
  ProtocolLimits& limits();

  // Called (once, from a loop thread) by SHUTDOWN; cairnd sets it to stop the network layer.
  void set_shutdown_handler(std::function<void()> handler);

  // Stops the maintenance thread, syncs the WAL and closes the engine. REQUIRES: no session
  // is running a command.
  Status close();

  // (Further members — clients, stats, config registry, watches — are declared by the
  // implementation.)
};

}  // namespace cairn
