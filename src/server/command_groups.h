// The command table is the union of these groups, one per file of handlers; the dispatcher
// (command_table.h) indexes them by name at start-up.
#pragma once

#include <span>

#include "server/command.h"

namespace cairn {

std::span<const CommandSpec> string_commands();       // string_commands.cc
std::span<const CommandSpec> key_commands();          // key_commands.cc
std::span<const CommandSpec> hash_commands();         // hash_commands.cc
std::span<const CommandSpec> set_commands();          // set_commands.cc
std::span<const CommandSpec> list_commands();         // list_commands.cc
std::span<const CommandSpec> sorted_set_commands();           // sorted_set_commands.cc
std::span<const CommandSpec> sorted_set_range_commands();     // sorted_set_range_commands.cc
std::span<const CommandSpec> sorted_set_algebra_commands();   // sorted_set_algebra_commands.cc
std::span<const CommandSpec> expire_commands();       // expire_commands.cc
std::span<const CommandSpec> connection_commands();   // connection_commands.cc
std::span<const CommandSpec> server_commands();       // server_commands.cc
std::span<const CommandSpec> transaction_commands();  // transaction_commands.cc
std::span<const CommandSpec> cairn_commands();        // cairn_commands.cc
std::span<const CommandSpec> cluster_admin_commands();  // cluster_admin_commands.cc

}  // namespace cairn
