// Proves the pieces of dissemination and failure detection around Membership: the gossip
// queue (fewest sends first, newest first, one entry per member, the retransmit limit and the
// byte budget), Lifeguard's local health and suspicion timeouts, and the ring's header order
// and transfer.
#include <gtest/gtest.h>

#include "cluster/gossip_queue.h"
#include "cluster/lifeguard.h"
#include "cluster/ring_gossip.h"

namespace cairn {
namespace {

MemberUpdate alive(uint64_t node, uint64_t incarnation = 0) {
  return MemberUpdate{NodeId{node}, MemberState::kAlive, incarnation, NodeId{node}, "", ""};
}

std::vector<uint64_t> nodes_of(const std::vector<MemberUpdate>& updates) {
  std::vector<uint64_t> nodes;
  for (const MemberUpdate& update : updates) nodes.push_back(update.node.value);
  return nodes;
}

TEST(GossipQueueTest, RetransmitLimitGrowsWithLog10OfTheMembers) {
  EXPECT_EQ(retransmit_limit(4, 0), 4u);
  EXPECT_EQ(retransmit_limit(4, 9), 4u);
  EXPECT_EQ(retransmit_limit(4, 10), 8u);
  EXPECT_EQ(retransmit_limit(4, 200), 12u);
  EXPECT_EQ(retransmit_limit(3, 1024), 12u);
}

TEST(GossipQueueTest, FewestSendsFirstThenNewestAndDropAtTheLimit) {
  GossipQueue queue;
  queue.push(alive(1));
  queue.push(alive(2));
  std::vector<MemberUpdate> out;
  queue.take(1, 1000, 2, NodeId{}, &out);  // the newest: 2
  queue.push(alive(3));
  queue.take(3, 1000, 2, NodeId{}, &out);  // never sent first (3 newest, then 1), then 2
  EXPECT_EQ(nodes_of(out), (std::vector<uint64_t>{2, 3, 1, 2}));
  EXPECT_EQ(queue.size(), 2u);  // 2 was sent twice: gone
  EXPECT_EQ(queue.find(NodeId{2}), nullptr);
}

TEST(GossipQueueTest, NewerNewsReplacesOlderAndRestartsItsCount) {
  GossipQueue queue;
  queue.push(alive(1, 0));
  std::vector<MemberUpdate> out;
  queue.take(1, 1000, 2, NodeId{}, &out);
  queue.push(alive(1, 5));
  EXPECT_EQ(queue.size(), 1u);
  out.clear();
  queue.take(5, 1000, 2, NodeId{}, &out);
  queue.take(5, 1000, 2, NodeId{}, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].incarnation, 5u);
  EXPECT_TRUE(queue.empty());
}

TEST(GossipQueueTest, SkipsTheRecipientAndKeepsToTheByteBudget) {
  GossipQueue queue;
  for (uint64_t node = 1; node <= 10; node++) queue.push(alive(node));
  std::vector<MemberUpdate> out;
  const size_t one = encoded_size(alive(1));
  queue.take(10, 3 * one, 5, NodeId{10}, &out);
  EXPECT_EQ(nodes_of(out), (std::vector<uint64_t>{9, 8, 7}));
}

TEST(LocalHealthTest, ScoreIsClampedAndScalesTimeouts) {
  LocalHealth health(8);
  health.apply(-1);
  EXPECT_EQ(health.score(), 0u);
  health.apply(3);
  EXPECT_EQ(health.scale(500), 2000u);
  health.apply(100);
  EXPECT_EQ(health.score(), 7u);
  EXPECT_EQ(health.scale(500), 4000u);
}

TEST(SuspicionTest, TimeoutsScaleWithLog10OfTheCluster) {
  EXPECT_EQ(suspicion_timeouts(4, 6, 5, 1000).min_ms, 4000u);  // log10 below 1 counts as 1
  EXPECT_EQ(suspicion_timeouts(4, 6, 100, 1000).min_ms, 8000u);
  EXPECT_EQ(suspicion_timeouts(4, 6, 100, 1000).max_ms, 48000u);
}

TEST(SuspicionTest, ConfirmationsShrinkTheTimeoutFromMaxToMin) {
  const SuspicionTimeouts timeouts{1000, 6000};
  Suspicion suspicion(3, NodeId{1}, 100, 3, timeouts);
  EXPECT_EQ(suspicion.deadline_ms(), 100u + 6000u);
  EXPECT_FALSE(suspicion.confirm(NodeId{1}));  // the first accuser again
  EXPECT_TRUE(suspicion.confirm(NodeId{2}));
  const uint64_t one = suspicion.deadline_ms();
  EXPECT_LT(one, 6100u);
  EXPECT_GT(one, 1100u);
  EXPECT_TRUE(suspicion.confirm(NodeId{3}));
  EXPECT_LT(suspicion.deadline_ms(), one);
  EXPECT_TRUE(suspicion.confirm(NodeId{4}));
  EXPECT_EQ(suspicion.deadline_ms(), 100u + 1000u);
  EXPECT_FALSE(suspicion.confirm(NodeId{5}));  // no more wanted
  EXPECT_EQ(suspicion.confirmations(), 3u);
  EXPECT_EQ(Suspicion(0, NodeId{1}, 0, 0, timeouts).deadline_ms(), 1000u);
}

TEST(RingGossipTest, HeaderOrderMatchesRingSupersedes) {
  const Ring one = Ring(3).with_joined(RingMember{NodeId{1}, ""});
  const Ring a = one.with_joined(RingMember{NodeId{2}, ""});
  const Ring b = one.with_joined(RingMember{NodeId{3}, ""});
  for (const Ring* x : {&one, &a, &b}) {
    for (const Ring* y : {&one, &a, &b}) {
      EXPECT_EQ(header_supersedes(RingHeader{x->epoch(), x->digest()},
                                  RingHeader{y->epoch(), y->digest()}),
                x->supersedes(*y));
    }
  }
}

TEST(RingGossipTest, AdoptsOnlySupersedingRingsAndRateLimitsPushes) {
  RingGossip gossip(3);
  EXPECT_TRUE(gossip.ring().empty());
  const Ring one = Ring(3).with_joined(RingMember{NodeId{1}, ""});
  const Ring two = one.with_joined(RingMember{NodeId{2}, "r"});
  EXPECT_TRUE(gossip.behind(RingHeader{two.epoch(), two.digest()}));
  Result<bool> adopted = gossip.offer(two.encode());
  ASSERT_TRUE(adopted.is_ok());
  EXPECT_TRUE(*adopted);
  EXPECT_EQ(gossip.ring(), two);
  EXPECT_EQ(gossip.encoded(), two.encode());
  adopted = gossip.offer(one.encode());
  ASSERT_TRUE(adopted.is_ok());
  EXPECT_FALSE(*adopted);
  EXPECT_FALSE(gossip.offer("not a ring").is_ok());

  const RingHeader old{one.epoch(), one.digest()};
  EXPECT_TRUE(gossip.should_push(NodeId{7}, old, 1000, 500));
  EXPECT_FALSE(gossip.should_push(NodeId{7}, old, 1200, 500));  // just sent
  EXPECT_TRUE(gossip.should_push(NodeId{7}, old, 1500, 500));
  EXPECT_FALSE(gossip.should_push(NodeId{8}, gossip.header(), 1500, 500));  // not behind
}

}  // namespace
}  // namespace cairn
