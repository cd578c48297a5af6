// Running one compaction: merge the input files and write the entries that must survive to new
// files of the output level.
//
// What survives. Entries of one user key come newest first. With the live snapshots sorted,
// each entry falls in a stripe: the snapshots that see it are those from its sequence up to the
// next newer entry's. An entry is dropped when a newer entry of its key lies in the same stripe
// (no reader can see it any more). A tombstone is dropped when every snapshot sees it (or a newer
// entry) and no level below the output may still hold the key; otherwise it must stay to hide
// what is below. The compaction filter is asked about a key's newest value only when no snapshot
// can see that value; a value it drops becomes a tombstone, or nothing at the bottom. A blob
// reference is a value for these rules, except that the filter is not asked about it (the entry
// holds the reference, not the value). A dropped reference leaves garbage in its blob file,
// counted per file (blob_garbage_bytes); each output file records the blob files its references
// name and how many value bytes (FileMetaData::blob_files), which keeps them live. A surviving
// reference into one of Compaction::relocated_blob_files is replaced by the one relocate_blob
// returns (blob garbage collection, blob_gc.h); other blob records are not touched.
//
// Output files are cut at the target file size, or earlier when they would overlap too much of
// the level below the output (so their own compaction stays cheap), and only between user keys,
// so that files of a level never share a user key.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/blob_format.h"
#include "storage/compaction.h"
#include "storage/internal_key.h"
#include "storage/options.h"

namespace cairn {

class Env;
class TableCache;

struct CompactionJobContext {
  Env* env = nullptr;
  std::string directory;
  TableOptions table;
  const CompactionOptions* options = nullptr;
  TableCache* tables = nullptr;
  // Sequences of the live snapshots, ascending, without repeats.
  std::vector<SequenceNumber> snapshots;
  // Returns a new file number, registered so the file is not deleted as obsolete meanwhile.
  std::function<uint64_t()> new_output_number;
  // Set when the database is closing: the job stops early with Status::busy.
  const std::atomic<bool>* stop = nullptr;
  // Copies the value a reference names (of the entry of `user_key`) to a new blob record and
  // returns the new reference, encoded. Needed when the compaction relocates blob files.
  std::function<Result<std::string>(std::string_view user_key, const BlobReference& reference)>
      relocate_blob;
};

struct CompactionJobResult {
  std::vector<FileMetaData> outputs;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t entries_read = 0;
  uint64_t entries_dropped = 0;
  // Per blob file: the value bytes of the blob references the job dropped.
  std::map<uint64_t, uint64_t> blob_garbage_bytes;
  // Value bytes copied to new blob records (Compaction::relocated_blob_files).
  uint64_t blob_relocated_bytes = 0;
};

// Merges the compaction's inputs into new, synced files of its output level (their directory
// entries synced too). On error, files it created are removed.
Result<CompactionJobResult> run_compaction_job(const Compaction& compaction,
                                               const CompactionJobContext& context);

}  // namespace cairn
