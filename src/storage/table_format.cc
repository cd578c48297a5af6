#include "storage/table_format.h"

#include <cstring>

#include "common/assert.h"
#include "common/checksum.h"
#include "storage/compression.h"

namespace cairn {
namespace {

constexpr size_t kFooterVersionOffset = kFooterHandlesBytes;
constexpr size_t kFooterChecksumOffset = kFooterVersionOffset + 4;
constexpr size_t kFooterMagicOffset = kFooterChecksumOffset + 4;
static_assert(kFooterMagicOffset + 8 == kFooterBytes);

Status corruption_at(const std::string& file_name, uint64_t offset, std::string_view what) {
  return Status::corruption(file_name + ": " + std::string(what) + " (block at offset " +
                            std::to_string(offset) + ")");
}

}  // namespace

void encode_block_handle(std::string* destination, const BlockHandle& handle) {
  put_varint64(destination, handle.offset);
  put_varint64(destination, handle.size);
}

bool decode_block_handle(std::string_view* input, BlockHandle* handle) {
  return get_varint64(input, &handle->offset) && get_varint64(input, &handle->size);
}

void append_block_trailer(std::string* destination, std::string_view stored, CompressionType type) {
  const char type_byte = static_cast<char>(type);
  destination->push_back(type_byte);
  put_fixed32(destination, checksum32(stored, std::string_view(&type_byte, 1)));
}

void encode_footer(std::string* destination, const Footer& footer) {
  const size_t start = destination->size();
  encode_block_handle(destination, footer.filter_handle);
  encode_block_handle(destination, footer.index_handle);
  CAIRN_ASSERT(destination->size() - start <= kFooterHandlesBytes);
  destination->resize(start + kFooterHandlesBytes, '\0');  // zero padding
  put_fixed32(destination, kTableFormatVersion);
  const std::string_view covered(destination->data() + start, kFooterChecksumOffset);
  put_fixed32(destination, checksum32(covered));
  put_fixed64(destination, kTableMagicNumber);
  CAIRN_ASSERT(destination->size() - start == kFooterBytes);
}

Result<Footer> decode_footer(std::string_view input, const std::string& file_name) {
  if (input.size() != kFooterBytes) {
    return Status::corruption(file_name + ": footer has " + std::to_string(input.size()) +
                              " bytes, expected " + std::to_string(kFooterBytes));
  }
  // The magic first: a wrong magic means "not a table at all", the most useful diagnosis.
  if (decode_fixed64(input.data() + kFooterMagicOffset) != kTableMagicNumber) {
    return Status::corruption(file_name + ": bad magic number, not a Cairn SSTable");
  }
  const uint32_t stored = decode_fixed32(input.data() + kFooterChecksumOffset);
  if (stored != checksum32(input.substr(0, kFooterChecksumOffset))) {
    return Status::corruption(file_name + ": footer checksum mismatch");
  }
  const uint32_t version = decode_fixed32(input.data() + kFooterVersionOffset);
  if (version != kTableFormatVersion) {
    return Status::corruption(file_name + ": unknown table format version " +
                              std::to_string(version));
  }
  Footer footer;
  std::string_view handles = input.substr(0, kFooterHandlesBytes);
  if (!decode_block_handle(&handles, &footer.filter_handle) ||
      !decode_block_handle(&handles, &footer.index_handle)) {
    return Status::corruption(file_name + ": malformed block handle in footer");
  }
  return footer;
}

Status check_block_handle(const BlockHandle& handle, uint64_t region_end_bytes,
                          const std::string& file_name) {
  // Subtractions, not sums, so that huge untrusted values cannot overflow.
  if (region_end_bytes < kBlockTrailerBytes ||
      handle.offset > region_end_bytes - kBlockTrailerBytes ||
      handle.size > region_end_bytes - kBlockTrailerBytes - handle.offset) {
    return corruption_at(file_name, handle.offset,
                         "block of " + std::to_string(handle.size) +
                             " bytes extends past its region of " +
                             std::to_string(region_end_bytes) + " bytes");
  }
  return Status::ok();
}

Result<std::string> read_block(const RandomAccessFile& file, const BlockHandle& handle,
                               const std::string& file_name) {
  if (handle.size > kBlockContentsBytesMax) {
    return corruption_at(file_name, handle.offset,
                         "absurd block size " + std::to_string(handle.size));
  }
  const size_t length = static_cast<size_t>(handle.size) + kBlockTrailerBytes;
  // The stored bytes go to a buffer each thread reuses, not a fresh allocation per block: a
  // temporary allocated between a block's contents and freed right after left holes in the
  // heap that the next blocks did not fit, and the resident size grew well past the block
  // cache's capacity under random reads. A buffer grown by a large block is released.
  constexpr size_t kKeptScratchBytes = size_t{1} << 20;
  thread_local std::string scratch;
  struct ReleaseLarge {
    ~ReleaseLarge() {
      if (scratch.capacity() > kKeptScratchBytes) std::string().swap(scratch);
    }
  } release_large;
  scratch.resize(length);
  std::string_view read;
  const Status status = file.read(handle.offset, length, &read, scratch.data());
  if (!status.is_ok()) return status.with_context(file_name);
  if (read.size() != length) {
    return corruption_at(file_name, handle.offset,
                         "truncated block: read " + std::to_string(read.size()) + " of " +
                             std::to_string(length) + " bytes");
  }
  const size_t type_offset = static_cast<size_t>(handle.size);
  const uint32_t stored = decode_fixed32(read.data() + type_offset + 1);
  if (stored != checksum32(read.substr(0, type_offset + 1))) {
    return corruption_at(file_name, handle.offset, "block checksum mismatch");
  }
  const auto type_byte = static_cast<uint8_t>(read[type_offset]);
  if (!is_known_compression_type(type_byte)) {
    return corruption_at(file_name, handle.offset,
                         "unknown block type " + std::to_string(type_byte));
  }
  Result<std::string> contents =
      uncompress_block(static_cast<CompressionType>(type_byte), read.substr(0, type_offset));
  if (!contents.is_ok()) {
    return corruption_at(file_name, handle.offset, contents.status().message());
  }
  return contents;
}

}  // namespace cairn
