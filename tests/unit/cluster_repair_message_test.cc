// Proves the repair messages (range digests, key digests and states exchanged during
// anti-entropy) round-trip every type and field, and that a damaged message (a truncation, a
// flipped byte, another channel or version, a bad checksum, a count over its bound, key digests
// out of order) is rejected as corruption rather than decoded.
#include <gtest/gtest.h>

#include "cluster/repair_message.h"
#include "cluster/replication_message.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "io/network.h"
#include "io/random.h"
#include "model/slot.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

std::vector<RepairMessage> samples() {
  const WriteVersion version{HlcTimestamp::of(10, 0), NodeId{1}};
  const WriteVersion later{HlcTimestamp::of(1'700'000'000'000, 3), NodeId{42}};
  std::vector<RepairMessage> messages;

  RepairMessage range;
  range.type = RepairMessageType::kRangeDigest;
  range.request_id = 7;
  range.first_slot = 0;
  range.last_slot = kRepairSlotRunMax - 1;
  range.root = 0x0123'4567'89AB'CDEF;
  messages.push_back(range);
  range.exchanges = {ExchangeRecord{NodeId{1}, NodeId{2}, 1'700'000'000'000},
                     ExchangeRecord{NodeId{1}, NodeId{uint64_t{1} << 63}, 0}};
  messages.push_back(range);
  range.exchanges.clear();
  range.request_id = uint64_t{1} << 63 | 5;
  range.first_slot = kSlotCount - 1;
  range.last_slot = kSlotCount - 1;
  range.root = 0;
  messages.push_back(range);

  RepairMessage range_reply;
  range_reply.type = RepairMessageType::kRangeDigestReply;
  range_reply.request_id = 7;
  range_reply.equal = true;
  messages.push_back(range_reply);
  range_reply.equal = false;
  range_reply.slot_digests = {0, 0xFFFF'FFFF'FFFF'FFFF, 0x5EED};
  messages.push_back(range_reply);
  for (uint64_t i = 0; i < kExchangeRecordsMax; i++) {
    range_reply.exchanges.push_back(ExchangeRecord{NodeId{i}, NodeId{i + 1}, i * 1000});
  }
  messages.push_back(range_reply);
  range_reply.equal = true;
  range_reply.slot_digests.clear();
  messages.push_back(range_reply);
  range_reply.equal = false;
  range_reply.exchanges.clear();
  for (uint32_t i = 0; i < kRepairSlotRunMax; i++) {
    range_reply.slot_digests.push_back(uint64_t{i} * 0x9E37'79B9'7F4A'7C15);
  }
  messages.push_back(range_reply);
  range_reply.slot_digests.clear();
  range_reply.error = "IO error: disk on fire";
  messages.push_back(range_reply);

  RepairMessage key_digests;
  key_digests.type = RepairMessageType::kKeyDigests;
  key_digests.request_id = 8;
  key_digests.first_slot = 12;
  messages.push_back(key_digests);
  key_digests.first_slot = kSlotCount - 1;
  key_digests.after = std::string("user:\x00\xFF", 7);
  messages.push_back(key_digests);

  RepairMessage digests_reply;
  digests_reply.type = RepairMessageType::kKeyDigestsReply;
  digests_reply.request_id = 8;
  messages.push_back(digests_reply);
  digests_reply.key_digests = {KeyDigest{"", 1},     KeyDigest{"a", 0},
                               KeyDigest{"ab", 2},   KeyDigest{std::string(1000, 'k'), 4},
                               KeyDigest{"\x7F", 3}, KeyDigest{"\x80", 0xFFFF'FFFF'FFFF'FFFF}};
  digests_reply.more = true;
  messages.push_back(digests_reply);
  digests_reply.key_digests.clear();
  digests_reply.more = false;
  digests_reply.error = std::string(1024, 'e');
  messages.push_back(digests_reply);

  RepairMessage states;
  states.type = RepairMessageType::kStates;
  states.request_id = 9;
  states.keys = {"user:1"};
  messages.push_back(states);
  for (size_t i = 1; i < kRepairStatesMax; i++) states.keys.push_back("k" + std::to_string(i));
  states.keys.back() = "";
  messages.push_back(states);

  RepairMessage states_reply;
  states_reply.type = RepairMessageType::kStatesReply;
  states_reply.request_id = 9;
  messages.push_back(states_reply);
  states_reply.states = {{"user:1", KeyState::string_set(version, "v", 0)},
                         {"user:2", KeyState()},
                         {"user:3", KeyState::set_add(later, {"a", "b"})},
                         {"user:4", KeyState::deleted(later)}};
  messages.push_back(states_reply);
  states_reply.states.clear();
  states_reply.error = "Corruption: bad block";
  messages.push_back(states_reply);

  RepairMessage stream_status;
  stream_status.type = RepairMessageType::kStreamStatus;
  stream_status.request_id = 10;
  stream_status.ring_epoch = 41;
  messages.push_back(stream_status);
  RepairMessage stream_reply;
  stream_reply.type = RepairMessageType::kStreamStatusReply;
  stream_reply.request_id = 10;
  stream_reply.ring_epoch = uint64_t{1} << 40;
  stream_reply.ready = true;
  messages.push_back(stream_reply);
  stream_reply.ready = false;
  stream_reply.error = "not streaming";
  messages.push_back(stream_reply);
  return messages;
}

// Seals `body` with its checksum, as encode_repair_message does.
std::string sealed(std::string body) {
  put_fixed32(&body, checksum32(body));
  return body;
}

// The channel, version, type and request id bytes a hand-made message starts with.
std::string header(RepairMessageType type, uint64_t request_id = 1) {
  std::string out;
  out.push_back(static_cast<char>(MessageChannel::kRepair));
  out.push_back(static_cast<char>(kRepairMessageVersion));
  out.push_back(static_cast<char>(type));
  put_varint64(&out, request_id);
  return out;
}

void put_u16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value & 0xFF));
}

bool is_corruption(std::string_view bytes) {
  return decode_repair_message(bytes).status().is_corruption();
}

// Proves each message type decodes to exactly what was encoded, on its own channel and version.
TEST(RepairMessageTest, EveryTypeRoundTrips) {
  for (const RepairMessage& message : samples()) {
    const std::string bytes = encode_repair_message(message);
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), static_cast<uint8_t>(MessageChannel::kRepair));
    EXPECT_EQ(static_cast<uint8_t>(bytes[1]), kRepairMessageVersion);
    EXPECT_EQ(static_cast<uint8_t>(bytes[2]), static_cast<uint8_t>(message.type));
    const Result<RepairMessage> decoded = decode_repair_message(bytes);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, message);
    EXPECT_EQ(encode_repair_message(*decoded), bytes);
  }
}

// Proves the KeyState a states reply carries reads back as the value that was written.
TEST(RepairMessageTest, StatesReplyCarriesReadableStates) {
  RepairMessage message;
  for (const RepairMessage& sample : samples()) {
    if (sample.type == RepairMessageType::kStatesReply && !sample.states.empty()) message = sample;
  }
  ASSERT_EQ(message.type, RepairMessageType::kStatesReply);
  const Result<RepairMessage> decoded = decode_repair_message(encode_repair_message(message));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  ASSERT_EQ(decoded->states.size(), 4u);
  EXPECT_EQ(decoded->states[0].first, "user:1");
  EXPECT_EQ(decoded->states[0].second.string_value(0), "v");
  EXPECT_EQ(decoded->states[1].second.type(0), KeyStateType::kNone);
  EXPECT_EQ(decoded->states[2].second.set_members(0), (std::vector<std::string>{"a", "b"}));
}

// Proves every truncation of every encoding, down to the empty string, is rejected as
// corruption.
TEST(RepairMessageTest, EveryTruncationIsCorruption) {
  for (const RepairMessage& message : samples()) {
    const std::string good = encode_repair_message(message);
    for (size_t length = 0; length < good.size(); length++) {
      ASSERT_TRUE(is_corruption(std::string_view(good).substr(0, length)))
          << "type " << static_cast<int>(message.type) << ", length " << length;
    }
  }
}

// Proves random byte flips never crash, and either fail as corruption or decode to a message
// that re-encodes to exactly the damaged bytes; half the damaged messages are resealed with a
// valid checksum so the checks behind it are reached too.
TEST(RepairMessageTest, RandomByteFlipsFailOrReencodeExactly) {
  const std::vector<RepairMessage> messages = samples();
  for (const uint64_t seed : test::test_seeds(4100, 5, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    int decoded_count = 0;
    for (int i = 0; i < 4000; i++) {
      const RepairMessage& message = messages[random.uniform(messages.size())];
      std::string bytes = encode_repair_message(message);
      const bool reseal = random.one_in(2);
      if (reseal) bytes.resize(bytes.size() - 4);
      const uint64_t flips = random.range(1, 3);
      for (uint64_t f = 0; f < flips; f++) {
        // Mostly the first bytes, where the header, counts and flags are.
        const size_t at = random.one_in(2) ? random.uniform(std::min<size_t>(bytes.size(), 16))
                                           : random.uniform(bytes.size());
        bytes[at] = static_cast<char>(random.one_in(2) ? bytes[at] ^ (1 << random.uniform(8))
                                                       : random.uniform(256));
      }
      if (reseal) bytes = sealed(std::move(bytes));
      const Result<RepairMessage> decoded = decode_repair_message(bytes);
      if (decoded.is_ok()) {
        decoded_count++;
        ASSERT_EQ(encode_repair_message(*decoded), bytes) << "iteration " << i;
      } else {
        ASSERT_TRUE(decoded.status().is_corruption()) << decoded.status().to_string();
      }
    }
    // Some flips land in digests, roots or key bytes: values any message may hold.
    EXPECT_GT(decoded_count, 0);
  }
}

// Proves a message for another channel, of another format version or of an unknown type is
// rejected, even under a valid checksum.
TEST(RepairMessageTest, WrongChannelVersionOrTypeIsRejected) {
  for (const RepairMessage& message : samples()) {
    const std::string good = encode_repair_message(message);
    const std::string body = good.substr(0, good.size() - 4);
    for (const MessageChannel channel :
         {MessageChannel::kMembership, MessageChannel::kReplication, MessageChannel::kKeyspace}) {
      std::string other = body;
      other[0] = static_cast<char>(channel);
      EXPECT_TRUE(is_corruption(sealed(other)));
    }
    for (const int version : {0, kRepairMessageVersion + 1, 0xFF}) {
      std::string other = body;
      other[1] = static_cast<char>(version);
      EXPECT_TRUE(is_corruption(sealed(other)));
    }
  }
  for (const int type : {0, 9, 0xFF}) {
    std::string bytes = header(RepairMessageType::kRangeDigest);
    bytes[2] = static_cast<char>(type);
    EXPECT_TRUE(is_corruption(sealed(bytes)));
  }
}

// Proves a wrong checksum (any bit of it, or of the bytes it covers) is rejected.
TEST(RepairMessageTest, BadChecksumIsRejected) {
  for (const RepairMessage& message : samples()) {
    const std::string good = encode_repair_message(message);
    for (size_t i = 0; i < good.size(); i++) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      ASSERT_TRUE(is_corruption(bad)) << "byte " << i;
    }
    std::string appended = good;
    appended.push_back(0);
    EXPECT_TRUE(is_corruption(appended));
  }
}

// Proves counts over their bounds are rejected: a slot run too long, inverted or past the last
// slot, too many slot digests, exchanges, key digests or states, a states request for no key, a
// key or an error too long.
TEST(RepairMessageTest, CountsOverTheBoundsAreRejected) {
  auto range = [](uint32_t first, uint32_t last) {
    std::string body = header(RepairMessageType::kRangeDigest);
    put_u16(&body, static_cast<uint16_t>(first));
    put_u16(&body, static_cast<uint16_t>(last));
    put_fixed64(&body, 1);
    put_varint32(&body, 0);  // no exchanges
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(range(100, 100 + kRepairSlotRunMax - 1)));
  EXPECT_TRUE(is_corruption(range(100, 100 + kRepairSlotRunMax)));
  EXPECT_TRUE(is_corruption(range(5, 4)));
  EXPECT_FALSE(is_corruption(range(kSlotCount - 1, kSlotCount - 1)));
  EXPECT_TRUE(is_corruption(range(kSlotCount - 1, kSlotCount)));
  EXPECT_TRUE(is_corruption(range(kSlotCount, kSlotCount)));

  auto slot_digests = [](uint32_t count) {
    std::string body = header(RepairMessageType::kRangeDigestReply);
    body.push_back(0);
    put_varint32(&body, count);
    for (uint32_t i = 0; i < count; i++) put_fixed64(&body, i);
    put_varint32(&body, 0);  // no exchanges
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(slot_digests(kRepairSlotRunMax)));
  EXPECT_TRUE(is_corruption(slot_digests(kRepairSlotRunMax + 1)));

  auto key_digests = [](uint32_t count, size_t key_bytes) {
    std::string body = header(RepairMessageType::kKeyDigestsReply);
    put_varint32(&body, count);
    for (uint32_t i = 0; i < count; i++) {
      std::string key(key_bytes, 'k');
      put_big_endian64(&key, i);
      put_length_prefixed(&body, key);
      put_fixed64(&body, i);
    }
    body.push_back(0);
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(key_digests(kRepairKeyDigestsMax, 0)));
  EXPECT_TRUE(is_corruption(key_digests(kRepairKeyDigestsMax + 1, 0)));
  EXPECT_FALSE(is_corruption(key_digests(1, kReplicationKeyBytesMax - 8)));
  EXPECT_TRUE(is_corruption(key_digests(1, kReplicationKeyBytesMax - 7)));

  auto states = [](uint32_t count) {
    std::string body = header(RepairMessageType::kStates);
    put_varint32(&body, count);
    for (uint32_t i = 0; i < count; i++) put_length_prefixed(&body, "k" + std::to_string(i));
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(states(1)));
  EXPECT_FALSE(is_corruption(states(kRepairStatesMax)));
  EXPECT_TRUE(is_corruption(states(0)));
  EXPECT_TRUE(is_corruption(states(kRepairStatesMax + 1)));

  const std::string state =
      KeyState::string_set({HlcTimestamp::of(10, 0), NodeId{1}}, "v", 0).encode();
  auto states_reply = [&state](uint32_t count) {
    std::string body = header(RepairMessageType::kStatesReply);
    put_varint32(&body, count);
    for (uint32_t i = 0; i < count; i++) {
      put_length_prefixed(&body, "k" + std::to_string(i));
      put_length_prefixed(&body, state);
    }
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(states_reply(0)));
  EXPECT_FALSE(is_corruption(states_reply(kRepairStatesMax)));
  EXPECT_TRUE(is_corruption(states_reply(kRepairStatesMax + 1)));

  auto after = [](size_t bytes) {
    std::string body = header(RepairMessageType::kKeyDigests);
    put_u16(&body, 3);
    put_length_prefixed(&body, std::string(bytes, 'a'));
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(after(kReplicationKeyBytesMax)));
  EXPECT_TRUE(is_corruption(after(kReplicationKeyBytesMax + 1)));

  auto exchanges = [](uint32_t count) {
    std::string body = header(RepairMessageType::kRangeDigestReply);
    body.push_back(1);
    put_varint32(&body, count);
    for (uint32_t i = 0; i < count; i++) {
      put_varint64(&body, i);
      put_varint64(&body, i + 1);
      put_varint64(&body, 5);
    }
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(exchanges(kExchangeRecordsMax)));
  EXPECT_TRUE(is_corruption(exchanges(kExchangeRecordsMax + 1)));

  auto error = [](size_t bytes) {
    std::string body = header(RepairMessageType::kRangeDigestReply);
    body.push_back(1);
    put_varint32(&body, 0);  // no exchanges
    put_length_prefixed(&body, std::string(bytes, 'e'));
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(error(1024)));
  EXPECT_TRUE(is_corruption(error(1025)));
}

// Proves what encode never writes is rejected: key digests that do not strictly ascend (as
// unsigned bytes), flags other than 0 or 1, a slot past the last, an exchange whose pair is not
// ascending, a state KeyState::decode refuses, and bytes after the last field.
TEST(RepairMessageTest, NonAscendingKeyDigestsAndOtherInvalidFieldsAreRejected) {
  auto key_digests = [](const std::vector<std::string>& keys, uint8_t more = 0) {
    std::string body = header(RepairMessageType::kKeyDigestsReply);
    put_varint32(&body, static_cast<uint32_t>(keys.size()));
    for (const std::string& key : keys) {
      put_length_prefixed(&body, key);
      put_fixed64(&body, 42);
    }
    body.push_back(static_cast<char>(more));
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(key_digests({"a", "b", "ba", "\x80"})));
  EXPECT_TRUE(is_corruption(key_digests({"b", "a"})));
  EXPECT_TRUE(is_corruption(key_digests({"a", "a"})));
  EXPECT_TRUE(is_corruption(key_digests({"ab", "a"})));
  EXPECT_TRUE(is_corruption(key_digests({"\x80", "\x7F"})));
  EXPECT_TRUE(is_corruption(key_digests({"a", "c", "b"})));
  EXPECT_FALSE(is_corruption(key_digests({"a"}, 1)));
  EXPECT_TRUE(is_corruption(key_digests({"a"}, 2)));

  std::string equal = header(RepairMessageType::kRangeDigestReply);
  equal.push_back(2);
  put_varint32(&equal, 0);
  put_length_prefixed(&equal, "");
  EXPECT_TRUE(is_corruption(sealed(equal)));

  // An exchange's pair names the lower id first, and two different nodes.
  auto pair = [](uint64_t first, uint64_t second) {
    std::string body = header(RepairMessageType::kRangeDigestReply);
    body.push_back(1);
    put_varint32(&body, 1);
    put_varint64(&body, first);
    put_varint64(&body, second);
    put_varint64(&body, 5);
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  EXPECT_FALSE(is_corruption(pair(1, 2)));
  EXPECT_TRUE(is_corruption(pair(2, 1)));
  EXPECT_TRUE(is_corruption(pair(2, 2)));

  std::string slot = header(RepairMessageType::kKeyDigests);
  put_u16(&slot, kSlotCount);
  put_length_prefixed(&slot, "");
  EXPECT_TRUE(is_corruption(sealed(slot)));

  auto states_reply = [](std::string_view state) {
    std::string body = header(RepairMessageType::kStatesReply);
    put_varint32(&body, 1);
    put_length_prefixed(&body, "k");
    put_length_prefixed(&body, state);
    put_length_prefixed(&body, "");
    return sealed(body);
  };
  const std::string state =
      KeyState::string_set({HlcTimestamp::of(10, 0), NodeId{1}}, "v", 0).encode();
  EXPECT_FALSE(is_corruption(states_reply(state)));
  EXPECT_TRUE(is_corruption(states_reply("")));
  EXPECT_TRUE(is_corruption(states_reply(state + std::string(1, '\0'))));
  EXPECT_TRUE(is_corruption(states_reply(state.substr(0, state.size() - 1))));

  for (const RepairMessage& message : samples()) {
    std::string body = encode_repair_message(message);
    body.resize(body.size() - 4);
    body.push_back(0);
    EXPECT_TRUE(is_corruption(sealed(body))) << "type " << static_cast<int>(message.type);
  }
}

// Proves varints padded with zero continuation groups (which get_varint* alone accepts, but
// encode never writes) are rejected: in the request id, a count and a length prefix.
TEST(RepairMessageTest, PaddedVarintsAreRejected) {
  auto states = [](std::string_view request_id, std::string_view count, std::string_view length) {
    std::string body;
    body.push_back(static_cast<char>(MessageChannel::kRepair));
    body.push_back(static_cast<char>(kRepairMessageVersion));
    body.push_back(static_cast<char>(RepairMessageType::kStates));
    body.append(request_id);
    body.append(count);
    body.append(length);
    body.append("k");
    return sealed(body);
  };
  const std::string one("\x01", 1);
  const std::string padded_one("\x81\x00", 2);
  EXPECT_FALSE(is_corruption(states(one, one, one)));
  EXPECT_TRUE(is_corruption(states(padded_one, one, one)));
  EXPECT_TRUE(
      is_corruption(states(std::string("\x81\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10), one, one)));
  EXPECT_TRUE(is_corruption(states(one, padded_one, one)));
  EXPECT_TRUE(is_corruption(states(one, one, padded_one)));
}

}  // namespace
}  // namespace cairn
