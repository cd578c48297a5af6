// CAIRN_ASSERT: checks of programmer errors (preconditions, invariants, postconditions) that
// stay on in every build type, release included. Never use it on data read from disk or the
// network: untrusted input gets an error Status, not an abort.
#pragma once

namespace cairn::detail {
[[noreturn]] void assert_failed(const char* expression, const char* file, int line);
}  // namespace cairn::detail

#define CAIRN_ASSERT(expression)                                       \
  do {                                                                 \
    if (!(expression)) [[unlikely]] {                                  \
      ::cairn::detail::assert_failed(#expression, __FILE__, __LINE__); \
    }                                                                  \
  } while (false)
