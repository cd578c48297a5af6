// Whether the standard streams are terminals: tools draw progress bars only for a person.
//
// Thread-safety: any thread.
#pragma once

namespace cairn {

bool stderr_is_terminal();

}  // namespace cairn
