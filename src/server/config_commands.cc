// CONFIG subcommands: GET, SET, RESETSTAT, REWRITE, HELP (the parameters: config_registry.h).
#include <array>
#include <string>

#include "server/command_helpers.h"
#include "server/server.h"

namespace cairn {
namespace {

void config_get(CommandContext& context) {
  auto pairs = context.server.config_registry().get(context.argv.subspan(2));
  context.reply.map_header(pairs.size());
  for (const auto& [name, value] : pairs) {
    context.reply.bulk_string(name);
    context.reply.bulk_string(value);
  }
}

void config_set(CommandContext& context) {
  std::span<const std::string_view> pairs = context.argv.subspan(2);
  if (pairs.size() % 2 != 0) {
    context.reply.error("ERR syntax error");  // as Redis 7.0 answers an odd count
    return;
  }
  Result<bool> done = context.server.config_registry().set(pairs);
  if (!done.is_ok()) {
    context.reply.error(done.status().message());
    return;
  }
  context.reply.ok();
}

void config_resetstat(CommandContext& context) {
  context.server.stats().reset();
  context.reply.ok();
}

void config_rewrite(CommandContext& context) {
  if (context.server.config().config_file.empty()) {
    context.reply.error("ERR The server is running without a config file");
  } else {
    // Cairn's config file is TOML, not redis.conf: it is not rewritten behind the user's back.
    context.reply.error("ERR Rewriting config file: CONFIG REWRITE is not supported by Cairn");
  }
}

void config_help(CommandContext& context) {
  help_reply(context.reply, "CONFIG",
             {"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
              "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
              "RESETSTAT", "    Reset statistics reported by the INFO command.",
              "REWRITE", "    Rewrite the configuration file."});
}

constexpr uint32_t kConfigFlags = kCommandAdmin | kCommandNoScript | kCommandLoading | kCommandStale;

constexpr std::array kConfigSubcommands = {
    CommandSpec{.name = "get", .arity = -3, .flags = kConfigFlags, .group = "server",
                .since = "2.0.0", .summary = "Returns the effective values of configuration parameters.",
                .complexity = "O(N) when N is the number of configuration parameters provided",
                .handler = config_get, .subcommands = {}},
    CommandSpec{.name = "set", .arity = -4, .flags = kConfigFlags, .group = "server",
                .since = "2.0.0", .summary = "Sets configuration parameters in-flight.",
                .complexity = "O(N) when N is the number of configuration parameters provided",
                .handler = config_set, .subcommands = {}},
    CommandSpec{.name = "resetstat", .arity = 2, .flags = kConfigFlags, .group = "server",
                .since = "2.0.0", .summary = "Resets the server's statistics.",
                .complexity = "O(1)", .handler = config_resetstat, .subcommands = {}},
    CommandSpec{.name = "rewrite", .arity = 2, .flags = kConfigFlags, .group = "server",
                .since = "2.8.0", .summary = "Persists the effective configuration to file.",
                .complexity = "O(1)", .handler = config_rewrite, .subcommands = {}},
    CommandSpec{.name = "help", .arity = 2, .flags = kCommandLoading | kCommandStale,
                .group = "server", .since = "5.0.0",
                .summary = "Returns helpful text about the different subcommands.",
                .complexity = "O(1)", .handler = config_help, .subcommands = {}},
};

}  // namespace

std::span<const CommandSpec> config_subcommands() { return kConfigSubcommands; }

}  // namespace cairn
