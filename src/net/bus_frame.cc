#include "net/bus_frame.h"

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

namespace {

constexpr char kMagic0 = 'C';
constexpr char kMagic1 = 'B';

}  // namespace

void append_bus_frame(std::string* out, NodeId sender, std::string_view payload) {
  CAIRN_ASSERT(payload.size() <= kBusFramePayloadBytesMax);
  const size_t start = out->size();
  out->push_back(kMagic0);
  out->push_back(kMagic1);
  out->push_back(static_cast<char>(kBusFrameVersion));
  out->push_back(0);  // flags
  put_fixed32(out, static_cast<uint32_t>(payload.size()));
  put_fixed64(out, sender.value);
  put_fixed32(out, checksum32(std::string_view(*out).substr(start)));
  out->append(payload);
  put_fixed32(out, checksum32(payload));
}

BusFrameDecoder::BusFrameDecoder(uint32_t payload_bytes_max)
    : payload_bytes_max_(payload_bytes_max) {
  CAIRN_ASSERT(payload_bytes_max <= kBusFramePayloadBytesMax);
}

void BusFrameDecoder::feed(std::string_view bytes) {
  CAIRN_ASSERT(error_.is_ok());
  // Drop the frames already taken once they are most of the buffer, so it does not only grow.
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
  payload_ = {};
}

BusFrameDecoder::Step BusFrameDecoder::fail(std::string_view why) {
  error_ = Status::corruption(std::string("cluster bus: ") + std::string(why));
  return Step::kError;
}

BusFrameDecoder::Step BusFrameDecoder::next() {
  if (!error_.is_ok()) return Step::kError;
  payload_ = {};
  std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (pending.size() < kBusFrameHeaderBytes) {
    // A wrong magic fails at once, without waiting for a whole header.
    if (!pending.empty() && pending[0] != kMagic0) return fail("bad magic");
    if (pending.size() > 1 && pending[1] != kMagic1) return fail("bad magic");
    return Step::kNeedMore;
  }
  if (pending[0] != kMagic0 || pending[1] != kMagic1) return fail("bad magic");
  if (decode_fixed32(pending.data() + 16) != checksum32(pending.substr(0, 16))) {
    return fail("header checksum mismatch");
  }
  if (static_cast<uint8_t>(pending[2]) != kBusFrameVersion) return fail("unknown version");
  if (pending[3] != 0) return fail("unknown flags");
  const uint32_t length = decode_fixed32(pending.data() + 4);
  if (length > payload_bytes_max_) return fail("frame longer than the limit");
  const size_t frame_bytes = kBusFrameHeaderBytes + length + kBusFrameTrailerBytes;
  if (pending.size() < frame_bytes) return Step::kNeedMore;
  const std::string_view payload = pending.substr(kBusFrameHeaderBytes, length);
  if (decode_fixed32(pending.data() + kBusFrameHeaderBytes + length) != checksum32(payload)) {
    return fail("payload checksum mismatch");
  }
  sender_ = NodeId{decode_fixed64(pending.data() + 8)};
  payload_ = payload;
  consumed_ += frame_bytes;
  return Step::kFrame;
}

}  // namespace cairn
