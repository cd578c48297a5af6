// Returning memory to the operating system.
// Thread-safety: may be called from any thread.
#pragma once

namespace cairn {

// Gives the pages of freed heap memory back to the operating system, so that the resident size
// falls after a large structure (a flushed memtable) is freed. The C allocator keeps freed
// small blocks for reuse and returns only the top of its heap on its own; this also releases
// whole free pages below it. Under jemalloc (cairnd links it), which would return them after
// its decay time, this purges its arenas' free pages at once. Costs a walk of the allocator's
// free lists, so call it after freeing megabytes, not after every free.
void return_free_heap_memory_to_os();

}  // namespace cairn
