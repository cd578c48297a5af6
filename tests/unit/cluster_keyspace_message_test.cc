// Proves the keyspace messages (slot scans and flushes) round-trip every type and field, and that
// a damaged message (any flipped byte, any truncation, another version, a scan no node would
// serve) is rejected rather than decoded.
#include <gtest/gtest.h>

#include "cluster/keyspace_message.h"
#include "common/checksum.h"
#include "io/network.h"

namespace cairn {
namespace {

std::vector<KeyspaceMessage> samples() {
  std::vector<KeyspaceMessage> messages;
  KeyspaceMessage scan;
  scan.type = KeyspaceMessageType::kSlotScan;
  scan.request_id = 7;
  scan.scan.ranges = {ScanRange{8, 15}, ScanRange{100, 100}, ScanRange{16000, 16383}};
  scan.scan.start = ScanPosition{12, std::string("user:\x00\xFF", 7)};
  scan.scan.now_unix_ms = 1'700'000'000'000;
  messages.push_back(scan);
  scan.scan.start = ScanPosition{8, std::nullopt};
  scan.scan.pattern = "user:[a-c]*";
  scan.scan.type = KeyStateType::kSortedSet;
  scan.scan.keys_max = 10;
  scan.scan.records_max = 20;
  messages.push_back(scan);
  scan.scan.count_only = true;
  scan.scan.type = KeyStateType::kNone;
  scan.scan.now_unix_ms = -5;
  messages.push_back(scan);

  KeyspaceMessage reply;
  reply.type = KeyspaceMessageType::kSlotScanReply;
  reply.request_id = 7;
  messages.push_back(reply);
  reply.result.keys = {"a", std::string(1000, 'k'), ""};
  reply.result.matched = 3;
  reply.result.resume = ScanPosition{16383, std::string("")};
  messages.push_back(reply);
  reply.result = SlotScanResult{};
  reply.result.matched = 123'456'789;
  reply.result.resume = ScanPosition{3, "zz"};
  messages.push_back(reply);
  reply.error = "IO error: disk on fire";
  messages.push_back(reply);

  KeyspaceMessage flush;
  flush.type = KeyspaceMessageType::kFlush;
  flush.request_id = uint64_t{1} << 62;
  flush.flush_version = WriteVersion{HlcTimestamp::of(1'700'000'000'000, 3), NodeId{42}};
  messages.push_back(flush);
  KeyspaceMessage ack;
  ack.type = KeyspaceMessageType::kFlushAck;
  ack.request_id = 9;
  messages.push_back(ack);
  ack.error = "Corruption: bad block";
  messages.push_back(ack);
  return messages;
}

// Proves each message type decodes to exactly what was encoded, on its own channel.
TEST(KeyspaceMessageTest, EveryTypeRoundTrips) {
  for (const KeyspaceMessage& message : samples()) {
    const std::string bytes = encode_keyspace_message(message);
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), static_cast<uint8_t>(MessageChannel::kKeyspace));
    EXPECT_EQ(static_cast<uint8_t>(bytes[1]), kKeyspaceMessageVersion);
    const Result<KeyspaceMessage> decoded = decode_keyspace_message(bytes);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, message);
  }
}

// Proves every single-byte change and every truncation is refused.
TEST(KeyspaceMessageTest, DamagedMessagesAreRejected) {
  for (const KeyspaceMessage& message : samples()) {
    const std::string good = encode_keyspace_message(message);
    for (size_t i = 0; i < good.size(); i++) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      ASSERT_FALSE(decode_keyspace_message(bad).is_ok()) << "byte " << i;
      ASSERT_FALSE(decode_keyspace_message(std::string_view(good).substr(0, i)).is_ok());
    }
  }
}

// Re-seals `bytes` (minus its checksum) with a valid checksum, to reach the checks behind it.
std::string resealed(std::string body);

// Proves what a checksum does not catch is refused too: another format version, and a scan no
// node would serve (ranges out of order or out of bounds, a start outside the first range).
TEST(KeyspaceMessageTest, InvalidContentIsRejected) {
  const KeyspaceMessage scan = samples()[0];
  std::string bytes = encode_keyspace_message(scan);
  std::string other_version = bytes.substr(0, bytes.size() - 4);
  other_version[1] = static_cast<char>(kKeyspaceMessageVersion + 1);
  EXPECT_FALSE(decode_keyspace_message(resealed(other_version)).is_ok());

  SlotScan unordered = scan.scan;
  std::swap(unordered.ranges[0], unordered.ranges[1]);
  EXPECT_FALSE(slot_scan_is_valid(unordered));
  SlotScan out_of_bounds = scan.scan;
  out_of_bounds.ranges.back().last = kSlotCount;
  EXPECT_FALSE(slot_scan_is_valid(out_of_bounds));
  SlotScan outside = scan.scan;
  outside.start.slot = 100;
  EXPECT_FALSE(slot_scan_is_valid(outside));
  EXPECT_TRUE(slot_scan_is_valid(scan.scan));
  // The same invalid scan, hand-encoded: the first range's bounds swapped (15..8).
  std::string body = bytes.substr(0, bytes.size() - 4);
  const size_t ranges_at = 3 + 1 + 1;  // header, request id 7, range count 3
  std::swap(body[ranges_at + 1], body[ranges_at + 3]);
  EXPECT_FALSE(decode_keyspace_message(resealed(body)).is_ok());
}

std::string resealed(std::string body) {
  std::string out = std::move(body);
  const uint32_t checksum = checksum32(out);
  for (int i = 0; i < 4; i++) out.push_back(static_cast<char>(checksum >> (8 * i)));
  return out;
}

// Proves positions order as the engine does: by slot, a slot's start first, keys by their bytes
// taken as unsigned.
TEST(KeyspaceMessageTest, PositionsFollowTheKeyOrder) {
  EXPECT_LT((ScanPosition{1, "zzz"}), (ScanPosition{2, std::nullopt}));
  EXPECT_LT((ScanPosition{2, std::nullopt}), (ScanPosition{2, ""}));
  EXPECT_LT((ScanPosition{2, "a"}), (ScanPosition{2, "ab"}));
  EXPECT_LT((ScanPosition{2, "\x7F"}), (ScanPosition{2, "\x80"}));
  EXPECT_EQ((ScanPosition{2, "a"}), (ScanPosition{2, "a"}));
}

}  // namespace
}  // namespace cairn
