#include "storage/internal_key.h"

#include <cstring>

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {

void append_internal_key(std::string* destination, std::string_view user_key,
                         SequenceNumber sequence, ValueType type) {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  destination->append(user_key);
  put_fixed64(destination, pack_sequence_and_type(sequence, type));
}

std::string make_internal_key(std::string_view user_key, SequenceNumber sequence, ValueType type) {
  std::string result;
  result.reserve(user_key.size() + kInternalKeyTrailerBytes);
  append_internal_key(&result, user_key, sequence, type);
  return result;
}

LookupKey::LookupKey(std::string_view user_key, SequenceNumber sequence) {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  CAIRN_ASSERT(user_key.size() <= UINT32_MAX - kInternalKeyTrailerBytes);
  const size_t internal_key_bytes = user_key.size() + kInternalKeyTrailerBytes;
  const size_t total_bytes = kVarint32LengthMax + internal_key_bytes;
  char* cursor = inline_;
  if (total_bytes > kInlineBytes) {
    heap_ = std::make_unique_for_overwrite<char[]>(total_bytes);
    cursor = heap_.get();
  }
  start_ = cursor;
  cursor += encode_varint64(cursor, internal_key_bytes);
  internal_key_start_ = cursor;
  if (!user_key.empty()) std::memcpy(cursor, user_key.data(), user_key.size());
  cursor += user_key.size();
  encode_fixed64(cursor, pack_sequence_and_type(sequence, kValueTypeForSeek));
  end_ = cursor + kInternalKeyTrailerBytes;
}

bool parse_internal_key(std::string_view internal_key, ParsedInternalKey* result) {
  if (internal_key.size() < kInternalKeyTrailerBytes) return false;
  const size_t user_key_size = internal_key.size() - kInternalKeyTrailerBytes;
  const uint64_t trailer = decode_fixed64(internal_key.data() + user_key_size);
  const uint8_t type = static_cast<uint8_t>(trailer & 0xff);
  if (type > static_cast<uint8_t>(kValueTypeMax)) return false;
  result->user_key = internal_key.substr(0, user_key_size);
  result->sequence = trailer >> 8;
  result->type = static_cast<ValueType>(type);
  return true;
}

}  // namespace cairn
