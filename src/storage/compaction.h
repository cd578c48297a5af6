// Choosing compactions for the leveled LSM tree. Level 0 holds flushed memtables, which may
// overlap; every deeper level is sorted and non-overlapping. A compaction merges some files of
// one level with the files of the level below that overlap them, and writes the result there.
//
// Level targets are derived from the bottom up (as RocksDB's dynamic level sizing): the last
// level's target is its size, each level above is level_size_ratio times smaller, and levels
// whose target would fall under level1_size_bytes stay empty. Level 0 compacts into the highest
// level in use, the base level. So most data sits in the last level whatever the database's
// size, and a full overwrite leaves at most about 1/ratio of stale data behind (space
// amplification near 1.1), where fixed targets would leave the upper levels full of it.
//
// The level most over its target (level 0: by file count) is compacted first. Within a level
// above 0, files are taken round robin by key (the compact pointer), so every key range is
// rewritten in turn and overwritten data is dropped everywhere eventually.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "storage/options.h"
#include "storage/version.h"

namespace cairn {

struct Compaction {
  int level = 0;
  int output_level = 1;
  Version::FileList inputs;       // of `level`
  Version::FileList next_inputs;  // of `output_level`, overlapping `inputs`
  // Files of the level below the output overlapping the inputs: an output file is cut before it
  // overlaps too many of them, so that its own later compaction stays small.
  Version::FileList grandparents;
  // The version the inputs come from, kept alive while the compaction runs.
  std::shared_ptr<const Version> version;
  // The files can move to the next level unchanged: nothing there overlaps them.
  bool trivial_move = false;
  // Blob garbage collection (blob_gc.h): the inputs are rewritten into their own level, and
  // every surviving reference into one of these blob files is moved to a new blob record.
  std::set<uint64_t> relocated_blob_files;

  uint64_t input_size_bytes() const;
};

// The user-key range [smallest, largest] covered by `files`; the views point into them.
// REQUIRES: !files.empty().
std::pair<std::string_view, std::string_view> user_key_range(const Version::FileList& files);

struct LevelTargets {
  // Where level 0 compacts to; levels 1 to base_level - 1 stay empty.
  int base_level = kLevelCount - 1;
  // The size each level should stay under; 0 for level 0 and the levels above the base.
  std::array<uint64_t, kLevelCount> size_bytes{};
};

LevelTargets level_targets(const Version& version, const CompactionOptions& options);

// How far over its target the most urgent level is (>= 1 means compaction is due), and which.
double compaction_score(const Version& version, const CompactionOptions& options, int* level);

// The bytes compaction still has to rewrite before every level is within its target: what the
// write path slows down and stops on.
uint64_t pending_compaction_bytes(const Version& version, const CompactionOptions& options);

// Grandparent bytes an output file may overlap before it is cut.
uint64_t grandparent_overlap_bytes_max(const CompactionOptions& options);

// The level above the last holding a table mostly of tombstones (at least half its entries), the
// shallowest such, and in *found (if not null) the first such table of it; -1 if none. Such a
// table is compacted down even when its level is within its target, so that its tombstones meet
// the data they delete (or are dropped, with nothing below) instead of waiting above it for the
// level to grow: a delete-heavy workload would otherwise keep its dead data.
int find_mostly_tombstones(const Version& version, std::shared_ptr<const FileMetaData>* found);

// A compaction is due: a level is over its target or a table is mostly tombstones.
bool compaction_due(const Version& version, const CompactionOptions& options);

// The next compaction, or nullopt when none is due. The most urgent level over its target first;
// else the table find_mostly_tombstones names (all of level 0 if it is there), never moved
// trivially. compact_pointers[level] is the largest user key of the level's previous
// round-robin compaction; this updates it.
std::optional<Compaction> pick_compaction(std::shared_ptr<const Version> version,
                                          const CompactionOptions& options,
                                          std::array<std::string, kLevelCount>* compact_pointers);

}  // namespace cairn
