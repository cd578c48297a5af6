#include "io/memory.h"

#include <malloc.h>

namespace cairn {

void return_free_heap_memory_to_os() { malloc_trim(0); }

}  // namespace cairn
