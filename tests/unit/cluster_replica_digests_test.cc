// Proves the replica store's anti-entropy digests: replicas that merged the same writes in
// different orders have equal key and slot digests, and a write one replica missed shows as
// exactly its key in its slot, which a Merkle tree over the slots finds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cluster/merkle_tree.h"
#include "cluster/replica_store.h"
#include "io/fault_env.h"
#include "io/random.h"
#include "io/scheduler.h"
#include "model/slot.h"
#include "support/database_test_helpers.h"

namespace cairn {
namespace {

WriteVersion version(uint64_t ms, uint64_t node) {
  return WriteVersion{HlcTimestamp::of(ms, 0), NodeId{node}};
}

class ReplicaDigestsTest : public ::testing::Test {
 protected:
  ReplicaDigestsTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    for (const char* directory : {"/a", "/b"}) {
      databases_.push_back(test::open_database(options_, directory));
      stores_.push_back(ReplicaStore::open(databases_.back().get()).value());
    }
  }

  MerkleTree slot_tree(ReplicaStore& store) {
    return MerkleTree::of_leaves(store.slot_digests(0, kSlotCount - 1).value());
  }

  FaultEnv env_{3};
  InlineScheduler scheduler_;
  Options options_;
  std::vector<std::unique_ptr<Database>> databases_;
  std::vector<std::unique_ptr<ReplicaStore>> stores_;
};

TEST_F(ReplicaDigestsTest, EqualStatesDigestAlikeAndAMissedWriteShowsAsItsKey) {
  // {t} keeps three keys in one slot; the others spread.
  std::vector<std::pair<std::string, KeyState>> writes;
  Random random(7);
  for (uint64_t i = 0; i < 300; i++) {
    const std::string key =
        i % 10 == 0 ? "{t}" + std::to_string(i % 30) : "k" + std::to_string(i % 50);
    const WriteVersion at = version(100 + i, 1 + i % 3);
    writes.emplace_back(key, i % 4 == 0
                                 ? KeyState::hash_set(at, {{"f" + std::to_string(i % 3), "v"}})
                                 : KeyState::string_set(at, "v" + std::to_string(i), 0));
  }
  for (const auto& [key, delta] : writes) ASSERT_TRUE(stores_[0]->apply(key, delta).is_ok());
  for (size_t i = writes.size(); i-- > 0;) {
    ASSERT_TRUE(stores_[1]->apply(writes[i].first, writes[i].second).is_ok());
  }
  const uint16_t slot = key_slot("{t}0");
  const std::vector<KeyDigest> digests = stores_[0]->key_digests(slot).value();
  ASSERT_EQ(digests.size(), 3u);
  EXPECT_EQ(digests[0].key, "{t}0");
  EXPECT_EQ(stores_[1]->key_digests(slot).value(), digests);
  EXPECT_NE(stores_[0]->slot_digests(slot, slot).value()[0], 0u);
  EXPECT_EQ(stores_[0]->slot_digests(key_slot("absent"), key_slot("absent")).value()[0], 0u);
  // A run's digests are each slot's own.
  const std::vector<uint64_t> run = stores_[0]->slot_digests(slot - 3, slot + 3).value();
  for (uint16_t s = slot - 3; s <= slot + 3; s++) {
    EXPECT_EQ(run[s - (slot - 3)], stores_[0]->slot_digests(s, s).value()[0]) << s;
  }
  const MerkleTree tree_a = slot_tree(*stores_[0]);
  EXPECT_EQ(tree_a, slot_tree(*stores_[1]));

  // Replica b misses a write: its key alone differs, in its slot alone.
  ASSERT_TRUE(stores_[0]->apply("{t}10", KeyState::string_set(version(1000, 2), "new", 0)).is_ok());
  EXPECT_EQ(MerkleTree::differing_leaves(tree_a, slot_tree(*stores_[0])).size(), 1u);
  const MerkleTree tree_b = slot_tree(*stores_[1]);
  EXPECT_EQ(MerkleTree::differing_leaves(slot_tree(*stores_[0]), tree_b),
            std::vector<size_t>{slot});
  const std::vector<KeyDigest> a = stores_[0]->key_digests(slot).value();
  const std::vector<KeyDigest> b = stores_[1]->key_digests(slot).value();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); i++) EXPECT_EQ(a[i] == b[i], a[i].key != "{t}10") << a[i].key;
  // Merging a's state into b repairs it.
  ASSERT_TRUE(stores_[1]->apply("{t}10", stores_[0]->read("{t}10").value()).is_ok());
  EXPECT_EQ(slot_tree(*stores_[1]), slot_tree(*stores_[0]));
}

// Proves key digests page by `after`, `through` and a count, and the pages join into the whole.
TEST_F(ReplicaDigestsTest, KeyDigestsPageInKeyOrder) {
  for (int i = 0; i < 20; i++) {
    const std::string key = "{p}" + std::to_string(100 + i);
    ASSERT_TRUE(stores_[0]->apply(key, KeyState::string_set(version(10, 1), "v", 0)).is_ok());
  }
  const uint16_t slot = key_slot("{p}");
  const std::vector<KeyDigest> all = stores_[0]->key_digests(slot).value();
  ASSERT_EQ(all.size(), 20u);
  std::vector<KeyDigest> joined;
  std::string after;
  for (;;) {
    const std::vector<KeyDigest> page = stores_[0]->key_digests(slot, after, {}, 6).value();
    if (page.empty()) break;
    EXPECT_LE(page.size(), 6u);
    joined.insert(joined.end(), page.begin(), page.end());
    after = page.back().key;
  }
  EXPECT_EQ(joined, all);
  const std::vector<KeyDigest> span =
      stores_[0]->key_digests(slot, "{p}104", std::string_view("{p}107")).value();
  ASSERT_EQ(span.size(), 3u);
  EXPECT_EQ(span.front().key, "{p}105");
  EXPECT_EQ(span.back().key, "{p}107");
}

}  // namespace
}  // namespace cairn
