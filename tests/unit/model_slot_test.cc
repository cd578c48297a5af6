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
