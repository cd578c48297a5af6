// The blob file format (docs/blob-format.md): where large values live, WiscKey-style, so that
// the LSM stores only a small BlobReference to them. This header owns the constants, the file
// header, the record header, the checksums that tie every part of a record to that record, the
// arithmetic that says where each part of a record lies, and the BlobReference encoding.
//
//   file   = file header (24 bytes) ++ record*
//   record = record header (20 bytes) ++ key ++ fixed32 key checksum
//            ++ for each chunk of the value: chunk bytes ++ fixed32 chunk checksum
//
// A value is cut into chunks of `chunk_bytes` value bytes (the last may be shorter; an empty
// value has none), each followed by its own checksum, so a streaming reader can verify every
// byte it hands out while holding only one chunk in memory.
//
// Invariants: the record header checksum covers the header fields, the file number and the
// record's own offset, so a header verifies only where it was written. The key checksum and
// every chunk checksum are seeded with the header checksum (and a chunk's with its index), so a
// part verifies only in its own record, at its own place. Nothing decoded from a file or a
// reference is trusted: decoders return false or Corruption, never assert.
//
// Thread-safety: constants, value types and pure functions only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/limits.h"

namespace cairn {

// ---- Limits -------------------------------------------------------------------------------

// The largest value a blob record holds. Enforced by the writer (InvalidArgument) and by every
// decoder (Corruption / false), so no reader ever allocates on a larger claim.
// 1 GiB plus 64 KiB: the server stores a 1 GiB user value with a small record trailer after it
// (docs/keyspace-format.md), so the bound leaves room for that framing.
constexpr uint64_t kBlobValueBytesMax = (uint64_t{1} << 30) + (uint64_t{64} << 10);
// Values larger than this go to blob files by default (the engine's option decides).
constexpr uint64_t kBlobValueThresholdBytesDefault = uint64_t{64} << 10;
// A record must start below this offset: a file is rolled long before, and the bound keeps an
// encoded reference small.
constexpr uint64_t kBlobFileBytesMax = uint64_t{1} << 40;

// Value bytes per chunk: the unit of verification and of a streaming reader's memory.
constexpr uint32_t kBlobChunkBytesDefault = 64 << 10;
// Chunks below this would spend more than 1/16 of the file on checksums.
constexpr uint32_t kBlobChunkBytesMin = 64;
// A reader holds one chunk; this bounds what a (verified) header can make it allocate.
constexpr uint32_t kBlobChunkBytesMax = 1 << 20;
static_assert(kBlobChunkBytesMin <= kBlobChunkBytesDefault);
static_assert(kBlobChunkBytesDefault <= kBlobChunkBytesMax);
// Chunk indexes are stored as fixed32 in the chunk checksum's seed.
static_assert(kBlobValueBytesMax / kBlobChunkBytesMin < UINT32_MAX);
static_assert(kKeyBytesMax < UINT32_MAX, "key sizes are stored as fixed32");

constexpr size_t kBlobChecksumBytes = 4;

// ---- File header --------------------------------------------------------------------------
//   [0, 8)   fixed64 magic number (the ASCII bytes "CAIRNBLB")
//   [8, 12)  fixed32 format version
//   [12, 20) fixed64 file number
//   [20, 24) fixed32 checksum32 of bytes [0, 20)

constexpr uint64_t kBlobFileMagicNumber = 0x424c424e52494143;  // "CAIRNBLB" as fixed64_le
constexpr uint32_t kBlobFormatVersion = 1;
constexpr size_t kBlobFileHeaderBytes = 8 + 4 + 8 + kBlobChecksumBytes;
static_assert(kBlobFileHeaderBytes == 24, "the file header size is part of the on-disk format");

// Writes exactly kBlobFileHeaderBytes to `destination`.
void encode_blob_file_header(uint64_t file_number, char* destination);
// Decodes a file header (untrusted) and returns the file number it names. Corruption naming
// `file_name` unless `input` is exactly kBlobFileHeaderBytes with the magic number and a good
// checksum; NotSupported for a well-formed header of another format version.
Result<uint64_t> decode_blob_file_header(std::string_view input, const std::string& file_name);

// ---- Record header ------------------------------------------------------------------------
//   [0, 4)   fixed32 key size in bytes
//   [4, 12)  fixed64 value size in bytes
//   [12, 16) fixed32 chunk size: value bytes per chunk
//   [16, 20) fixed32 header checksum:
//            checksum32(bytes [0, 16) ++ fixed64 file number ++ fixed64 record offset)

struct BlobRecordHeader {
  uint32_t key_size_bytes = 0;
  uint64_t value_size_bytes = 0;
  uint32_t chunk_bytes = 0;
};

constexpr size_t kBlobRecordHeaderFieldsBytes = 4 + 8 + 4;
constexpr size_t kBlobRecordHeaderBytes = kBlobRecordHeaderFieldsBytes + kBlobChecksumBytes;
static_assert(kBlobRecordHeaderBytes == 20, "the record header size is part of the format");

// True if every field is within the format's limits (a header a writer could have written).
bool blob_record_header_is_valid(const BlobRecordHeader& header);

// Writes exactly kBlobRecordHeaderBytes to `destination` for a record at `record_offset` of
// file `file_number`, and returns the header checksum. REQUIRES: the header is valid.
uint32_t encode_blob_record_header(const BlobRecordHeader& header, uint64_t file_number,
                                   uint64_t record_offset, char* destination);
// Decodes source[0, kBlobRecordHeaderBytes) (untrusted) as the header of a record at
// `record_offset` of file `file_number`. False if the checksum does not match, which is also
// what a header copied from another place or another file gives. Does not check the limits
// (see blob_record_header_is_valid).
[[nodiscard]] bool decode_blob_record_header(const char* source, uint64_t file_number,
                                             uint64_t record_offset, BlobRecordHeader* header,
                                             uint32_t* header_checksum);

// checksum32(key ++ fixed32 header checksum).
uint32_t blob_key_checksum(std::string_view key, uint32_t header_checksum);
// checksum32(chunk ++ fixed32 header checksum ++ fixed32 chunk index).
uint32_t blob_chunk_checksum(std::string_view chunk, uint32_t header_checksum,
                             uint64_t chunk_index);

// Where each part of one record lies in its file, computed from its header alone.
struct BlobRecordLayout {
  uint64_t record_offset = 0;
  uint32_t key_size_bytes = 0;
  uint64_t value_size_bytes = 0;
  uint32_t chunk_bytes = 0;
  uint32_t header_checksum = 0;
  uint64_t chunk_count = 0;

  uint64_t key_offset() const { return record_offset + kBlobRecordHeaderBytes; }
  uint64_t key_checksum_offset() const { return key_offset() + key_size_bytes; }
  // Where chunk 0 starts (the record's end when the value is empty).
  uint64_t value_offset() const { return key_checksum_offset() + kBlobChecksumBytes; }
  // Where chunk `index` starts; its checksum follows its chunk_value_bytes(index) bytes.
  uint64_t chunk_offset(uint64_t index) const {
    return value_offset() + index * (uint64_t{chunk_bytes} + kBlobChecksumBytes);
  }
  // Value bytes in chunk `index`: chunk_bytes, except in the last chunk. REQUIRES: index is
  // below chunk_count.
  uint32_t chunk_value_bytes(uint64_t index) const;
  // The offset just past the record (the last chunk may be short).
  uint64_t end_offset() const {
    return value_offset() + value_size_bytes + chunk_count * kBlobChecksumBytes;
  }
};

// REQUIRES: blob_record_header_is_valid(header).
BlobRecordLayout blob_record_layout(uint64_t record_offset, const BlobRecordHeader& header,
                                    uint32_t header_checksum);

// ---- BlobReference ------------------------------------------------------------------------

// Where a value lives: enough to find its record and verify that the record is the one meant,
// without any other lookup. The LSM stores its encoding in place of the value.
struct BlobReference {
  uint64_t file_number = 0;
  uint64_t record_offset = 0;  // where the record starts in the blob file
  uint64_t value_size_bytes = 0;
  uint32_t key_size_bytes = 0;
  // The record header's checksum: a reference verifies exactly one header (and with it the
  // chunk size, which the reference does not carry).
  uint32_t header_checksum = 0;

  bool operator==(const BlobReference&) const = default;
};

// The bytes the record a reference names takes in its file (header, key, value and checksums),
// for a record written with `chunk_bytes` per chunk (BlobStore always writes the default).
uint64_t blob_record_bytes(const BlobReference& reference,
                           uint32_t chunk_bytes = kBlobChunkBytesDefault);

// The first byte of an encoded reference; a decoder refuses any other.
constexpr uint8_t kBlobReferenceEncodingVersion = 1;
// version byte, varint64 file number, varint64 offset (below 2^40: 6 bytes), varint32 key size
// (at most 2^20: 3 bytes), varint64 value size (at most 2^30: 5 bytes), fixed32 checksum.
constexpr size_t kBlobReferenceEncodedBytesMax = 1 + 10 + 6 + 3 + 5 + kBlobChecksumBytes;
static_assert(kBlobReferenceEncodedBytesMax < 32);

// Appends the encoding. REQUIRES: the fields are within the limits above (as every reference
// the writer returns is).
void encode_blob_reference(std::string* destination, const BlobReference& reference);
// Decodes the whole of `input`. False if it is truncated, has trailing bytes, an unknown version,
// a non-canonical varint, or a field beyond its limit (an offset inside the file header
// included); *reference is then unspecified.
[[nodiscard]] bool decode_blob_reference(std::string_view input, BlobReference* reference);

}  // namespace cairn
