// Version: an immutable list of the table files that make up the database at one moment, per
// level. Readers take a shared_ptr to the current Version and use it without locks; a flush or
// compaction installs a new Version, and files stay on disk while any Version lists them.
//
// Invariants: level 0 is ordered newest first (file numbers descending; its files may overlap);
// every other level is ordered by smallest key and its files do not overlap.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"
#include "storage/version_edit.h"

namespace cairn {

class TableCache;

class Version {
 public:
  using FileList = std::vector<std::shared_ptr<const FileMetaData>>;

  const FileList& files(int level) const { return files_[level]; }
  size_t file_count() const;
  uint64_t level_size_bytes(int level) const;

  // The files of `level` whose user-key range intersects [smallest, largest] (user keys).
  FileList overlapping_files(int level, std::string_view smallest_user_key,
                             std::string_view largest_user_key) const;
  // True if some file below `level` may hold an entry for `user_key`.
  bool may_hold_key_below(int level, std::string_view user_key) const;

  // The newest entry for `user_key` with sequence <= `sequence` in the tables, as
  // MemTable::get reports it (a blob reference is returned encoded, not resolved).
  Result<LookupResult> get(TableCache& tables, std::string_view user_key, SequenceNumber sequence,
                           std::string* value) const;

  // One iterator over internal keys per table (level 0) and per file of the other levels.
  void append_iterators(TableCache& tables, std::vector<std::unique_ptr<Iterator>>* out) const;

  // This version with `edit` applied. Corruption if the edit adds a file twice or breaks the
  // level ordering invariants (a MANIFEST from a buggy or damaged writer).
  Result<std::shared_ptr<const Version>> apply(const VersionEdit& edit) const;

  // Adds every file of this version to `edit` (the snapshot that opens a new MANIFEST).
  void append_snapshot(VersionEdit* edit) const;

 private:
  std::array<FileList, kLevelCount> files_;
};

}  // namespace cairn
