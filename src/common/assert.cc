#include "common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace cairn::detail {

void assert_failed(const char* expression, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expression);
  std::fflush(stderr);
  std::abort();
}

}  // namespace cairn::detail
