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
  // Counts one entry; notes the blob file of a kBlobReference. Corruption if the key or the
  // reference is malformed (entries may come from tables on disk).
  Status add(std::string_view internal_key, std::string_view value);
  // Fills `file`'s counts and blob files with what was added since the last take(); forgets it.
  void take(FileMetaData* file);

 private:
  uint64_t entry_count_ = 0;
  uint64_t deletion_count_ = 0;
  std::map<uint64_t, uint64_t> record_bytes_;  // by blob file number
};

// Writes every entry of `entries` (internal keys, in order, from its first) to the table file
// `number` in `directory`, then makes the file and its directory entry durable. Returns the
// file's metadata (with the blob files it names), or nullopt if `entries` was empty (no file is
// left behind). On any error, including an error status of `entries`, the partial file is removed.
Result<std::optional<FileMetaData>> build_table(Env* env, const std::string& directory,
                                                const TableOptions& options, Iterator& entries,
                                                uint64_t number);

}  // namespace cairn
