// The database's iterator: turns the merged internal iterator of a read (memtables + tables)
// into the user's view at one sequence number: each user key once, with its newest value
// visible at that sequence, and keys whose newest visible entry is a tombstone left out. A value
// kept in a blob file is read (whole, into the iterator's buffer) when value() is first called
// for its key, not before; if that read fails, value() returns an empty view and the iterator
// becomes invalid with the error in status() (key(), next() and prev() still work for the entry).
// Backward moves (prev, seek_to_last, seek_for_prev) show the same keys and values in reverse;
// while going backward the current key and its value (a blob reference, for a blob value) are
// copies held by the iterator, so a backward step costs a copy of each visible version it passes.
// Thread-safety: as Iterator.
#pragma once

#include <memory>

#include "storage/blob_store.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"

namespace cairn {

// `internal` yields internal keys in internal-key order. Keys of the result are user keys.
// REQUIRES: `blobs` outlives the iterator.
std::unique_ptr<Iterator> new_database_iterator(std::unique_ptr<Iterator> internal,
                                                SequenceNumber sequence, BlobStore* blobs);

}  // namespace cairn
