// Internal keys: how the engine stores a user key with the sequence number of the write that
// made it and whether that write was a value or a deletion (a tombstone).
//
//   internal key = user key bytes ++ fixed64_le(sequence << 8 | type)
//
// Order: user key ascending (bytewise), then sequence descending, then type descending, so that
// for one user key the newest entry comes first and a seek to (key, snapshot sequence) lands on
// the newest entry visible at that snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

using SequenceNumber = uint64_t;

// The top 8 bits of the trailer hold the type, so sequences use 56 bits.
constexpr SequenceNumber kSequenceNumberMax = (SequenceNumber{1} << 56) - 1;
constexpr size_t kInternalKeyTrailerBytes = 8;

enum class ValueType : uint8_t {
  kDeletion = 0,
  kValue = 1,
};
// The type that sorts first among entries of equal user key and sequence; used to build seek
// targets (types sort descending).
constexpr ValueType kValueTypeForSeek = ValueType::kValue;

// What a point lookup found for a user key in one source (a memtable, a table, a version).
enum class LookupResult {
  kAbsent,   // the source holds no visible entry for the key: look in older sources
  kFound,    // the newest visible entry is a value
  kDeleted,  // the newest visible entry is a tombstone: the key is absent, stop looking
};

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueType type = ValueType::kValue;
};

inline uint64_t pack_sequence_and_type(SequenceNumber sequence, ValueType type) {
  return (sequence << 8) | static_cast<uint64_t>(type);
}

void append_internal_key(std::string* destination, std::string_view user_key,
                         SequenceNumber sequence, ValueType type);
std::string make_internal_key(std::string_view user_key, SequenceNumber sequence, ValueType type);

// False if `internal_key` is too short or its type byte is unknown (untrusted input).
[[nodiscard]] bool parse_internal_key(std::string_view internal_key, ParsedInternalKey* result);

// REQUIRES: internal_key.size() >= kInternalKeyTrailerBytes.
std::string_view extract_user_key(std::string_view internal_key);

// <0, 0, >0 as a sorts before, equal to, or after b in internal-key order.
// REQUIRES: both at least kInternalKeyTrailerBytes long.
int compare_internal_keys(std::string_view a, std::string_view b);

struct InternalKeyLess {
  bool operator()(std::string_view a, std::string_view b) const {
    return compare_internal_keys(a, b) < 0;
  }
};

}  // namespace cairn
