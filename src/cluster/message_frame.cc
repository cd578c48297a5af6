#include "cluster/message_frame.h"

#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

namespace {

constexpr size_t kHeaderBytes = 3;  // channel, version, type
constexpr size_t kChecksumBytes = 4;

}  // namespace

std::string begin_message_frame(MessageChannel channel, uint8_t version, uint8_t type) {
  std::string frame;
  frame.push_back(static_cast<char>(channel));
  frame.push_back(static_cast<char>(version));
  frame.push_back(static_cast<char>(type));
  return frame;
}

void end_message_frame(std::string* frame) { put_fixed32(frame, checksum32(*frame)); }

Result<MessageFrame> open_message_frame(std::string_view bytes, MessageChannel channel,
                                        uint8_t version, uint8_t type_max, std::string_view what) {
  auto corrupt = [&](std::string_view problem) {
    return Status::corruption(std::string(what) + ": " + std::string(problem));
  };
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return corrupt("too short");
  std::string_view trailer = bytes.substr(bytes.size() - kChecksumBytes);
  std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  uint32_t checksum = 0;
  if (!get_fixed32(&trailer, &checksum) || checksum != checksum32(body)) {
    return corrupt("checksum mismatch");
  }
  if (static_cast<uint8_t>(body[0]) != static_cast<uint8_t>(channel)) {
    return corrupt("not a " + std::string(what));
  }
  if (static_cast<uint8_t>(body[1]) != version) return corrupt("unknown version");
  const auto type = static_cast<uint8_t>(body[2]);
  if (type < 1 || type > type_max) return corrupt("unknown type");
  body.remove_prefix(kHeaderBytes);
  return MessageFrame{type, body};
}

void put_u16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value & 0xFF));
}

bool get_u16(std::string_view* in, uint16_t* value) {
  if (in->size() < 2) return false;
  *value =
      static_cast<uint16_t>(static_cast<uint8_t>((*in)[0]) << 8 | static_cast<uint8_t>((*in)[1]));
  in->remove_prefix(2);
  return true;
}

bool get_u8(std::string_view* in, uint8_t* value) {
  if (in->empty()) return false;
  *value = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  return true;
}

bool get_flag(std::string_view* in, bool* value) {
  uint8_t byte = 0;
  if (!get_u8(in, &byte) || byte > 1) return false;
  *value = byte == 1;
  return true;
}

bool get_bounded(std::string_view* in, size_t bytes_max, std::string* value) {
  std::string_view bytes;
  if (!get_length_prefixed(in, &bytes) || bytes.size() > bytes_max) return false;
  value->assign(bytes);
  return true;
}

}  // namespace cairn
