// Byte encodings shared by every on-disk and wire format: little-endian fixed-width integers,
// varints (7 bits a byte, low groups first, as protobuf) and length-prefixed byte strings.
// Decoders take untrusted input: they consume from the front of a string_view and return false
// on truncated or malformed data instead of reading past its end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn {

constexpr int kVarint32LengthMax = 5;
constexpr int kVarint64LengthMax = 10;

inline void encode_fixed32(char* destination, uint32_t value) {
  for (int i = 0; i < 4; i++) destination[i] = static_cast<char>(value >> (8 * i));
}
inline void encode_fixed64(char* destination, uint64_t value) {
  for (int i = 0; i < 8; i++) destination[i] = static_cast<char>(value >> (8 * i));
}
inline uint32_t decode_fixed32(const char* source) {
  uint32_t value = 0;
  for (int i = 0; i < 4; i++) value |= uint32_t{static_cast<unsigned char>(source[i])} << (8 * i);
  return value;
}
inline uint64_t decode_fixed64(const char* source) {
  uint64_t value = 0;
  for (int i = 0; i < 8; i++) value |= uint64_t{static_cast<unsigned char>(source[i])} << (8 * i);
  return value;
}

void put_fixed32(std::string* destination, uint32_t value);
void put_fixed64(std::string* destination, uint64_t value);
void put_varint32(std::string* destination, uint32_t value);
void put_varint64(std::string* destination, uint64_t value);
// A varint32 length followed by the bytes.
void put_length_prefixed(std::string* destination, std::string_view value);

// Big-endian u64, for engine keys: their byte order is their numeric order.
void put_big_endian64(std::string* destination, uint64_t value);
// REQUIRES: at least 8 bytes at `source`.
uint64_t decode_big_endian64(const char* source);

// Writes the varint to `destination` (room for kVarint64LengthMax bytes) and returns its length.
int encode_varint64(char* destination, uint64_t value);
int varint_length(uint64_t value);

// Each consumes what it decodes from the front of *input; on failure *input is unspecified.
[[nodiscard]] bool get_fixed32(std::string_view* input, uint32_t* value);
[[nodiscard]] bool get_fixed64(std::string_view* input, uint64_t* value);
[[nodiscard]] bool get_varint32_slow(std::string_view* input, uint32_t* value);
// Inline for the common one-byte case: block entries decode three varints per key.
[[nodiscard]] inline bool get_varint32(std::string_view* input, uint32_t* value) {
  if (!input->empty()) {
    const auto first = static_cast<unsigned char>(input->front());
    if (first < 0x80) {
      *value = first;
      input->remove_prefix(1);
      return true;
    }
  }
  return get_varint32_slow(input, value);
}
[[nodiscard]] bool get_varint64(std::string_view* input, uint64_t* value);
// *value points into the input's bytes.
[[nodiscard]] bool get_length_prefixed(std::string_view* input, std::string_view* value);

}  // namespace cairn
