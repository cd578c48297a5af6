#include "server/server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <utility>

#include "server/cluster_seeds.h"
#include "server/session.h"

namespace cairn {
namespace {

// How often the maintenance thread wakes: the granularity of everysec, the expiry cycle and
// the ops-per-second samples.
constexpr uint64_t kMaintenanceTickMs = 100;
constexpr uint64_t kEverySecIntervalMs = 1000;

void fill_limits(const ServerConfig& config, ProtocolLimits& limits) {
  limits.bulk_bytes_max = config.proto_max_bulk_len;
  limits.query_buffer_bytes_max = config.client_query_buffer_limit;
  limits.output_buffer_bytes_max = config.client_output_buffer_limit;
  limits.stream_argument_bytes_min = config.blob_threshold_bytes;
}

ClusterRuntimeOptions cluster_options(const ServerConfig& config) {
  ClusterRuntimeOptions options;
  options.ip = config.bind;
  options.port = config.port;
  options.bus_port = config.effective_bus_port();
  options.rack = config.rack;
  options.replicas = config.replicas;
  options.node.repair.bytes_per_second_max = config.repair_bytes_per_second;
  options.node.repair.enabled = config.repair_interval_ms > 0;
  options.node.repair.partition_interval_ms = config.repair_interval_ms;
  options.node.hint_limits.window_ms = static_cast<int64_t>(config.hint_window_ms);
  options.node.repair.stream_settle_ms = config.ring_settle_ms;
  options.membership.ring_settle_ms = config.ring_settle_ms;
  // validate_config checked the seeds.
  if (!config.seeds.empty()) options.seeds = parse_seeds(config.seeds).value();
  // As the single node: `always` acks only what is synced; otherwise a crash of the process
  // loses nothing acked, and the WAL is synced about once a second.
  options.ack_durability =
      config.fsync == ServerFsync::kAlways ? AckDurability::kSynced : AckDurability::kFlushed;
  options.wal_sync_interval_ms = kEverySecIntervalMs;
  options.random_seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  options.own_thread = !config.cluster_on_client_loop;
  return options;
}

}  // namespace

int64_t Server::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Server>> Server::open(const ServerConfig& config,
                                             const KeyspaceOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Keyspace> keyspace, Keyspace::open(config, options));
  std::unique_ptr<Server> server(new Server(config, std::move(keyspace)));
  server->keyspace_->add_observer(&server->watches_);
  server->keyspace_->add_observer(&server->blocking_);
  server->synced_sequence_ = server->keyspace_->database().last_sequence();
  if (config.cluster_mode()) {
    Result<std::unique_ptr<ClusterRuntime>> cluster =
        ClusterRuntime::start(cluster_options(config), &server->keyspace_->database());
    if (!cluster.is_ok()) {
      (void)server->keyspace_->database().close();
      // Not the keyspace's error: a busy bus port is not a locked directory.
      return Status::io_error(std::string(kClusterStartFailed) + ": " +
                              std::string(cluster.status().message()));
    }
    server->cluster_ = std::move(cluster).value();
    Result<std::unique_ptr<ClusterScratch>> scratch = ClusterScratch::open();
    if (!scratch.is_ok()) {
      server->cluster_->stop();
      (void)server->keyspace_->database().close();
      return scratch.status().with_context("cluster scratch keyspace");
    }
    server->cluster_scratch_ = std::move(scratch).value();
    server->cluster_scan_cursors_ =
        std::make_unique<ClusterScanCursors>(server->cluster_->self().value);
  }
  server->maintenance_ = std::thread([raw = server.get()] { raw->maintenance_loop(); });
  return server;
}

Server::Server(const ServerConfig& config, std::unique_ptr<Keyspace> keyspace)
    : config_(config),
      keyspace_(std::move(keyspace)),
      compactions_(*keyspace_),
      table_(CommandTable::standard()),
      clients_(config.maxclients),
      config_registry_(config_, limits_, clients_),
      stats_(table_.entry_count()),
      start_time_ms_(now_ms()),
      last_save_s_(start_time_ms_ / 1000) {
  fill_limits(config_, limits_);
}

Server::~Server() {
  Status status = close();
  (void)status;  // close() was called by the owner when it cared about the result
}

Keyspace& Server::keyspace() { return *keyspace_; }
ProtocolLimits& Server::limits() { return limits_; }

void Server::set_shutdown_handler(std::function<void()> handler) {
  std::lock_guard lock(shutdown_mutex_);
  shutdown_handler_ = std::move(handler);
}

bool Server::request_shutdown() {
  std::function<void()> handler;
  {
    std::lock_guard lock(shutdown_mutex_);
    if (!shutdown_handler_) return false;
    if (shutdown_requested_) return true;
    shutdown_requested_ = true;
    handler = shutdown_handler_;
  }
  handler();
  return true;
}

Status Server::sync_if_written() {
  Database& database = keyspace_->database();
  if (database.last_sequence() <= synced_sequence_.load(std::memory_order_acquire)) {
    return Status::ok();
  }
  std::lock_guard lock(sync_mutex_);
  SequenceNumber sequence = database.last_sequence();
  // Another thread's sync may have covered these writes while this one waited.
  if (sequence <= synced_sequence_.load(std::memory_order_acquire)) return Status::ok();
  Status status = database.sync_wal();
  stats_.add_wal_sync();
  if (status.is_ok()) synced_sequence_.store(sequence, std::memory_order_release);
  return status;
}

Status Server::flush_if_written() {
  Database& database = keyspace_->database();
  const SequenceNumber sequence = database.last_sequence();
  if (sequence <= flushed_sequence_.load(std::memory_order_acquire)) return Status::ok();
  CAIRN_RETURN_IF_ERROR(database.flush_wal());
  // Another loop may have flushed further meanwhile: never move the mark back.
  uint64_t flushed = flushed_sequence_.load(std::memory_order_relaxed);
  while (flushed < sequence &&
         !flushed_sequence_.compare_exchange_weak(flushed, sequence, std::memory_order_release)) {
  }
  return Status::ok();
}

void Server::before_replies(size_t loop_index) {
  (void)loop_index;
  if (config_.fsync != ServerFsync::kAlways) {
    // The engine refuses every later write after a failed one, so the writes of this iteration
    // are the last that may be lost; as Redis under appendfsync everysec, say so and go on.
    const Status status = flush_if_written();
    if (!status.is_ok()) {
      spdlog::error("writing the write-ahead log failed: {}", status.to_string());
    }
    return;
  }
  Status status = sync_if_written();
  if (!status.is_ok()) {
    // The iteration's writes are applied but not durable, and their replies would say they
    // are. As Redis does under appendfsync always, stop before any of them is sent: after a
    // restart, recovery keeps exactly what reached the disk, and no client was told otherwise.
    spdlog::critical("fsync of the write-ahead log failed under --fsync always: {}; exiting",
                     status.to_string());
    std::_Exit(1);
  }
}

void Server::maintenance_loop() {
  uint64_t since_sync_ms = 0;
  uint64_t since_expiry_ms = 0;
  std::unique_lock lock(maintenance_mutex_);
  while (!stopping_) {
    maintenance_wake_.wait_for(lock, std::chrono::milliseconds(kMaintenanceTickMs));
    if (stopping_) break;
    lock.unlock();
    since_sync_ms += kMaintenanceTickMs;
    since_expiry_ms += kMaintenanceTickMs;
    stats_.sample_ops(static_cast<uint64_t>(now_ms()));
    if (config_.fsync == ServerFsync::kEverySec && since_sync_ms >= kEverySecIntervalMs) {
      since_sync_ms = 0;
      Status status = sync_if_written();
      (void)status;  // retried on the next tick
    }
    if (since_expiry_ms >= config_.expiry_cycle_interval_ms) {
      since_expiry_ms = 0;
      // Expiry modifies keys: it runs as a command would, holding the execution lock shared.
      std::shared_lock execution(execution_mutex_);
      Result<uint64_t> removed = keyspace_->expire_cycle(config_.expiry_cycle_budget_ms);
      (void)removed;
    }
    lock.lock();
  }
}

Status Server::close() {
  {
    std::lock_guard lock(maintenance_mutex_);
    if (closed_) return Status::ok();
    closed_ = true;
    stopping_ = true;
  }
  maintenance_wake_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  // The cluster thread writes to the database: it stops first.
  if (cluster_ != nullptr) cluster_->stop();
  keyspace_->database().disable_manual_compaction();
  compactions_.stop();
  Status status = keyspace_->database().sync_wal();
  Status closed = keyspace_->database().close();
  return status.is_ok() ? closed : status;
}

std::unique_ptr<Session> Server::open_session(const ConnectionInfo& info,
                                              std::shared_ptr<ConnectionControl> control) {
  return std::make_unique<ServerSession>(*this, info, std::move(control));
}

}  // namespace cairn
