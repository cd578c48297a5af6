// Proves the membership message codec: every type round-trips with its fields at their bounds;
// every truncation, every single-byte change and random garbage either decode to a message
// that re-encodes within bounds or are rejected as corruption, never a crash; bounds over the
// limits and unknown versions, types, states and flags are rejected.
#include "cluster/membership_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/coding.h"
#include "io/network.h"
#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

MemberUpdate random_update(Random& random) {
  MemberUpdate update;
  update.node = NodeId{random.next_u64()};
  update.state = static_cast<MemberState>(random.range(1, 3));
  update.incarnation = random.skewed(64);
  update.accuser = update.state == MemberState::kAlive ? update.node : NodeId{random.next_u64()};
  update.rack = random.bytes(random.one_in(8) ? kRackNameBytesMax : random.uniform(12));
  update.address = random.bytes(random.one_in(8) ? kAddressBytesMax : random.uniform(24));
  return update;
}

// A message of `type` with random content in the fields the type carries.
MembershipMessage random_message(Random& random, MembershipMessageType type) {
  MembershipMessage message;
  message.type = type;
  message.ring = RingHeader{random.skewed(64), random.next_u64()};
  if (type != MembershipMessageType::kSync && type != MembershipMessageType::kRing) {
    message.seq = random.skewed(64);
  }
  if (type == MembershipMessageType::kPing || type == MembershipMessageType::kPingReq) {
    message.target = NodeId{random.next_u64()};
  }
  if (type == MembershipMessageType::kSync)
    message.sync_flags = random.one_in(2) ? kSyncReplyWanted : 0;
  if (type == MembershipMessageType::kRing) message.ring_bytes = random.bytes(random.skewed(12));
  const size_t max = updates_max(type);
  if (max > 0) {
    const size_t count = random.one_in(10) ? max : random.uniform(std::min<size_t>(max, 40) + 1);
    for (size_t i = 0; i < count; i++) message.updates.push_back(random_update(random));
  }
  return message;
}

const MembershipMessageType kTypes[] = {
    MembershipMessageType::kPing, MembershipMessageType::kAck,  MembershipMessageType::kPingReq,
    MembershipMessageType::kNack, MembershipMessageType::kSync, MembershipMessageType::kRing};

TEST(MembershipMessageTest, EveryTypeRoundTrips) {
  for (const uint64_t seed : test::test_seeds(1, 20, 500)) {
    Random random(seed);
    for (const MembershipMessageType type : kTypes) {
      const MembershipMessage message = random_message(random, type);
      const std::string bytes = encode_membership_message(message);
      EXPECT_EQ(static_cast<uint8_t>(bytes[0]), static_cast<uint8_t>(MessageChannel::kMembership));
      const Result<MembershipMessage> decoded = decode_membership_message(bytes);
      ASSERT_TRUE(decoded.is_ok()) << "seed " << seed << ": " << decoded.status().to_string();
      EXPECT_EQ(*decoded, message) << "seed " << seed;
    }
  }
}

TEST(MembershipMessageTest, EncodedSizeMatchesTheEncoding) {
  Random random(7);
  for (int i = 0; i < 200; i++) {
    MembershipMessage message;
    message.type = MembershipMessageType::kAck;
    const std::string empty = encode_membership_message(message);
    message.updates.push_back(random_update(random));
    EXPECT_EQ(encode_membership_message(message).size() - empty.size(),
              encoded_size(message.updates[0]));
  }
}

TEST(MembershipMessageTest, AFullSyncAndTheLargestRingFit) {
  Random random(3);
  MembershipMessage sync;
  sync.type = MembershipMessageType::kSync;
  for (size_t i = 0; i < kMemberCountMax; i++) {
    MemberUpdate update = random_update(random);
    update.state = MemberState::kDead;
    update.incarnation = UINT64_MAX;
    update.rack.assign(kRackNameBytesMax, 'r');
    update.address.assign(kAddressBytesMax, 'a');
    sync.updates.push_back(update);
  }
  const std::string bytes = encode_membership_message(sync);
  EXPECT_LE(bytes.size(), kMembershipMessageBytesMax);
  EXPECT_TRUE(decode_membership_message(bytes).is_ok());

  MembershipMessage ring;
  ring.type = MembershipMessageType::kRing;
  ring.ring_bytes.assign(kRingTransferBytesMax, 'x');
  EXPECT_TRUE(decode_membership_message(encode_membership_message(ring)).is_ok());
}

// Every proper prefix of a valid message is rejected: the format has no optional tail.
TEST(MembershipMessageTest, EveryTruncationIsRejected) {
  for (const uint64_t seed : test::test_seeds(100, 5, 100)) {
    Random random(seed);
    for (const MembershipMessageType type : kTypes) {
      const std::string bytes = encode_membership_message(random_message(random, type));
      for (size_t length = 0; length < bytes.size(); length++) {
        const Result<MembershipMessage> decoded =
            decode_membership_message(std::string_view(bytes).substr(0, length));
        ASSERT_FALSE(decoded.is_ok()) << "seed " << seed << " length " << length;
        EXPECT_TRUE(decoded.status().is_corruption());
      }
    }
  }
}

// A decoded message re-encodes (its bounds hold) and decodes to itself again.
void expect_sound(std::string_view bytes) {
  const Result<MembershipMessage> decoded = decode_membership_message(bytes);
  if (!decoded.is_ok()) {
    EXPECT_TRUE(decoded.status().is_corruption());
    return;
  }
  const std::string again = encode_membership_message(*decoded);
  const Result<MembershipMessage> redecoded = decode_membership_message(again);
  ASSERT_TRUE(redecoded.is_ok());
  EXPECT_EQ(*redecoded, *decoded);
}

TEST(MembershipMessageTest, ByteFlipsAreRejectedOrDecodeSoundly) {
  for (const uint64_t seed : test::test_seeds(200, 5, 100)) {
    Random random(seed);
    for (const MembershipMessageType type : kTypes) {
      std::string bytes = encode_membership_message(random_message(random, type));
      for (size_t i = 0; i < bytes.size(); i++) {
        const char original = bytes[i];
        bytes[i] = static_cast<char>(original ^ static_cast<char>(random.range(1, 255)));
        expect_sound(bytes);
        bytes[i] = original;
      }
    }
  }
}

TEST(MembershipMessageTest, RandomGarbageNeverCrashes) {
  for (const uint64_t seed : test::test_seeds(300, 5, 100)) {
    Random random(seed);
    for (int i = 0; i < 2000; i++) {
      std::string bytes = random.bytes(random.skewed(10));
      // Half the time behind a valid channel, version and type, to reach the body decoders.
      if (random.one_in(2) && bytes.size() >= 3) {
        bytes[0] = static_cast<char>(MessageChannel::kMembership);
        bytes[1] = static_cast<char>(kMembershipMessageVersion);
        bytes[2] = static_cast<char>(random.range(1, 6));
      }
      expect_sound(bytes);
    }
  }
}

// A valid message with one header byte replaced.
std::string with_byte(const MembershipMessage& message, size_t at, uint8_t value) {
  std::string bytes = encode_membership_message(message);
  bytes[at] = static_cast<char>(value);
  return bytes;
}

TEST(MembershipMessageTest, UnknownChannelVersionTypeStateAndFlagsAreRejected) {
  MembershipMessage ping;
  ping.type = MembershipMessageType::kPing;
  EXPECT_FALSE(decode_membership_message(with_byte(ping, 0, 2)).is_ok());  // replication channel
  EXPECT_FALSE(decode_membership_message(with_byte(ping, 1, 2)).is_ok());  // version 2
  EXPECT_FALSE(decode_membership_message(with_byte(ping, 2, 0)).is_ok());  // type 0
  EXPECT_FALSE(decode_membership_message(with_byte(ping, 2, 7)).is_ok());  // type 7

  MembershipMessage sync;
  sync.type = MembershipMessageType::kSync;
  std::string bytes = encode_membership_message(sync);
  // channel, version, type, epoch varint (1 byte), digest (8 bytes), then the flags.
  bytes[12] = 2;
  EXPECT_FALSE(decode_membership_message(bytes).is_ok());

  MembershipMessage ack;
  ack.type = MembershipMessageType::kAck;
  ack.updates.push_back(MemberUpdate{NodeId{5}, MemberState::kAlive, 1, NodeId{5}, "r", ""});
  bytes = encode_membership_message(ack);
  // ... epoch, digest, seq varint (1 byte), count (1 byte), then the update's state.
  ASSERT_EQ(bytes[14], static_cast<char>(MemberState::kAlive));
  bytes[14] = 4;
  EXPECT_FALSE(decode_membership_message(bytes).is_ok());
  bytes[14] = 0;
  EXPECT_FALSE(decode_membership_message(bytes).is_ok());
}

TEST(MembershipMessageTest, CountsAndLengthsOverTheirBoundsAreRejected) {
  // A ping claiming one update more than a piggyback may carry (the updates themselves absent:
  // the count is checked first).
  std::string bytes;
  bytes.push_back(static_cast<char>(MessageChannel::kMembership));
  bytes.push_back(static_cast<char>(kMembershipMessageVersion));
  bytes.push_back(static_cast<char>(MembershipMessageType::kPing));
  put_varint64(&bytes, 0);
  put_fixed64(&bytes, 0);
  put_varint64(&bytes, 1);
  put_fixed64(&bytes, 9);
  put_varint32(&bytes, static_cast<uint32_t>(kPiggybackUpdatesMax + 1));
  EXPECT_TRUE(decode_membership_message(bytes).status().is_corruption());

  // An alive update whose rack is one byte too long.
  std::string update;
  update.push_back(static_cast<char>(MemberState::kAlive));
  put_fixed64(&update, 1);
  put_varint64(&update, 0);
  put_length_prefixed(&update, std::string(kRackNameBytesMax + 1, 'r'));
  put_length_prefixed(&update, "");
  std::string ack;
  ack.push_back(static_cast<char>(MessageChannel::kMembership));
  ack.push_back(static_cast<char>(kMembershipMessageVersion));
  ack.push_back(static_cast<char>(MembershipMessageType::kAck));
  put_varint64(&ack, 0);
  put_fixed64(&ack, 0);
  put_varint64(&ack, 1);
  put_varint32(&ack, 1);
  EXPECT_TRUE(decode_membership_message(ack + update).status().is_corruption());

  // Trailing bytes after a complete nack.
  MembershipMessage nack;
  nack.type = MembershipMessageType::kNack;
  EXPECT_TRUE(
      decode_membership_message(encode_membership_message(nack) + "x").status().is_corruption());
  // Anything longer than the largest message.
  EXPECT_TRUE(decode_membership_message(std::string(kMembershipMessageBytesMax + 1, '\1'))
                  .status()
                  .is_corruption());
}

}  // namespace
}  // namespace cairn
