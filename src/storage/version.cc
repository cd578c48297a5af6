#include "storage/version.h"

#include <algorithm>
#include <array>
#include <span>

#include "common/assert.h"
#include "storage/bloom_filter.h"
#include "storage/table.h"
#include "storage/table_cache.h"

namespace cairn {
namespace {

// Files Version::get opens and prefetches the filters of before it probes any: enough for the
// usual shape (a few level 0 files and one file per deeper level) in one or two batches.
constexpr size_t kTablesProbedTogetherMax = 8;

// Looks `key` up in `files`, newest first, as probing them one by one would answer; but opens
// them all and prefetches their filters first, so that the filters' cache misses overlap (a key
// that is absent, or in the last level, probes every file). A file that fails to open is an
// error only if no file before it holds the key. `filter_hash` is its user key's bloom hash.
Result<LookupResult> get_from_tables(TableCache& tables, std::span<const FileMetaData* const> files,
                                     const LookupKey& key, uint64_t filter_hash,
                                     std::string* value) {
  CAIRN_ASSERT(files.size() <= kTablesProbedTogetherMax);
  std::array<std::shared_ptr<Table>, kTablesProbedTogetherMax> opened;
  size_t open_count = 0;
  Status open_error = Status::ok();
  for (; open_count < files.size(); open_count++) {
    Result<std::shared_ptr<Table>> table = tables.find(*files[open_count]);
    if (!table.is_ok()) {
      open_error = table.status();
      break;
    }
    opened[open_count] = std::move(table).value();
    opened[open_count]->prefetch_filter(filter_hash);
  }
  for (size_t i = 0; i < open_count; i++) {
    CAIRN_ASSIGN_OR_RETURN(const LookupResult result, opened[i]->get(key, filter_hash, value));
    if (result != LookupResult::kAbsent) return result;
  }
  CAIRN_RETURN_IF_ERROR(open_error);
  return LookupResult::kAbsent;
}

bool by_smallest_key(const std::shared_ptr<const FileMetaData>& a,
                     const std::shared_ptr<const FileMetaData>& b) {
  return compare_internal_keys(a->smallest_key, b->smallest_key) < 0;
}

}  // namespace

size_t Version::file_count() const {
  size_t count = 0;
  for (const FileList& level : files_) count += level.size();
  return count;
}

uint64_t Version::level_size_bytes(int level) const {
  uint64_t total = 0;
  for (const auto& file : files_[level]) total += file->size_bytes;
  return total;
}

Version::FileList Version::overlapping_files(int level, std::string_view smallest_user_key,
                                             std::string_view largest_user_key) const {
  FileList overlapping;
  for (const auto& file : files_[level]) {
    if (extract_user_key(file->largest_key) < smallest_user_key ||
        extract_user_key(file->smallest_key) > largest_user_key) {
      continue;
    }
    overlapping.push_back(file);
  }
  return overlapping;
}

bool Version::may_hold_key_below(int level, std::string_view user_key) const {
  for (int deeper = level + 1; deeper < kLevelCount; deeper++) {
    const FileList& files = files_[deeper];
    auto it = std::partition_point(files.begin(), files.end(), [&](const auto& file) {
      return extract_user_key(file->largest_key) < user_key;
    });
    if (it != files.end() && extract_user_key((*it)->smallest_key) <= user_key) return true;
  }
  return false;
}

Result<LookupResult> Version::get(TableCache& tables, std::string_view user_key,
                                  SequenceNumber sequence, std::string* value) const {
  const LookupKey key(user_key, sequence);
  const uint64_t filter_hash = bloom_filter_hash(user_key);
  // The files that may hold the key, newest first, probed a batch at a time: each level 0 file
  // whose range covers it (they may overlap), then at most one file per deeper level.
  std::array<const FileMetaData*, kTablesProbedTogetherMax> batch;
  size_t count = 0;
  // Adds a file to the batch, and probes the batch once full (kAbsent: no answer yet).
  auto enqueue = [&](const FileMetaData& file) -> Result<LookupResult> {
    batch[count++] = &file;
    if (count < batch.size()) return LookupResult::kAbsent;
    count = 0;
    return get_from_tables(tables, batch, key, filter_hash, value);
  };
  for (const auto& file : files_[0]) {
    if (user_key < extract_user_key(file->smallest_key) ||
        user_key > extract_user_key(file->largest_key)) {
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(const LookupResult result, enqueue(*file));
    if (result != LookupResult::kAbsent) return result;
  }
  for (int level = 1; level < kLevelCount; level++) {
    const FileList& files = files_[level];
    auto it = std::partition_point(files.begin(), files.end(), [&](const auto& file) {
      return extract_user_key(file->largest_key) < user_key;
    });
    if (it == files.end() || user_key < extract_user_key((*it)->smallest_key)) continue;
    CAIRN_ASSIGN_OR_RETURN(const LookupResult result, enqueue(**it));
    if (result != LookupResult::kAbsent) return result;
  }
  return get_from_tables(tables, std::span(batch.data(), count), key, filter_hash, value);
}

void Version::append_iterators(TableCache& tables,
                               std::vector<std::unique_ptr<Iterator>>* out) const {
  for (const FileList& level : files_) {
    for (const auto& file : level) {
      Result<std::shared_ptr<Table>> table = tables.find(*file);
      if (!table.is_ok()) {
        out->push_back(new_empty_iterator(table.status()));
        continue;
      }
      std::unique_ptr<Iterator> iterator = (*table)->new_iterator();
      iterator->keep_alive(std::move(table).value());
      out->push_back(std::move(iterator));
    }
  }
}

Result<std::shared_ptr<const Version>> Version::apply(const VersionEdit& edit) const {
  auto next = std::make_shared<Version>(*this);
  for (const auto& [level, number] : edit.removed_files()) {
    std::erase_if(next->files_[level], [&](const auto& file) { return file->number == number; });
  }
  for (const auto& [level, file] : edit.added_files()) {
    for (const FileList& files : next->files_) {
      for (const auto& existing : files) {
        if (existing->number == file.number) {
          return Status::corruption("version edit adds file " + std::to_string(file.number) +
                                    " twice");
        }
      }
    }
    next->files_[level].push_back(std::make_shared<const FileMetaData>(file));
  }
  std::sort(next->files_[0].begin(), next->files_[0].end(),
            [](const auto& a, const auto& b) { return a->number > b->number; });
  for (int level = 1; level < kLevelCount; level++) {
    FileList& files = next->files_[level];
    std::sort(files.begin(), files.end(), by_smallest_key);
    for (size_t i = 1; i < files.size(); i++) {
      if (extract_user_key(files[i - 1]->largest_key) >= extract_user_key(files[i]->smallest_key)) {
        return Status::corruption("overlapping files in level " + std::to_string(level));
      }
    }
  }
  return std::shared_ptr<const Version>(std::move(next));
}

void Version::append_snapshot(VersionEdit* edit) const {
  for (int level = 0; level < kLevelCount; level++) {
    for (const auto& file : files_[level]) edit->add_file(level, *file);
  }
}

}  // namespace cairn
