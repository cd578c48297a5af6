// ServerSession: the Session (net/session.h) of one connection. It owns the connection's
// Client and dispatches each command: looks it up in the command table, checks its arity and
// subcommand, queues it inside MULTI, runs its handler under the server's execution lock,
// counts it (INFO commandstats) and applies the client's reply mode (CLIENT REPLY).
//
// Thread-safety: as Session: one call at a time, from the connection's loop thread.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/session.h"
#include "server/client.h"
#include "server/cluster_pipeline.h"
#include "server/command.h"
#include "server/fused_writes.h"

namespace cairn {

class Server;
struct CommandEntry;

class ServerSession final : public Session {
 public:
  ServerSession(Server& server, const ConnectionInfo& info,
                std::shared_ptr<ConnectionControl> control);
  ~ServerSession() override;

  Outcome execute(std::span<const std::string_view> argv, std::string& out) override;
  Outcome retry_blocked(std::string& out) override;
  // Ends the command only while the client is in the BlockingRegistry: a cluster blocking pop
  // leaves it while the pop's writes are out, and then finishes with what it popped.
  bool end_block(std::string& out, ConnectionControl::BlockEnd reason) override;
  // Prefetches each command's argv[1] as a key: most commands name their key first, and for the
  // others the hint only loads a cache line in vain. Then the element records that commands
  // looking up an element (CommandEntry::looks_up_element) will read. Also plans a run of fused
  // writes when the first commands are fusable ones on one key (see run_key_).
  void prefetch(std::span<const PeekedCommand> commands) override;
  std::unique_ptr<ByteSink> stream_argument(std::span<const std::string_view> argv_so_far,
                                            size_t index, size_t argc, uint64_t length) override;
  void on_close() override;

  Client& client() { return client_; }

 private:
  // The entry to run for argv, or null after replying the error (unknown command or
  // subcommand, wrong arity); *rejected names the entry to count the rejection under.
  const CommandEntry* resolve(std::span<const std::string_view> argv, ReplyWriter& reply,
                              const CommandEntry** rejected);
  // Whether argv is run now rather than queued, inside MULTI.
  static bool runs_inside_multi(const CommandEntry& entry);
  // Whether the command runs holding the execution lock exclusively, as EXEC does: FLUSHDB and
  // FLUSHALL remove keys without their locks, so no other command may be between its read and
  // its write of a key meanwhile (a collection rewritten with its old generation would have lost
  // its elements). Inside EXEC they run under EXEC's lock. In cluster mode they flush the
  // replicas through the cluster (cluster_keyspace_commands.cc) and wait like any cluster
  // command, so they do not run alone.
  static bool runs_alone(const CommandEntry& entry);
  // After a handler ran: if it waits, keeps the command to retry and says so in `outcome`;
  // otherwise takes the client off the BlockingRegistry if it was waiting.
  void settle_block(const CommandEntry& entry, std::span<const std::string_view> argv,
                    const CommandContext& context, Outcome* outcome);
  // Keyspace::prefetch_elements for each stretch of `commands` that look up elements of one key.
  // `entries`: each command's, or null when unknown.
  void prefetch_elements(std::span<const PeekedCommand> commands,
                         std::span<const CommandEntry* const> entries);
  // Whether the command is the next one of the planned run.
  bool joins_run(const CommandEntry& entry, std::span<const std::string_view> argv,
                 bool streamed) const;
  // Runs a command of the run: its writes are held (fused_writes.h) until the run's last.
  void run_fused(const CommandEntry& entry, CommandContext& context, size_t reply_start,
                 std::string& out);
  // Runs a command whose cluster call was submitted ahead (pipeline_): at once if its replies
  // are in, else once they are (the connection blocks meanwhile).
  void run_prepared(const CommandEntry& entry, CommandContext& context,
                    std::shared_ptr<ClusterCall> call);
  // Writes what the run holds and lets go of its locks; if a write of the run failed, replaces
  // the replies of the commands whose writes were held by that error.
  // `out` null: the replies go nowhere (the connection closes).
  void end_run(std::string* out);

  Server& server_;
  Client client_;
  bool closed_ = false;
  // The value a streamed SET argument went to (see stream_argument), until SET runs.
  std::unique_ptr<StreamedValue> streamed_value_;
  Status streamed_error_;
  // The command that waits (BLPOP...), kept to run again when a key it waits on changes.
  struct BlockedCommand {
    const CommandEntry* entry = nullptr;
    std::vector<std::string> argv;
  };
  std::optional<BlockedCommand> blocked_;
  // Cluster mode: the pipelined commands whose calls went ahead of their turn.
  ClusterPipeline pipeline_;

  // A run of fused writes: consecutive fusable commands (CommandEntry::fusable) on one key, all
  // complete in the connection's input when prefetch saw them, so that the connection sends
  // none of their replies before the last one ran. Their writes are held in fused_ and written
  // as one batch after the last (or before any command that is not the run's next).
  std::string run_key_;
  size_t run_remaining_ = 0;  // commands of the run still to come
  FusedWrites fused_;
  // Taken by the run's first command and kept to its end, as each command would hold it.
  std::shared_lock<std::shared_mutex> run_execution_;
  // Where in `out` the replies of the commands whose writes fused_ holds begin and end, and how
  // many there are.
  size_t held_reply_start_ = 0;
  size_t held_reply_end_ = 0;
  size_t held_replies_ = 0;
};

// Runs a resolved command's handler (or `handler` in its place) and counts it (calls, time,
// failures); takes no lock. The session calls it under the execution lock; EXEC, which holds the
// lock exclusively, for each queued command.
void run_command(Server& server, Client& client, const CommandEntry& entry, CommandContext& context,
                 CommandHandler handler = nullptr);

// Wrong-arity and unknown-command messages, exactly as Redis 7 words them.
std::string unknown_command_message(std::span<const std::string_view> argv);
std::string wrong_arity_message(const CommandEntry& entry);
std::string unknown_subcommand_message(std::string_view container, std::string_view subcommand);

}  // namespace cairn
