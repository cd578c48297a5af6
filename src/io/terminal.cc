#include "io/terminal.h"

#include <unistd.h>

namespace cairn {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace cairn
