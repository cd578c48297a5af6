#include "storage/blob_gc.h"

#include "common/assert.h"
#include "storage/blob_format.h"

namespace cairn {
namespace {

// The live fraction of a file (see the header); > 1 may only come from a damaged MANIFEST.
double live_fraction(uint64_t live_record_bytes, uint64_t file_bytes) {
  CAIRN_ASSERT(file_bytes > kBlobFileHeaderBytes);
  return static_cast<double>(live_record_bytes) /
         static_cast<double>(file_bytes - kBlobFileHeaderBytes);
}

}  // namespace

std::map<uint64_t, uint64_t> blob_live_record_bytes(const Version& version) {
  std::map<uint64_t, uint64_t> live;
  for (int level = 0; level < kLevelCount; level++) {
    for (const auto& file : version.files(level)) {
      for (const BlobFileUse& use : file->blob_files) live[use.file_number] += use.record_bytes;
    }
  }
  return live;
}

std::set<uint64_t> blob_files_to_collect(const Version& version,
                                         const std::map<uint64_t, uint64_t>& sealed_file_bytes,
                                         const std::set<uint64_t>& excluded,
                                         double live_fraction_min) {
  std::set<uint64_t> collect;
  if (live_fraction_min <= 0) return collect;
  const std::map<uint64_t, uint64_t> live = blob_live_record_bytes(version);
  for (const auto& [number, file_bytes] : sealed_file_bytes) {
    const auto live_bytes = live.find(number);
    if (file_bytes <= kBlobFileHeaderBytes || live_bytes == live.end() ||
        excluded.contains(number)) {
      continue;
    }
    if (live_fraction(live_bytes->second, file_bytes) < live_fraction_min) collect.insert(number);
  }
  return collect;
}

std::optional<Compaction> pick_blob_gc(std::shared_ptr<const Version> version,
                                       const std::map<uint64_t, uint64_t>& sealed_file_bytes,
                                       const std::set<uint64_t>& collect) {
  const std::map<uint64_t, uint64_t> live = blob_live_record_bytes(*version);
  std::shared_ptr<const FileMetaData> chosen;
  int chosen_level = 0;
  double chosen_fraction = 0;
  for (int level = 1; level < kLevelCount; level++) {
    for (const auto& file : version->files(level)) {
      for (const BlobFileUse& use : file->blob_files) {
        if (!collect.contains(use.file_number)) continue;
        const double fraction =
            live_fraction(live.at(use.file_number), sealed_file_bytes.at(use.file_number));
        if (chosen == nullptr || fraction < chosen_fraction) {
          chosen = file;
          chosen_level = level;
          chosen_fraction = fraction;
        }
      }
    }
  }
  if (chosen == nullptr) return std::nullopt;
  Compaction compaction;
  compaction.level = chosen_level;
  compaction.output_level = chosen_level;
  compaction.inputs.push_back(std::move(chosen));
  compaction.version = std::move(version);
  compaction.relocated_blob_files = collect;
  return compaction;
}

}  // namespace cairn
