#include "storage/blob_file_reader.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {

namespace {

// The piece size in which is_zero_from scans the rest of a file.
constexpr size_t kZeroScanBytes = 64 << 10;

}  // namespace

// ---- BlobFileReader -----------------------------------------------------------------------

Result<std::shared_ptr<BlobFileReader>> BlobFileReader::open(std::unique_ptr<RandomAccessFile> file,
                                                             uint64_t file_size_bytes,
                                                             std::string file_name) {
  CAIRN_ASSERT(file != nullptr);
  if (file_size_bytes < kBlobFileHeaderBytes) {
    return Status::corruption("blob file " + file_name + ": " + std::to_string(file_size_bytes) +
                              " bytes, shorter than the file header");
  }
  char scratch[kBlobFileHeaderBytes];
  std::string_view header;
  const Status status = file->read(0, kBlobFileHeaderBytes, &header, scratch);
  if (!status.is_ok()) return status.with_context("blob file " + file_name);
  // A short read reaches the decoder, which refuses anything but a whole header.
  CAIRN_ASSIGN_OR_RETURN(const uint64_t file_number, decode_blob_file_header(header, file_name));
  return std::shared_ptr<BlobFileReader>(
      new BlobFileReader(std::move(file), file_size_bytes, std::move(file_name), file_number));
}

BlobFileReader::BlobFileReader(std::unique_ptr<RandomAccessFile> file, uint64_t file_size_bytes,
                               std::string file_name, uint64_t file_number)
    : file_(std::move(file)),
      file_size_bytes_(file_size_bytes),
      file_name_(std::move(file_name)),
      file_number_(file_number) {}

Result<std::string> BlobFileReader::read_value(const BlobReference& reference) const {
  CAIRN_ASSIGN_OR_RETURN(const BlobRecordLayout layout, locate(reference));
  // Each chunk is read straight into its place in the value, its checksum landing on the bytes
  // where the next chunk goes (or on the spare room at the end), so nothing is copied twice.
  std::string value(layout.value_size_bytes + kBlobChecksumBytes, '\0');
  uint64_t position = 0;
  for (uint64_t index = 0; index < layout.chunk_count; index++) {
    std::string_view chunk;
    CAIRN_RETURN_IF_ERROR(read_verified_chunk(layout, index, value.data() + position, &chunk));
    position += chunk.size();
  }
  CAIRN_ASSERT(position == layout.value_size_bytes);
  value.resize(layout.value_size_bytes);
  return value;
}

Result<std::unique_ptr<BlobValueReader>> BlobFileReader::open_value(
    const BlobReference& reference) const {
  return open_value_range(reference, 0, reference.value_size_bytes);
}

Result<std::unique_ptr<BlobValueReader>> BlobFileReader::open_value_range(
    const BlobReference& reference, uint64_t offset, uint64_t length) const {
  if (offset > reference.value_size_bytes || length > reference.value_size_bytes - offset) {
    return Status::invalid_argument("range of " + std::to_string(length) + " bytes at offset " +
                                    std::to_string(offset) + " exceeds a blob value of " +
                                    std::to_string(reference.value_size_bytes) + " bytes");
  }
  CAIRN_ASSIGN_OR_RETURN(const BlobRecordLayout layout, locate(reference));
  return std::unique_ptr<BlobValueReader>(
      new BlobValueReader(shared_from_this(), layout, offset, offset + length));
}

std::unique_ptr<BlobRecordIterator> BlobFileReader::new_record_iterator() const {
  return std::unique_ptr<BlobRecordIterator>(new BlobRecordIterator(shared_from_this()));
}

Result<BlobRecordLayout> BlobFileReader::locate(const BlobReference& reference) const {
  const uint64_t record_offset = reference.record_offset;
  if (reference.file_number != file_number_) {
    return corruption("the reference names blob file " + std::to_string(reference.file_number) +
                          ", this is file " + std::to_string(file_number_),
                      record_offset);
  }
  if (reference.key_size_bytes > kKeyBytesMax || reference.value_size_bytes > kBlobValueBytesMax) {
    return corruption("the reference's sizes are out of limits", record_offset);
  }
  // The header, key and key checksum; the reference's key size is not trusted beyond its limit.
  const uint64_t head_bytes =
      kBlobRecordHeaderBytes + uint64_t{reference.key_size_bytes} + kBlobChecksumBytes;
  if (record_offset < kBlobFileHeaderBytes || record_offset > file_size_bytes_ ||
      file_size_bytes_ - record_offset < head_bytes) {
    return corruption(
        "the reference points outside the file of " + std::to_string(file_size_bytes_) + " bytes",
        record_offset);
  }
  std::string head(head_bytes, '\0');
  std::string_view read;
  CAIRN_RETURN_IF_ERROR(read_exact(record_offset, head.size(), head.data(), &read, record_offset));

  BlobRecordHeader header;
  uint32_t header_checksum = 0;
  if (!decode_blob_record_header(read.data(), file_number_, record_offset, &header,
                                 &header_checksum)) {
    return corruption("no intact record header at the referenced offset", record_offset);
  }
  if (!blob_record_header_is_valid(header)) {
    return corruption("record header out of limits", record_offset);
  }
  if (header.key_size_bytes != reference.key_size_bytes ||
      header.value_size_bytes != reference.value_size_bytes ||
      header_checksum != reference.header_checksum) {
    return corruption("the reference (key " + std::to_string(reference.key_size_bytes) +
                          " bytes, value " + std::to_string(reference.value_size_bytes) +
                          " bytes) does not match the record (key " +
                          std::to_string(header.key_size_bytes) + " bytes, value " +
                          std::to_string(header.value_size_bytes) + " bytes) or its checksum",
                      record_offset);
  }
  const BlobRecordLayout layout = blob_record_layout(record_offset, header, header_checksum);
  if (layout.end_offset() > file_size_bytes_) {
    return corruption("the record runs past the end of the file", record_offset);
  }
  const std::string_view key = read.substr(kBlobRecordHeaderBytes, header.key_size_bytes);
  const uint32_t stored = decode_fixed32(read.data() + kBlobRecordHeaderBytes + key.size());
  if (blob_key_checksum(key, header_checksum) != stored) {
    return corruption("bad key checksum", record_offset);
  }
  return layout;
}

Status BlobFileReader::read_exact(uint64_t offset, size_t n, char* scratch,
                                  std::string_view* result, uint64_t record_offset) const {
  CAIRN_ASSERT(offset <= file_size_bytes_ && n <= file_size_bytes_ - offset);
  std::string_view read;
  const Status status = file_->read(offset, n, &read, scratch);
  if (!status.is_ok()) return status.with_context("blob file " + file_name_);
  if (read.size() != n) {
    return corruption("the file ends at " + std::to_string(offset + read.size()) +
                          ", before its stated size of " + std::to_string(file_size_bytes_),
                      record_offset);
  }
  // A file may answer from its own memory; callers rely on the bytes being in scratch.
  if (read.data() != scratch) std::memmove(scratch, read.data(), n);
  *result = std::string_view(scratch, n);
  return Status::ok();
}

Result<bool> BlobFileReader::read_chunk(const BlobRecordLayout& layout, uint64_t index,
                                        char* scratch, std::string_view* chunk) const {
  const uint32_t value_bytes = layout.chunk_value_bytes(index);
  std::string_view read;
  CAIRN_RETURN_IF_ERROR(read_exact(layout.chunk_offset(index), value_bytes + kBlobChecksumBytes,
                                   scratch, &read, layout.record_offset));
  *chunk = read.substr(0, value_bytes);
  const uint32_t stored = decode_fixed32(read.data() + value_bytes);
  return blob_chunk_checksum(*chunk, layout.header_checksum, index) == stored;
}

Status BlobFileReader::read_verified_chunk(const BlobRecordLayout& layout, uint64_t index,
                                           char* scratch, std::string_view* chunk) const {
  CAIRN_ASSIGN_OR_RETURN(const bool intact, read_chunk(layout, index, scratch, chunk));
  if (!intact) {
    *chunk = std::string_view();
    return corruption("bad checksum in value chunk " + std::to_string(index), layout.record_offset);
  }
  return Status::ok();
}

Result<bool> BlobFileReader::is_zero_from(uint64_t offset) const {
  CAIRN_ASSERT(offset <= file_size_bytes_);
  std::string buffer(std::min<uint64_t>(kZeroScanBytes, file_size_bytes_ - offset), '\0');
  while (offset < file_size_bytes_) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(buffer.size(), file_size_bytes_ - offset));
    std::string_view read;
    CAIRN_RETURN_IF_ERROR(read_exact(offset, n, buffer.data(), &read, offset));
    if (std::any_of(read.begin(), read.end(), [](char byte) { return byte != 0; })) return false;
    offset += n;
  }
  return true;
}

Status BlobFileReader::corruption(std::string_view what, uint64_t record_offset) const {
  return Status::corruption("blob file " + file_name_ + ": " + std::string(what) +
                            " (record at offset " + std::to_string(record_offset) + ")");
}

// ---- BlobValueReader ----------------------------------------------------------------------

BlobValueReader::BlobValueReader(std::shared_ptr<const BlobFileReader> reader,
                                 const BlobRecordLayout& layout, uint64_t begin, uint64_t end)
    : reader_(std::move(reader)),
      layout_(layout),
      end_(end),
      position_(begin),
      buffer_(std::make_unique<char[]>(
          std::min<uint64_t>(layout.chunk_bytes, layout.value_size_bytes) + kBlobChecksumBytes)) {
  CAIRN_ASSERT(begin <= end && end <= layout_.value_size_bytes);
}

Result<size_t> BlobValueReader::read(char* buffer, size_t n) {
  CAIRN_RETURN_IF_ERROR(failure_);
  if (n == 0 || position_ == end_) return size_t{0};
  const uint64_t index = position_ / layout_.chunk_bytes;
  if (index != loaded_chunk_index_) {
    loaded_chunk_index_ = UINT64_MAX;
    const Status status =
        reader_->read_verified_chunk(layout_, index, buffer_.get(), &loaded_chunk_);
    if (!status.is_ok()) {
      failure_ = status;
      return failure_;
    }
    loaded_chunk_index_ = index;
  }
  const uint64_t chunk_begin = index * layout_.chunk_bytes;
  const uint64_t chunk_end = chunk_begin + loaded_chunk_.size();
  CAIRN_ASSERT(position_ >= chunk_begin && position_ < chunk_end);
  const size_t count = static_cast<size_t>(
      std::min<uint64_t>({uint64_t{n}, chunk_end - position_, end_ - position_}));
  std::memcpy(buffer, loaded_chunk_.data() + (position_ - chunk_begin), count);
  position_ += count;
  return count;
}

// ---- BlobRecordIterator -------------------------------------------------------------------

BlobRecordIterator::BlobRecordIterator(std::shared_ptr<const BlobFileReader> reader)
    : reader_(std::move(reader)) {}

Result<bool> BlobRecordIterator::next() {
  switch (state_) {
    case State::kEnded:
      return false;
    case State::kFailed:
      return failure_;
    case State::kBeforeFirst:
    case State::kOnRecord:
      break;
  }
  Result<bool> result = read_record();
  if (!result.is_ok()) {
    state_ = State::kFailed;
    failure_ = result.status();
    key_.clear();
    return failure_;
  }
  if (*result) state_ = State::kOnRecord;
  return result;
}

std::string_view BlobRecordIterator::key() const {
  CAIRN_ASSERT(state_ == State::kOnRecord);
  return key_;
}

const BlobReference& BlobRecordIterator::reference() const {
  CAIRN_ASSERT(state_ == State::kOnRecord);
  return reference_;
}

// Reads and verifies the record at valid_bytes_ whole, applying the end rules of the header.
Result<bool> BlobRecordIterator::read_record() {
  const BlobFileReader& reader = *reader_;
  const uint64_t record_offset = valid_bytes_;
  CAIRN_ASSERT(record_offset <= reader.file_size_bytes_);
  const uint64_t remaining_bytes = reader.file_size_bytes_ - record_offset;
  if (remaining_bytes == 0) return end(/*torn=*/false);
  if (remaining_bytes < kBlobRecordHeaderBytes) return end(/*torn=*/true);

  scratch_.resize(kBlobRecordHeaderBytes);
  std::string_view read;
  CAIRN_RETURN_IF_ERROR(reader.read_exact(record_offset, kBlobRecordHeaderBytes, scratch_.data(),
                                          &read, record_offset));
  BlobRecordHeader header;
  uint32_t header_checksum = 0;
  if (!decode_blob_record_header(read.data(), reader.file_number_, record_offset, &header,
                                 &header_checksum)) {
    return damaged(record_offset + kBlobRecordHeaderFieldsBytes, "bad record header checksum",
                   record_offset);
  }
  if (!blob_record_header_is_valid(header)) {
    return reader.corruption("record header out of limits", record_offset);
  }
  const BlobRecordLayout layout = blob_record_layout(record_offset, header, header_checksum);
  if (layout.end_offset() > reader.file_size_bytes_) return end(/*torn=*/true);

  key_.resize(header.key_size_bytes + kBlobChecksumBytes);
  CAIRN_RETURN_IF_ERROR(
      reader.read_exact(layout.key_offset(), key_.size(), key_.data(), &read, record_offset));
  const uint32_t stored_key_checksum = decode_fixed32(key_.data() + header.key_size_bytes);
  key_.resize(header.key_size_bytes);
  if (blob_key_checksum(key_, header_checksum) != stored_key_checksum) {
    return damaged(layout.key_checksum_offset(), "bad key checksum", record_offset);
  }

  scratch_.resize(std::min<uint64_t>(header.chunk_bytes, header.value_size_bytes) +
                  kBlobChecksumBytes);
  for (uint64_t index = 0; index < layout.chunk_count; index++) {
    std::string_view chunk;
    CAIRN_ASSIGN_OR_RETURN(const bool intact,
                           reader.read_chunk(layout, index, scratch_.data(), &chunk));
    if (!intact) {
      return damaged(layout.chunk_offset(index) + chunk.size(),
                     "bad checksum in value chunk " + std::to_string(index), record_offset);
    }
  }

  reference_ = BlobReference{};
  reference_.file_number = reader.file_number_;
  reference_.record_offset = record_offset;
  reference_.value_size_bytes = header.value_size_bytes;
  reference_.key_size_bytes = header.key_size_bytes;
  reference_.header_checksum = header_checksum;
  valid_bytes_ = layout.end_offset();
  return true;
}

Result<bool> BlobRecordIterator::damaged(uint64_t checksum_offset, std::string_view what,
                                         uint64_t record_offset) {
  CAIRN_ASSIGN_OR_RETURN(const bool zero_tail, reader_->is_zero_from(checksum_offset));
  if (zero_tail) return end(/*torn=*/true);
  return reader_->corruption(what, record_offset);
}

Result<bool> BlobRecordIterator::end(bool torn) {
  state_ = State::kEnded;
  torn_tail_ = torn;
  key_.clear();
  return false;
}

}  // namespace cairn
