#include "storage/blob_format.h"

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

namespace {

constexpr size_t kFileHeaderMagicOffset = 0;
constexpr size_t kFileHeaderVersionOffset = 8;
constexpr size_t kFileHeaderFileNumberOffset = 12;
constexpr size_t kFileHeaderChecksumOffset = 20;
static_assert(kFileHeaderChecksumOffset + kBlobChecksumBytes == kBlobFileHeaderBytes);

constexpr size_t kRecordHeaderKeySizeOffset = 0;
constexpr size_t kRecordHeaderValueSizeOffset = 4;
constexpr size_t kRecordHeaderChunkBytesOffset = 12;
constexpr size_t kRecordHeaderChecksumOffset = kBlobRecordHeaderFieldsBytes;
static_assert(kRecordHeaderChunkBytesOffset + 4 == kRecordHeaderChecksumOffset);

Status file_header_corruption(const std::string& file_name, std::string_view what) {
  return Status::corruption("blob file " + file_name + ": " + std::string(what));
}

// The header checksum over the header fields and the record's place (file number, offset).
uint32_t record_header_checksum(const char* fields, uint64_t file_number, uint64_t record_offset) {
  char place[16];
  encode_fixed64(place, file_number);
  encode_fixed64(place + 8, record_offset);
  return checksum32(std::string_view(fields, kBlobRecordHeaderFieldsBytes),
                    std::string_view(place, sizeof(place)));
}

}  // namespace

void encode_blob_file_header(uint64_t file_number, char* destination) {
  encode_fixed64(destination + kFileHeaderMagicOffset, kBlobFileMagicNumber);
  encode_fixed32(destination + kFileHeaderVersionOffset, kBlobFormatVersion);
  encode_fixed64(destination + kFileHeaderFileNumberOffset, file_number);
  const uint32_t checksum = checksum32(std::string_view(destination, kFileHeaderChecksumOffset));
  encode_fixed32(destination + kFileHeaderChecksumOffset, checksum);
}

Result<uint64_t> decode_blob_file_header(std::string_view input, const std::string& file_name) {
  if (input.size() != kBlobFileHeaderBytes) {
    return file_header_corruption(file_name, "file header of " + std::to_string(input.size()) +
                                                 " bytes, expected " +
                                                 std::to_string(kBlobFileHeaderBytes));
  }
  if (decode_fixed64(input.data() + kFileHeaderMagicOffset) != kBlobFileMagicNumber) {
    return file_header_corruption(file_name, "bad magic number (not a blob file)");
  }
  const uint32_t expected = decode_fixed32(input.data() + kFileHeaderChecksumOffset);
  if (checksum32(input.substr(0, kFileHeaderChecksumOffset)) != expected) {
    return file_header_corruption(file_name, "bad file header checksum");
  }
  const uint32_t version = decode_fixed32(input.data() + kFileHeaderVersionOffset);
  if (version != kBlobFormatVersion) {
    return Status::not_supported("blob file " + file_name + ": format version " +
                                 std::to_string(version) + ", this build reads version " +
                                 std::to_string(kBlobFormatVersion));
  }
  return decode_fixed64(input.data() + kFileHeaderFileNumberOffset);
}

bool blob_record_header_is_valid(const BlobRecordHeader& header) {
  return header.key_size_bytes <= kKeyBytesMax && header.value_size_bytes <= kBlobValueBytesMax &&
         header.chunk_bytes >= kBlobChunkBytesMin && header.chunk_bytes <= kBlobChunkBytesMax;
}

uint32_t encode_blob_record_header(const BlobRecordHeader& header, uint64_t file_number,
                                   uint64_t record_offset, char* destination) {
  CAIRN_ASSERT(blob_record_header_is_valid(header));
  encode_fixed32(destination + kRecordHeaderKeySizeOffset, header.key_size_bytes);
  encode_fixed64(destination + kRecordHeaderValueSizeOffset, header.value_size_bytes);
  encode_fixed32(destination + kRecordHeaderChunkBytesOffset, header.chunk_bytes);
  const uint32_t checksum = record_header_checksum(destination, file_number, record_offset);
  encode_fixed32(destination + kRecordHeaderChecksumOffset, checksum);
  return checksum;
}

bool decode_blob_record_header(const char* source, uint64_t file_number, uint64_t record_offset,
                               BlobRecordHeader* header, uint32_t* header_checksum) {
  const uint32_t expected = decode_fixed32(source + kRecordHeaderChecksumOffset);
  if (record_header_checksum(source, file_number, record_offset) != expected) return false;
  header->key_size_bytes = decode_fixed32(source + kRecordHeaderKeySizeOffset);
  header->value_size_bytes = decode_fixed64(source + kRecordHeaderValueSizeOffset);
  header->chunk_bytes = decode_fixed32(source + kRecordHeaderChunkBytesOffset);
  *header_checksum = expected;
  return true;
}

uint32_t blob_key_checksum(std::string_view key, uint32_t header_checksum) {
  char seed[4];
  encode_fixed32(seed, header_checksum);
  return checksum32(key, std::string_view(seed, sizeof(seed)));
}

uint32_t blob_chunk_checksum(std::string_view chunk, uint32_t header_checksum,
                             uint64_t chunk_index) {
  CAIRN_ASSERT(chunk_index < UINT32_MAX);
  char seed[8];
  encode_fixed32(seed, header_checksum);
  encode_fixed32(seed + 4, static_cast<uint32_t>(chunk_index));
  return checksum32(chunk, std::string_view(seed, sizeof(seed)));
}

uint32_t BlobRecordLayout::chunk_value_bytes(uint64_t index) const {
  CAIRN_ASSERT(index < chunk_count);
  const uint64_t before = index * chunk_bytes;
  CAIRN_ASSERT(before < value_size_bytes);
  const uint64_t rest = value_size_bytes - before;
  return rest < chunk_bytes ? static_cast<uint32_t>(rest) : chunk_bytes;
}

BlobRecordLayout blob_record_layout(uint64_t record_offset, const BlobRecordHeader& header,
                                    uint32_t header_checksum) {
  CAIRN_ASSERT(blob_record_header_is_valid(header));
  BlobRecordLayout layout;
  layout.record_offset = record_offset;
  layout.key_size_bytes = header.key_size_bytes;
  layout.value_size_bytes = header.value_size_bytes;
  layout.chunk_bytes = header.chunk_bytes;
  layout.header_checksum = header_checksum;
  layout.chunk_count = (header.value_size_bytes + header.chunk_bytes - 1) / header.chunk_bytes;
  return layout;
}

uint64_t blob_record_bytes(const BlobReference& reference, uint32_t chunk_bytes) {
  CAIRN_ASSERT(chunk_bytes >= kBlobChunkBytesMin);
  const uint64_t chunk_count = (reference.value_size_bytes + chunk_bytes - 1) / chunk_bytes;
  return kBlobRecordHeaderBytes + reference.key_size_bytes + kBlobChecksumBytes +
         reference.value_size_bytes + chunk_count * kBlobChecksumBytes;
}

void encode_blob_reference(std::string* destination, const BlobReference& reference) {
  CAIRN_ASSERT(reference.record_offset >= kBlobFileHeaderBytes);
  CAIRN_ASSERT(reference.record_offset < kBlobFileBytesMax);
  CAIRN_ASSERT(reference.key_size_bytes <= kKeyBytesMax);
  CAIRN_ASSERT(reference.value_size_bytes <= kBlobValueBytesMax);
  const size_t size_before = destination->size();
  destination->push_back(static_cast<char>(kBlobReferenceEncodingVersion));
  put_varint64(destination, reference.file_number);
  put_varint64(destination, reference.record_offset);
  put_varint32(destination, reference.key_size_bytes);
  put_varint64(destination, reference.value_size_bytes);
  put_fixed32(destination, reference.header_checksum);
  CAIRN_ASSERT(destination->size() - size_before <= kBlobReferenceEncodedBytesMax);
}

bool decode_blob_reference(std::string_view input, BlobReference* reference) {
  const std::string_view whole = input;
  if (input.empty() || static_cast<uint8_t>(input[0]) != kBlobReferenceEncodingVersion) {
    return false;
  }
  input.remove_prefix(1);
  if (!get_varint64(&input, &reference->file_number) ||
      !get_varint64(&input, &reference->record_offset) ||
      !get_varint32(&input, &reference->key_size_bytes) ||
      !get_varint64(&input, &reference->value_size_bytes) ||
      !get_fixed32(&input, &reference->header_checksum) || !input.empty()) {
    return false;
  }
  if (reference->record_offset < kBlobFileHeaderBytes ||
      reference->record_offset >= kBlobFileBytesMax || reference->key_size_bytes > kKeyBytesMax ||
      reference->value_size_bytes > kBlobValueBytesMax) {
    return false;
  }
  // One reference, one encoding: re-encoding must give the input back, which refuses
  // overlong varints (so references can be compared as bytes).
  std::string canonical;
  encode_blob_reference(&canonical, *reference);
  return canonical == whole;
}

}  // namespace cairn
