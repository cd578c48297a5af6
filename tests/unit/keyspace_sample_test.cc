// Proves the draws through a collection's sample index (server/collection_sample.h): every draw
// is a member; over many draws every member of a small set comes up at a frequency within a
// loose bound of 1/N (seeded: the keyspace's sampling sequence and generations are deterministic
// in a fresh directory); counts drawn by seeks are distinct when asked and carry the values;
// large counts take the exact pass; and a hash written before the index (format 2) gets its
// index when the keyspace opens.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "model/keyspace_format.h"
#include "server/collection.h"
#include "server/collection_sample.h"
#include "support/keyspace_fixture.h"

namespace cairn {
namespace {

class KeyspaceSampleTest : public test::KeyspaceFixture {
 protected:
  static std::string member(int i) { return "member:" + std::to_string(i); }
  static std::string value_of(std::string_view member) { return "value of " + std::string(member); }

  // A `type` collection of `count` members (member(i) valued value_of), built as SUNIONSTORE does.
  void build(std::string_view key, RecordType type, int count) {
    KeyLockGuard guard = keyspace_->lock_key(key);
    auto found = find_collection(*keyspace_, key, type, true);
    ASSERT_TRUE(found.is_ok());
    auto builder = CollectionBuilder::start(*keyspace_, key, type, 0);
    ASSERT_TRUE(builder.is_ok());
    for (int i = 0; i < count; i++) {
      ASSERT_TRUE(builder->add(member(i), value_of(member(i))).is_ok());
    }
    auto collection = builder->finish();
    ASSERT_TRUE(collection.is_ok());
    KeyspaceWrite write(*keyspace_);
    ASSERT_TRUE(write_collection(write, *collection, *found).is_ok());
    ASSERT_TRUE(write.commit().is_ok());
  }

  Collection collection_at(std::string_view key, RecordType type) {
    auto found = find_collection(*keyspace_, key, type, false);
    EXPECT_TRUE(found.is_ok() && found->collection.has_value());
    return *found->collection;
  }

  // The members named by `key`'s sample records of its live generation.
  std::set<std::string> sampled_members(const Collection& collection) {
    std::set<std::string> out;
    const std::string prefix = collection.element_prefix(kSampleTag);
    auto it = keyspace_->database().new_iterator(ReadOptions());
    for (it->seek(prefix); it->valid() && it->key().starts_with(prefix); it->next()) {
      std::string_view sampled;
      EXPECT_TRUE(parse_sample_element(it->key().substr(prefix.size()), &sampled));
      out.emplace(sampled);
    }
    EXPECT_TRUE(it->status().is_ok());
    return out;
  }
};

TEST_F(KeyspaceSampleTest, DrawsComeUpNearUniformly) {
  constexpr int kMembers = 40;
  constexpr int kDrawsPerMember = 2500;
  build("s", RecordType::kSet, kMembers);
  const Collection set = collection_at("s", RecordType::kSet);
  std::map<std::string, int> seen;
  {
    KeyspaceSnapshot snapshot(*keyspace_);
    SampleDrawer drawer(*keyspace_, set, &snapshot);
    for (int i = 0; i < kMembers * kDrawsPerMember; i++) {
      auto drawn = drawer.draw();
      ASSERT_TRUE(drawn.is_ok()) << drawn.status().to_string();
      seen[*drawn]++;
    }
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kMembers)) << "every member comes up, none other";
  for (const auto& [drawn, times] : seen) {
    EXPECT_TRUE(drawn.starts_with("member:")) << drawn;
    // A member's chance is a mean of 16 gaps (collection_sample.h): within [0.3, 2.5] of 1/N by
    // a wide margin for 40 members (and the counting noise is 2% of the expectation).
    EXPECT_GT(times, kDrawsPerMember * 3 / 10) << drawn;
    EXPECT_LT(times, kDrawsPerMember * 5 / 2) << drawn;
  }
}

TEST_F(KeyspaceSampleTest, SmallCollectionsAreDrawnExactly) {
  constexpr int kMembers = 10;  // <= kSampleWindow: one pass, uniform
  constexpr int kDraws = 20000;
  build("s", RecordType::kSet, kMembers);
  const Collection set = collection_at("s", RecordType::kSet);
  KeyspaceSnapshot snapshot(*keyspace_);
  std::map<std::string, int> seen;
  for (int i = 0; i < kDraws; i++) {
    auto drawn = random_elements(*keyspace_, set, snapshot, 1, true, false);
    ASSERT_TRUE(drawn.is_ok());
    ASSERT_EQ(drawn->size(), 1u);
    seen[drawn->front().first]++;
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kMembers));
  for (const auto& [drawn, times] : seen) {
    EXPECT_NEAR(times, kDraws / kMembers, kDraws / kMembers / 5) << drawn;  // ~10 sigma
  }
}

TEST_F(KeyspaceSampleTest, CountsByDrawsAreMembersWithTheirValues) {
  build("h", RecordType::kHash, 1000);
  const Collection hash = collection_at("h", RecordType::kHash);
  KeyspaceSnapshot snapshot(*keyspace_);
  // 50 <= 1000 / 16: by seeks.
  auto distinct = random_elements(*keyspace_, hash, snapshot, 50, true, true);
  ASSERT_TRUE(distinct.is_ok()) << distinct.status().to_string();
  ASSERT_EQ(distinct->size(), 50u);
  std::set<std::string> fields;
  for (const auto& [field, value] : *distinct) {
    fields.insert(field);
    EXPECT_EQ(value, value_of(field));
  }
  EXPECT_EQ(fields.size(), 50u) << "distinct";
  auto repeated = random_elements(*keyspace_, hash, snapshot, 60, false, true);
  ASSERT_TRUE(repeated.is_ok());
  ASSERT_EQ(repeated->size(), 60u);
  for (const auto& [field, value] : *repeated) EXPECT_EQ(value, value_of(field));
  // 900 > 1000 / 16: the exact pass, distinct.
  auto large = random_elements(*keyspace_, hash, snapshot, 900, true, true);
  ASSERT_TRUE(large.is_ok());
  std::set<std::string> large_fields;
  for (const auto& [field, value] : *large) large_fields.insert(field);
  EXPECT_EQ(large_fields.size(), 900u);
  auto all = random_elements(*keyspace_, hash, snapshot, 5000, true, false);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->size(), 1000u);
}

// A hash and a set written before the sample index (their sample records removed, the marker
// set back to format 2) get it when the keyspace opens, and draws then find their members.
TEST_F(KeyspaceSampleTest, CollectionsWithoutAnIndexGetItAtOpen) {
  build("h", RecordType::kHash, 300);
  build("s", RecordType::kSet, 40);
  build("small", RecordType::kSet, 3);
  const Collection hash = collection_at("h", RecordType::kHash);
  const Collection set = collection_at("s", RecordType::kSet);
  const Collection small = collection_at("small", RecordType::kSet);
  for (const Collection* collection : {&hash, &set, &small}) {
    for (const std::string& sampled : sampled_members(*collection)) {
      ASSERT_TRUE(keyspace_->database().remove(collection->sample_key(sampled)).is_ok());
    }
    EXPECT_TRUE(sampled_members(*collection).empty());
  }
  ASSERT_TRUE(keyspace_->database().put(keyspace_format_marker_key(), "2").is_ok());
  reopen();
  auto marker = keyspace_->database().get(ReadOptions(), keyspace_format_marker_key());
  ASSERT_TRUE(marker.is_ok());
  EXPECT_EQ(marker->value_or("none"), "3");
  std::set<std::string> expected;
  for (int i = 0; i < 300; i++) expected.insert(member(i));
  EXPECT_EQ(sampled_members(hash), expected);
  EXPECT_EQ(sampled_members(set).size(), 40u);
  EXPECT_EQ(sampled_members(small).size(), 3u);
  KeyspaceSnapshot snapshot(*keyspace_);
  SampleDrawer drawer(*keyspace_, hash, &snapshot);
  for (int i = 0; i < 100; i++) {
    auto drawn = drawer.draw();
    ASSERT_TRUE(drawn.is_ok());
    EXPECT_TRUE(expected.contains(*drawn));
  }
}

}  // namespace
}  // namespace cairn
