// Writing a table file from an ordered stream of entries: what a memtable flush does (and,
// in a later step, a compaction's output).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"
#include "storage/options.h"
#include "storage/version_edit.h"

namespace cairn {

class Env;

// What FileMetaData records about a table's entries — their count, the tombstones among them,
// and the blob files they name with the record bytes in each — fed every entry written to the
// table (flush and compaction outputs alike).
class TableEntryCollector {
 public:
  // Counts one entry of `type` (from its parsed internal key, which the caller has); notes the
  // blob file of a kBlobReference. Corruption if the reference is malformed (entries may come
  // from tables on disk).
  Status add(ValueType type, std::string_view value);
  // Fills `file`'s counts and blob files with what was added since the last take(); forgets it.
  void take(FileMetaData* file);

 private:
  uint64_t entry_count_ = 0;
  uint64_t deletion_count_ = 0;
  std::map<uint64_t, uint64_t> record_bytes_;  // by blob file number
};

// The stripe of `sequence` among `snapshots` (live snapshot sequences, ascending, without
// repeats): the index of the first snapshot at or after it. Entries in one stripe are seen by the
// same snapshots; snapshots.size() is the stripe no snapshot sees. Of two entries of one user key
// in the same stripe, no reader can see the older: flushes and compactions leave it out.
size_t snapshot_stripe(const std::vector<SequenceNumber>& snapshots, SequenceNumber sequence);

// Writes the entries of `entries` (internal keys, in order, from its first) to the table file
// `number` in `directory`, then makes the file and its directory entry durable; an entry shadowed
// by a newer entry of its key in the same stripe of `snapshots` is left out (a memtable that
// overwrote its keys flushes only what a reader can see). Returns the file's metadata (with the
// blob files it names), or nullopt if `entries` was empty (no file is left behind). On any error,
// including an error status of `entries`, the partial file is removed.
Result<std::optional<FileMetaData>> build_table(Env* env, const std::string& directory,
                                                const TableOptions& options, Iterator& entries,
                                                const std::vector<SequenceNumber>& snapshots,
                                                uint64_t number);

}  // namespace cairn
