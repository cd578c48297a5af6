// Proves string records and engine keys round-trip, and that malformed records decode to
// Corruption instead of crashing.
#include <gtest/gtest.h>

#include <string>

#include "model/engine_key.h"
#include "model/slot.h"
#include "model/key_record.h"

namespace cairn {
namespace {

TEST(KeyRecordTest, RoundTrip) {
  RecordTrailer trailer;
  trailer.expiry_ms = 1700000000123;
  const std::string record = encode_record(std::string("va\0lue", 6), trailer);
  ASSERT_EQ(record.size(), 6 + kRecordTrailerBytes);
  EXPECT_EQ(record.back(), 's');
  auto decoded = decode_record(record);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->payload, std::string("va\0lue", 6));
  EXPECT_EQ(decoded->trailer.expiry_ms, 1700000000123u);
  EXPECT_EQ(decoded->trailer.type, RecordType::kString);
}

TEST(KeyRecordTest, EmptyPayloadAndTrailerOnly) {
  const std::string record = encode_record("", RecordTrailer{});
  auto decoded = decode_record(record);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_TRUE(decoded->payload.empty());
  EXPECT_EQ(decoded->trailer.expiry_ms, 0u);
  auto trailer = decode_record_trailer(record);
  ASSERT_TRUE(trailer.is_ok());
}

TEST(KeyRecordTest, MalformedIsCorruption) {
  for (size_t n = 0; n < kRecordTrailerBytes; n++) {
    EXPECT_TRUE(decode_record(std::string(n, 'x')).status().is_corruption()) << n;
  }
  std::string bad_type = encode_record("v", RecordTrailer{});
  bad_type.back() = 'q';
  EXPECT_TRUE(decode_record(bad_type).status().is_corruption());
}

// Proves the trailer alone, encoded on its own, is the record's last kRecordTrailerBytes.
TEST(KeyRecordTest, EncodedTrailerEndsTheRecord) {
  RecordTrailer trailer;
  trailer.expiry_ms = 0x0102030405060708;
  const EncodedRecordTrailer encoded = encode_record_trailer(trailer);
  const std::string record = encode_record("payload", trailer);
  EXPECT_EQ(record.substr(record.size() - kRecordTrailerBytes),
            std::string_view(encoded.data(), encoded.size()));
  auto decoded = decode_record_trailer(std::string_view(encoded.data(), encoded.size()));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->expiry_ms, 0x0102030405060708u);
}

TEST(KeyRecordTest, Expired) {
  EXPECT_FALSE(record_expired(0, 100));
  EXPECT_TRUE(record_expired(100, 100));
  EXPECT_FALSE(record_expired(101, 100));
}

// A data key is the slot, the record tag, then the user key; only such keys parse as data keys.
TEST(EngineKeyTest, DataKeyCarriesSlot) {
  using namespace std::string_view_literals;
  const std::string key = data_key("foo");
  ASSERT_EQ(key.size(), 6u);
  EXPECT_EQ((static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]), 12182);
  EXPECT_EQ(engine_key_slot(key), 12182);
  EXPECT_EQ(key[2], kRecordTag);
  std::string_view user;
  ASSERT_TRUE(parse_data_key(key, &user));
  EXPECT_EQ(user, "foo");
  EXPECT_LT(slot_start_key(12182), key);
  EXPECT_LT(key, slot_start_key(12183));
  EXPECT_LT(key, data_end_key());
  ASSERT_TRUE(parse_data_key(data_key(""), &user));
  EXPECT_EQ(user, "");
  EXPECT_FALSE(parse_data_key("\x40\x00\x00x"sv, &user));  // past the last slot
  EXPECT_FALSE(parse_data_key("\x01\x02\x01x"sv, &user));  // another tag
  EXPECT_FALSE(parse_data_key("\x01\x02"sv, &user));        // no tag
  const DataKeyPrefix prefix = data_key_prefix("foo");
  EXPECT_EQ(std::string_view(prefix.data(), prefix.size()), key.substr(0, kSlotPrefixBytes));
}

TEST(EngineKeyTest, ExpiryIndexSortsByTimeAfterData) {
  const std::string early = expiry_index_key(1000, "zzz");
  const std::string late = expiry_index_key(2000, "aaa");
  EXPECT_LT(early, late);
  EXPECT_LT(data_end_key(), early);
  EXPECT_LT(data_key("anything"), early);
  uint64_t expiry = 0;
  std::string_view user;
  ASSERT_TRUE(parse_expiry_index_key(late, &expiry, &user));
  EXPECT_EQ(expiry, 2000u);
  EXPECT_EQ(user, "aaa");
  EXPECT_FALSE(parse_expiry_index_key(data_key("x"), &expiry, &user));
  EXPECT_EQ(late.compare(0, 2, expiry_index_prefix()), 0);
}

}  // namespace
}  // namespace cairn
