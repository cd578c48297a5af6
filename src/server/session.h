// ServerSession: the Session (net/session.h) of one connection. It owns the connection's
// Client and dispatches each command: looks it up in the command table, checks its arity and
// subcommand, queues it inside MULTI, runs its handler under the server's execution lock,
// counts it (INFO commandstats) and applies the client's reply mode (CLIENT REPLY).
//
// Thread-safety: as Session: one call at a time, from the connection's loop thread.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/session.h"
#include "server/client.h"
#include "server/command.h"

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
  void end_block(std::string& out, ConnectionControl::BlockEnd reason) override;
  // Prefetches each command's argv[1] as a key: most commands name their key first, and for the
  // others the hint only loads a cache line in vain.
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
  // After a handler ran: if it waits, keeps the command to retry and says so in `outcome`;
  // otherwise takes the client off the BlockingRegistry if it was waiting.
  void settle_block(const CommandEntry& entry, std::span<const std::string_view> argv,
                    const CommandContext& context, Outcome* outcome);

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
    bool null_array_on_timeout = true;
  };
  std::optional<BlockedCommand> blocked_;
};

// Runs a resolved command's handler and counts it (calls, time, failures); takes no lock.
// The session calls it under the execution lock; EXEC, which holds the lock exclusively, for
// each queued command.
void run_command(Server& server, Client& client, const CommandEntry& entry,
                 CommandContext& context);

// Wrong-arity and unknown-command messages, exactly as Redis 7 words them.
std::string unknown_command_message(std::span<const std::string_view> argv);
std::string wrong_arity_message(const CommandEntry& entry);
std::string unknown_subcommand_message(std::string_view container, std::string_view subcommand);

}  // namespace cairn
