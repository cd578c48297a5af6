// Server commands: DBSIZE, FLUSHDB, FLUSHALL, TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, INFO
// (info.cc), and the containers COMMAND (command_commands.cc), CONFIG (config_commands.cc) and
// OBJECT (object_commands.cc).
#include <array>
#include <chrono>
#include <string>

#include "server/command_groups.h"
#include "server/command_helpers.h"
#include "server/server.h"

namespace cairn {
namespace {

void reply_status_error(CommandContext& context, const Status& status) {
  context.reply.error("ERR " + std::string(status.message()));
}

void dbsize_command(CommandContext& context) {
  Result<uint64_t> count = context.server.keyspace().key_count();
  if (!count.is_ok()) return reply_status_error(context, count.status());
  context.reply.integer(static_cast<int64_t>(*count));
}

void flush_command(CommandContext& context) {
  if (context.argv.size() > 2 ||
      (context.argv.size() == 2 && !equals_ignore_case(context.argv[1], "async") &&
       !equals_ignore_case(context.argv[1], "sync"))) {
    context.reply.error("ERR syntax error");
    return;
  }
  Status status = context.server.keyspace().remove_all();
  if (!status.is_ok()) return reply_status_error(context, status);
  context.server.watches().all_keys_modified();
  context.reply.ok();
}

void time_command(CommandContext& context) {
  int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  context.reply.array_header(2);
  context.reply.bulk_string(std::to_string(now_us / 1000000));
  context.reply.bulk_string(std::to_string(now_us % 1000000));
}

void lastsave_command(CommandContext& context) { context.reply.integer(context.server.last_save_s()); }

void save_command(CommandContext& context) {
  Status status = context.server.keyspace().save();
  if (!status.is_ok()) return reply_status_error(context, status);
  context.server.note_save();
  context.reply.ok();
}

void bgsave_command(CommandContext& context) {
  if (context.argv.size() > 2 ||
      (context.argv.size() == 2 && !equals_ignore_case(context.argv[1], "schedule"))) {
    context.reply.error("ERR syntax error");
    return;
  }
  // The engine's flush is quick (it writes the memtable, a bounded amount): done before replying.
  Status status = context.server.keyspace().save();
  if (!status.is_ok()) return reply_status_error(context, status);
  context.server.note_save();
  context.reply.simple_string("Background saving started");
}

void shutdown_command(CommandContext& context) {
  for (size_t i = 1; i < context.argv.size(); ++i) {
    std::string_view option = context.argv[i];
    if (!equals_ignore_case(option, "nosave") && !equals_ignore_case(option, "save") &&
        !equals_ignore_case(option, "now") && !equals_ignore_case(option, "force") &&
        !equals_ignore_case(option, "abort")) {
      context.reply.error("ERR syntax error");
      return;
    }
    if (equals_ignore_case(option, "abort")) {
      context.reply.error("ERR No shutdown in progress.");
      return;
    }
  }
  // Every write is already in the WAL: SAVE and NOSAVE both shut down cleanly (close syncs).
  if (!context.server.request_shutdown()) {
    context.reply.error("ERR Errors trying to SHUTDOWN. Check logs.");
    return;
  }
  context.close_connection = true;  // no reply on success, as Redis
}

constexpr uint32_t kAdmin = kCommandAdmin | kCommandNoScript;

const std::array kServerCommands = {
    CommandSpec{.name = "dbsize", .arity = 1, .flags = kCommandReadonly | kCommandFast,
                .group = "server", .since = "1.0.0",
                .summary = "Returns the number of keys in the database.",
                .complexity = "O(N) where N is the number of keys (Cairn counts by a scan)",
                .handler = dbsize_command, .subcommands = {}},
    CommandSpec{.name = "flushdb", .arity = -1, .flags = kCommandWrite, .group = "server",
                .since = "1.0.0", .summary = "Remove all keys from the current database.",
                .complexity = "O(N) where N is the number of keys in the selected database",
                .handler = flush_command, .subcommands = {}},
    CommandSpec{.name = "flushall", .arity = -1, .flags = kCommandWrite, .group = "server",
                .since = "1.0.0", .summary = "Removes all keys from all databases.",
                .complexity = "O(N) where N is the total number of keys in all databases",
                .handler = flush_command, .subcommands = {}},
    CommandSpec{.name = "time", .arity = 1, .flags = kCommandLoading | kCommandStale | kCommandFast,
                .group = "server", .since = "2.6.0", .summary = "Returns the server time.",
                .complexity = "O(1)", .handler = time_command, .subcommands = {}},
    CommandSpec{.name = "lastsave", .arity = 1,
                .flags = kCommandLoading | kCommandStale | kCommandFast, .group = "server",
                .since = "1.0.0",
                .summary = "Returns the Unix timestamp of the last successful save to disk.",
                .complexity = "O(1)", .handler = lastsave_command, .subcommands = {}},
    CommandSpec{.name = "save", .arity = 1, .flags = kAdmin, .group = "server",
                .since = "1.0.0",
                .summary = "Synchronously saves the database(s) to disk (Cairn: flushes the memtable).",
                .complexity = "O(N) where N is the total number of keys in all databases",
                .handler = save_command, .subcommands = {}},
    CommandSpec{.name = "bgsave", .arity = -1, .flags = kAdmin, .group = "server",
                .since = "1.0.0",
                .summary = "Asynchronously saves the database(s) to disk (Cairn: flushes the memtable).",
                .complexity = "O(N) where N is the total number of keys in all databases",
                .handler = bgsave_command, .subcommands = {}},
    CommandSpec{.name = "shutdown", .arity = -1,
                .flags = kAdmin | kCommandLoading | kCommandStale, .group = "server",
                .since = "1.0.0",
                .summary = "Synchronously saves the database(s) to disk and shuts down the server.",
                .complexity = "O(N) when saving, where N is the total number of keys in all databases",
                .handler = shutdown_command, .subcommands = {}},
    CommandSpec{.name = "info", .arity = -1, .flags = kCommandLoading | kCommandStale,
                .group = "server", .since = "1.0.0",
                .summary = "Returns information and statistics about the server.",
                .complexity = "O(1)", .handler = info_command, .subcommands = {}},
    CommandSpec{.name = "command", .arity = -1, .flags = kCommandLoading | kCommandStale,
                .group = "server", .since = "2.8.13",
                .summary = "Returns detailed information about all commands.",
                .complexity = "O(N) where N is the total number of Redis commands",
                .handler = command_command, .subcommands = command_subcommands()},
    CommandSpec{.name = "config", .arity = -2, .flags = 0, .group = "server", .since = "2.0.0",
                .summary = "A container for server configuration commands.",
                .complexity = "Depends on subcommand.", .handler = nullptr,
                .subcommands = config_subcommands()},
    CommandSpec{.name = "object", .arity = -2, .flags = 0, .group = "generic", .since = "2.2.3",
                .summary = "A container for object introspection commands.",
                .complexity = "Depends on subcommand.", .handler = nullptr,
                .subcommands = object_subcommands()},
};

}  // namespace

std::span<const CommandSpec> server_commands() { return kServerCommands; }

}  // namespace cairn
