// Small helpers the admin command handlers share: integer parsing as Redis does it, the
// "... HELP" reply, the subcommand tables of the container commands (CLIENT, CONFIG, COMMAND,
// OBJECT), and the version strings Cairn reports.
//
// Thread-safety: pure functions and immutable tables.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "model/string_number.h"  // string_to_int64 (Redis's string2ll)
#include "net/reply_writer.h"
#include "server/command_support.h"  // equals_ignore_case
#include "server/command.h"

namespace cairn {

// The Redis version Cairn reports (INFO redis_version, HELLO version): a 7.0 release, so that
// clients' feature checks treat Cairn as the Redis whose commands it implements.
inline constexpr std::string_view kRedisCompatibleVersion = "7.0.0";
// Cairn's own version (INFO cairn_version, cairnd's start-up line).
inline constexpr std::string_view kCairnVersion = "0.4.0";


// "<NAME> <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", the lines, then HELP's
// own two lines; each line a simple string, as Redis's addReplyHelp.
void help_reply(ReplyWriter& reply, std::string_view container,
                std::initializer_list<std::string_view> lines);

// Names and library names: printable ASCII without spaces (Redis's validateClientName).
bool is_valid_client_name(std::string_view name);

std::span<const CommandSpec> client_subcommands();   // client_commands.cc
std::span<const CommandSpec> config_subcommands();   // config_commands.cc
std::span<const CommandSpec> command_subcommands();  // command_commands.cc
std::span<const CommandSpec> object_subcommands();   // object_commands.cc

void command_command(CommandContext& context);  // COMMAND with no subcommand
void info_command(CommandContext& context);     // info.cc

}  // namespace cairn
