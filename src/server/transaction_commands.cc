// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. The session queues the commands between
// MULTI and EXEC (session.cc); EXEC runs them holding the execution lock exclusively, so no
// other client's command interleaves, unless a watched key changed since WATCH.
#include <array>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "server/client.h"
#include "server/command_groups.h"
#include "server/server.h"
#include "server/session.h"

namespace cairn {
namespace {

// A reply body a queued command streamed (a large GET) is inlined into EXEC's array.
Status inline_body(ByteSource& body, std::string& out) {
  char buffer[64 * 1024];
  while (true) {
    Result<size_t> read = body.read(buffer, sizeof(buffer));
    if (!read.is_ok()) return read.status();
    if (*read == 0) return Status::ok();
    out.append(buffer, *read);
  }
}

void multi_command(CommandContext& context) {
  if (context.client.in_multi()) {
    context.reply.error("ERR MULTI calls can not be nested");
    return;
  }
  context.client.begin_multi();
  context.reply.ok();
}

void exec_command(CommandContext& context) {
  Client& client = context.client;
  Server& server = context.server;
  if (!client.in_multi()) {
    context.reply.error("ERR EXEC without MULTI");
    return;
  }
  if (client.multi_error()) {
    client.end_multi();
    server.watches().unwatch_all(client);
    context.reply.error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  std::vector<QueuedCommand> queued = client.take_queue();
  {
    std::unique_lock lock(server.execution_mutex());
    if (client.watch_dirty()) {
      context.reply.null_array();
    } else {
      context.reply.array_header(queued.size());
      std::vector<std::string_view> argv;
      for (const QueuedCommand& command : queued) {
        argv.assign(command.argv.begin(), command.argv.end());
        // Each queued command writes in the protocol the client has when it runs (HELLO inside
        // a transaction switches it for the rest, as in Redis).
        ReplyWriter reply(&context.reply.buffer(), client.resp());
        CommandContext inner{server, client, argv, reply, nullptr, nullptr, false, false, false, {}};
        run_command(server, client, *command.entry, inner);
        if (inner.reply_body) {
          Status status = inline_body(*inner.reply_body, reply.buffer());
          if (!status.is_ok()) context.close_connection = true;  // the promised body is short
        }
        if (inner.close_connection) context.close_connection = true;
      }
    }
  }
  client.end_multi();
  server.watches().unwatch_all(client);
}

void discard_command(CommandContext& context) {
  if (!context.client.in_multi()) {
    context.reply.error("ERR DISCARD without MULTI");
    return;
  }
  context.client.end_multi();
  context.server.watches().unwatch_all(context.client);
  context.reply.ok();
}

void watch_command(CommandContext& context) {
  if (context.client.in_multi()) {
    context.reply.error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  for (size_t i = 1; i < context.argv.size(); ++i) {
    if (!context.server.watches().watch(context.client, context.argv[i])) {
      context.reply.error("ERR too many watched keys");
      return;
    }
  }
  context.reply.ok();
}

void unwatch_command(CommandContext& context) {
  context.server.watches().unwatch_all(context.client);
  context.reply.ok();
}

constexpr uint32_t kTransaction = kCommandNoScript | kCommandLoading | kCommandStale |
                                  kCommandFast | kCommandAllowBusy;

constexpr std::array kTransactionCommands = {
    CommandSpec{.name = "multi", .arity = 1, .flags = kTransaction, .group = "transactions",
                .since = "1.2.0", .summary = "Starts a transaction.", .complexity = "O(1)",
                .handler = multi_command, .subcommands = {}},
    CommandSpec{.name = "exec", .arity = 1,
                .flags = kCommandNoScript | kCommandLoading | kCommandStale,
                .group = "transactions", .since = "1.2.0",
                .summary = "Executes all commands in a transaction.",
                .complexity = "Depends on commands in the transaction", .handler = exec_command, .subcommands = {}},
    CommandSpec{.name = "discard", .arity = 1, .flags = kTransaction, .group = "transactions",
                .since = "2.0.0", .summary = "Discards a transaction.",
                .complexity = "O(N), when N is the number of queued commands",
                .handler = discard_command, .subcommands = {}},
    CommandSpec{.name = "watch", .arity = -2, .flags = kTransaction, .first_key = 1,
                .last_key = -1, .key_step = 1, .group = "transactions", .since = "2.2.0",
                .summary = "Monitors changes to keys to determine the execution of a transaction.",
                .complexity = "O(1) for every key.", .handler = watch_command, .subcommands = {}},
    CommandSpec{.name = "unwatch", .arity = 1, .flags = kTransaction, .group = "transactions",
                .since = "2.2.0", .summary = "Forgets about watched keys of a transaction.",
                .complexity = "O(1)", .handler = unwatch_command, .subcommands = {}},
};

}  // namespace

std::span<const CommandSpec> transaction_commands() { return kTransactionCommands; }

}  // namespace cairn
