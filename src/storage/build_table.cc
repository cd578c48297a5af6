#include "storage/build_table.h"

#include <algorithm>

#include "io/env.h"
#include "storage/blob_format.h"
#include "storage/file_names.h"
#include "storage/internal_key.h"
#include "storage/table_builder.h"

namespace cairn {
namespace {

Status write_table(Env* env, const std::string& directory, const TableOptions& options,
                   Iterator& entries, const std::vector<SequenceNumber>& snapshots,
                   const std::string& name, FileMetaData* file) {
  CAIRN_ASSIGN_OR_RETURN(auto handle, env->new_writable_file(name));
  TableBuilder builder(options, handle.get());
  TableEntryCollector collector;
  std::string user_key;
  size_t newer_stripe = 0;
  for (; entries.valid(); entries.next()) {
    ParsedInternalKey parsed;
    if (!parse_internal_key(entries.key(), &parsed)) {
      return Status::corruption("table entry: malformed internal key");
    }
    const bool first_of_key = builder.entry_count() == 0 || parsed.user_key != user_key;
    const size_t stripe = snapshot_stripe(snapshots, parsed.sequence);
    const bool shadowed = !first_of_key && stripe == newer_stripe;
    newer_stripe = stripe;
    if (first_of_key) user_key.assign(parsed.user_key);
    if (shadowed) continue;
    CAIRN_RETURN_IF_ERROR(collector.add(parsed.type, entries.value()));
    builder.add(entries.key(), entries.value());
  }
  CAIRN_RETURN_IF_ERROR(entries.status());
  CAIRN_RETURN_IF_ERROR(builder.finish());
  CAIRN_RETURN_IF_ERROR(handle->sync());
  CAIRN_RETURN_IF_ERROR(handle->close());
  CAIRN_RETURN_IF_ERROR(env->sync_dir(directory));
  file->size_bytes = builder.file_size_bytes();
  file->smallest_key = builder.smallest_key();
  file->largest_key = builder.largest_key();
  collector.take(file);
  return Status::ok();
}

}  // namespace

size_t snapshot_stripe(const std::vector<SequenceNumber>& snapshots, SequenceNumber sequence) {
  return static_cast<size_t>(std::lower_bound(snapshots.begin(), snapshots.end(), sequence) -
                             snapshots.begin());
}

Status TableEntryCollector::add(ValueType type, std::string_view value) {
  entry_count_++;
  if (type == ValueType::kDeletion) deletion_count_++;
  if (type != ValueType::kBlobReference) return Status::ok();
  BlobReference reference;
  if (!decode_blob_reference(value, &reference)) {
    return Status::corruption("table entry: malformed blob reference");
  }
  record_bytes_[reference.file_number] += blob_record_bytes(reference);
  return Status::ok();
}

void TableEntryCollector::take(FileMetaData* file) {
  file->entry_count = entry_count_;
  file->deletion_count = deletion_count_;
  file->blob_files.clear();
  file->blob_files.reserve(record_bytes_.size());
  for (const auto& [number, bytes] : record_bytes_) file->blob_files.push_back({number, bytes});
  *this = TableEntryCollector();
}

Result<std::optional<FileMetaData>> build_table(Env* env, const std::string& directory,
                                                const TableOptions& options, Iterator& entries,
                                                const std::vector<SequenceNumber>& snapshots,
                                                uint64_t number) {
  entries.seek_to_first();
  if (!entries.valid()) {
    CAIRN_RETURN_IF_ERROR(entries.status());
    return std::optional<FileMetaData>();
  }
  const std::string name = table_file_name(directory, number);
  FileMetaData file;
  file.number = number;
  const Status status = write_table(env, directory, options, entries, snapshots, name, &file);
  if (!status.is_ok()) {
    (void)env->remove_file(name);  // best effort: an orphan is also removed at the next open
    return status;
  }
  return std::optional<FileMetaData>(std::move(file));
}

}  // namespace cairn
