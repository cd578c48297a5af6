// Connection commands: PING, ECHO, HELLO, QUIT, RESET, SELECT and CLIENT (client_commands.cc).
#include <array>
#include <string>

#include "server/client.h"
#include "server/command_groups.h"
#include "server/command_helpers.h"
#include "server/server.h"

namespace cairn {
namespace {

void ping_command(CommandContext& context) {
  if (context.argv.size() > 2) {
    context.reply.error("ERR wrong number of arguments for 'ping' command");
  } else if (context.argv.size() == 2) {
    context.reply.bulk_string(context.argv[1]);
  } else {
    context.reply.simple_string("PONG");
  }
}

void echo_command(CommandContext& context) { context.reply.bulk_string(context.argv[1]); }

void quit_command(CommandContext& context) {
  context.reply.ok();
  context.close_connection = true;
}

void hello_command(CommandContext& context) {
  auto argv = context.argv;
  RespVersion version = context.client.resp();
  if (argv.size() >= 2) {
    std::optional<int64_t> requested = string_to_int64(argv[1]);
    if (!requested) {
      context.reply.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (*requested != 2 && *requested != 3) {
      context.reply.error("NOPROTO unsupported protocol version");
      return;
    }
    version = *requested == 3 ? RespVersion::kResp3 : RespVersion::kResp2;
  }
  std::optional<std::string_view> name;
  for (size_t i = 2; i < argv.size(); ++i) {
    bool more = i + 1 < argv.size();
    if (equals_ignore_case(argv[i], "auth") && i + 2 < argv.size()) {
      // No users besides "default", which needs no password (no requirepass).
      if (argv[i + 1] != "default") {
        context.reply.error("WRONGPASS invalid username-password pair or user is disabled.");
        return;
      }
      i += 2;
    } else if (equals_ignore_case(argv[i], "setname") && more) {
      if (!is_valid_client_name(argv[i + 1])) {
        context.reply.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
      name = argv[i + 1];
      ++i;
    } else {
      context.reply.error("ERR Syntax error in HELLO option '" + std::string(argv[i]) + "'");
      return;
    }
  }
  if (name) context.client.set_name(std::string(*name));
  context.client.set_resp(version);
  // The reply already speaks the protocol just chosen, as Redis's does.
  ReplyWriter reply(&context.reply.buffer(), version);
  reply.map_header(7);
  reply.bulk_string("server");
  reply.bulk_string("redis");
  reply.bulk_string("version");
  reply.bulk_string(kRedisCompatibleVersion);
  reply.bulk_string("proto");
  reply.integer(static_cast<int64_t>(version));
  reply.bulk_string("id");
  reply.integer(static_cast<int64_t>(context.client.id()));
  reply.bulk_string("mode");
  reply.bulk_string("standalone");
  reply.bulk_string("role");
  reply.bulk_string("master");
  reply.bulk_string("modules");
  reply.array_header(0);
}

void reset_command(CommandContext& context) {
  Client& client = context.client;
  client.end_multi();
  context.server.watches().unwatch_all(client);
  client.set_name("");
  client.set_resp(RespVersion::kResp2);
  client.reply_mode = ReplyMode::kOn;
  client.force_reply = true;
  client.no_evict = false;
  client.no_touch = false;
  ReplyWriter reply(&context.reply.buffer(), RespVersion::kResp2);
  reply.simple_string("RESET");
}

void select_command(CommandContext& context) {
  std::optional<int64_t> index = string_to_int64(context.argv[1]);
  if (!index) {
    context.reply.error("ERR value is not an integer or out of range");
  } else if (*index != 0) {
    context.reply.error("ERR DB index is out of range");
  } else {
    context.reply.ok();
  }
}

constexpr uint32_t kConnection = kCommandFast | kCommandLoading | kCommandStale | kCommandNoScript;

const std::array kConnectionCommands = {
    CommandSpec{.name = "ping", .arity = -1, .flags = kCommandFast, .group = "connection",
                .since = "1.0.0", .summary = "Returns the server's liveliness response.",
                .complexity = "O(1)", .handler = ping_command, .subcommands = {}},
    CommandSpec{.name = "echo", .arity = 2, .flags = kCommandFast, .group = "connection",
                .since = "1.0.0", .summary = "Returns the given string.", .complexity = "O(1)",
                .handler = echo_command, .subcommands = {}},
    CommandSpec{.name = "hello", .arity = -1, .flags = kConnection | kCommandNoAuth,
                .group = "connection", .since = "6.0.0",
                .summary = "Handshakes with the Redis server.", .complexity = "O(1)",
                .handler = hello_command, .subcommands = {}},
    CommandSpec{.name = "quit", .arity = -1, .flags = kConnection | kCommandNoAuth,
                .group = "connection", .since = "1.0.0", .summary = "Closes the connection.",
                .complexity = "O(1)", .handler = quit_command, .subcommands = {}},
    CommandSpec{.name = "reset", .arity = 1, .flags = kConnection | kCommandNoAuth,
                .group = "connection", .since = "6.2.0",
                .summary = "Resets the connection.", .complexity = "O(1)",
                .handler = reset_command, .subcommands = {}},
    CommandSpec{.name = "select", .arity = 2, .flags = kConnection, .group = "connection",
                .since = "1.0.0", .summary = "Changes the selected database.",
                .complexity = "O(1)", .handler = select_command, .subcommands = {}},
    CommandSpec{.name = "client", .arity = -2, .flags = 0, .group = "connection",
                .since = "2.4.0", .summary = "A container for client connection commands.",
                .complexity = "Depends on subcommand.", .handler = nullptr,
                .subcommands = client_subcommands()},
};

}  // namespace

std::span<const CommandSpec> connection_commands() { return kConnectionCommands; }

}  // namespace cairn
