// Proves SWIM's precedence in MemberTable: higher incarnations win, at one incarnation dead beats
// suspect beats alive, stale news changes nothing (but an unknown address), the listener sees each
// state change once, the table stays within kMemberCountMax, and applying the same news in any
// order ends in one record.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "cluster/member_table.h"
#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

MemberUpdate news(uint64_t node, MemberState state, uint64_t incarnation) {
  return MemberUpdate{NodeId{node}, state,
                      incarnation,  state == MemberState::kAlive ? NodeId{node} : NodeId{99},
                      "rack",       ""};
}

TEST(MemberTableTest, HigherIncarnationThenWorseStateWins) {
  MemberTable table;
  EXPECT_TRUE(table.apply(news(1, MemberState::kAlive, 0), 10));
  EXPECT_FALSE(table.apply(news(1, MemberState::kAlive, 0), 11));  // same news
  EXPECT_TRUE(table.apply(news(1, MemberState::kSuspect, 0), 12));
  EXPECT_FALSE(table.apply(news(1, MemberState::kAlive, 0), 13));    // the doubted alive
  EXPECT_TRUE(table.apply(news(1, MemberState::kAlive, 1), 14));     // the refutation
  EXPECT_FALSE(table.apply(news(1, MemberState::kSuspect, 0), 15));  // an old suspicion
  EXPECT_TRUE(table.apply(news(1, MemberState::kDead, 1), 16));
  EXPECT_FALSE(table.apply(news(1, MemberState::kSuspect, 1), 17));
  EXPECT_FALSE(table.apply(news(1, MemberState::kAlive, 1), 18));
  EXPECT_TRUE(table.apply(news(1, MemberState::kAlive, 2), 19));  // back from the dead
  const MemberRecord* record = table.find(NodeId{1});
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->state, MemberState::kAlive);
  EXPECT_EQ(record->incarnation, 2u);
  EXPECT_EQ(record->state_changed_ms, 19u);
}

TEST(MemberTableTest, ListenerSeesEachStateChangeOnce) {
  MemberTable table;
  std::vector<std::pair<std::optional<MemberState>, MemberState>> seen;
  table.set_listener([&](NodeId, std::optional<MemberState> previous, MemberState current) {
    seen.emplace_back(previous, current);
  });
  ASSERT_TRUE(table.apply(news(1, MemberState::kAlive, 0), 0));
  ASSERT_TRUE(table.apply(news(1, MemberState::kAlive, 3), 0));  // same state: not a change
  ASSERT_TRUE(table.apply(news(1, MemberState::kDead, 3), 0));
  ASSERT_TRUE(table.apply(news(1, MemberState::kAlive, 4), 0));
  const std::vector<std::pair<std::optional<MemberState>, MemberState>> expected = {
      {std::nullopt, MemberState::kAlive},
      {MemberState::kAlive, MemberState::kDead},
      {MemberState::kDead, MemberState::kAlive}};
  EXPECT_EQ(seen, expected);
}

// A member taken from a saved ring has no address until news of it carries one: its own alive at
// the same incarnation is stale news, yet its address is kept (and the listener told, so the bus
// can reach it), and later news without an address does not erase it. Found by bench-stream: after
// a whole cluster restarted, a joining node never learned where the members were.
TEST(MemberTableTest, ARecordWithoutAnAddressTakesTheFirstOneNewsCarries) {
  MemberTable table;
  std::vector<std::pair<std::optional<MemberState>, MemberState>> seen;
  table.set_listener([&](NodeId, std::optional<MemberState> previous, MemberState current) {
    seen.emplace_back(previous, current);
  });
  ASSERT_TRUE(table.apply(news(1, MemberState::kAlive, 0), 0));  // resumed: no address
  MemberUpdate own = news(1, MemberState::kAlive, 0);
  own.address = "127.0.0.1:7001@17001";
  EXPECT_FALSE(table.apply(own, 1));  // stale as news
  EXPECT_EQ(table.find(NodeId{1})->address, "127.0.0.1:7001@17001");
  ASSERT_TRUE(table.apply(news(1, MemberState::kSuspect, 0), 2));
  EXPECT_EQ(table.find(NodeId{1})->address, "127.0.0.1:7001@17001");
  MemberUpdate moved = news(1, MemberState::kAlive, 1);
  moved.address = "127.0.0.1:7002@17002";
  ASSERT_TRUE(table.apply(moved, 3));  // a newer address wins with the news carrying it
  EXPECT_EQ(table.find(NodeId{1})->address, "127.0.0.1:7002@17002");
  const std::vector<std::pair<std::optional<MemberState>, MemberState>> expected = {
      {std::nullopt, MemberState::kAlive},
      {MemberState::kAlive, MemberState::kAlive},  // the address learned
      {MemberState::kAlive, MemberState::kSuspect},
      {MemberState::kSuspect, MemberState::kAlive}};
  EXPECT_EQ(seen, expected);
}

TEST(MemberTableTest, CountsFollowStatesAndTheTableIsBounded) {
  MemberTable table;
  for (uint64_t id = 1; id <= kMemberCountMax; id++) {
    ASSERT_TRUE(table.apply(news(id, MemberState::kAlive, 0), 0));
  }
  EXPECT_FALSE(table.apply(news(kMemberCountMax + 1, MemberState::kAlive, 0), 0));
  EXPECT_EQ(table.size(), kMemberCountMax);
  ASSERT_TRUE(table.apply(news(5, MemberState::kSuspect, 0), 0));
  ASSERT_TRUE(table.apply(news(6, MemberState::kDead, 0), 0));
  EXPECT_EQ(table.count(MemberState::kAlive), kMemberCountMax - 2);
  EXPECT_EQ(table.count(MemberState::kSuspect), 1u);
  EXPECT_EQ(table.with_state(MemberState::kDead), std::vector<NodeId>{NodeId{6}});
}

// The order is total, so the same news applied in any order leaves every node with one record.
TEST(MemberTableTest, AnyOrderOfTheSameNewsConverges) {
  for (const uint64_t seed : test::test_seeds(1, 50, 1000)) {
    Random random(seed);
    std::vector<MemberUpdate> updates;
    for (int i = 0; i < 12; i++) {
      updates.push_back(news(random.range(1, 3), static_cast<MemberState>(random.range(1, 3)),
                             random.uniform(4)));
    }
    MemberTable first;
    for (const MemberUpdate& update : updates) first.apply(update, 0);
    for (size_t i = updates.size() - 1; i > 0; i--) {
      std::swap(updates[i], updates[random.uniform(i + 1)]);
    }
    MemberTable second;
    for (const MemberUpdate& update : updates) second.apply(update, 0);
    for (const auto& [id, record] : first.records()) {
      const MemberRecord* other = second.find(id);
      ASSERT_NE(other, nullptr);
      EXPECT_EQ(other->state, record.state) << "seed " << seed;
      EXPECT_EQ(other->incarnation, record.incarnation) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace cairn
