// Client: what the server knows of one connection: identity (id, name, library), protocol
// version, reply mode, the MULTI queue and WATCH state, and the times and last command CLIENT
// LIST shows.
//
// Thread-safety: the connection's loop thread owns a Client and is the only one to change it.
// Other threads (CLIENT LIST/KILL, WATCH invalidation) read or set only what is marked shared:
// atomics, or strings under info_mutex_ (rarely changed, so a lock there costs nothing).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/consistency.h"
#include "net/reply_writer.h"
#include "net/session.h"

namespace cairn {

struct ClusterCall;
struct ClusterTransaction;

struct CommandEntry;
struct CompactionWait;  // cairn_commands.cc

enum class ReplyMode : uint8_t { kOn, kOff, kSkip };

// A command queued by MULTI: its entry and a copy of its arguments.
struct QueuedCommand {
  const CommandEntry* entry = nullptr;
  std::vector<std::string> argv;
};

class Client {
 public:
  // Bounds: a MULTI queue and the keys one client may watch.
  static constexpr size_t kQueuedCommandsMax = 1 << 20;
  static constexpr size_t kWatchedKeysMax = 1 << 16;

  Client(const ConnectionInfo& info, std::shared_ptr<ConnectionControl> control,
         int64_t created_ms);

  uint64_t id() const { return info_.id; }
  const ConnectionInfo& connection() const { return info_; }
  ConnectionControl& control() const { return *control_; }
  // For a thread that may outlive the session and wakes the connection later.
  std::shared_ptr<ConnectionControl> shared_control() const { return control_; }

  // Shared: name and library (CLIENT SETNAME / SETINFO).
  std::string name() const;
  void set_name(std::string name);
  std::string lib_name() const;
  std::string lib_ver() const;
  void set_lib_name(std::string value);
  void set_lib_ver(std::string value);

  RespVersion resp() const { return resp_.load(std::memory_order_relaxed); }
  void set_resp(RespVersion version) { resp_.store(version, std::memory_order_relaxed); }

  // Reply mode (CLIENT REPLY). force_reply: CLIENT REPLY ON answers even though the mode was
  // OFF when it started.
  ReplyMode reply_mode = ReplyMode::kOn;
  bool force_reply = false;
  bool no_evict = false;
  bool no_touch = false;

  // Times (ms of the wall clock) and the last command, for CLIENT LIST age/idle/cmd.
  int64_t created_ms() const { return created_ms_; }
  int64_t last_interaction_ms() const {
    return last_interaction_ms_.load(std::memory_order_relaxed);
  }
  const CommandEntry* last_command() const { return last_command_.load(std::memory_order_relaxed); }
  void note_command(const CommandEntry* entry, int64_t now_ms) {
    last_command_.store(entry, std::memory_order_relaxed);
    last_interaction_ms_.store(now_ms, std::memory_order_relaxed);
  }

  // MULTI state. multi_count() is shared (CLIENT LIST multi=).
  bool in_multi() const { return in_multi_; }
  void begin_multi();
  // Adds a command to the queue; false when the queue is full (the transaction is flagged).
  bool queue(const CommandEntry* entry, std::span<const std::string_view> argv);
  void flag_multi_error() { multi_error_ = true; }
  bool multi_error() const { return multi_error_; }
  const std::vector<QueuedCommand>& queued() const { return queue_; }
  std::vector<QueuedCommand> take_queue();
  void end_multi();
  int64_t multi_count() const { return multi_count_.load(std::memory_order_relaxed); }

  // Blocked by BLPOP and the like (BlockingRegistry sets it). Shared: CLIENT LIST and CLIENT
  // UNBLOCK read it from other threads.
  bool blocked() const { return blocked_.load(std::memory_order_relaxed); }
  void set_blocked(bool blocked) { blocked_.store(blocked, std::memory_order_relaxed); }

  // The CAIRN COMPACT this client's blocked command waits for (the runner's thread fills it in).
  std::shared_ptr<CompactionWait> compaction_wait;

  // Cluster mode: the level the client's commands run at (CAIRN CONSISTENCY), and the command
  // waiting on the cluster (cluster_call.h).
  Consistency consistency;
  std::shared_ptr<ClusterCall> cluster_call;
  // Cluster mode: the transaction's slot and the states WATCH read (cluster_transaction.h);
  // null until the first WATCH or queued key, and again after WatchRegistry::unwatch_all.
  std::shared_ptr<ClusterTransaction> cluster_transaction;

  // WATCH state: the keys (owned here; watch_registry.h indexes them) and the dirty flag that
  // another thread sets when one of them changes.
  std::vector<std::string>& watched_keys() { return watched_keys_; }
  size_t watched_count() const { return watched_count_.load(std::memory_order_relaxed); }
  void set_watched_count(size_t count) { watched_count_.store(count, std::memory_order_relaxed); }
  bool watch_dirty() const { return watch_dirty_.load(std::memory_order_acquire); }
  void set_watch_dirty(bool dirty) { watch_dirty_.store(dirty, std::memory_order_release); }

 private:
  const ConnectionInfo info_;
  std::shared_ptr<ConnectionControl> control_;
  const int64_t created_ms_;

  mutable std::mutex info_mutex_;
  std::string name_;
  std::string lib_name_;
  std::string lib_ver_;

  std::atomic<RespVersion> resp_{RespVersion::kResp2};
  std::atomic<int64_t> last_interaction_ms_;
  std::atomic<const CommandEntry*> last_command_{nullptr};

  bool in_multi_ = false;
  bool multi_error_ = false;
  std::vector<QueuedCommand> queue_;
  std::atomic<int64_t> multi_count_{-1};

  std::atomic<bool> blocked_{false};

  std::vector<std::string> watched_keys_;
  std::atomic<size_t> watched_count_{0};
  std::atomic<bool> watch_dirty_{false};
};

}  // namespace cairn
