// Server: one cairnd node's command side. It owns the keyspace (the engine), the command table,
// the registry of connected clients, WATCH bookkeeping, run-time configuration and counters,
// the maintenance thread (everysec fsync, active expiry) and the thread that runs CAIRN COMPACT.
// It is the SessionFactory the network layer opens a Session from for each connection.
//
// Execution: every command runs holding execution_mutex() shared; EXEC holds it exclusively
// while its queued commands run, so a transaction is atomic with respect to every other
// command (they never take it shared first and then exclusive), and so do FLUSHDB and FLUSHALL.
//
// Thread-safety: every public method may be called from any loop thread at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "common/result.h"
#include "net/session.h"
#include "server/blocking_registry.h"
#include "server/client_registry.h"
#include "server/cluster_runtime.h"
#include "server/cluster_scan_cursors.h"
#include "server/cluster_scratch.h"
#include "server/command_table.h"
#include "server/compaction_runner.h"
#include "server/config_registry.h"
#include "server/keyspace.h"
#include "server/server_config.h"
#include "server/server_stats.h"
#include "server/watch_registry.h"

namespace cairn {

class Server : public SessionFactory {
 public:
  // Opens the keyspace in config.dir and starts the maintenance thread (and, in cluster mode,
  // the cluster: a failure there has a message that begins with kClusterStartFailed).
  // `options`: the keyspace's test seams (keyspace.h).
  static constexpr std::string_view kClusterStartFailed = "cannot start the cluster";
  static Result<std::unique_ptr<Server>> open(const ServerConfig& config,
                                              const KeyspaceOptions& options = {});
  ~Server() override;

  Keyspace& keyspace();
  // The node's part of the cluster; null for a single node (cluster mode off).
  ClusterRuntime* cluster() { return cluster_.get(); }
  // Where cluster-mode commands run on their keys' merged states (cluster_scratch.h); null for a
  // single node.
  ClusterScratch* cluster_scratch() { return cluster_scratch_.get(); }
  // SCAN's cursors in cluster mode (cluster_scan_cursors.h); null for a single node.
  ClusterScanCursors* cluster_scan_cursors() { return cluster_scan_cursors_.get(); }
  // The limits the network layer enforces; CONFIG SET changes them.
  ProtocolLimits& limits();

  // Called (once, from a loop thread) by SHUTDOWN; cairnd sets it to stop the network layer.
  void set_shutdown_handler(std::function<void()> handler);
  // SHUTDOWN: calls the handler (once); false when none is set.
  bool request_shutdown();

  // Stops the maintenance thread and the compaction runner (a CAIRN COMPACT in progress stops
  // early), syncs the WAL and closes the engine. REQUIRES: no session is running a command.
  Status close();

  // SessionFactory.
  std::unique_ptr<Session> open_session(const ConnectionInfo& info,
                                        std::shared_ptr<ConnectionControl> control) override;
  // With fsync `always`, syncs the WAL once if anything was written since the last sync.
  void before_replies(size_t loop_index) override;
  bool accepting_clients() override { return clients_.admit(); }

  const ServerConfig& config() const { return config_; }
  const CommandTable& table() const { return table_; }
  ClientRegistry& clients() { return clients_; }
  WatchRegistry& watches() { return watches_; }
  BlockingRegistry& blocking() { return blocking_; }
  CompactionRunner& compactions() { return compactions_; }
  ConfigRegistry& config_registry() { return config_registry_; }
  ServerStats& stats() { return stats_; }
  std::shared_mutex& execution_mutex() { return execution_mutex_; }

  // Wall-clock milliseconds and seconds (TIME, LASTSAVE, CLIENT LIST ages).
  static int64_t now_ms();
  int64_t start_time_ms() const { return start_time_ms_; }
  int64_t last_save_s() const { return last_save_s_.load(std::memory_order_relaxed); }
  void note_save() { last_save_s_.store(now_ms() / 1000, std::memory_order_relaxed); }

  // Makes every acknowledged write durable if any was made since the last sync (counted in
  // stats().wal_syncs()).
  Status sync_if_written();

 private:
  // Hands the WAL records written since the last call to the operating system (the engine
  // buffers them: Options::flush_wal_per_write is off), so no reply claims a write a process
  // crash could lose.
  Status flush_if_written();
  Server(const ServerConfig& config, std::unique_ptr<Keyspace> keyspace);
  void maintenance_loop();

  const ServerConfig config_;
  ProtocolLimits limits_;
  std::unique_ptr<Keyspace> keyspace_;
  std::unique_ptr<ClusterRuntime> cluster_;
  std::unique_ptr<ClusterScratch> cluster_scratch_;
  std::unique_ptr<ClusterScanCursors> cluster_scan_cursors_;
  CompactionRunner compactions_;  // CAIRN COMPACT's thread
  const CommandTable& table_;
  ClientRegistry clients_;
  WatchRegistry watches_;
  BlockingRegistry blocking_;
  ConfigRegistry config_registry_;
  ServerStats stats_;
  std::shared_mutex execution_mutex_;
  const int64_t start_time_ms_;
  std::atomic<int64_t> last_save_s_;

  std::mutex sync_mutex_;  // one sync at a time; later callers find it done
  std::atomic<uint64_t> synced_sequence_{0};
  std::atomic<uint64_t> flushed_sequence_{0};

  std::mutex shutdown_mutex_;
  std::function<void()> shutdown_handler_;
  bool shutdown_requested_ = false;

  std::mutex maintenance_mutex_;
  std::condition_variable maintenance_wake_;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread maintenance_;
};

}  // namespace cairn
