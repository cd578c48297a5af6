// Proves the coordinator's quorum rules on a hand-driven network of five nodes: writes answer
// after W acks and reads after R replies from the key's replicas; too few replies give an error
// naming the level and the count; replicas that missed a write get it as a hint once back, or
// through read repair; sloppy writes go to stand-ins; counters on different coordinators lose no
// increment; SREM removes only what its read saw; duplicated messages change nothing; answered
// writes waiting on a silent replica do not count against the limit of requests in flight.
#include <gtest/gtest.h>

#include "cluster/coordinator.h"
#include "support/replication_harness.h"

namespace cairn {
namespace {

using test::ReplicationHarness;

ClusterRequest set_request(const std::string& key, const std::string& value) {
  return ClusterRequest{RequestKind::kSet, key, {value}, 0};
}
ClusterRequest get_request(const std::string& key) {
  return ClusterRequest{RequestKind::kGet, key, {}, 0};
}
ClusterRequest incr_request(const std::string& key, int64_t delta) {
  return ClusterRequest{RequestKind::kIncrBy, key, {}, delta};
}

std::optional<std::string> value_at(ReplicationHarness& harness, size_t node,
                                    const std::string& key) {
  return harness.stored(node, key).string_value(harness.now().unix_ms);
}

// Proves a QUORUM write through a node that holds no replica reaches all three replicas, and a
// QUORUM read through another node returns it.
TEST(CoordinatorTest, QuorumWriteAndReadThroughAnyNode) {
  ReplicationHarness harness(5);
  const std::string key = "user:1";
  const size_t outsider = harness.non_replica_of(key);
  ASSERT_NE(outsider, 0u);
  ASSERT_TRUE(harness.run(outsider, set_request(key, "alice")).status.is_ok());
  for (const size_t replica : harness.replicas_of(key)) {
    EXPECT_EQ(value_at(harness, replica, key), "alice") << "replica " << replica;
  }
  EXPECT_EQ(value_at(harness, outsider, key), std::nullopt);
  const ClusterReply read = harness.run(harness.replicas_of(key)[1], get_request(key));
  ASSERT_TRUE(read.status.is_ok()) << read.status.to_string();
  EXPECT_EQ(read.value, "alice");
}

// Proves that with two of three replicas down a QUORUM write fails with an error naming the
// level and the replies, and a ONE write succeeds.
TEST(CoordinatorTest, TooFewReplicasAnswerAnErrorNamingTheLevel) {
  ReplicationHarness harness(5);
  const std::string key = "k";
  const std::vector<size_t> replicas = harness.replicas_of(key);
  harness.set_down(replicas[1], true);
  harness.set_down(replicas[2], true);
  const ClusterReply failed = harness.run(replicas[0], set_request(key, "v"));
  ASSERT_FALSE(failed.status.is_ok());
  EXPECT_EQ(failed.status.message(),
            "NOQUORUM QUORUM write of SET needs 2 of 3 replicas; 1 replied");
  const ClusterReply read =
      harness.run(replicas[0], get_request(key), Consistency{ConsistencyLevel::kAll, false});
  EXPECT_EQ(read.status.message(), "NOQUORUM ALL read of GET needs 3 of 3 replicas; 1 replied");
  EXPECT_TRUE(
      harness.run(replicas[0], set_request(key, "w"), Consistency{ConsistencyLevel::kOne, false})
          .status.is_ok());
}

// Proves the front end's generic pair: kReadState answers the merge of the replicas' states, and
// kWriteState writes the delta built from the version the coordinator assigned, which is newer
// than the state read (so a read-modify-write never loses to what it read), with the command's
// name in its errors.
TEST(CoordinatorTest, ReadStateAndWriteStateCarryAFrontEndsChange) {
  ReplicationHarness harness(5);
  const std::string key = "list";
  const size_t coordinator = harness.non_replica_of(key);
  ASSERT_TRUE(harness.run(coordinator, set_request(key, "v1")).status.is_ok());
  const ClusterReply read =
      harness.run(coordinator, ClusterRequest{RequestKind::kReadState, key, {}, 0});
  ASSERT_TRUE(read.status.is_ok()) << read.status.to_string();
  EXPECT_EQ(read.state.string_value(harness.now().unix_ms), "v1");

  WriteVersion assigned;
  ClusterRequest write{RequestKind::kWriteState, key, {}, 0};
  write.write_delta = [&](WriteVersion version) {
    assigned = version;
    KeyState delta = KeyState::list_replace(version, {"a", "b"});
    delta.with_context(read.state);
    return delta;
  };
  write.command_name = "RPUSH";
  ASSERT_TRUE(harness.run(coordinator, write).status.is_ok());
  EXPECT_GT(assigned, read.state.newest_version());
  for (const size_t replica : harness.replicas_of(key)) {
    EXPECT_EQ(harness.stored(replica, key).list_elements(harness.now().unix_ms),
              (std::vector<std::string>{"a", "b"}))
        << "replica " << replica;
  }

  const std::vector<size_t> replicas = harness.replicas_of(key);
  harness.set_down(replicas[1], true);
  harness.set_down(replicas[2], true);
  EXPECT_EQ(harness.run(coordinator, write).status.message(),
            "NOQUORUM QUORUM write of RPUSH needs 2 of 3 replicas; 1 replied");
}

// Proves a replica that was down during an acknowledged write gets it from the coordinator's
// hint once it is back, and the hint is then gone.
TEST(CoordinatorTest, MissedWritesArriveAsHintsWhenTheReplicaIsBack) {
  ReplicationHarness harness(5);
  const std::string key = "hinted";
  const std::vector<size_t> replicas = harness.replicas_of(key);
  const size_t coordinator = harness.non_replica_of(key);
  harness.set_down(replicas[2], true);
  ASSERT_TRUE(harness.run(coordinator, set_request(key, "v1")).status.is_ok());
  harness.advance_ms(2000);  // the request times out: the missing ack becomes a hint
  EXPECT_EQ(harness.cluster(coordinator).hints().count(NodeId{replicas[2]}), 1u);
  EXPECT_EQ(value_at(harness, replicas[2], key), std::nullopt);
  harness.set_down(replicas[2], false);
  harness.advance_ms(10);
  harness.deliver_all();
  EXPECT_EQ(value_at(harness, replicas[2], key), "v1");
  EXPECT_EQ(harness.cluster(coordinator).hints().count(NodeId{replicas[2]}), 0u);
  EXPECT_EQ(harness.cluster(coordinator).hints().stats().delivered, 1u);
}

// Proves the limit of requests in flight counts unanswered ones only: writes answered after W
// acks but still waiting on a silent replica's do not refuse new requests, until the bound on all
// operations kept; once their deadline passes they end (as hints) and requests go through again.
TEST(CoordinatorTest, AnsweredWritesWaitingOnALaggingReplicaDoNotRefuseRequests) {
  ClusterNodeConfig config;
  config.coordinator.requests_in_flight_max = 4;
  config.coordinator.operations_max = 8;
  ReplicationHarness harness(5, 3, config);
  const std::vector<size_t> replicas = harness.replicas_of("k0");
  harness.set_down(replicas[2], true);
  // Two of three acks answer each write; the third replica's never comes.
  for (int i = 0; i < 8; i++) {
    ASSERT_TRUE(harness.run(replicas[0], set_request("k0", "v" + std::to_string(i))).status.is_ok())
        << "write " << i;
  }
  EXPECT_EQ(harness.cluster(replicas[0]).coordinator().in_flight(), 8u);
  const ClusterReply refused = harness.run(replicas[0], set_request("k0", "over"));
  EXPECT_EQ(refused.status.message(), "BUSY too many requests in flight");
  harness.advance_ms(2000);  // the deadlines pass: the missing acks become hints
  EXPECT_EQ(harness.cluster(replicas[0]).coordinator().in_flight(), 0u);
  EXPECT_TRUE(harness.run(replicas[0], set_request("k0", "after")).status.is_ok());
}

// Proves a sloppy QUORUM write with two replicas down succeeds through stand-ins that hold it as
// hints, and the hints reach the replicas when they return.
TEST(CoordinatorTest, SloppyWritesUseStandInsThatHandTheWriteBack) {
  ReplicationHarness harness(5);
  const std::string key = "sloppy";
  const std::vector<size_t> replicas = harness.replicas_of(key);
  harness.set_down(replicas[1], true);
  harness.set_down(replicas[2], true);
  const ClusterReply reply =
      harness.run(replicas[0], set_request(key, "s"), Consistency{ConsistencyLevel::kQuorum, true});
  ASSERT_TRUE(reply.status.is_ok()) << reply.status.to_string();
  size_t held = 0;
  for (size_t id = 1; id <= 5; id++) {
    held += harness.cluster(id).hints().count(NodeId{replicas[1]}) +
            harness.cluster(id).hints().count(NodeId{replicas[2]});
  }
  EXPECT_EQ(held, 2u);
  harness.set_down(replicas[1], false);
  harness.set_down(replicas[2], false);
  harness.advance_ms(10);
  harness.deliver_all();
  for (const size_t replica : replicas) EXPECT_EQ(value_at(harness, replica, key), "s");
}

// Proves a read that finds a stale replica sends it the merged state.
TEST(CoordinatorTest, ReadRepairUpdatesStaleReplicas) {
  ReplicationHarness harness(3);
  const std::string key = "repair";
  harness.set_down(3, true);
  ASSERT_TRUE(harness.run(1, set_request(key, "new")).status.is_ok());
  harness.set_down(3, false);
  // No time passes, so no hint is delivered: only the read can repair node 3.
  const ClusterReply read =
      harness.run(1, get_request(key), Consistency{ConsistencyLevel::kAll, false});
  ASSERT_EQ(read.value, "new");
  EXPECT_EQ(value_at(harness, 3, key), "new");
  EXPECT_GE(harness.cluster(1).coordinator().stats().read_repairs, 1u);
}

// Proves a QUORUM read asks only as many replicas as it needs (this node and the next live one),
// and goes to the third once one of them stays silent past read_widen_after_ms.
TEST(CoordinatorTest, AQuorumReadAsksTwoReplicasAndWidensWhenOneIsSilent) {
  ReplicationHarness harness(3);
  const std::string key = "widen";
  const std::vector<size_t> replicas = harness.replicas_of(key);
  ASSERT_TRUE(harness.run(replicas[0], set_request(key, "v")).status.is_ok());
  const size_t third_before = harness.messages_to(replicas[2]);
  const ClusterReply read = harness.run(replicas[0], get_request(key));
  ASSERT_EQ(read.value, "v");
  EXPECT_EQ(harness.messages_to(replicas[2]), third_before);  // not asked

  harness.set_unreachable(replicas[1], true);
  ASSERT_FALSE(harness.start(replicas[0], get_request(key)).has_value());
  harness.deliver_all();
  EXPECT_FALSE(harness.last_reply().has_value());  // waits on the silent replica
  harness.advance_ms(CoordinatorConfig{}.read_widen_after_ms);
  harness.deliver_all();
  ASSERT_TRUE(harness.last_reply().has_value());
  EXPECT_EQ(harness.last_reply()->value, "v");
  EXPECT_GT(harness.messages_to(replicas[2]), third_before);
}

// Proves increments coordinated by different nodes, interleaved, all count.
TEST(CoordinatorTest, CountersOnManyCoordinatorsLoseNoIncrement) {
  ReplicationHarness harness(5);
  const std::string key = "counter";
  int64_t expected = 0;
  for (int round = 0; round < 4; round++) {
    for (size_t node = 1; node <= 5; node++) {
      const int64_t delta = static_cast<int64_t>(node) * (round % 2 ? -1 : 3);
      harness.start(node, incr_request(key, delta));
      expected += delta;
    }
    harness.deliver_all();
  }
  const ClusterReply read = harness.run(2, get_request(key));
  EXPECT_EQ(read.value, std::to_string(expected));
}

// Proves SREM removes the additions its read saw, and an SADD it did not see survives it.
TEST(CoordinatorTest, SetRemoveKeepsAdditionsItDidNotSee) {
  ReplicationHarness harness(3);
  const std::string key = "set";
  ASSERT_TRUE(
      harness.run(1, ClusterRequest{RequestKind::kSetAdd, key, {"a", "b"}, 0}).status.is_ok());
  // SREM b starts (its read goes out), then an SADD b lands before the SREM's write.
  harness.start(2, ClusterRequest{RequestKind::kSetRemove, key, {"b"}, 0});
  harness.start(3, ClusterRequest{RequestKind::kSetAdd, key, {"b"}, 0});
  harness.deliver_all();
  const ClusterReply members = harness.run(1, ClusterRequest{RequestKind::kSetMembers, key, {}, 0},
                                           Consistency{ConsistencyLevel::kAll, false});
  EXPECT_EQ(members.values, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(
      harness.run(2, ClusterRequest{RequestKind::kSetRemove, key, {"b"}, 0}).status.is_ok());
  const ClusterReply after = harness.run(1, ClusterRequest{RequestKind::kSetMembers, key, {}, 0});
  EXPECT_EQ(after.values, (std::vector<std::string>{"a"}));
}

// Proves every message delivered twice gives the same answers and contents as once, and that
// replaying the whole history of messages afterwards changes no replica.
TEST(CoordinatorTest, DuplicatedAndReplayedMessagesChangeNothing) {
  ReplicationHarness twice(3);
  twice.set_duplicate(true);
  ASSERT_TRUE(twice.run(1, set_request("s", "x")).status.is_ok());
  EXPECT_EQ(twice.run(2, incr_request("c", 5)).integer, 5);
  EXPECT_EQ(twice.run(3, incr_request("c", 7)).integer, 12);
  twice.run(1, ClusterRequest{RequestKind::kHashSet, "h", {"f", "1", "g", "2"}, 0});
  twice.run(2, ClusterRequest{RequestKind::kHashDelete, "h", {"g"}, 0});
  twice.set_duplicate(false);
  std::vector<std::string> before;
  for (const char* key : {"s", "c", "h"}) {
    for (size_t node = 1; node <= 3; node++) before.push_back(twice.stored(node, key).encode());
  }
  twice.replay_delivered();
  std::vector<std::string> after;
  for (const char* key : {"s", "c", "h"}) {
    for (size_t node = 1; node <= 3; node++) after.push_back(twice.stored(node, key).encode());
  }
  EXPECT_EQ(before, after);
  EXPECT_EQ(twice.run(1, get_request("c")).value, "12");
  const ClusterReply hash = twice.run(3, ClusterRequest{RequestKind::kHashGetAll, "h", {}, 0});
  EXPECT_EQ(hash.values, (std::vector<std::string>{"f", "1"}));
}

}  // namespace
}  // namespace cairn
