#include "storage/version_edit.h"

#include <algorithm>

#include "common/assert.h"
#include "common/coding.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

// Field tags of the encoding: a varint tag, then the field. Numbers are part of the format.
enum Tag : uint32_t {
  kLogNumber = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kRemovedFile = 4,
  // Added tables: tags 5 and 6 are read (databases written before the counts), 7 is written.
  kAddedFile = 5,            // a table that names no blob file
  kAddedFileWithBlobs = 6,   // kAddedFile's fields, then a non-empty blob file list
  kAddedFileWithCounts = 7,  // kAddedFile's fields, the entry counts, a blob file list
};

// A table names at most this many blob files: a bound on what a damaged record can make us
// allocate (a table of 64 MiB of 29-byte references could name 2.3 M distinct files; this is
// far above anything real yet well below a memory problem).
constexpr uint32_t kBlobFilesPerTableMax = 1u << 24;

bool get_level(std::string_view* input, int* level) {
  uint32_t value = 0;
  if (!get_varint32(input, &value) || value >= kLevelCount) return false;
  *level = static_cast<int>(value);
  return true;
}

bool get_internal_key(std::string_view* input, std::string* key) {
  std::string_view bytes;
  ParsedInternalKey parsed;
  if (!get_length_prefixed(input, &bytes) || !parse_internal_key(bytes, &parsed)) return false;
  key->assign(bytes);
  return true;
}

// A list of (file number, record bytes), by strictly ascending file number.
bool get_entry_counts(std::string_view* input, FileMetaData* file) {
  return get_varint64(input, &file->entry_count) && get_varint64(input, &file->deletion_count) &&
         file->deletion_count <= file->entry_count;
}

bool get_blob_files(std::string_view* input, bool may_be_empty, FileMetaData* file) {
  uint32_t count = 0;
  // Each entry takes at least two bytes: a count past what is left is damage.
  if (!get_varint32(input, &count) || (count == 0 && !may_be_empty) ||
      count > kBlobFilesPerTableMax || count > input->size() / 2) {
    return false;
  }
  file->blob_files.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    BlobFileUse use;
    if (!get_varint64(input, &use.file_number) || !get_varint64(input, &use.record_bytes)) {
      return false;
    }
    if (!file->blob_files.empty() && use.file_number <= file->blob_files.back().file_number) {
      return false;
    }
    file->blob_files.push_back(use);
  }
  return true;
}

}  // namespace

void VersionEdit::add_file(int level, FileMetaData file) {
  CAIRN_ASSERT(level >= 0 && level < kLevelCount);
  added_files_.emplace_back(level, std::move(file));
}

void VersionEdit::remove_file(int level, uint64_t number) {
  CAIRN_ASSERT(level >= 0 && level < kLevelCount);
  removed_files_.emplace(level, number);
}

void VersionEdit::encode_to(std::string* destination) const {
  if (log_number_) {
    put_varint32(destination, kLogNumber);
    put_varint64(destination, *log_number_);
  }
  if (next_file_number_) {
    put_varint32(destination, kNextFileNumber);
    put_varint64(destination, *next_file_number_);
  }
  if (last_sequence_) {
    put_varint32(destination, kLastSequence);
    put_varint64(destination, *last_sequence_);
  }
  for (const auto& [level, number] : removed_files_) {
    put_varint32(destination, kRemovedFile);
    put_varint32(destination, static_cast<uint32_t>(level));
    put_varint64(destination, number);
  }
  for (const auto& [level, file] : added_files_) {
    put_varint32(destination, kAddedFileWithCounts);
    put_varint32(destination, static_cast<uint32_t>(level));
    put_varint64(destination, file.number);
    put_varint64(destination, file.size_bytes);
    put_length_prefixed(destination, file.smallest_key);
    put_length_prefixed(destination, file.largest_key);
    CAIRN_ASSERT(file.deletion_count <= file.entry_count);
    put_varint64(destination, file.entry_count);
    put_varint64(destination, file.deletion_count);
    CAIRN_ASSERT(file.blob_files.size() <= kBlobFilesPerTableMax);
    CAIRN_ASSERT(std::is_sorted(
        file.blob_files.begin(), file.blob_files.end(),
        [](const BlobFileUse& a, const BlobFileUse& b) { return a.file_number < b.file_number; }));
    put_varint32(destination, static_cast<uint32_t>(file.blob_files.size()));
    for (const BlobFileUse& use : file.blob_files) {
      put_varint64(destination, use.file_number);
      put_varint64(destination, use.record_bytes);
    }
  }
}

Status VersionEdit::decode_from(std::string_view input) {
  *this = VersionEdit();
  while (!input.empty()) {
    uint32_t tag = 0;
    if (!get_varint32(&input, &tag)) return Status::corruption("version edit: bad tag");
    uint64_t number = 0;
    int level = 0;
    switch (tag) {
      case kLogNumber:
      case kNextFileNumber:
      case kLastSequence: {
        if (!get_varint64(&input, &number)) return Status::corruption("version edit: bad counter");
        auto& field = tag == kLogNumber        ? log_number_
                      : tag == kNextFileNumber ? next_file_number_
                                               : last_sequence_;
        field = number;
        break;
      }
      case kRemovedFile:
        if (!get_level(&input, &level) || !get_varint64(&input, &number)) {
          return Status::corruption("version edit: bad removed file");
        }
        removed_files_.emplace(level, number);
        break;
      case kAddedFile:
      case kAddedFileWithBlobs:
      case kAddedFileWithCounts: {
        FileMetaData file;
        if (!get_level(&input, &level) || !get_varint64(&input, &file.number) ||
            !get_varint64(&input, &file.size_bytes) ||
            !get_internal_key(&input, &file.smallest_key) ||
            !get_internal_key(&input, &file.largest_key) ||
            (tag == kAddedFileWithCounts && !get_entry_counts(&input, &file)) ||
            (tag != kAddedFile &&
             !get_blob_files(&input, /*may_be_empty=*/tag == kAddedFileWithCounts, &file))) {
          return Status::corruption("version edit: bad added file");
        }
        added_files_.emplace_back(level, std::move(file));
        break;
      }
      default:
        return Status::corruption("version edit: unknown tag " + std::to_string(tag));
    }
  }
  return Status::ok();
}

}  // namespace cairn
