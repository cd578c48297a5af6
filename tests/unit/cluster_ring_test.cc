// Proves the ring's placement: preference lists of distinct members (distinct racks first), even
// replica loads (max/mean <= 1.1) and minimal movement (<= 1.1x the ideal fraction) on every join
// from 3 to 200 members and on a leave at every size, plus a self-checking encoding and a
// convergence order that all nodes agree on; and transitions (with_next, flipped, settled): each
// step supersedes the one before, writes go to both rings' lists, reads to the current one, and
// the gaining members are exactly those a list gains.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "cluster/ring.h"
#include "cluster/ring_plan.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr size_t kReplicas = 3;

// Ids drawn at random, so that no figure depends on members joining in id order.
std::vector<NodeId> random_ids(uint64_t seed, size_t count) {
  Random random(seed);
  std::set<uint64_t> ids;
  while (ids.size() < count) ids.insert(random.next_u64());
  std::vector<NodeId> out;
  for (const uint64_t id : ids) out.push_back(NodeId{id});
  std::vector<NodeId> shuffled;
  while (!out.empty()) {
    const size_t pick = random.uniform(out.size());
    shuffled.push_back(out[pick]);
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return shuffled;
}

double max_over_mean(const std::vector<size_t>& loads) {
  size_t total = 0;
  for (const size_t load : loads) total += load;
  const double mean = static_cast<double>(total) / static_cast<double>(loads.size());
  return static_cast<double>(*std::max_element(loads.begin(), loads.end())) / mean;
}

// Replicas that must be copied to go from `before` to `after`: members a preference list gains.
size_t replicas_moved(const Ring& before, const Ring& after) {
  size_t moved = 0;
  for (uint32_t p = 0; p < kPartitionCount; p++) {
    const auto old_list = before.preference_list(p);
    for (const NodeId node : after.preference_list(p)) {
      if (std::find(old_list.begin(), old_list.end(), node) == old_list.end()) moved++;
    }
  }
  return moved;
}

void expect_distinct_lists(const Ring& ring) {
  const size_t width = std::min(ring.replica_count(), ring.members().size());
  for (uint32_t p = 0; p < kPartitionCount; p++) {
    const auto list = ring.preference_list(p);
    ASSERT_EQ(list.size(), width);
    EXPECT_EQ(list[0], ring.owner(p)) << "partition " << p;
    std::set<NodeId> distinct(list.begin(), list.end());
    ASSERT_EQ(distinct.size(), width) << "partition " << p << " lists a member twice";
  }
}

// Joins 200 members in a random order, checking every size from 3 on; prints the worst figures.
void check_joins_from_3_to_200(uint64_t seed) {
  const std::vector<NodeId> ids = random_ids(seed, 200);
  Ring ring(kReplicas);
  double worst_balance = 0;
  double worst_join = 0;
  for (size_t n = 1; n <= ids.size(); n++) {
    const Ring next = ring.with_joined(RingMember{ids[n - 1], ""});
    ASSERT_EQ(next.epoch(), ring.epoch() + 1);
    ASSERT_EQ(next.members().size(), n);
    if (n > kReplicas) {
      const double ideal =
          static_cast<double>(kReplicas * kPartitionCount) / static_cast<double>(n);
      const double ratio = static_cast<double>(replicas_moved(ring, next)) / ideal;
      worst_join = std::max(worst_join, ratio);
      EXPECT_LE(ratio, 1.1) << "join to " << n << " members";
    }
    ring = next;
    if (n >= kReplicas) {
      expect_distinct_lists(ring);
      const double balance = max_over_mean(ring.replica_loads());
      worst_balance = std::max(worst_balance, balance);
      EXPECT_LE(balance, 1.1) << n << " members";
      const std::vector<size_t> owned = ring.owned_counts();
      EXPECT_LE(*std::max_element(owned.begin(), owned.end()) -
                    *std::min_element(owned.begin(), owned.end()),
                1u)
          << n << " members";
    }
  }
  std::printf(
      "ring figures, seed %llu, 3..200 members: worst replica balance (max/mean) %.3f, worst join "
      "movement %.3fx ideal\n",
      static_cast<unsigned long long>(seed), worst_balance, worst_join);
}

// Proves, for every size from 3 to 200, that replica loads stay within 1.1x their mean and
// ownership within one partition, and that each join moves at most 1.1x the joiner's fair share.
TEST(RingTest, BalanceAndJoinMovementFrom3To200Members) {
  for (const uint64_t seed : test::test_seeds(1, 1, 8)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    check_joins_from_3_to_200(seed);
  }
}

// Proves a leave at every size from 4 to 200 moves at most 1.1x the leaver's fair share, takes
// the leaver out of every list, and leaves loads within 1.1x their mean.
TEST(RingTest, LeaveMovementAndBalanceAtEverySize) {
  const std::vector<NodeId> ids = random_ids(2, 200);
  Random random(3);
  Ring ring(kReplicas);
  double worst_leave = 0;
  double worst_balance = 0;
  for (size_t n = 1; n <= ids.size(); n++) {
    ring = ring.with_joined(RingMember{ids[n - 1], ""});
    if (n <= kReplicas) continue;
    const NodeId leaver = ring.members()[random.uniform(n)].id;
    const Ring after = ring.without(leaver);
    ASSERT_FALSE(after.contains(leaver));
    expect_distinct_lists(after);
    const double ideal = static_cast<double>(kReplicas * kPartitionCount) / static_cast<double>(n);
    const double ratio = static_cast<double>(replicas_moved(ring, after)) / ideal;
    worst_leave = std::max(worst_leave, ratio);
    EXPECT_LE(ratio, 1.1) << "leave from " << n << " members";
    const double balance = max_over_mean(after.replica_loads());
    worst_balance = std::max(worst_balance, balance);
    EXPECT_LE(balance, 1.1) << "after a leave from " << n << " members";
  }
  std::printf(
      "ring figures, leaves from 4..200 members: worst movement %.3fx ideal, worst "
      "balance after %.3f\n",
      worst_leave, worst_balance);
}

// Proves rings smaller than the replica count list every member, and a one-member ring owns all.
TEST(RingTest, SmallRingsListEveryMember) {
  Ring ring(kReplicas);
  EXPECT_TRUE(ring.empty());
  ring = ring.with_joined(RingMember{NodeId{7}, ""});
  for (uint32_t p = 0; p < kPartitionCount; p++) ASSERT_EQ(ring.owner(p), NodeId{7});
  ring = ring.with_joined(RingMember{NodeId{3}, ""});
  expect_distinct_lists(ring);
  EXPECT_EQ(ring.owned_counts(), (std::vector<size_t>{kPartitionCount / 2, kPartitionCount / 2}));
  EXPECT_EQ(ring.preference_list_of_slot(kSlotCount - 1).size(), 2u);
}

// Proves that with racks set, a list takes one member per rack before a second from any rack.
TEST(RingTest, PreferenceListsSpreadOverRacksFirst) {
  const std::vector<NodeId> ids = random_ids(4, 12);
  for (const size_t rack_count : {2, 3, 4}) {
    Ring ring(kReplicas);
    for (size_t i = 0; i < ids.size(); i++) {
      ring = ring.with_joined(RingMember{ids[i], "rack-" + std::to_string(i % rack_count)});
    }
    expect_distinct_lists(ring);
    const size_t want = std::min(kReplicas, rack_count);
    for (uint32_t p = 0; p < kPartitionCount; p++) {
      std::set<std::string> racks;
      for (const NodeId node : ring.preference_list(p)) {
        for (const RingMember& m : ring.members()) {
          if (m.id == node) racks.insert(m.rack);
        }
      }
      ASSERT_EQ(racks.size(), want) << rack_count << " racks, partition " << p;
    }
  }
}

// Proves the same joins give the same ring, and that rings encode and decode to equal rings.
TEST(RingTest, DeterministicAndRoundTrips) {
  const std::vector<NodeId> ids = random_ids(5, 9);
  Ring a(kReplicas);
  Ring b(kReplicas);
  EXPECT_EQ(Ring::decode(a.encode()).value(), a);
  for (size_t i = 0; i < ids.size(); i++) {
    a = a.with_joined(RingMember{ids[i], i % 2 ? "east" : "west"});
    b = b.with_joined(RingMember{ids[i], i % 2 ? "east" : "west"});
    ASSERT_EQ(a, b);
    ASSERT_EQ(a.digest(), b.digest());
    const Result<Ring> decoded = Ring::decode(a.encode());
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    ASSERT_EQ(decoded.value(), a);
    ASSERT_EQ(decoded.value().digest(), a.digest());
  }
}

// Proves any single flipped byte or truncation of an encoded ring is rejected, never decoded.
TEST(RingTest, DecodeRejectsDamagedEncodings) {
  Ring ring(kReplicas);
  for (uint64_t id = 1; id <= 5; id++) ring = ring.with_joined(RingMember{NodeId{id}, "r"});
  const std::string good = ring.encode();
  for (size_t i = 0; i < good.size(); i++) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    ASSERT_FALSE(Ring::decode(bad).is_ok()) << "byte " << i;
    ASSERT_FALSE(Ring::decode(std::string_view(good).substr(0, i)).is_ok()) << "length " << i;
  }
}

// Proves supersedes() is a strict order all nodes agree on: a later epoch wins, and two different
// rings of one epoch are ordered by digest, one way only.
TEST(RingTest, SupersedesOrdersByEpochThenDigest) {
  const Ring base = Ring(kReplicas).with_joined(RingMember{NodeId{1}, ""});
  const Ring left = base.with_joined(RingMember{NodeId{2}, ""});
  const Ring right = base.with_joined(RingMember{NodeId{3}, ""});
  EXPECT_TRUE(left.supersedes(base));
  EXPECT_FALSE(base.supersedes(left));
  ASSERT_EQ(left.epoch(), right.epoch());
  ASSERT_NE(left.digest(), right.digest());
  EXPECT_NE(left.supersedes(right), right.supersedes(left));
  EXPECT_FALSE(left.supersedes(left));
}

// Proves a join's transition: reads stay on the old lists until the flip, writes go to the
// union, only the joiner gains, and it gains exactly the replicas the placement moves; each
// step supersedes the one before and round-trips through the encoding.
TEST(RingTest, TransitionsMoveReadsOnlyAtTheFlip) {
  Ring ring(kReplicas);
  for (uint64_t id = 1; id <= 4; id++) ring = ring.with_joined(RingMember{NodeId{id}, ""});
  const Ring target = ring.with_joined(RingMember{NodeId{9}, ""});
  const Ring moving = ring.with_next(target);
  const Ring flipped = moving.flipped();
  const Ring settled = flipped.settled();
  EXPECT_TRUE(moving.supersedes(ring));
  EXPECT_TRUE(flipped.supersedes(moving));
  EXPECT_TRUE(settled.supersedes(flipped));
  EXPECT_EQ(moving.transition(), Ring::Transition::kNext);
  EXPECT_EQ(flipped.transition(), Ring::Transition::kPrevious);
  EXPECT_EQ(settled.transition(), Ring::Transition::kNone);
  EXPECT_FALSE(moving.contains(NodeId{9}));
  EXPECT_TRUE(moving.contains_anywhere(NodeId{9}));
  EXPECT_TRUE(flipped.contains(NodeId{9}));

  size_t gained = 0;
  for (uint32_t p = 0; p < kPartitionCount; p++) {
    const auto old_list = ring.preference_list(p);
    const auto new_list = target.preference_list(p);
    ASSERT_TRUE(std::equal(old_list.begin(), old_list.end(), moving.preference_list(p).begin()));
    ASSERT_TRUE(std::equal(new_list.begin(), new_list.end(), flipped.preference_list(p).begin()));
    ASSERT_TRUE(std::equal(new_list.begin(), new_list.end(), settled.preference_list(p).begin()));
    const std::vector<NodeId> writes = moving.write_list(p);
    std::set<NodeId> expected(old_list.begin(), old_list.end());
    expected.insert(new_list.begin(), new_list.end());
    ASSERT_EQ(std::set<NodeId>(writes.begin(), writes.end()), expected) << p;
    ASSERT_EQ(writes.size(), expected.size()) << p;
    const std::vector<NodeId> flipped_writes = flipped.write_list(p);
    ASSERT_EQ(std::set<NodeId>(flipped_writes.begin(), flipped_writes.end()), expected) << p;
    ASSERT_EQ(settled.write_list(p).size(), kReplicas);
    for (const NodeId node : moving.gaining(p)) ASSERT_EQ(node, NodeId{9}) << p;
    gained += moving.gaining(p).size();
    ASSERT_TRUE(flipped.gaining(p).empty());
  }
  EXPECT_EQ(gained, replicas_moved(ring, target));
  EXPECT_GT(gained, 0u);

  for (const Ring* step : {&moving, &flipped, &settled}) {
    const Result<Ring> decoded = Ring::decode(step->encode());
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded.value(), *step);
    EXPECT_EQ(decoded.value().digest(), step->digest());
  }
  // Damage in the nested ring is caught too.
  const std::string good = moving.encode();
  for (size_t i = 0; i < good.size(); i += 97) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    ASSERT_FALSE(Ring::decode(bad).is_ok()) << "byte " << i;
  }
}

// Proves plan_change counts what a join and a leave move, per member and in all, and that both
// stay within 1.1x the ideal (the placement's promise), from 3 to 12 members.
TEST(RingTest, PlansCountTheReplicasAChangeMoves) {
  Ring ring(kReplicas);
  for (uint64_t id = 1; id <= 3; id++) ring = ring.with_joined(RingMember{NodeId{id * 10}, ""});
  for (uint64_t id = 4; id <= 12; id++) {
    const Ring joined = ring.with_joined(RingMember{NodeId{id * 10}, ""});
    const RingPlan join = plan_change(ring, joined);
    EXPECT_EQ(join.replicas_moved, replicas_moved(ring, joined));
    EXPECT_EQ(join.replicas_total, kPartitionCount * kReplicas);
    EXPECT_LE(join.replicas_moved, join.replicas_ideal * 11 / 10) << id;
    for (const MemberMoves& member : join.members) {
      if (member.id == NodeId{id * 10}) {
        EXPECT_EQ(member.replicas_before, 0u);
        EXPECT_EQ(member.gained, member.replicas_after);
      } else {
        EXPECT_EQ(member.gained, 0u) << "only the joiner gains";
      }
    }
    const RingPlan leave = plan_change(joined, joined.without(NodeId{20}));
    EXPECT_LE(leave.replicas_moved, leave.replicas_ideal * 11 / 10) << id;
    for (const MemberMoves& member : leave.members) {
      if (member.id == NodeId{20}) {
        EXPECT_EQ(member.lost, member.replicas_before);
      }
    }
    ring = joined;
  }
}

// Proves a member taken out is listed as departed, through every step of its transition and the
// encoding, until it joins again.
TEST(RingTest, ARemovedMemberIsDepartedUntilItJoinsAgain) {
  Ring ring(kReplicas);
  for (uint64_t id = 1; id <= 4; id++) ring = ring.with_joined(RingMember{NodeId{id}, ""});
  const Ring settled = ring.with_next(ring.without(NodeId{2})).flipped().settled();
  EXPECT_FALSE(settled.contains(NodeId{2}));
  EXPECT_TRUE(settled.is_departed(NodeId{2}));
  EXPECT_EQ(settled.departed(), std::vector<NodeId>{NodeId{2}});
  const Ring decoded = Ring::decode(settled.encode()).value();
  EXPECT_EQ(decoded, settled);
  EXPECT_TRUE(decoded.is_departed(NodeId{2}));
  const Ring back = settled.with_joined(RingMember{NodeId{2}, ""});
  EXPECT_FALSE(back.is_departed(NodeId{2}));
  EXPECT_TRUE(back.departed().empty());
}

// Proves a ring saved in format 1 (before transitions) still decodes, as the same ring.
TEST(RingTest, FormatOneStillDecodes) {
  Ring ring(kReplicas);
  for (uint64_t id = 1; id <= 3; id++) ring = ring.with_joined(RingMember{NodeId{id}, "r"});
  std::string body = ring.encode();
  body.resize(body.size() - 6);  // the checksum, the transition byte and the departed count
  body[0] = 1;
  put_fixed32(&body, checksum32(body));
  const Result<Ring> decoded = Ring::decode(body);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), ring);
}

}  // namespace
}  // namespace cairn
