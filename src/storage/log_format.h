// The log format shared by the write-ahead log and the MANIFEST: records back to back, each a
// 12-byte header followed by its payload. There is no block structure, so a record of any size
// up to kLogRecordBytesMax is one contiguous run of bytes. docs/log-format.md describes the
// format and the recovery rules as prose.
//
//   header = fixed32 payload length
//            fixed32 checksum32(payload)
//            fixed32 checksum32(the 8 header bytes above)
//
// The header checksum is verified before the length is trusted, so a damaged length never makes
// a reader allocate or skip on its word.
//
// Thread-safety: pure functions and constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

constexpr size_t kLogHeaderLengthOffset = 0;
constexpr size_t kLogHeaderPayloadChecksumOffset = 4;
constexpr size_t kLogHeaderChecksumOffset = 8;
constexpr size_t kLogHeaderBytes = 12;
static_assert(kLogHeaderBytes == 3 * sizeof(uint32_t), "length, payload checksum, header checksum");
static_assert(kLogHeaderChecksumOffset + sizeof(uint32_t) == kLogHeaderBytes);

// The length field is a u32; the writer rejects larger payloads.
constexpr uint64_t kLogRecordBytesMax = 0xFFFFFFFF;
static_assert(kLogRecordBytesMax == UINT32_MAX);

// The reader's chunk size: it reads the file through a buffer of this size, which also gives it
// the look-ahead it needs to tell whether a damaged record ends exactly at the end of the file.
constexpr size_t kLogReaderBufferBytes = 64 << 10;
// Payloads up to this size are copied behind their header and written with one append; larger
// ones are appended separately to avoid copying them.
constexpr size_t kLogWriterCoalesceBytesMax = 32 << 10;

struct LogHeader {
  uint32_t payload_bytes = 0;
  uint32_t payload_checksum = 0;
};

// Writes the header of `payload` to destination[0, kLogHeaderBytes).
// REQUIRES: payload.size() <= kLogRecordBytesMax.
inline void encode_log_header(std::string_view payload, char* destination) {
  encode_fixed32(destination + kLogHeaderLengthOffset, static_cast<uint32_t>(payload.size()));
  encode_fixed32(destination + kLogHeaderPayloadChecksumOffset, checksum32(payload));
  const uint32_t header_checksum =
      checksum32(std::string_view(destination, kLogHeaderChecksumOffset));
  encode_fixed32(destination + kLogHeaderChecksumOffset, header_checksum);
}

// Decodes source[0, kLogHeaderBytes) (untrusted); false if the header checksum does not match.
[[nodiscard]] inline bool decode_log_header(const char* source, LogHeader* header) {
  const uint32_t expected = decode_fixed32(source + kLogHeaderChecksumOffset);
  if (checksum32(std::string_view(source, kLogHeaderChecksumOffset)) != expected) return false;
  header->payload_bytes = decode_fixed32(source + kLogHeaderLengthOffset);
  header->payload_checksum = decode_fixed32(source + kLogHeaderPayloadChecksumOffset);
  return true;
}

}  // namespace cairn
