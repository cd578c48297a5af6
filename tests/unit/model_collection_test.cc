// Proves the collection encoding (docs/keyspace-format.md, "Collections"): metadata round-trips
// per type and malformed metadata is Corruption; element keys round-trip, lie in their key's
// slot after its record, never mix two keys or two generations, and only element keys parse as
// such; every record type decodes and an unknown one does not.
#include <gtest/gtest.h>

#include <string>

#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "model/key_record.h"
#include "model/slot.h"

namespace cairn {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

TEST(CollectionMetaTest, RoundTripsPerType) {
  CollectionMeta meta;
  meta.generation = 0x0102030405060708;
  meta.count = 1'000'000;
  meta.list_head = kListInitialHead - 5;
  for (RecordType type : {RecordType::kHash, RecordType::kSet, RecordType::kSortedSet}) {
    const std::string encoded = encode_collection_meta(type, meta);
    // A sorted set adds the lengths of its two (here empty) index bounds.
    EXPECT_EQ(encoded.size(), type == RecordType::kSortedSet ? 20u : 16u);
    auto decoded = decode_collection_meta(type, encoded);
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(decoded->generation, meta.generation);
    EXPECT_EQ(decoded->count, meta.count);
    EXPECT_EQ(decoded->list_head, 0u) << "only lists carry a head";
  }
  const std::string list = encode_collection_meta(RecordType::kList, meta);
  EXPECT_EQ(list.size(), 24u);
  auto decoded = decode_collection_meta(RecordType::kList, list);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->list_head, meta.list_head);
}

TEST(CollectionMetaTest, WrongSizeIsCorruption) {
  const std::string hash = encode_collection_meta(RecordType::kHash, CollectionMeta{});
  EXPECT_TRUE(decode_collection_meta(RecordType::kList, hash).status().is_corruption());
  EXPECT_TRUE(decode_collection_meta(RecordType::kHash, hash + "x").status().is_corruption());
  EXPECT_TRUE(decode_collection_meta(RecordType::kSet, "").status().is_corruption());
}

TEST(CollectionMetaTest, EveryRecordTypeDecodes) {
  const std::pair<RecordType, std::string_view> types[] = {
      {RecordType::kString, "string"}, {RecordType::kHash, "hash"}, {RecordType::kSet, "set"},
      {RecordType::kList, "list"},     {RecordType::kSortedSet, "zset"}};
  for (const auto& [type, name] : types) {
    RecordTrailer trailer;
    trailer.type = type;
    auto decoded = decode_record(encode_record("p", trailer));
    ASSERT_TRUE(decoded.is_ok()) << name;
    EXPECT_EQ(decoded->trailer.type, type);
    EXPECT_EQ(record_type_name(type), name);
    EXPECT_EQ(is_collection(type), type != RecordType::kString);
  }
}

TEST(ElementKeyTest, RoundTripsAndSortsAfterTheRecordInItsSlot) {
  const std::string key = "{user}:profile";
  const std::string element = "field\x00\xff"s;
  const std::string engine_key = element_key_prefix(kElementTag, key, 42) + element;
  ElementKey parsed;
  ASSERT_TRUE(parse_element_key(engine_key, &parsed));
  EXPECT_EQ(parsed.tag, kElementTag);
  EXPECT_EQ(parsed.user_key, key);
  EXPECT_EQ(parsed.generation, 42u);
  EXPECT_EQ(parsed.element, element);
  EXPECT_EQ(engine_key_slot(engine_key), key_slot(key));
  std::string_view user_key;
  EXPECT_FALSE(parse_data_key(engine_key, &user_key)) << "an element is not a user key";
  EXPECT_LT(data_key(key), engine_key);
  EXPECT_LT(engine_key, slot_start_key(key_slot(key) + 1));
  const std::string score_key = element_key_prefix(kScoreTag, key, 42) + "s";
  ASSERT_TRUE(parse_element_key(score_key, &parsed));
  EXPECT_EQ(parsed.tag, kScoreTag);
  EXPECT_LT(engine_key, score_key) << "score index entries follow the elements";
}

// The length prefix: no key's element range lies inside another's, even when one key is a prefix
// of the other and they share a slot; generations are separate ranges too.
TEST(ElementKeyTest, KeysAndGenerationsNeverShareARange) {
  const std::string a = element_key_prefix(kElementTag, "{t}a", 7);
  const std::string ab = element_key_prefix(kElementTag, "{t}ab", 7);
  ASSERT_EQ(engine_key_slot(a), engine_key_slot(ab));
  EXPECT_FALSE(ab.starts_with(a));
  EXPECT_FALSE((a + "b").starts_with(ab));
  const std::string generation8 = element_key_prefix(kElementTag, "{t}a", 8);
  EXPECT_FALSE(generation8.starts_with(a));
  EXPECT_LT(a + "\xff\xff"s, generation8) << "generations are ordered ranges";
}

TEST(ElementKeyTest, OnlyElementKeysParse) {
  ElementKey parsed;
  EXPECT_FALSE(parse_element_key(data_key("k"), &parsed));
  EXPECT_FALSE(parse_element_key(expiry_index_key(5, "k"), &parsed));
  EXPECT_FALSE(parse_element_key("", &parsed));
  const std::string full = element_key_prefix(kElementTag, "key", 1);
  for (size_t n = 0; n < full.size(); n++) {
    EXPECT_FALSE(parse_element_key(full.substr(0, n), &parsed)) << "truncated to " << n;
  }
  EXPECT_TRUE(parse_element_key(full, &parsed)) << "an empty element is an element";
  EXPECT_EQ(parsed.element, "");
  std::string other_tag = full;
  other_tag[2] = 0x04;
  EXPECT_FALSE(parse_element_key(other_tag, &parsed));
}

// A sample key is an element key of kSampleTag whose element bytes are the member's position
// (big-endian) then the member; positions are pinned (XXH3-64 seeded with the generation), since
// a position written by one build must be found by the next.
TEST(ElementKeyTest, SampleKeysCarryThePositionThenTheMember) {
  EXPECT_EQ(sample_position("member", 7), 0x4FAB58F8F40A1F9Full);
  EXPECT_EQ(sample_position("", 0), 0x2D06800538D394C2ull);  // XXH3's reference value
  EXPECT_NE(sample_position("member", 8), sample_position("member", 7));
  std::string key = element_key_prefix(kSampleTag, "key", 7);
  append_sample_element("member", 7, &key);
  ElementKey parsed;
  ASSERT_TRUE(parse_element_key(key, &parsed));
  EXPECT_EQ(parsed.tag, kSampleTag);
  EXPECT_EQ(parsed.generation, 7u);
  EXPECT_EQ(parsed.element.substr(0, 2), "\x4F\xAB");
  std::string_view member;
  ASSERT_TRUE(parse_sample_element(parsed.element, &member));
  EXPECT_EQ(member, "member");
  EXPECT_FALSE(parse_sample_element("1234567", &member)) << "shorter than a position";
}

// Proves which engine keys the keyspace reads by point (and the row cache may hold): records and
// elements, of any slot; not the score, sample or expiry index, nor anything outside the slots.
TEST(ElementKeyTest, OnlyRecordsAndElementsArePointRead) {
  for (const std::string_view key : {"k"sv, ""sv, "user:1000"sv}) {
    EXPECT_TRUE(is_point_read_key(data_key(key))) << key;
    EXPECT_TRUE(is_point_read_key(element_key_prefix(kElementTag, key, 3) + "field")) << key;
    EXPECT_FALSE(is_point_read_key(element_key_prefix(kScoreTag, key, 3) + "x")) << key;
    EXPECT_FALSE(is_point_read_key(element_key_prefix(kSampleTag, key, 3) + "x")) << key;
    EXPECT_FALSE(is_point_read_key(expiry_index_key(5, key))) << key;
  }
  EXPECT_FALSE(is_point_read_key(""));
  EXPECT_FALSE(is_point_read_key(data_key("k").substr(0, 2)));
  EXPECT_FALSE(is_point_read_key("\x40\x00\x00k"s)) << "past the last slot";
}

}  // namespace
}  // namespace cairn
