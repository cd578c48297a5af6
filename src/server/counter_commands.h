// The counter commands (INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT), whose table entries are in
// string_commands.cc (Redis's "string" group).
#pragma once

#include "server/command.h"

namespace cairn {

void incr_command(CommandContext& context);
void decr_command(CommandContext& context);
void incrby_command(CommandContext& context);
void decrby_command(CommandContext& context);
void incrbyfloat_command(CommandContext& context);

}  // namespace cairn
