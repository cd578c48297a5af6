#include "storage/blob_file_writer.h"

#include <algorithm>

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {

BlobFileWriter::BlobFileWriter(WritableFile* file, uint64_t file_number, uint32_t chunk_bytes)
    : file_(file), file_number_(file_number), chunk_bytes_(chunk_bytes) {
  CAIRN_ASSERT(file_ != nullptr);
  CAIRN_ASSERT(chunk_bytes_ >= kBlobChunkBytesMin && chunk_bytes_ <= kBlobChunkBytesMax);
}

Result<BlobReference> BlobFileWriter::add(std::string_view key, std::string_view value) {
  CAIRN_RETURN_IF_ERROR(begin(key, value.size()));
  CAIRN_RETURN_IF_ERROR(append(value));
  return finish();
}

Status BlobFileWriter::begin(std::string_view key, uint64_t value_size_bytes) {
  CAIRN_RETURN_IF_ERROR(failure_);
  CAIRN_ASSERT(!in_progress_);
  CAIRN_RETURN_IF_ERROR(check_limits(key, value_size_bytes));

  if (file_size_bytes_ == 0) {
    char file_header[kBlobFileHeaderBytes];
    encode_blob_file_header(file_number_, file_header);
    CAIRN_RETURN_IF_ERROR(write(std::string_view(file_header, sizeof(file_header))));
  }

  BlobRecordHeader header;
  header.key_size_bytes = static_cast<uint32_t>(key.size());
  header.value_size_bytes = value_size_bytes;
  header.chunk_bytes = chunk_bytes_;
  scratch_.resize(kBlobRecordHeaderBytes);
  const uint32_t header_checksum =
      encode_blob_record_header(header, file_number_, file_size_bytes_, scratch_.data());
  scratch_.append(key);
  put_fixed32(&scratch_, blob_key_checksum(key, header_checksum));

  reference_ = BlobReference{};
  reference_.file_number = file_number_;
  reference_.record_offset = file_size_bytes_;
  reference_.value_size_bytes = value_size_bytes;
  reference_.key_size_bytes = header.key_size_bytes;
  reference_.header_checksum = header_checksum;
  CAIRN_RETURN_IF_ERROR(write(scratch_));

  in_progress_ = true;
  appended_bytes_ = 0;
  chunk_index_ = 0;
  chunk_.clear();
  chunk_.reserve(chunk_bytes_ + kBlobChecksumBytes);
  return Status::ok();
}

Status BlobFileWriter::append(std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(failure_);
  CAIRN_ASSERT(in_progress_);
  if (bytes.size() > reference_.value_size_bytes - appended_bytes_) {
    return fail(Status::invalid_argument(
        "blob value of " + std::to_string(reference_.value_size_bytes) + " bytes announced, but " +
        std::to_string(appended_bytes_ + bytes.size()) +
        " bytes appended; the record is abandoned and the blob file is closed to writes"));
  }
  appended_bytes_ += bytes.size();
  while (!bytes.empty()) {
    if (chunk_.empty() && bytes.size() >= chunk_bytes_) {
      // A whole chunk in the caller's buffer: write it from there, without copying.
      CAIRN_RETURN_IF_ERROR(write_chunk(bytes.substr(0, chunk_bytes_)));
      bytes.remove_prefix(chunk_bytes_);
      continue;
    }
    const size_t take = std::min<size_t>(bytes.size(), chunk_bytes_ - chunk_.size());
    chunk_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (chunk_.size() == chunk_bytes_) {
      CAIRN_RETURN_IF_ERROR(write_chunk(chunk_));
      chunk_.clear();
    }
  }
  return Status::ok();
}

Result<BlobReference> BlobFileWriter::finish() {
  CAIRN_RETURN_IF_ERROR(failure_);
  CAIRN_ASSERT(in_progress_);
  if (appended_bytes_ != reference_.value_size_bytes) {
    return fail(Status::invalid_argument(
        "blob value of " + std::to_string(reference_.value_size_bytes) +
        " bytes announced, but only " + std::to_string(appended_bytes_) +
        " bytes appended; the record is abandoned and the blob file is closed to writes"));
  }
  if (!chunk_.empty()) {
    CAIRN_RETURN_IF_ERROR(write_chunk(chunk_));
    chunk_.clear();
  }
  in_progress_ = false;

  BlobRecordHeader header;
  header.key_size_bytes = reference_.key_size_bytes;
  header.value_size_bytes = reference_.value_size_bytes;
  header.chunk_bytes = chunk_bytes_;
  const BlobRecordLayout layout =
      blob_record_layout(reference_.record_offset, header, reference_.header_checksum);
  CAIRN_ASSERT(chunk_index_ == layout.chunk_count);
  CAIRN_ASSERT(file_size_bytes_ == layout.end_offset());
  return reference_;
}

Status BlobFileWriter::check_limits(std::string_view key, uint64_t value_size_bytes) const {
  if (key.size() > kKeyBytesMax) {
    return Status::invalid_argument("blob record key of " + std::to_string(key.size()) +
                                    " bytes exceeds the maximum of " +
                                    std::to_string(kKeyBytesMax));
  }
  if (value_size_bytes > kBlobValueBytesMax) {
    return Status::invalid_argument("blob value of " + std::to_string(value_size_bytes) +
                                    " bytes exceeds the maximum of " +
                                    std::to_string(kBlobValueBytesMax));
  }
  const uint64_t record_offset = std::max<uint64_t>(file_size_bytes_, kBlobFileHeaderBytes);
  if (record_offset >= kBlobFileBytesMax) {
    return Status::invalid_argument("blob file " + std::to_string(file_number_) + " is full (" +
                                    std::to_string(file_size_bytes_) + " bytes)");
  }
  return Status::ok();
}

Status BlobFileWriter::write(std::string_view data) {
  CAIRN_RETURN_IF_ERROR(failure_);
  Status status = file_->append(data);
  if (!status.is_ok()) return fail(std::move(status));
  file_size_bytes_ += data.size();
  return Status::ok();
}

Status BlobFileWriter::write_chunk(std::string_view chunk) {
  CAIRN_ASSERT(in_progress_);
  CAIRN_ASSERT(!chunk.empty() && chunk.size() <= chunk_bytes_);
  char checksum[kBlobChecksumBytes];
  encode_fixed32(checksum, blob_chunk_checksum(chunk, reference_.header_checksum, chunk_index_));
  chunk_index_++;
  if (chunk.data() == chunk_.data()) {
    // The chunk is in our buffer, which has room for its checksum: one append.
    chunk_.append(checksum, sizeof(checksum));
    return write(chunk_);
  }
  CAIRN_RETURN_IF_ERROR(write(chunk));
  return write(std::string_view(checksum, sizeof(checksum)));
}

Status BlobFileWriter::fail(Status status) {
  CAIRN_ASSERT(!status.is_ok());
  in_progress_ = false;
  failure_ = std::move(status);
  return failure_;
}

}  // namespace cairn
