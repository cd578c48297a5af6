#include "common/coding.h"

namespace cairn {

void put_fixed32(std::string* destination, uint32_t value) {
  char buffer[4];
  encode_fixed32(buffer, value);
  destination->append(buffer, sizeof(buffer));
}

void put_fixed64(std::string* destination, uint64_t value) {
  char buffer[8];
  encode_fixed64(buffer, value);
  destination->append(buffer, sizeof(buffer));
}

int encode_varint64(char* destination, uint64_t value) {
  int length = 0;
  while (value >= 0x80) {
    destination[length++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  destination[length++] = static_cast<char>(value);
  return length;
}

int varint_length(uint64_t value) {
  int length = 1;
  while (value >= 0x80) {
    value >>= 7;
    length++;
  }
  return length;
}

void put_varint32(std::string* destination, uint32_t value) { put_varint64(destination, value); }

void put_varint64(std::string* destination, uint64_t value) {
  char buffer[kVarint64LengthMax];
  destination->append(buffer, static_cast<size_t>(encode_varint64(buffer, value)));
}

void put_big_endian64(std::string* destination, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    destination->push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

uint64_t decode_big_endian64(const char* source) {
  uint64_t value = 0;
  for (int i = 0; i < 8; i++) value = (value << 8) | static_cast<uint8_t>(source[i]);
  return value;
}

void put_length_prefixed(std::string* destination, std::string_view value) {
  put_varint32(destination, static_cast<uint32_t>(value.size()));
  destination->append(value);
}

bool get_fixed32(std::string_view* input, uint32_t* value) {
  if (input->size() < 4) return false;
  *value = decode_fixed32(input->data());
  input->remove_prefix(4);
  return true;
}

bool get_fixed64(std::string_view* input, uint64_t* value) {
  if (input->size() < 8) return false;
  *value = decode_fixed64(input->data());
  input->remove_prefix(8);
  return true;
}

bool get_varint64(std::string_view* input, uint64_t* value) {
  uint64_t result = 0;
  for (int i = 0; i < kVarint64LengthMax && i < static_cast<int>(input->size()); i++) {
    const uint64_t byte = static_cast<unsigned char>((*input)[i]);
    // The tenth byte may hold only the top bit of a 64-bit value.
    if (i == kVarint64LengthMax - 1 && byte > 1) return false;
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      input->remove_prefix(static_cast<size_t>(i) + 1);
      return true;
    }
  }
  return false;
}

bool get_varint32_slow(std::string_view* input, uint32_t* value) {
  std::string_view copy = *input;
  uint64_t wide = 0;
  if (!get_varint64(&copy, &wide) || wide > UINT32_MAX) return false;
  *value = static_cast<uint32_t>(wide);
  *input = copy;
  return true;
}

bool get_length_prefixed(std::string_view* input, std::string_view* value) {
  uint32_t length = 0;
  if (!get_varint32(input, &length) || input->size() < length) return false;
  *value = input->substr(0, length);
  input->remove_prefix(length);
  return true;
}

}  // namespace cairn
