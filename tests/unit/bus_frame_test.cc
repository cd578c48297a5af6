// Proves the cluster bus's framing: frames round-trip with their sender, in any split of the
// stream (down to one byte at a time) and several per read; any damaged byte, a wrong magic,
// version or flags, or a length past the bound is an error before any payload is buffered for
// it; and the decoder keeps only the bytes it has not yet handed out.
#include "net/bus_frame.h"

#include <gtest/gtest.h>

#include <vector>

#include "io/random.h"

namespace cairn {
namespace {

struct Frame {
  NodeId sender;
  std::string payload;
  bool operator==(const Frame&) const = default;
};

// Feeds `stream` in pieces of the given sizes (cycled) and collects the frames.
std::vector<Frame> decode_in_pieces(std::string_view stream, const std::vector<size_t>& pieces,
                                    BusFrameDecoder::Step* last = nullptr) {
  BusFrameDecoder decoder;
  std::vector<Frame> frames;
  BusFrameDecoder::Step step = BusFrameDecoder::Step::kNeedMore;
  for (size_t offset = 0, i = 0; offset < stream.size(); i++) {
    const size_t piece = std::min(pieces[i % pieces.size()], stream.size() - offset);
    decoder.feed(stream.substr(offset, piece));
    offset += piece;
    while ((step = decoder.next()) == BusFrameDecoder::Step::kFrame) {
      frames.push_back(Frame{decoder.sender(), std::string(decoder.payload())});
    }
    if (step == BusFrameDecoder::Step::kError) break;
  }
  if (last != nullptr) *last = step;
  return frames;
}

std::vector<Frame> sample_frames() {
  Random random(5);
  std::vector<Frame> frames = {{NodeId{1}, ""}, {NodeId{~uint64_t{0}}, "x"}};
  for (int i = 0; i < 20; i++) {
    frames.push_back(Frame{NodeId{random.next_u64()}, random.bytes(random.skewed(14))});
  }
  return frames;
}

std::string encode_all(const std::vector<Frame>& frames) {
  std::string stream;
  for (const Frame& frame : frames) append_bus_frame(&stream, frame.sender, frame.payload);
  return stream;
}

// Proves frames come back whole and in order whatever the read sizes.
TEST(BusFrameTest, FramesRoundTripInAnySplit) {
  const std::vector<Frame> frames = sample_frames();
  const std::string stream = encode_all(frames);
  for (const std::vector<size_t>& pieces :
       std::vector<std::vector<size_t>>{{1}, {2, 3}, {7}, {16}, {17, 1, 4096}, {stream.size()}}) {
    BusFrameDecoder::Step last;
    EXPECT_EQ(decode_in_pieces(stream, pieces, &last), frames);
    EXPECT_EQ(last, BusFrameDecoder::Step::kNeedMore);
  }
}

// Proves any single changed byte of a stream is an error (never a different frame), and that
// the frames before the damaged one still come out.
TEST(BusFrameTest, AnyDamagedByteIsAnError) {
  const std::vector<Frame> frames = {{NodeId{3}, "first"}, {NodeId{4}, "second frame"}};
  const std::string stream = encode_all(frames);
  const size_t first_frame_bytes = kBusFrameHeaderBytes + 5 + kBusFrameTrailerBytes;
  for (size_t i = 0; i < stream.size(); i++) {
    std::string damaged = stream;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    BusFrameDecoder::Step last;
    const std::vector<Frame> got = decode_in_pieces(damaged, {stream.size()}, &last);
    ASSERT_EQ(last, BusFrameDecoder::Step::kError) << "byte " << i;
    ASSERT_EQ(got.size(), i < first_frame_bytes ? 0u : 1u) << "byte " << i;
  }
}

// Proves a header announcing more than the bound fails as soon as the header is complete,
// before the payload arrives, and a wrong magic fails at its first byte.
TEST(BusFrameTest, OversizeAndForeignStreamsFailEarly) {
  std::string frame;
  append_bus_frame(&frame, NodeId{1}, std::string(100, 'p'));
  BusFrameDecoder small(64);
  small.feed(std::string_view(frame).substr(0, kBusFrameHeaderBytes));
  EXPECT_EQ(small.next(), BusFrameDecoder::Step::kError);
  EXPECT_EQ(small.error().message(), "cluster bus: frame longer than the limit");

  BusFrameDecoder foreign;
  foreign.feed("*");  // a RESP client on the bus port
  EXPECT_EQ(foreign.next(), BusFrameDecoder::Step::kError);
  EXPECT_EQ(foreign.error().message(), "cluster bus: bad magic");
  EXPECT_EQ(foreign.next(), BusFrameDecoder::Step::kError);

  BusFrameDecoder half;
  half.feed(std::string_view(frame).substr(0, kBusFrameHeaderBytes + 10));
  EXPECT_EQ(half.next(), BusFrameDecoder::Step::kNeedMore);
  EXPECT_EQ(half.buffered_bytes(), kBusFrameHeaderBytes + 10);
}

// Proves the buffer gives back the frames already taken: after many frames fed one at a time,
// it holds little more than one frame.
TEST(BusFrameTest, TakenFramesDoNotAccumulate) {
  BusFrameDecoder decoder;
  std::string frame;
  append_bus_frame(&frame, NodeId{9}, std::string(1000, 'v'));
  for (int i = 0; i < 10'000; i++) {
    decoder.feed(frame);
    ASSERT_EQ(decoder.next(), BusFrameDecoder::Step::kFrame);
    ASSERT_EQ(decoder.payload().size(), 1000u);
    ASSERT_EQ(decoder.next(), BusFrameDecoder::Step::kNeedMore);
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

// Proves random bytes never crash the decoder and never yield a frame.
TEST(BusFrameTest, RandomBytesYieldNoFrame) {
  Random random(11);
  for (int i = 0; i < 5'000; i++) {
    std::string bytes = random.bytes(random.uniform(64));
    if (bytes.size() >= 2 && random.one_in(2)) {
      bytes[0] = 'C';
      bytes[1] = 'B';
    }
    BusFrameDecoder::Step last;
    EXPECT_TRUE(decode_in_pieces(bytes, {1 + random.uniform(8)}, &last).empty());
  }
}

}  // namespace
}  // namespace cairn
