// OBJECT subcommands: ENCODING, REFCOUNT, IDLETIME, FREQ, HELP. Cairn keeps no shared objects
// and no access times: REFCOUNT is always 1, IDLETIME always 0, and FREQ answers as Redis does
// without an LFU policy.
#include <array>
#include <string>

#include "server/command_helpers.h"
#include "server/server.h"

namespace cairn {
namespace {

// The description of argv[2], or nullopt after replying null (absent key) or an error.
std::optional<KeyDescription> describe(CommandContext& context) {
  Result<std::optional<KeyDescription>> description =
      context.server.keyspace().describe(context.argv[2]);
  if (!description.is_ok()) {
    context.reply.error("ERR " + std::string(description.status().message()));
    return std::nullopt;
  }
  if (!description->has_value()) {
    context.reply.null();
    return std::nullopt;
  }
  return **description;
}

void object_encoding(CommandContext& context) {
  if (auto description = describe(context)) context.reply.bulk_string(description->encoding);
}

void object_refcount(CommandContext& context) {
  if (describe(context)) context.reply.integer(1);
}

void object_idletime(CommandContext& context) {
  if (describe(context)) context.reply.integer(0);
}

void object_freq(CommandContext& context) {
  if (describe(context)) {
    context.reply.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
  }
}

void object_help(CommandContext& context) {
  help_reply(context.reply, "OBJECT",
             {"ENCODING <key>",
              "    Return the kind of internal representation used in order to store the value",
              "    associated with a <key>.",
              "FREQ <key>",
              "    Return the access frequency index of the <key>. The returned integer is",
              "    proportional to the logarithm of the recent access frequency of the key.",
              "IDLETIME <key>",
              "    Return the idle time of the <key>, that is the approximated number of",
              "    seconds elapsed since the last access to the key.",
              "REFCOUNT <key>",
              "    Return the number of references of the value associated with the specified",
              "    <key>."});
}

constexpr uint32_t kObjectFlags = kCommandReadonly;

constexpr std::array kObjectSubcommands = {
    CommandSpec{.name = "encoding", .arity = 3, .flags = kObjectFlags, .first_key = 2,
                .last_key = 2, .key_step = 1, .group = "generic", .since = "2.2.3",
                .summary = "Returns the internal encoding of a Redis object.",
                .complexity = "O(1)", .handler = object_encoding, .subcommands = {}},
    CommandSpec{.name = "refcount", .arity = 3, .flags = kObjectFlags, .first_key = 2,
                .last_key = 2, .key_step = 1, .group = "generic", .since = "2.2.3",
                .summary = "Returns the reference count of a value of a key.",
                .complexity = "O(1)", .handler = object_refcount, .subcommands = {}},
    CommandSpec{.name = "idletime", .arity = 3, .flags = kObjectFlags, .first_key = 2,
                .last_key = 2, .key_step = 1, .group = "generic", .since = "2.2.3",
                .summary = "Returns the time since the last access to a Redis object.",
                .complexity = "O(1)", .handler = object_idletime, .subcommands = {}},
    CommandSpec{.name = "freq", .arity = 3, .flags = kObjectFlags, .first_key = 2,
                .last_key = 2, .key_step = 1, .group = "generic", .since = "4.0.0",
                .summary = "Returns the logarithmic access frequency counter of a Redis object.",
                .complexity = "O(1)", .handler = object_freq, .subcommands = {}},
    CommandSpec{.name = "help", .arity = 2, .flags = kCommandLoading | kCommandStale,
                .group = "generic", .since = "6.2.0",
                .summary = "Returns helpful text about the different subcommands.",
                .complexity = "O(1)", .handler = object_help, .subcommands = {}},
};

}  // namespace

std::span<const CommandSpec> object_subcommands() { return kObjectSubcommands; }

}  // namespace cairn
