// Internal keys: how the engine stores a user key with the sequence number of the write that
// made it and what that write was: a value, a deletion (a tombstone), or a reference to a large
// value kept in a blob file (blob_format.h).
//
//   internal key = user key bytes ++ fixed64_le(sequence << 8 | type)
//
// Order: user key ascending (bytewise), then sequence descending, then type descending, so that
// for one user key the newest entry comes first and a seek to (key, snapshot sequence) lands on
// the newest entry visible at that snapshot.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {

using SequenceNumber = uint64_t;

// The top 8 bits of the trailer hold the type, so sequences use 56 bits.
constexpr SequenceNumber kSequenceNumberMax = (SequenceNumber{1} << 56) - 1;
constexpr size_t kInternalKeyTrailerBytes = 8;

// Stored on disk (tables, and the WAL's write batches): the values never change.
enum class ValueType : uint8_t {
  kDeletion = 0,
  kValue = 1,
  // The entry's value is an encoded BlobReference (blob_format.h), not the user's value. For
  // everything but reading the value (ordering, snapshots, compaction's drop rules) it is a value.
  kBlobReference = 2,
};
constexpr ValueType kValueTypeMax = ValueType::kBlobReference;
// The type that sorts first among entries of equal user key and sequence (types sort
// descending), so a seek target built with it lands on an entry of that sequence whatever its
// type.
constexpr ValueType kValueTypeForSeek = kValueTypeMax;

// What a point lookup found for a user key in one source (a memtable, a table, a version).
enum class LookupResult {
  kAbsent,   // the source holds no visible entry for the key: look in older sources
  kFound,    // the newest visible entry is a value
  kDeleted,  // the newest visible entry is a tombstone: the key is absent, stop looking
  // The newest visible entry is a blob reference: the value is in a blob file, and the lookup's
  // value holds the encoded reference (not yet checked: it may come from a damaged table).
  kBlobReference,
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

// REQUIRES: internal_key.size() >= kInternalKeyTrailerBytes. Inline: every comparison of the
// read path goes through it.
inline std::string_view extract_user_key(std::string_view internal_key) {
  CAIRN_ASSERT(internal_key.size() >= kInternalKeyTrailerBytes);
  return internal_key.substr(0, internal_key.size() - kInternalKeyTrailerBytes);
}

// <0, 0, >0 as a sorts before, equal to, or after b in internal-key order.
// REQUIRES: both at least kInternalKeyTrailerBytes long.
inline int compare_internal_keys(std::string_view a, std::string_view b) {
  const int by_user_key = extract_user_key(a).compare(extract_user_key(b));
  if (by_user_key != 0) return by_user_key;
  const uint64_t trailer_a = decode_fixed64(a.data() + a.size() - kInternalKeyTrailerBytes);
  const uint64_t trailer_b = decode_fixed64(b.data() + b.size() - kInternalKeyTrailerBytes);
  // Larger trailer (newer sequence) first.
  if (trailer_a > trailer_b) return -1;
  if (trailer_a < trailer_b) return 1;
  return 0;
}

// One point lookup's key in the forms its sources take, built once per lookup: the memtable's
// (varint32 length ++ internal key), the tables' internal key, and the user key. The internal
// key is (user key, sequence, kValueTypeForSeek), so a seek to it lands on the newest entry of
// the user key visible at `sequence`. Keys up to kLookupKeyInlineBytes need no heap allocation.
// Not copyable: the views point into the object.
class LookupKey {
 public:
  static constexpr size_t kInlineBytes = 128;

  // REQUIRES: sequence <= kSequenceNumberMax; user_key.size() + 8 fits in a u32.
  LookupKey(std::string_view user_key, SequenceNumber sequence);
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;

  std::string_view memtable_key() const { return std::string_view(start_, end_); }
  std::string_view internal_key() const { return std::string_view(internal_key_start_, end_); }
  std::string_view user_key() const {
    return std::string_view(internal_key_start_, end_ - kInternalKeyTrailerBytes);
  }

 private:
  char inline_[kInlineBytes];
  std::unique_ptr<char[]> heap_;  // for longer keys
  const char* start_;
  const char* internal_key_start_;
  const char* end_;
};

struct InternalKeyLess {
  bool operator()(std::string_view a, std::string_view b) const {
    return compare_internal_keys(a, b) < 0;
  }
};

}  // namespace cairn
