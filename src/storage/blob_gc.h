// Choosing blob garbage collections (docs/blob-format.md, "Garbage collection").
//
// A blob file's live fraction is the record bytes that the tables of the current version
// reference in it (FileMetaData::blob_files) over the bytes of all its records (its size less
// the file header): exactly 1 for a file every record of which is referenced. A sealed file whose
// live fraction falls below Options::blob_gc_live_fraction_min is collected: the tables that
// reference it are rewritten one at a time in place (same level, same key range, the usual
// compaction rules) and each of their references into a collected file is replaced by one to a
// copy of the record in a new blob file. Once no table names the old file, it is deleted as
// unreachable. A copy is fully live, so what was just relocated is never collected again.
//
// Only tables of levels >= 1 are rewritten: a level-0 table's place among the others is its file
// number, which a rewrite would change (and level 0 is compacted down soon anyway).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "storage/compaction.h"
#include "storage/version.h"

namespace cairn {

// The record bytes the tables of `version` reference in each blob file, by file number.
std::map<uint64_t, uint64_t> blob_live_record_bytes(const Version& version);

// The sealed blob files to collect: those of `sealed_file_bytes` (number -> file size) not in
// `excluded` whose live fraction in `version` is below `live_fraction_min`. A file no table
// references is left out (it is unreachable already, or named only by a memtable, which the
// caller excludes anyway), and so is a file with no record.
std::set<uint64_t> blob_files_to_collect(const Version& version,
                                         const std::map<uint64_t, uint64_t>& sealed_file_bytes,
                                         const std::set<uint64_t>& excluded,
                                         double live_fraction_min);

// The next rewrite of one table, its Compaction::relocated_blob_files set to `collect`: the table
// of level >= 1 that references the file of `collect` with the lowest live fraction (the space
// that file holds comes back first), or nullopt if no table of level >= 1 references any of
// them. REQUIRES: every file of `collect` is in `sealed_file_bytes`.
std::optional<Compaction> pick_blob_gc(std::shared_ptr<const Version> version,
                                       const std::map<uint64_t, uint64_t>& sealed_file_bytes,
                                       const std::set<uint64_t>& collect);

}  // namespace cairn
