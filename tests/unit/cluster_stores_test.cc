// Proves the node's replication stores on the engine: replica states merge and survive a
// reopen, the incarnation rises on every open, counter increments are applied once per name
// (within the replay window, across reopens), and hints are bounded by count and age, delivered
// oldest first, and survive a reopen.
#include <gtest/gtest.h>

#include "cluster/hint_store.h"
#include "cluster/replica_store.h"
#include "cluster/ring_store.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "support/database_test_helpers.h"

namespace cairn {
namespace {

class ClusterStoresTest : public ::testing::Test {
 protected:
  ClusterStoresTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    database_ = test::open_database(options_);
  }
  void reopen() {
    database_.reset();
    database_ = test::open_database(options_);
  }

  FaultEnv env_{3};
  InlineScheduler scheduler_;
  Options options_;
  std::unique_ptr<Database> database_;
};

WriteVersion version(uint64_t ms, uint64_t node) {
  return WriteVersion{HlcTimestamp::of(ms, 0), NodeId{node}};
}

// Proves apply merges into what is stored, reports whether it changed, and persists.
TEST_F(ClusterStoresTest, ReplicaStatesMergeAndPersist) {
  auto store = ReplicaStore::open(database_.get()).value();
  EXPECT_EQ(store->incarnation(), 1u);
  EXPECT_TRUE(store->apply("k", KeyState::string_set(version(10, 1), "old", 0))->changed);
  EXPECT_TRUE(store->apply("k", KeyState::string_set(version(20, 2), "new", 0))->changed);
  EXPECT_FALSE(store->apply("k", KeyState::string_set(version(10, 1), "old", 0))->changed);
  store.reset();
  reopen();
  store = ReplicaStore::open(database_.get()).value();
  EXPECT_EQ(store->incarnation(), 2u);
  EXPECT_EQ(store->read("k")->string_value(0), "new");
  EXPECT_EQ(store->read("absent")->type(0), KeyStateType::kNone);
  size_t visited = 0;
  ASSERT_TRUE(store
                  ->for_each([&](std::string_view key, const KeyState&) {
                    EXPECT_EQ(key, "k");
                    visited++;
                  })
                  .is_ok());
  EXPECT_EQ(visited, 1u);
}

// Proves the saved ring comes back after a reopen, and a damaged record is an error.
TEST_F(ClusterStoresTest, TheSavedRingSurvivesAReopen) {
  EXPECT_FALSE(load_ring(database_.get())->has_value());
  Ring ring(3);
  for (uint64_t id = 1; id <= 4; id++) ring = ring.with_joined(RingMember{NodeId{id}, "r"});
  ASSERT_TRUE(save_ring(database_.get(), ring).is_ok());
  reopen();
  Result<std::optional<Ring>> loaded = load_ring(database_.get());
  ASSERT_TRUE(loaded.is_ok() && loaded->has_value());
  EXPECT_EQ(**loaded, ring);
  ASSERT_TRUE(database_->put("\xFFRring", "garbage").is_ok());
  EXPECT_TRUE(load_ring(database_.get()).status().is_corruption());
}

// Proves the saved member addresses come back after a reopen, and a damaged record is an error.
TEST_F(ClusterStoresTest, TheSavedMemberAddressesSurviveAReopen) {
  EXPECT_TRUE(load_member_addresses(database_.get())->empty());
  const std::map<NodeId, std::string> addresses = {{NodeId{1}, "127.0.0.1:7379@17379"},
                                                   {NodeId{9}, "10.0.0.2:7000@17000"}};
  ASSERT_TRUE(save_member_addresses(database_.get(), addresses).is_ok());
  reopen();
  Result<std::map<NodeId, std::string>> loaded = load_member_addresses(database_.get());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(*loaded, addresses);
  ASSERT_TRUE(database_->put("\xFFRaddresses", "\x02garbage").is_ok());
  EXPECT_TRUE(load_member_addresses(database_.get()).status().is_corruption());
}

// Proves a write purges tombstones older than the horizon from the state it stores, and keeps
// younger ones.
TEST_F(ClusterStoresTest, WritesPurgeTombstonesPastTheHorizon) {
  auto store = ReplicaStore::open(database_.get()).value();
  ASSERT_TRUE(
      store->apply("h", KeyState::hash_set(version(10, 1), {{"a", "1"}, {"b", "2"}})).is_ok());
  ASSERT_TRUE(store->apply("h", KeyState::hash_delete(version(20, 1), {"a"})).is_ok());
  ASSERT_TRUE(store->apply("h", KeyState::hash_delete(version(40, 1), {"b"})).is_ok());
  // A write at horizon 30 drops the tombstone of "a" (20) and keeps that of "b" (40).
  ASSERT_TRUE(
      store->apply("h", KeyState::hash_set(version(50, 1), {{"c", "3"}}), HlcTimestamp::of(30, 0))
          .is_ok());
  KeyState state = *store->read("h");
  EXPECT_EQ(state.hash_fields(0), (std::vector<std::pair<std::string, std::string>>{{"c", "3"}}));
  KeyState without_a = KeyState::hash_set(version(10, 1), {{"a", "1"}, {"b", "2"}});
  without_a.merge(KeyState::hash_delete(version(20, 1), {"a"}));
  without_a.merge(KeyState::hash_delete(version(40, 1), {"b"}));
  without_a.merge(KeyState::hash_set(version(50, 1), {{"c", "3"}}));
  KeyState purged_at_30 = without_a;
  purged_at_30.purge(HlcTimestamp::of(30, 0));
  EXPECT_EQ(state, purged_at_30);
  EXPECT_NE(state, without_a) << "nothing was purged";
}

// Proves an increment's name is refused once applied, out-of-order names within the window are
// still accepted once, names older than the window or from an older incarnation are refused,
// and the window survives a reopen.
TEST_F(ClusterStoresTest, CounterIncrementsApplyOncePerName) {
  auto store = ReplicaStore::open(database_.get()).value();
  const NodeId coordinator{5};
  auto apply = [&](uint64_t incarnation, uint64_t sequence) {
    const CounterOp op{coordinator, incarnation, sequence};
    if (*store->counter_op_refused(op)) return false;
    EXPECT_TRUE(store->apply("c", KeyState(), HlcTimestamp{}, &op).is_ok());
    return true;
  };
  EXPECT_TRUE(apply(1, 10));
  EXPECT_FALSE(apply(1, 10));
  EXPECT_TRUE(apply(1, 12));
  EXPECT_TRUE(apply(1, 11));  // arrived late, inside the window
  EXPECT_FALSE(apply(1, 11));
  EXPECT_TRUE(apply(1, 100));
  EXPECT_FALSE(apply(1, 30));  // 70 behind: outside the 64-sequence window
  store.reset();
  reopen();
  store = ReplicaStore::open(database_.get()).value();
  EXPECT_FALSE(apply(1, 100));
  EXPECT_TRUE(apply(2, 1));  // the coordinator restarted
  EXPECT_FALSE(apply(1, 101));
}

// Proves hints come back oldest first per target, leave on delivery (once), and survive a
// reopen with their counts.
TEST_F(ClusterStoresTest, HintsAreDeliveredOldestFirstAndPersist) {
  auto hints = HintStore::open(database_.get(), HintLimits{}).value();
  for (uint64_t i = 0; i < 5; i++) {
    ASSERT_TRUE(hints
                    ->add(NodeId{2}, "k" + std::to_string(i),
                          KeyState::string_set(version(i + 1, 1), "v", 0), 1000)
                    .is_ok());
  }
  ASSERT_TRUE(hints->add(NodeId{3}, "x", KeyState::deleted(version(9, 1)), 1000).is_ok());
  EXPECT_EQ(hints->targets(), (std::vector<NodeId>{NodeId{2}, NodeId{3}}));
  std::vector<Hint> batch = hints->oldest(NodeId{2}, 2, 1000).value();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].key, "k0");
  EXPECT_EQ(batch[1].key, "k1");
  ASSERT_TRUE(hints->remove_delivered(NodeId{2}, batch[0].sequence).is_ok());
  ASSERT_TRUE(hints->remove_delivered(NodeId{2}, batch[0].sequence).is_ok());  // a duplicate ack
  EXPECT_EQ(hints->stats().delivered, 1u);
  hints.reset();
  reopen();
  hints = HintStore::open(database_.get(), HintLimits{}).value();
  EXPECT_EQ(hints->count(NodeId{2}), 4u);
  EXPECT_EQ(hints->count(NodeId{3}), 1u);
  batch = hints->oldest(NodeId{2}, 10, 1000).value();
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[0].key, "k1");
  EXPECT_EQ(batch[0].state, KeyState::string_set(version(2, 1), "v", 0));
  // New hints after the reopen sort after the old ones.
  ASSERT_TRUE(hints->add(NodeId{2}, "late", KeyState::deleted(version(50, 1)), 1000).is_ok());
  EXPECT_EQ(hints->oldest(NodeId{2}, 10, 1000)->back().key, "late");
}

// Proves a target's hints stop at the count bound (the rest dropped and counted) and hints past
// the window are dropped, counted, when their turn comes.
TEST_F(ClusterStoresTest, HintsAreBoundedByCountAndAge) {
  HintLimits limits;
  limits.hints_per_target_max = 3;
  limits.window_ms = 1000;
  auto hints = HintStore::open(database_.get(), limits).value();
  for (uint64_t i = 0; i < 5; i++) {
    ASSERT_TRUE(hints
                    ->add(NodeId{2}, "k", KeyState::deleted(version(i + 1, 1)),
                          static_cast<int64_t>(i) * 600)
                    .is_ok());
  }
  EXPECT_EQ(hints->count(NodeId{2}), 3u);
  EXPECT_EQ(hints->stats().dropped_full, 2u);
  // At 1500 ms, the hint made at 0 is past the 1000 ms window; those at 600 and 1200 are not.
  const std::vector<Hint> live = hints->oldest(NodeId{2}, 10, 1500).value();
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(hints->stats().dropped_expired, 1u);
  EXPECT_EQ(hints->count(NodeId{2}), 2u);
}

}  // namespace
}  // namespace cairn
