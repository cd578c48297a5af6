// VersionEdit: one change to the set of tables that make up a database (files added to or
// removed from levels) plus the counters recovery needs. The MANIFEST is a log of encoded edits;
// replaying them in order rebuilds the current version. The first edit of every MANIFEST is a
// snapshot of the whole state, so a MANIFEST never depends on an older one.
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cairn {

// Levels of the LSM tree. Flushes write level 0; compaction (a later step) fills the rest.
constexpr int kLevelCount = 7;

// The share of one blob file a table's references make up.
struct BlobFileUse {
  uint64_t file_number = 0;
  uint64_t record_bytes = 0;  // the sum of blob_record_bytes() of the references
  bool operator==(const BlobFileUse&) const = default;
};

// What the engine knows of one table file. Immutable once in a Version.
struct FileMetaData {
  uint64_t number = 0;
  uint64_t size_bytes = 0;
  std::string smallest_key;  // internal keys
  std::string largest_key;
  // The blob files the table's kBlobReference entries name, by ascending file number, without
  // repeats: while a live version lists the table, those files stay; the bytes say how much of
  // each file is live, which blob garbage collection goes by (docs/blob-format.md).
  std::vector<BlobFileUse> blob_files;
  // Entries in the table, and how many of them are tombstones: a table mostly of tombstones is
  // compacted down even when its level is within its target (compaction.h). Zero for tables
  // recorded before the counts were.
  uint64_t entry_count = 0;
  uint64_t deletion_count = 0;
};

class VersionEdit {
 public:
  void set_log_number(uint64_t number) { log_number_ = number; }
  void set_next_file_number(uint64_t number) { next_file_number_ = number; }
  void set_last_sequence(uint64_t sequence) { last_sequence_ = sequence; }
  void add_file(int level, FileMetaData file);
  void remove_file(int level, uint64_t number);

  const std::optional<uint64_t>& log_number() const { return log_number_; }
  const std::optional<uint64_t>& next_file_number() const { return next_file_number_; }
  const std::optional<uint64_t>& last_sequence() const { return last_sequence_; }
  const std::vector<std::pair<int, FileMetaData>>& added_files() const { return added_files_; }
  const std::set<std::pair<int, uint64_t>>& removed_files() const { return removed_files_; }

  void encode_to(std::string* destination) const;
  // Corruption (without a file name: the caller adds it) if `input` is not a well-formed edit.
  Status decode_from(std::string_view input);

 private:
  std::optional<uint64_t> log_number_;
  std::optional<uint64_t> next_file_number_;
  std::optional<uint64_t> last_sequence_;
  std::vector<std::pair<int, FileMetaData>> added_files_;
  std::set<std::pair<int, uint64_t>> removed_files_;
};

}  // namespace cairn
