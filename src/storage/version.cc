#include "storage/version.h"

#include <algorithm>

#include "storage/bloom_filter.h"
#include "storage/table.h"
#include "storage/table_cache.h"

namespace cairn {
namespace {

// Looks `key` up in one table; `filter_hash` is its user key's bloom hash.
Result<LookupResult> get_from_table(TableCache& tables, const FileMetaData& file,
                                    const LookupKey& key, uint64_t filter_hash,
                                    std::string* value) {
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Table> table, tables.find(file));
  return table->get(key, filter_hash, value);
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
  // Level 0 files may overlap: try each, newest first.
  for (const auto& file : files_[0]) {
    if (user_key < extract_user_key(file->smallest_key) ||
        user_key > extract_user_key(file->largest_key)) {
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(LookupResult result,
                           get_from_table(tables, *file, key, filter_hash, value));
    if (result != LookupResult::kAbsent) return result;
  }
  // Deeper levels hold at most one file whose range covers the key.
  for (int level = 1; level < kLevelCount; level++) {
    const FileList& files = files_[level];
    auto it = std::partition_point(files.begin(), files.end(), [&](const auto& file) {
      return extract_user_key(file->largest_key) < user_key;
    });
    if (it == files.end() || user_key < extract_user_key((*it)->smallest_key)) continue;
    CAIRN_ASSIGN_OR_RETURN(LookupResult result,
                           get_from_table(tables, **it, key, filter_hash, value));
    if (result != LookupResult::kAbsent) return result;
  }
  return LookupResult::kAbsent;
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
