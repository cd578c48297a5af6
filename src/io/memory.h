// Returning memory to the operating system.
// Thread-safety: may be called from any thread.
#pragma once

namespace cairn {

// Gives the pages of freed heap memory back to the operating system, so that the resident size
// falls after a large structure (a flushed memtable) is freed. The C allocator keeps freed
// small blocks for reuse and returns only the top of its heap on its own; this also releases
// whole free pages below it. Costs a walk of the allocator's free lists, so call it after
// freeing megabytes, not after every free. Under jemalloc (cairnd links it) it does nothing:
// jemalloc returns free pages by itself a few seconds after they are freed.
void return_free_heap_memory_to_os();

}  // namespace cairn
