// Choosing the steps of a manual compaction (Database::compact_range): every table overlapping a
// range of user keys is rewritten down to the last level, so that the compaction filter sees each
// of its entries, overwritten versions go, and tombstones meet what they hide (and are dropped
// where no snapshot needs them).
//
// The levels are swept top down, one step (one Compaction) at a time:
// - level 0: every table, if any overlaps the range (level-0 tables overlap each other, and newer
//   data must never land below older data of the same key);
// - a deeper level: a run of adjacent tables overlapping the range, in key order from where the
//   previous step of the level stopped, as long as the run and what it overlaps below stay within
//   manual_step_bytes_max (one table at least).
// A step writes into the first level below its inputs that holds tables overlapping them,
// merging those (the levels in between hold none of their keys, so the order of versions is
// kept), or into the last level if none does. Level 0, whose tables span most keys and so would
// overlap most of that level, is written into the empty level just above it instead (unless
// that is level 0 itself), whose tables the next steps then take down in bounded runs: no step
// but level 0's own merge is larger than manual_step_bytes_max, however large the database. Once the sweep has passed every level above the
// last, the last level's tables in the range that no step of this compaction wrote are rewritten
// in place, a run at a time, so that the entries already at the bottom meet the filter too.
// No step is a trivial move: every entry of the range is rewritten at least once.
//
// Steps are picked from the current version one at a time, so background compactions may run
// between them. A level is swept once: tables that reach it after the sweep passed it (writes made
// during the manual compaction, flushed and compacted down) are left to background compaction.
//
// Thread-safety: pure functions of their arguments; a ManualCompaction belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/compaction.h"
#include "storage/options.h"
#include "storage/version.h"

namespace cairn {

// The progress of one manual compaction.
struct ManualCompaction {
  // The range, user keys, both inclusive; nullopt leaves that side unbounded.
  std::optional<std::string> begin;
  std::optional<std::string> end;
  // The level being swept; kLevelCount - 1 is the in-place pass over the last level, kLevelCount
  // means done.
  int level = 0;
  // The largest user key of the previous step's inputs at `level` (nullopt: none yet).
  std::optional<std::string> swept_through;
  // The tables of the last level that steps of this compaction wrote: already filtered.
  std::set<uint64_t> written_last_level;
};

// Input bytes (the tables of a step and those it merges below) past which a step of a deeper
// level takes no further table: RocksDB's max_compaction_bytes default, 25 target files.
uint64_t manual_step_bytes_max(const CompactionOptions& options);

// The next step, or nullopt when the sweep is done. Advances manual->level and
// manual->swept_through past the step returned.
std::optional<Compaction> pick_manual_compaction(std::shared_ptr<const Version> version,
                                                 const CompactionOptions& options,
                                                 ManualCompaction* manual);

// Records that a step picked by pick_manual_compaction wrote the tables `output_numbers` into
// `output_level`.
void note_manual_step_done(int output_level, const std::vector<uint64_t>& output_numbers,
                           ManualCompaction* manual);

}  // namespace cairn
