// The database's iterator: turns the merged internal iterator of a read (memtables + tables)
// into the user's view at one sequence number: each user key once, with its newest value
// visible at that sequence, and keys whose newest visible entry is a tombstone left out.
// Thread-safety: as Iterator.
#pragma once

#include <memory>

#include "storage/internal_key.h"
#include "storage/iterator.h"

namespace cairn {

// `internal` yields internal keys in internal-key order. Keys of the result are user keys.
std::unique_ptr<Iterator> new_database_iterator(std::unique_ptr<Iterator> internal,
                                                SequenceNumber sequence);

}  // namespace cairn
