// Bus frames: how cluster messages travel between nodes over a TCP stream (docs/cluster-bus.md).
// A message (membership or replication; each begins with its MessageChannel byte) is one frame:
//
//   magic "CB" | version u8 (1) | flags u8 (0) | fixed32 payload length | fixed64 sender id
//   fixed32 checksum32 of the 16 header bytes before it
//   payload bytes
//   fixed32 checksum32 of the payload
// The header has its own checksum so that a damaged length fails at once, rather than leaving
// the stream waiting for a payload that will never come.
//
// BusFrameDecoder takes a stream's bytes as they arrive, in any split, and yields whole frames.
// A frame that is malformed (bad magic, unknown version or flags, a length past the bound, a bad
// checksum) is an error: the stream cannot be resynchronized, so the connection must close. The
// decoder buffers only what has arrived: a header that announces a large payload reserves
// nothing, and a length past the bound fails as soon as the header is complete.
//
// Thread-safety: the functions are pure; a decoder belongs to one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/node_id.h"
#include "common/status.h"

namespace cairn {

constexpr size_t kBusFrameHeaderBytes = 20;
constexpr size_t kBusFrameTrailerBytes = 4;
constexpr uint8_t kBusFrameVersion = 1;
// The largest payload: a message carrying one value of the largest size (1 GiB) with room for
// the rest of the message.
constexpr uint32_t kBusFramePayloadBytesMax = (1u << 30) + (1u << 20);

// Appends the frame of `payload` from `sender` to *out. REQUIRES: payload.size() <=
// kBusFramePayloadBytesMax.
void append_bus_frame(std::string* out, NodeId sender, std::string_view payload);

class BusFrameDecoder {
 public:
  enum class Step {
    kNeedMore,  // feed more bytes
    kFrame,     // sender() and payload() hold the next frame
    kError,     // error() says why; the connection must close
  };

  // REQUIRES: payload_bytes_max <= kBusFramePayloadBytesMax.
  explicit BusFrameDecoder(uint32_t payload_bytes_max = kBusFramePayloadBytesMax);

  // Adds bytes as they arrive. REQUIRES: next() has not returned kError.
  void feed(std::string_view bytes);
  // Moves to the next complete frame. A frame's sender() holds until the next call to next() or
  // feed(); the bytes payload() views stay valid until the next feed(), so the frames fed so
  // far may all be taken before any is used. Once kError, always kError.
  Step next();

  NodeId sender() const { return sender_; }
  std::string_view payload() const { return payload_; }
  const Status& error() const { return error_; }
  // Bytes held: a partial frame, and frames not yet taken.
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  Step fail(std::string_view why);

  uint32_t payload_bytes_max_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ taken by frames returned before
  NodeId sender_;
  std::string_view payload_;
  Status error_;
};

}  // namespace cairn
