#include "io/memory.h"

#include <malloc.h>

#include <cstddef>

// jemalloc's control call: defined when the program links jemalloc (cairnd does), null otherwise.
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length, void* new_value,
                       size_t new_length) __attribute__((weak));

namespace cairn {
namespace {

// jemalloc's MALLCTL_ARENAS_ALL: "arena.4096.purge" purges every arena.
constexpr const char* kPurgeAllArenas = "arena.4096.purge";

}  // namespace

void return_free_heap_memory_to_os() {
  if (mallctl != nullptr) {
    (void)mallctl(kPurgeAllArenas, nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0);
}

}  // namespace cairn
