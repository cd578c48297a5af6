#include "storage/compaction.h"

#include <algorithm>

#include "common/assert.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

uint64_t total_size_bytes(const Version::FileList& files) {
  uint64_t total = 0;
  for (const auto& file : files) total += file->size_bytes;
  return total;
}

// True if no two of `files` share a user key (always so above level 0).
bool mutually_disjoint(Version::FileList files) {
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return compare_internal_keys(a->smallest_key, b->smallest_key) < 0;
  });
  for (size_t i = 1; i < files.size(); i++) {
    if (extract_user_key(files[i - 1]->largest_key) >= extract_user_key(files[i]->smallest_key)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::pair<std::string_view, std::string_view> user_key_range(const Version::FileList& files) {
  CAIRN_ASSERT(!files.empty());
  std::string_view smallest = extract_user_key(files.front()->smallest_key);
  std::string_view largest = extract_user_key(files.front()->largest_key);
  for (const auto& file : files) {
    smallest = std::min(smallest, extract_user_key(file->smallest_key));
    largest = std::max(largest, extract_user_key(file->largest_key));
  }
  return {smallest, largest};
}

uint64_t Compaction::input_size_bytes() const {
  return total_size_bytes(inputs) + total_size_bytes(next_inputs);
}

LevelTargets level_targets(const Version& version, const CompactionOptions& options) {
  constexpr int kLastLevel = kLevelCount - 1;
  uint64_t largest_level_bytes = 0;
  for (int level = 1; level < kLevelCount; level++) {
    largest_level_bytes = std::max(largest_level_bytes, version.level_size_bytes(level));
  }
  LevelTargets targets;
  targets.size_bytes[kLastLevel] = std::max(largest_level_bytes, options.level1_size_bytes);
  for (int level = kLastLevel - 1; level >= 1; level--) {
    const uint64_t target =
        targets.size_bytes[level + 1] / static_cast<uint64_t>(options.level_size_ratio);
    if (target < options.level1_size_bytes) break;
    targets.size_bytes[level] = target;
    targets.base_level = level;
  }
  return targets;
}

double compaction_score(const Version& version, const CompactionOptions& options, int* level) {
  const LevelTargets targets = level_targets(version, options);
  double best_score = static_cast<double>(version.files(0).size()) /
                      static_cast<double>(options.level0_compaction_trigger);
  *level = 0;
  // The last level has nowhere to compact to.
  for (int candidate = 1; candidate < kLevelCount - 1; candidate++) {
    const uint64_t size = version.level_size_bytes(candidate);
    double score = 0;
    if (candidate < targets.base_level) {
      // Above the base level (left there when the tree was smaller): drain it first.
      score = size > 0 ? 1000.0 : 0;
    } else {
      score = static_cast<double>(size) / static_cast<double>(targets.size_bytes[candidate]);
    }
    if (score > best_score) {
      best_score = score;
      *level = candidate;
    }
  }
  return best_score;
}

uint64_t pending_compaction_bytes(const Version& version, const CompactionOptions& options) {
  const LevelTargets targets = level_targets(version, options);
  uint64_t pending = 0;
  if (static_cast<int>(version.files(0).size()) >= options.level0_compaction_trigger) {
    pending += version.level_size_bytes(0);
  }
  for (int level = 1; level < kLevelCount - 1; level++) {
    const uint64_t size = version.level_size_bytes(level);
    const uint64_t target = targets.size_bytes[level];
    if (size > target) pending += size - target;
  }
  return pending;
}

uint64_t grandparent_overlap_bytes_max(const CompactionOptions& options) {
  return 10 * options.target_file_size_bytes;
}

int find_mostly_tombstones(const Version& version, std::shared_ptr<const FileMetaData>* found) {
  // The last level has nowhere to compact to; its tombstones were dropped unless a snapshot
  // needed them.
  for (int level = 0; level < kLevelCount - 1; level++) {
    for (const auto& file : version.files(level)) {
      if (file->deletion_count > 0 && 2 * file->deletion_count >= file->entry_count) {
        if (found != nullptr) *found = file;
        return level;
      }
    }
  }
  return -1;
}

bool compaction_due(const Version& version, const CompactionOptions& options) {
  int level = 0;
  return compaction_score(version, options, &level) >= 1.0 ||
         find_mostly_tombstones(version, nullptr) >= 0;
}

std::optional<Compaction> pick_compaction(std::shared_ptr<const Version> version,
                                          const CompactionOptions& options,
                                          std::array<std::string, kLevelCount>* compact_pointers) {
  int level = 0;
  std::shared_ptr<const FileMetaData> tombstones;  // set when picked for them
  if (compaction_score(*version, options, &level) < 1.0) {
    level = find_mostly_tombstones(*version, &tombstones);
    if (level < 0) return std::nullopt;
  }
  const bool for_tombstones = tombstones != nullptr;

  Compaction compaction;
  compaction.level = level;
  compaction.output_level = level + 1;
  if (level == 0) {
    // Into the base level — unless a level above it still holds data (the tree shrank): newer
    // data must never land below older data of the same key, which reads would then miss.
    compaction.output_level = level_targets(*version, options).base_level;
    for (int above = 1; above < compaction.output_level; above++) {
      if (!version->files(above).empty()) {
        compaction.output_level = above;
        break;
      }
    }
  }
  if (level == 0) {
    // Level-0 files overlap each other: take them all, so newer data never ends up below older.
    compaction.inputs = version->files(0);
  } else if (for_tombstones) {
    compaction.inputs.push_back(tombstones);
  } else {
    const Version::FileList& files = version->files(level);
    const std::string& pointer = (*compact_pointers)[level];
    auto next = std::find_if(files.begin(), files.end(), [&](const auto& file) {
      return pointer.empty() || extract_user_key(file->smallest_key) > pointer;
    });
    compaction.inputs.push_back(next == files.end() ? files.front() : *next);
  }
  CAIRN_ASSERT(!compaction.inputs.empty());

  const auto [smallest, largest] = user_key_range(compaction.inputs);
  compaction.next_inputs = version->overlapping_files(compaction.output_level, smallest, largest);
  if (compaction.output_level + 1 < kLevelCount) {
    compaction.grandparents =
        version->overlapping_files(compaction.output_level + 1, smallest, largest);
  }
  // Tombstones are rewritten, never just moved: with nothing below to hide, they are dropped.
  compaction.trivial_move =
      !for_tombstones && compaction.next_inputs.empty() && mutually_disjoint(compaction.inputs) &&
      total_size_bytes(compaction.grandparents) <= grandparent_overlap_bytes_max(options);
  if (!for_tombstones) (*compact_pointers)[level] = std::string(largest);
  compaction.version = std::move(version);
  return compaction;
}

}  // namespace cairn
