// Proves RepairHorizons answers, per partition, the oldest of the latest exchanges of every pair
// of the partition's current replicas: zero while a pair has none, no limit with one replica, the
// later record of a pair winning, and only current pairs counted or told to peers.
#include <gtest/gtest.h>

#include "cluster/repair_horizons.h"

namespace cairn {
namespace {

class FixedView final : public ClusterView {
 public:
  explicit FixedView(Ring ring) : ring_(std::move(ring)) {}
  const Ring& ring() const override { return ring_; }
  bool is_alive(NodeId) const override { return true; }
  void set_ring(Ring ring) { ring_ = std::move(ring); }

 private:
  Ring ring_;
};

Ring ring_of(size_t replicas, std::initializer_list<uint64_t> ids) {
  Ring ring(replicas);
  for (const uint64_t id : ids) ring = ring.with_joined(RingMember{NodeId{id}, ""});
  return ring;
}

// The records of every pair of `partition`'s replicas, each started at `started_ms`.
void record_all_pairs(RepairHorizons& horizons, const Ring& ring, uint32_t partition,
                      uint64_t started_ms) {
  const auto replicas = ring.preference_list(partition);
  for (size_t i = 0; i < replicas.size(); i++) {
    for (size_t j = i + 1; j < replicas.size(); j++) {
      const auto [first, second] = std::minmax(replicas[i], replicas[j]);
      horizons.record(partition, ExchangeRecord{first, second, started_ms});
    }
  }
}

// Proves a partition is repaired since the oldest pair's latest exchange, and not at all while
// one pair never completed one.
TEST(RepairHorizonsTest, TheOldestPairBoundsThePartition) {
  FixedView view(ring_of(3, {1, 2, 3}));
  RepairHorizons horizons(&view);
  EXPECT_EQ(horizons.repaired_since_unix_ms(5), 0u);
  horizons.record(5, ExchangeRecord{NodeId{1}, NodeId{2}, 100});
  horizons.record(5, ExchangeRecord{NodeId{1}, NodeId{3}, 300});
  EXPECT_EQ(horizons.repaired_since_unix_ms(5), 0u) << "pair (2, 3) has no exchange";
  horizons.record(5, ExchangeRecord{NodeId{2}, NodeId{3}, 200});
  EXPECT_EQ(horizons.repaired_since_unix_ms(5), 100u);
  EXPECT_EQ(horizons.repaired_since_unix_ms(6), 0u) << "another partition";
  horizons.record(5, ExchangeRecord{NodeId{1}, NodeId{2}, 400});
  EXPECT_EQ(horizons.repaired_since_unix_ms(5), 200u);
  horizons.record(5, ExchangeRecord{NodeId{2}, NodeId{3}, 50});
  EXPECT_EQ(horizons.repaired_since_unix_ms(5), 200u) << "an older record replaced a later one";
}

// Proves a partition with one replica has nothing to wait for, and an empty ring neither.
TEST(RepairHorizonsTest, OneReplicaHasNoPairs) {
  FixedView view(ring_of(1, {1, 2}));
  RepairHorizons horizons(&view);
  EXPECT_EQ(horizons.repaired_since_unix_ms(0), RepairHorizons::kNoPeers);
  view.set_ring(Ring(3));
  EXPECT_EQ(horizons.repaired_since_unix_ms(0), RepairHorizons::kNoPeers);
  EXPECT_TRUE(horizons.records(0).empty());
}

// Proves a replica that joins a partition's list holds its purge back until its pairs have
// exchanged, and records of nodes no longer in the list are neither counted nor told.
TEST(RepairHorizonsTest, OnlyTheCurrentReplicasCount) {
  const Ring three = ring_of(3, {1, 2, 3});
  FixedView view(three);
  RepairHorizons horizons(&view);
  for (uint32_t partition = 0; partition < kPartitionCount; partition++) {
    record_all_pairs(horizons, three, partition, 1000);
  }
  EXPECT_EQ(horizons.repaired_since_unix_ms(7), 1000u);
  EXPECT_EQ(horizons.records(7).size(), 3u);

  const Ring four = three.with_joined(RingMember{NodeId{4}, ""});
  view.set_ring(four);
  size_t moved = 0;
  for (uint32_t partition = 0; partition < kPartitionCount; partition++) {
    const auto replicas = four.preference_list(partition);
    const bool has_new = std::find(replicas.begin(), replicas.end(), NodeId{4}) != replicas.end();
    if (!has_new) {
      EXPECT_EQ(horizons.repaired_since_unix_ms(partition), 1000u) << partition;
      continue;
    }
    moved++;
    EXPECT_EQ(horizons.repaired_since_unix_ms(partition), 0u) << partition;
    // The departed replica's pair is dropped from what is told.
    EXPECT_EQ(horizons.records(partition).size(), 1u) << partition;
    for (const ExchangeRecord& record : horizons.records(partition)) {
      EXPECT_NE(record.second, NodeId{4});
    }
    record_all_pairs(horizons, four, partition, 2000);
    EXPECT_EQ(horizons.repaired_since_unix_ms(partition), 2000u) << partition;
  }
  EXPECT_GT(moved, 0u);
}

}  // namespace
}  // namespace cairn
