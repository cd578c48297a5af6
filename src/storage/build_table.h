// Writing a table file from an ordered stream of entries: what a memtable flush does (and,
// in a later step, a compaction's output).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "storage/iterator.h"
#include "storage/options.h"
#include "storage/version_edit.h"

namespace cairn {

class Env;

// Writes every entry of `entries` (internal keys, in order, from its first) to the table file
// `number` in `directory`, then makes the file and its directory entry durable. Returns the
// file's metadata, or nullopt if `entries` was empty (no file is left behind). On any error,
// including an error status of `entries`, the partial file is removed.
Result<std::optional<FileMetaData>> build_table(Env* env, const std::string& directory,
                                                const TableOptions& options, Iterator& entries,
                                                uint64_t number);

}  // namespace cairn
