// The keys a command names, as Redis's key specs give them: the table's first/last/step
// positions, and for the commands whose keys follow a count ("movablekeys": SINTERCARD, ZUNION,
// ZINTERSTORE, LMPOP, ...) the count read from argv. Cluster mode reads these keys' states before
// the command runs and checks that an atomic command's keys share a slot.
//
// Thread-safety: a pure function.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "server/command_table.h"

namespace cairn {

// argv's keys, in order (a key named twice appears twice). A malformed count gives the keys
// before it only: the command's own handler answers the error.
std::vector<std::string_view> command_keys(const CommandEntry& entry,
                                           std::span<const std::string_view> argv);

}  // namespace cairn
