#include "model/engine_key.h"

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "model/slot.h"
#include "storage/limits.h"

namespace cairn {
namespace {

constexpr char kIndexByte0 = static_cast<char>(0xFF);
constexpr char kIndexByte1 = 'E';
constexpr size_t kIndexHeaderBytes = 2 + 8;

}  // namespace

void data_key_into(std::string_view user_key, std::string* out) {
  out->clear();
  out->reserve(kSlotPrefixBytes + user_key.size());
  append_data_key(user_key, out);
}

DataKeyPrefix data_key_prefix(std::string_view user_key) {
  const uint16_t slot = key_slot(user_key);
  return {static_cast<char>(slot >> 8), static_cast<char>(slot & 0xFF), kRecordTag};
}

void append_data_key(std::string_view user_key, std::string* out) {
  const DataKeyPrefix prefix = data_key_prefix(user_key);
  out->append(prefix.data(), prefix.size());
  out->append(user_key);
}

std::string data_key(std::string_view user_key) {
  std::string out;
  data_key_into(user_key, &out);
  return out;
}

std::string slot_start_key(uint16_t slot) {
  CAIRN_ASSERT(slot <= kSlotCount);
  std::string out;
  out.push_back(static_cast<char>(slot >> 8));
  out.push_back(static_cast<char>(slot & 0xFF));
  return out;
}

std::string data_end_key() { return slot_start_key(kSlotCount); }

uint16_t engine_key_slot(std::string_view engine_key) {
  CAIRN_ASSERT(engine_key.size() >= 2);
  const uint16_t slot = static_cast<uint16_t>((static_cast<uint8_t>(engine_key[0]) << 8) |
                                              static_cast<uint8_t>(engine_key[1]));
  CAIRN_ASSERT(slot < kSlotCount);
  return slot;
}

bool parse_data_key(std::string_view engine_key, std::string_view* user_key) {
  // Slots are below 0x4000: the first byte of a data key is below 0x40.
  static_assert(kSlotCount == 0x4000);
  if (engine_key.size() < kSlotPrefixBytes || static_cast<uint8_t>(engine_key[0]) >= 0x40 ||
      engine_key[2] != kRecordTag) {
    return false;
  }
  *user_key = engine_key.substr(kSlotPrefixBytes);
  return true;
}

// Tag, length varint (at most 3 bytes for 64 KiB), generation.
// A sample key holds a position too.
static_assert(kSlotPrefixBytes + 3 + kUserKeyBytesMax + 8 + kSamplePositionBytes +
                  kElementBytesMax <=
              kKeyBytesMax);

namespace {

bool is_element_tag(char tag) {
  return tag == kElementTag || tag == kScoreTag || tag == kSampleTag;
}

}  // namespace

void append_element_key_prefix(char tag, std::string_view user_key, uint64_t generation,
                               std::string* out) {
  CAIRN_ASSERT(is_element_tag(tag));
  const uint16_t slot = key_slot(user_key);
  out->push_back(static_cast<char>(slot >> 8));
  out->push_back(static_cast<char>(slot & 0xFF));
  out->push_back(tag);
  put_varint64(out, user_key.size());
  out->append(user_key);
  put_big_endian64(out, generation);
}

std::string element_key_prefix(char tag, std::string_view user_key, uint64_t generation) {
  std::string out;
  out.reserve(kSlotPrefixBytes + 3 + user_key.size() + 8);
  append_element_key_prefix(tag, user_key, generation, &out);
  return out;
}

bool parse_element_key(std::string_view engine_key, ElementKey* out) {
  if (engine_key.size() < kSlotPrefixBytes || static_cast<uint8_t>(engine_key[0]) >= 0x40 ||
      !is_element_tag(engine_key[2])) {
    return false;
  }
  std::string_view rest = engine_key.substr(kSlotPrefixBytes);
  uint64_t key_bytes = 0;
  if (!get_varint64(&rest, &key_bytes) || key_bytes > kUserKeyBytesMax ||
      rest.size() < key_bytes + 8) {
    return false;
  }
  out->tag = engine_key[2];
  out->user_key = rest.substr(0, key_bytes);
  uint64_t generation = 0;
  for (size_t i = 0; i < 8; i++) {
    generation = (generation << 8) | static_cast<uint8_t>(rest[key_bytes + i]);
  }
  out->generation = generation;
  out->element = rest.substr(key_bytes + 8);
  return true;
}

uint64_t sample_position(std::string_view member, uint64_t generation) {
  return hash64(member, generation);
}

void append_sample_position(uint64_t position, std::string* out) {
  put_big_endian64(out, position);
}

void append_sample_element(std::string_view member, uint64_t generation, std::string* out) {
  put_big_endian64(out, sample_position(member, generation));
  out->append(member);
}

bool parse_sample_element(std::string_view element, std::string_view* member) {
  if (element.size() < kSamplePositionBytes) return false;
  *member = element.substr(kSamplePositionBytes);
  return true;
}

std::string expiry_index_prefix() { return std::string{kIndexByte0, kIndexByte1}; }

bool is_point_read_key(std::string_view engine_key) {
  // Slots are below 0x4000: anything else (the expiry index, the format marker) is not data.
  static_assert(kSlotCount == 0x4000);
  return engine_key.size() >= kSlotPrefixBytes && static_cast<uint8_t>(engine_key[0]) < 0x40 &&
         (engine_key[2] == kRecordTag || engine_key[2] == kElementTag);
}

std::string expiry_index_key(uint64_t expiry_ms, std::string_view user_key) {
  std::string out = expiry_index_prefix();
  out.reserve(kIndexHeaderBytes + user_key.size());
  put_big_endian64(&out, expiry_ms);
  out.append(user_key);
  return out;
}

bool parse_expiry_index_key(std::string_view engine_key, uint64_t* expiry_ms,
                            std::string_view* user_key) {
  if (engine_key.size() < kIndexHeaderBytes || engine_key[0] != kIndexByte0 ||
      engine_key[1] != kIndexByte1) {
    return false;
  }
  uint64_t value = 0;
  for (size_t i = 2; i < kIndexHeaderBytes; i++)
    value = (value << 8) | static_cast<uint8_t>(engine_key[i]);
  *expiry_ms = value;
  *user_key = engine_key.substr(kIndexHeaderBytes);
  return true;
}

}  // namespace cairn
