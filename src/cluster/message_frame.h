// The frame of the versioned cluster message channels (keyspace_message.h, repair_message.h),
// and the field coders they share. A frame is the channel byte, a format version byte, a type
// byte, the body, then a fixed32 checksum32 of every byte before it.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/network.h"

namespace cairn {

// The three header bytes of a frame; the body follows.
std::string begin_message_frame(MessageChannel channel, uint8_t version, uint8_t type);
// Appends the checksum of everything in `frame`.
void end_message_frame(std::string* frame);

struct MessageFrame {
  uint8_t type = 0;
  std::string_view body;  // between the header and the checksum
};
// The type and body of `bytes`: Corruption, naming `what` ("repair message"), unless the checksum
// matches, the channel and version are these, and the type is in [1, type_max].
Result<MessageFrame> open_message_frame(std::string_view bytes, MessageChannel channel,
                                        uint8_t version, uint8_t type_max, std::string_view what);

// ---- Fields. The getters return false on truncated or malformed input, consuming part of it.
void put_u16(std::string* out, uint16_t value);  // big-endian
[[nodiscard]] bool get_u16(std::string_view* in, uint16_t* value);
[[nodiscard]] bool get_u8(std::string_view* in, uint8_t* value);
// A flag byte, 0 or 1.
[[nodiscard]] bool get_flag(std::string_view* in, bool* value);
// A length-prefixed string of at most `bytes_max` bytes.
[[nodiscard]] bool get_bounded(std::string_view* in, size_t bytes_max, std::string* value);

}  // namespace cairn
