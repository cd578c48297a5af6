#include "storage/manual_compaction.h"

#include <algorithm>

#include "common/assert.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

constexpr int kLastLevel = kLevelCount - 1;

bool in_range(const FileMetaData& file, const ManualCompaction& manual) {
  return !(manual.begin && extract_user_key(file.largest_key) < *manual.begin) &&
         !(manual.end && extract_user_key(file.smallest_key) > *manual.end);
}

// A step merging `inputs` of `level` into the first level below that overlaps them (the last if
// none does), except that level 0 stops one level short of a level below level 1; the last
// level's inputs are rewritten in place.
Compaction make_step(const std::shared_ptr<const Version>& version, int level,
                     Version::FileList inputs) {
  Compaction step;
  step.level = level;
  step.inputs = std::move(inputs);
  step.version = version;
  step.output_level = kLastLevel;
  if (level == kLastLevel) return step;
  const auto [smallest, largest] = user_key_range(step.inputs);
  for (int below = level + 1; below < kLevelCount; below++) {
    if (!version->overlapping_files(below, smallest, largest).empty()) {
      step.output_level = below;
      break;
    }
  }
  // Level 0 spans most keys, so it overlaps most of the level it merges into: after a previous
  // manual compaction, all of the last level. Merged into the empty level above instead, its
  // tables then go down in bounded runs like any deeper level's.
  if (level == 0 && step.output_level >= 2 &&
      !version->overlapping_files(step.output_level, smallest, largest).empty()) {
    step.output_level--;
  }
  step.next_inputs = version->overlapping_files(step.output_level, smallest, largest);
  if (step.output_level + 1 < kLevelCount) {
    step.grandparents = version->overlapping_files(step.output_level + 1, smallest, largest);
  }
  return step;
}

// The next run of manual->level (a deeper level, or the last one in place), or nullopt once the
// sweep has passed its last table in the range.
std::optional<Compaction> pick_run(const std::shared_ptr<const Version>& version,
                                   const CompactionOptions& options, ManualCompaction* manual) {
  const int level = manual->level;
  const Version::FileList& files = version->files(level);
  const auto eligible = [&](const FileMetaData& file) {
    return in_range(file, *manual) &&
           !(manual->swept_through &&
             extract_user_key(file.largest_key) <= *manual->swept_through) &&
           !(level == kLastLevel && manual->written_last_level.contains(file.number));
  };
  const auto first = std::find_if(files.begin(), files.end(),
                                  [&](const auto& file) { return eligible(*file); });
  if (first == files.end()) return std::nullopt;
  Compaction step = make_step(version, level, {*first});
  // Files of a level above 0 are in key order: the run extends over adjacent eligible ones.
  for (auto next = first + 1; next != files.end() && eligible(**next); ++next) {
    Version::FileList wider_inputs = step.inputs;
    wider_inputs.push_back(*next);
    Compaction wider = make_step(version, level, std::move(wider_inputs));
    if (wider.input_size_bytes() > manual_step_bytes_max(options)) break;
    step = std::move(wider);
  }
  manual->swept_through = std::string(user_key_range(step.inputs).second);
  return step;
}

}  // namespace

uint64_t manual_step_bytes_max(const CompactionOptions& options) {
  return 25 * options.target_file_size_bytes;
}

std::optional<Compaction> pick_manual_compaction(std::shared_ptr<const Version> version,
                                                 const CompactionOptions& options,
                                                 ManualCompaction* manual) {
  CAIRN_ASSERT(manual->level >= 0 && manual->level <= kLevelCount);
  if (manual->level == 0) {
    manual->level = 1;
    const Version::FileList& files = version->files(0);
    if (std::any_of(files.begin(), files.end(),
                    [&](const auto& file) { return in_range(*file, *manual); })) {
      return make_step(version, 0, files);
    }
  }
  while (manual->level < kLevelCount) {
    if (std::optional<Compaction> step = pick_run(version, options, manual)) return step;
    manual->level++;
    manual->swept_through.reset();
  }
  return std::nullopt;
}

void note_manual_step_done(int output_level, const std::vector<uint64_t>& output_numbers,
                           ManualCompaction* manual) {
  if (output_level != kLastLevel) return;
  manual->written_last_level.insert(output_numbers.begin(), output_numbers.end());
}

}  // namespace cairn
