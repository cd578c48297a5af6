// Proves Membership's steps one message at a time, with the network replaced by a list of what
// it sent: acks answer pings, a join retries until a seed answers, a failed probe leads to
// ping-reqs, suspicion and death on schedule, a suspected node refutes above the accusation, a
// relay forwards acks and sends nacks, rings are pushed to peers behind and adopted, the
// claimant adds joiners, and malformed input is counted and ignored.
#include "cluster/membership.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace cairn {
namespace {

class CaptureNetwork final : public Network {
 public:
  void send(NodeId to, std::string message) override { sent.emplace_back(to, std::move(message)); }

  // Decodes and forgets everything sent so far.
  std::vector<std::pair<NodeId, MembershipMessage>> take() {
    std::vector<std::pair<NodeId, MembershipMessage>> out;
    for (auto& [to, bytes] : sent) {
      Result<MembershipMessage> message = decode_membership_message(bytes);
      EXPECT_TRUE(message.is_ok());
      out.emplace_back(to, std::move(message).value());
    }
    sent.clear();
    return out;
  }

  std::vector<std::pair<NodeId, std::string>> sent;
};

constexpr NodeId kA{10};
constexpr NodeId kB{20};
constexpr NodeId kC{30};

MemberUpdate alive(NodeId node, uint64_t incarnation = 0) {
  return MemberUpdate{node, MemberState::kAlive, incarnation, node, "", ""};
}

std::string encode(MembershipMessageType type, uint64_t seq, NodeId target,
                   std::vector<MemberUpdate> updates = {}, uint8_t flags = 0) {
  MembershipMessage message;
  message.type = type;
  message.seq = seq;
  message.target = target;
  message.updates = std::move(updates);
  message.sync_flags = flags;
  return encode_membership_message(message);
}

std::string sync_reply(std::vector<MemberUpdate> updates) {
  MembershipMessage message;
  message.type = MembershipMessageType::kSync;
  message.updates = std::move(updates);
  return encode_membership_message(message);
}

// A ring transfer carrying `ring`.
std::string ring_transfer(const Ring& ring) {
  MembershipMessage message;
  message.type = MembershipMessageType::kRing;
  message.ring = RingHeader{ring.epoch(), ring.digest()};
  message.ring_bytes = ring.encode();
  return encode_membership_message(message);
}

TEST(MembershipTest, FoundingMakesARingOfItself) {
  CaptureNetwork network;
  Membership node(kA, "rack-a", MembershipConfig{}, &network, 1);
  node.found(1000);
  EXPECT_TRUE(node.joined());
  EXPECT_TRUE(node.is_alive(kA));
  EXPECT_EQ(node.ring().epoch(), 1u);
  EXPECT_EQ(node.ring().members(), (std::vector<RingMember>{{kA, "rack-a"}}));
  EXPECT_EQ(node.incarnation(), 0u);
}

TEST(MembershipTest, AnswersPingsMeantForIt) {
  CaptureNetwork network;
  Membership node(kA, "", MembershipConfig{}, &network, 1);
  node.found(0);
  node.on_message(kB, encode(MembershipMessageType::kPing, 42, kA, {alive(kB)}), 5);
  auto sent = network.take();
  // An ack, then the ring for a peer whose header (epoch 0) is behind.
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].first, kB);
  EXPECT_EQ(sent[0].second.type, MembershipMessageType::kAck);
  EXPECT_EQ(sent[0].second.seq, 42u);
  EXPECT_EQ(sent[1].second.type, MembershipMessageType::kRing);
  EXPECT_TRUE(node.is_alive(kB));  // learned from the piggyback
  node.on_message(kB, encode(MembershipMessageType::kPing, 43, kC), 6);
  for (const auto& [to, message] : network.take()) {
    EXPECT_NE(message.type, MembershipMessageType::kAck);  // not meant for it
  }
}

TEST(MembershipTest, JoinRetriesUntilASeedAnswers) {
  CaptureNetwork network;
  MembershipConfig config;
  Membership node(kB, "", config, &network, 1);
  node.join({kA, kB}, 0);  // its own id among the seeds is ignored
  auto sent = network.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, kA);
  EXPECT_EQ(sent[0].second.type, MembershipMessageType::kSync);
  EXPECT_EQ(sent[0].second.sync_flags, kSyncReplyWanted);
  node.tick(config.join_retry_interval_ms - 1);
  EXPECT_TRUE(network.take().empty());
  node.tick(config.join_retry_interval_ms);
  EXPECT_EQ(network.take().size(), 1u);
  EXPECT_FALSE(node.joined());
  node.on_message(kA, sync_reply({alive(kA), alive(kC)}), config.join_retry_interval_ms + 1);
  EXPECT_TRUE(node.joined());
  EXPECT_EQ(node.alive_members(), (std::vector<NodeId>{kA, kB, kC}));
}

// A joining node whose seed is down joins through a member that reaches out to it (a member's
// reconnect sync), asking it at its next retry rather than at once.
TEST(MembershipTest, AJoiningNodeAsksWhoeverSentItASync) {
  CaptureNetwork network;
  MembershipConfig config;
  Membership node(kB, "", config, &network, 1);
  node.join({kA}, 0);
  network.take();
  MembershipMessage request;
  request.type = MembershipMessageType::kSync;
  request.sync_flags = kSyncReplyWanted;
  request.updates = {alive(kC), MemberUpdate{kB, MemberState::kDead, 2, kC, "", ""}};
  node.on_message(kC, encode_membership_message(request), 10);
  EXPECT_TRUE(network.take().empty());  // not answered: it is not a member yet
  EXPECT_EQ(node.incarnation(), 0u);    // and it did not merge the request
  node.tick(config.join_retry_interval_ms);
  std::vector<NodeId> asked;
  for (const auto& [to, message] : network.take()) {
    EXPECT_EQ(message.type, MembershipMessageType::kSync);
    asked.push_back(to);
  }
  EXPECT_EQ(asked, (std::vector<NodeId>{kA, kC}));
  node.on_message(kC, sync_reply({alive(kC), MemberUpdate{kB, MemberState::kDead, 2, kC, "", ""}}),
                  config.join_retry_interval_ms + 1);
  EXPECT_TRUE(node.joined());
  EXPECT_EQ(node.incarnation(), 3u);
}

// A restarted node (incarnation 0) told it is dead at 4 refutes at 5.
TEST(MembershipTest, RefutesAboveTheIncarnationItIsAccusedAt) {
  CaptureNetwork network;
  Membership node(kB, "", MembershipConfig{}, &network, 1);
  node.join({kA}, 0);
  MemberUpdate dead{kB, MemberState::kDead, 4, kA, "", ""};
  node.on_message(kA, sync_reply({alive(kA), dead}), 1);
  EXPECT_EQ(node.incarnation(), 5u);
  EXPECT_TRUE(node.is_alive(kB));
  EXPECT_EQ(node.stats().refutations, 1u);
  EXPECT_EQ(node.local_health(), 1u);  // accused: Lifeguard counts it against itself
  network.take();
  // The refutation rides on the next message.
  node.on_message(kA, encode(MembershipMessageType::kPing, 1, kB), 2);
  const auto sent = network.take();
  ASSERT_FALSE(sent.empty());
  bool refuted = false;
  for (const MemberUpdate& update : sent[0].second.updates) {
    refuted |= update.node == kB && update.state == MemberState::kAlive && update.incarnation == 5;
  }
  EXPECT_TRUE(refuted);
}

// Three nodes known, one silent: ping, then a ping-req through the other, then suspicion at the
// end of the round, then death when the suspicion times out.
TEST(MembershipTest, ASilentMemberIsSuspectedThenDeclaredDead) {
  CaptureNetwork network;
  MembershipConfig config;
  Membership node(kA, "", config, &network, 1);
  node.found(0);
  node.on_message(kB, sync_reply({alive(kB), alive(kC)}), 0);
  network.take();
  std::vector<NodeId> transitions;
  node.set_listener([&](NodeId id, std::optional<MemberState>, MemberState current) {
    if (current != MemberState::kAlive) transitions.push_back(id);
  });
  // Find the first probe, then let everything go unanswered.
  NodeId target;
  uint64_t now = 0;
  for (; now < 2 * config.probe_interval_ms && target == NodeId{}; now += 10) {
    node.tick(now);
    for (const auto& [to, message] : network.take()) {
      if (message.type == MembershipMessageType::kPing) target = to;
    }
  }
  ASSERT_NE(target, NodeId{});
  const NodeId relay = target == kB ? kC : kB;
  bool asked = false;
  for (uint64_t until = now + config.probe_interval_ms; now <= until; now += 10) {
    node.tick(now);
    for (const auto& [to, message] : network.take()) {
      if (message.type == MembershipMessageType::kPingReq) {
        EXPECT_EQ(to, relay);
        EXPECT_EQ(message.target, target);
        asked = true;
      }
    }
    if (node.state(target) == MemberState::kSuspect) break;
  }
  EXPECT_TRUE(asked);
  ASSERT_EQ(node.state(target), MemberState::kSuspect);
  EXPECT_EQ(node.local_health(), 1u);  // the relay's nack never came
  // Three members: no confirmations wanted, so the minimum timeout (4 s) applies.
  const uint64_t suspected_at = now;
  while (node.state(target) == MemberState::kSuspect && now < suspected_at + 10'000) {
    now += 10;
    node.tick(now);
  }
  EXPECT_EQ(node.state(target), MemberState::kDead);
  EXPECT_GE(now - suspected_at, 4'000u);
  EXPECT_LE(now - suspected_at, 4'020u);
  EXPECT_EQ(node.stats().deaths_declared, 1u);
  EXPECT_EQ(transitions.front(), target);
}

TEST(MembershipTest, RelaysForwardAcksAndNackSilence) {
  CaptureNetwork network;
  MembershipConfig config;
  Membership node(kB, "", config, &network, 1);
  node.found(0);
  node.on_message(kA, encode(MembershipMessageType::kPingReq, 7, kC), 100);
  auto sent = network.take();
  uint64_t relay_seq = 0;
  for (const auto& [to, message] : sent) {
    if (message.type == MembershipMessageType::kPing) {
      EXPECT_EQ(to, kC);
      relay_seq = message.seq;
    }
  }
  ASSERT_NE(relay_seq, 0u);
  node.on_message(kC, encode(MembershipMessageType::kAck, relay_seq, NodeId{}), 150);
  sent = network.take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].first, kA);
  EXPECT_EQ(sent[0].second.type, MembershipMessageType::kAck);
  EXPECT_EQ(sent[0].second.seq, 7u);

  node.on_message(kA, encode(MembershipMessageType::kPingReq, 8, kC), 200);
  network.take();
  node.tick(200 + config.nack_timeout_ms - 1);
  EXPECT_TRUE(network.take().empty());
  node.tick(200 + config.nack_timeout_ms);
  sent = network.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second.type, MembershipMessageType::kNack);
  EXPECT_EQ(sent[0].second.seq, 8u);
}

TEST(MembershipTest, TheClaimantAddsAliveMembersToTheRing) {
  CaptureNetwork network;
  MembershipConfig config;
  Membership node(kA, "", config, &network, 1);
  std::vector<uint64_t> epochs;
  node.set_ring_listener([&](const Ring& ring) { epochs.push_back(ring.epoch()); });
  node.found(0);
  node.on_message(kB, sync_reply({alive(kB), alive(kC)}), 0);
  // Both joins in one change, through its transition (ring.h): first moving to the ring with
  // them, then (with no transition check, membership alone) flipped, then settled.
  node.tick(1);
  EXPECT_EQ(node.ring().transition(), Ring::Transition::kNext);
  EXPECT_FALSE(node.ring().contains(kB));
  EXPECT_TRUE(node.ring().contains_anywhere(kB));
  EXPECT_TRUE(node.ring().contains_anywhere(kC));
  const uint64_t interval = config.ring_change_interval_ms;
  node.tick(1 + interval);
  EXPECT_EQ(node.ring().transition(), Ring::Transition::kPrevious);
  EXPECT_TRUE(node.ring().contains(kB));
  EXPECT_TRUE(node.ring().contains(kC));
  node.tick(1 + 2 * interval);
  EXPECT_EQ(node.ring().transition(), Ring::Transition::kPrevious) << "settled too early";
  node.tick(1 + 2 * interval + config.ring_settle_ms);
  EXPECT_EQ(node.ring().transition(), Ring::Transition::kNone);
  EXPECT_TRUE(node.ring().contains(kB));
  EXPECT_TRUE(node.ring().contains(kC));
  EXPECT_EQ(epochs, (std::vector<uint64_t>{1, 4, 5, 6}));
  EXPECT_EQ(node.stats().ring_changes_made, 3u);
}

TEST(MembershipTest, AdoptsASupersedingRingAndIgnoresAnOlderOne) {
  CaptureNetwork network;
  Membership node(kC, "", MembershipConfig{}, &network, 1);
  node.join({kA}, 0);
  const Ring one = Ring(3).with_joined(RingMember{kA, ""});
  const Ring two = one.with_joined(RingMember{kC, ""});
  node.on_message(kA, ring_transfer(two), 1);
  EXPECT_EQ(node.ring(), two);
  node.on_message(kA, ring_transfer(one), 2);
  EXPECT_EQ(node.ring(), two);
  EXPECT_EQ(node.stats().rings_adopted, 1u);
}

// CLUSTER MEET: a node alone in the cluster it founded gives up its ring and joins another
// cluster through a seed, adopting that cluster's ring even at the epoch its own ring had.
TEST(MembershipTest, ALoneFounderRejoinsAnotherCluster) {
  CaptureNetwork network;
  Membership node(kC, "", MembershipConfig{}, &network, 1);
  std::vector<uint64_t> epochs;
  node.set_ring_listener([&](const Ring& ring) { epochs.push_back(ring.epoch()); });
  node.found(0);
  EXPECT_TRUE(node.alone());
  network.take();
  node.rejoin({kA}, 5);
  EXPECT_FALSE(node.joined());
  EXPECT_FALSE(node.alone());
  EXPECT_TRUE(node.ring().empty());
  auto sent = network.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, kA);
  EXPECT_EQ(sent[0].second.sync_flags, kSyncReplyWanted);
  node.on_message(kA, sync_reply({alive(kA), alive(kB)}), 6);
  EXPECT_TRUE(node.joined());
  EXPECT_FALSE(node.alone());
  const Ring theirs = Ring(3).with_joined(RingMember{kA, ""});
  node.on_message(kA, ring_transfer(theirs), 7);
  EXPECT_EQ(node.ring(), theirs);
  EXPECT_EQ(epochs, (std::vector<uint64_t>{1, 0, 1}));
}

// A founder that knows of another member is not alone: CLUSTER MEET refuses it.
TEST(MembershipTest, AFounderThatKnowsAnotherMemberIsNotAlone) {
  CaptureNetwork network;
  Membership node(kA, "", MembershipConfig{}, &network, 1);
  EXPECT_FALSE(node.alone());  // not started
  node.found(0);
  node.on_message(kB, sync_reply({alive(kB)}), 1);
  EXPECT_FALSE(node.alone());
}

TEST(MembershipTest, MalformedMessagesAreCountedAndIgnored) {
  CaptureNetwork network;
  Membership node(kA, "", MembershipConfig{}, &network, 1);
  node.found(0);
  node.on_message(kB, "", 1);
  node.on_message(kB, std::string("\x01\x01\x09", 3), 2);
  std::string bytes = encode(MembershipMessageType::kPing, 1, kA);
  node.on_message(kB, bytes.substr(0, bytes.size() - 1), 3);
  // A ring transfer whose ring does not decode.
  MembershipMessage transfer;
  transfer.type = MembershipMessageType::kRing;
  transfer.ring = RingHeader{99, 0};
  transfer.ring_bytes = "garbage";
  node.on_message(kB, encode_membership_message(transfer), 4);
  EXPECT_EQ(node.stats().malformed_messages, 4u);
  EXPECT_TRUE(network.sent.empty());
  EXPECT_EQ(node.ring().epoch(), 1u);
}

}  // namespace
}  // namespace cairn
