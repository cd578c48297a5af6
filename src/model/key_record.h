// Key records: the stored value of a user key (docs/keyspace-format.md):
//   [payload][expiry unix ms: u64 little-endian, 0 = none][flags: u8][type: u8]
// A string's payload is its value; a collection's payload is its metadata
// (collection_meta.h), its elements being records of their own. The 10-byte trailer sits at the
// END so that a streamed SET can write the payload as it arrives and append the trailer (whose
// expiry comes from options after the value) last. Decoding untrusted bytes never crashes: a
// record shorter than the trailer or with an unknown type is Corruption.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cairn {

constexpr size_t kRecordTrailerBytes = 10;

// The type byte of a record (docs/keyspace-format.md, "Records").
enum class RecordType : uint8_t {
  kString = 's',
  kHash = 'h',
  kSet = 'S',
  kList = 'l',
  kSortedSet = 'z',
};

// Redis's name of the type (TYPE, SCAN TYPE): "string", "hash", "set", "list", "zset".
std::string_view record_type_name(RecordType type);
inline bool is_collection(RecordType type) { return type != RecordType::kString; }

struct RecordTrailer {
  uint64_t expiry_ms = 0;  // absolute unix time in ms; 0 = no expiry
  uint8_t flags = 0;       // reserved, 0
  RecordType type = RecordType::kString;
};

struct DecodedRecord {
  std::string_view payload;
  RecordTrailer trailer;
};

using EncodedRecordTrailer = std::array<char, kRecordTrailerBytes>;

EncodedRecordTrailer encode_record_trailer(const RecordTrailer& trailer);
// Appends the trailer to *out.
void append_record_trailer(std::string* out, const RecordTrailer& trailer);
std::string encode_record(std::string_view payload, const RecordTrailer& trailer);
// Parses the last kRecordTrailerBytes of a record (or exactly a trailer).
Result<RecordTrailer> decode_record_trailer(std::string_view trailer_bytes);
// The payload view points into `record`.
Result<DecodedRecord> decode_record(std::string_view record);

// Whether a record with this expiry is expired at `now_ms`.
inline bool record_expired(uint64_t expiry_ms, uint64_t now_ms) {
  return expiry_ms != 0 && expiry_ms <= now_ms;
}

}  // namespace cairn
