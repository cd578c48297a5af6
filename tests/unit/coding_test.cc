// Proves the fixed-width, varint and length-prefixed codings round-trip and that decoders
// reject truncated and overlong input instead of reading past the end.
#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace cairn {
namespace {

TEST(CodingTest, FixedRoundTrip) {
  std::string buffer;
  put_fixed32(&buffer, 0xdeadbeef);
  put_fixed64(&buffer, 0x0123456789abcdefULL);
  ASSERT_EQ(buffer.size(), 12u);
  EXPECT_EQ(static_cast<unsigned char>(buffer[0]), 0xef);  // little-endian
  std::string_view input = buffer;
  uint32_t a = 0;
  uint64_t b = 0;
  ASSERT_TRUE(get_fixed32(&input, &a));
  ASSERT_TRUE(get_fixed64(&input, &b));
  EXPECT_EQ(a, 0xdeadbeef);
  EXPECT_EQ(b, 0x0123456789abcdefULL);
  EXPECT_TRUE(input.empty());
  EXPECT_FALSE(get_fixed32(&input, &a));
}

TEST(CodingTest, VarintRoundTripAcrossMagnitudes) {
  std::vector<uint64_t> values;
  for (int shift = 0; shift < 64; shift++) {
    const uint64_t power = uint64_t{1} << shift;
    values.push_back(power - 1);
    values.push_back(power);
    values.push_back(power + 1);
  }
  values.push_back(std::numeric_limits<uint64_t>::max());
  std::string buffer;
  for (uint64_t value : values) put_varint64(&buffer, value);
  std::string_view input = buffer;
  for (uint64_t expected : values) {
    uint64_t actual = 0;
    const size_t before = input.size();
    ASSERT_TRUE(get_varint64(&input, &actual));
    EXPECT_EQ(actual, expected);
    EXPECT_EQ(before - input.size(), static_cast<size_t>(varint_length(expected)));
  }
  EXPECT_TRUE(input.empty());
}

TEST(CodingTest, Varint32RejectsValuesAbove32Bits) {
  std::string buffer;
  put_varint64(&buffer, uint64_t{1} << 32);
  std::string_view input = buffer;
  uint32_t value = 0;
  EXPECT_FALSE(get_varint32(&input, &value));
  EXPECT_EQ(input.size(), buffer.size());  // nothing consumed on failure
}

TEST(CodingTest, TruncatedAndOverlongVarintsAreRejected) {
  std::string buffer;
  put_varint64(&buffer, 1ULL << 40);
  for (size_t length = 0; length < buffer.size(); length++) {
    std::string_view input(buffer.data(), length);
    uint64_t value = 0;
    EXPECT_FALSE(get_varint64(&input, &value)) << "length " << length;
  }
  const std::string overlong(11, '\x80');
  std::string_view input = overlong;
  uint64_t value = 0;
  EXPECT_FALSE(get_varint64(&input, &value));
  const std::string too_big = std::string(9, '\xff') + '\x02';  // bit 64 and above
  input = too_big;
  EXPECT_FALSE(get_varint64(&input, &value));
}

TEST(CodingTest, LengthPrefixed) {
  std::string buffer;
  put_length_prefixed(&buffer, "hello");
  put_length_prefixed(&buffer, "");
  std::string_view input = buffer;
  std::string_view a, b;
  ASSERT_TRUE(get_length_prefixed(&input, &a));
  ASSERT_TRUE(get_length_prefixed(&input, &b));
  EXPECT_EQ(a, "hello");
  EXPECT_EQ(b, "");
  std::string truncated = buffer.substr(0, 3);
  input = truncated;
  EXPECT_FALSE(get_length_prefixed(&input, &a));
}

}  // namespace
}  // namespace cairn
