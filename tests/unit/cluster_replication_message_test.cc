// Proves the replication messages round-trip every type and field, that a damaged message (any
// flipped byte, any truncation, random bytes) is rejected rather than decoded, and that the
// prefetch's peek finds the key of a read, and of no other message.
#include <gtest/gtest.h>

#include "cluster/replication_message.h"
#include "io/network.h"
#include "io/random.h"

namespace cairn {
namespace {

std::vector<ReplicationMessage> samples() {
  const WriteVersion version{HlcTimestamp::of(1'700'000'000'000, 3), NodeId{42}};
  KeyState state = KeyState::set_add(version, {"a", "b"});
  std::vector<ReplicationMessage> messages;
  ReplicationMessage write;
  write.type = ReplicationMessageType::kWrite;
  write.request_id = 7;
  write.key = "user:1";
  write.state = state;
  messages.push_back(write);
  write.hint_for = NodeId{99};
  write.request_id = 0;
  messages.push_back(write);
  ReplicationMessage ack;
  ack.type = ReplicationMessageType::kWriteAck;
  ack.request_id = uint64_t{1} << 63 | 5;
  messages.push_back(ack);
  ack.error = "IO error: disk full";
  messages.push_back(ack);
  ReplicationMessage read;
  read.type = ReplicationMessageType::kRead;
  read.request_id = 9;
  read.key = std::string(1000, 'k');
  messages.push_back(read);
  ReplicationMessage reply;
  reply.type = ReplicationMessageType::kReadReply;
  reply.request_id = 9;
  reply.state = state;
  messages.push_back(reply);
  ReplicationMessage add;
  add.type = ReplicationMessageType::kCounterAdd;
  add.request_id = 11;
  add.key = "c";
  add.version = version;
  add.incarnation = 4;
  add.delta = -12345;
  add.now_unix_ms = 1'700'000'000'123;
  messages.push_back(add);
  ReplicationMessage added;
  added.type = ReplicationMessageType::kCounterAddReply;
  added.request_id = 11;
  added.state = state;
  added.value = -9'000'000'000;
  messages.push_back(added);
  return messages;
}

// Proves each message type decodes to exactly what was encoded.
TEST(ReplicationMessageTest, EveryTypeRoundTrips) {
  for (const ReplicationMessage& message : samples()) {
    const std::string bytes = encode_replication_message(message);
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), static_cast<uint8_t>(MessageChannel::kReplication));
    const Result<ReplicationMessage> decoded = decode_replication_message(bytes);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, message);
  }
}

// Proves every single-byte change and every truncation is refused.
TEST(ReplicationMessageTest, DamagedMessagesAreRejected) {
  for (const ReplicationMessage& message : samples()) {
    const std::string good = encode_replication_message(message);
    for (size_t i = 0; i < good.size(); i++) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      ASSERT_FALSE(decode_replication_message(bad).is_ok()) << "byte " << i;
      ASSERT_FALSE(decode_replication_message(std::string_view(good).substr(0, i)).is_ok());
    }
  }
}

// Proves random bytes never decode and never crash.
TEST(ReplicationMessageTest, RandomBytesAreRejected) {
  Random random(17);
  for (int i = 0; i < 20'000; i++) {
    std::string bytes = random.bytes(random.uniform(64));
    if (!bytes.empty() && random.one_in(2)) bytes[0] = 2;
    EXPECT_FALSE(decode_replication_message(bytes).is_ok());
  }
}

// Proves replication_read_key answers a read's key, nothing for every other type, and never
// reads past the bytes it is given: every truncation, and random bytes.
TEST(ReplicationMessageTest, ReadKeyIsPeekedFromReadsOnly) {
  for (const ReplicationMessage& message : samples()) {
    const std::string bytes = encode_replication_message(message);
    const std::optional<std::string_view> key = replication_read_key(bytes);
    if (message.type == ReplicationMessageType::kRead) {
      ASSERT_TRUE(key.has_value());
      EXPECT_EQ(*key, message.key);
    } else {
      EXPECT_FALSE(key.has_value()) << static_cast<int>(message.type);
    }
    for (size_t size = 0; size < bytes.size(); size++) {
      const std::string truncated = bytes.substr(0, size);  // its own buffer, for ASan
      const std::optional<std::string_view> peeked = replication_read_key(truncated);
      if (peeked.has_value()) {
        EXPECT_GE(peeked->data(), truncated.data());
        EXPECT_LE(peeked->data() + peeked->size(), truncated.data() + truncated.size());
      }
    }
  }
  Random random(18);
  for (int i = 0; i < 20'000; i++) {
    std::string bytes = random.bytes(random.uniform(64));
    if (bytes.size() >= 2 && random.one_in(2)) {
      bytes[0] = static_cast<char>(MessageChannel::kReplication);
      bytes[1] = static_cast<char>(ReplicationMessageType::kRead);
    }
    const std::optional<std::string_view> peeked = replication_read_key(bytes);
    if (peeked.has_value()) {
      EXPECT_LE(peeked->data() + peeked->size(), bytes.data() + bytes.size());
    }
  }
}

}  // namespace
}  // namespace cairn
