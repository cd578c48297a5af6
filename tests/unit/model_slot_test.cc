// Proves key_slot gives Redis Cluster's slots (CRC16-XMODEM mod 16384, {hash tags}).
#include "model/slot.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(SlotTest, Crc16CheckValue) {
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);  // the standard XMODEM check value
  EXPECT_EQ(crc16_xmodem(""), 0);
}

// The CRC one bit at a time, as its definition reads: the reference for the table-driven one.
uint16_t crc16_xmodem_bitwise(std::string_view bytes) {
  uint16_t crc = 0;
  for (char c : bytes) {
    crc = static_cast<uint16_t>(crc ^ (static_cast<uint8_t>(c) << 8));
    for (int bit = 0; bit < 8; bit++) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

TEST(SlotTest, Crc16MatchesTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::string bytes;
  for (int i = 0; i < 300; i++) bytes.push_back(static_cast<char>((i * 131 + 17) ^ (i >> 3)));
  for (size_t offset = 0; offset < 8; offset++) {
    for (size_t length = 0; offset + length <= 70; length++) {
      const std::string_view slice = std::string_view(bytes).substr(offset, length);
      ASSERT_EQ(crc16_xmodem(slice), crc16_xmodem_bitwise(slice))
          << "offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(crc16_xmodem(bytes), crc16_xmodem_bitwise(bytes));
}

TEST(SlotTest, KnownRedisSlots) {
  // Values from redis-cli CLUSTER KEYSLOT.
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("somekey"), 11058);
  EXPECT_EQ(key_slot("foo{hash_tag}"), 2515);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(SlotTest, HashTags) {
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: whole key
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");  // unterminated: whole key
  EXPECT_EQ(hash_tag(std::string("{a\0b}x", 6)), std::string("a\0b", 3));
}

TEST(SlotTest, AlwaysInRange) {
  std::string key;
  for (int i = 0; i < 2000; i++) {
    key.push_back(static_cast<char>(i * 7));
    EXPECT_LT(key_slot(key), kSlotCount);
  }
}

}  // namespace
}  // namespace cairn
