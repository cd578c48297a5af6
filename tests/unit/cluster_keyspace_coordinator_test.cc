// Proves the keyspace-wide requests on a hand-driven network of five nodes (N = 3): DBSIZE and
// KEYS count and list every key once whichever node asks, also with a replica down; a SCAN loop
// returns every key exactly once, also with MATCH and TYPE; RANDOMKEY answers a live key, nil
// when there is none; a slot without a live replica fails the request with CLUSTERDOWN; and
// FLUSHALL empties the cluster so that a write after it survives and a write from before it
// that arrives late (a hint, a replayed message) brings nothing back, and is refused with a
// node down.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "cluster/coordinator.h"
#include "support/replication_harness.h"

namespace cairn {
namespace {

using test::ReplicationHarness;

ClusterRequest keyspace(RequestKind kind) {
  ClusterRequest request;
  request.kind = kind;
  return request;
}

ClusterRequest set_request(const std::string& key, const std::string& value) {
  return ClusterRequest{RequestKind::kSet, key, {value}, 0};
}

// Writes `count` strings and a few hashes through rotating coordinators; returns the keys.
std::set<std::string> populate(ReplicationHarness& harness, int count) {
  std::set<std::string> keys;
  for (int i = 0; i < count; i++) {
    const std::string key = "key:" + std::to_string(i);
    EXPECT_TRUE(harness.run(1 + i % 5, set_request(key, "v")).status.is_ok());
    keys.insert(key);
  }
  for (int i = 0; i < 10; i++) {
    const std::string key = "hash:" + std::to_string(i);
    EXPECT_TRUE(harness.run(1 + i % 5, ClusterRequest{RequestKind::kHashSet, key, {"f", "v"}, 0})
                    .status.is_ok());
    keys.insert(key);
  }
  return keys;
}

// Every key a SCAN loop through `node` returns, with how many times.
std::map<std::string, int> scan_loop(ReplicationHarness& harness, size_t node,
                                     KeyspaceQuery query) {
  std::map<std::string, int> seen;
  query.start = ScanPosition{};
  for (int pages = 0; pages < 10'000; pages++) {
    ClusterRequest request = keyspace(RequestKind::kScanKeys);
    request.query = query;
    const ClusterReply page = harness.run(node, request);
    EXPECT_TRUE(page.status.is_ok()) << page.status.to_string();
    for (const std::string& key : page.values) seen[key]++;
    if (!page.next.has_value()) return seen;
    EXPECT_LT(query.start, *page.next) << "a page must move forward";
    query.start = *page.next;
  }
  ADD_FAILURE() << "the scan never ended";
  return seen;
}

// Proves DBSIZE and KEYS through every node see each key once, also with a node down.
TEST(KeyspaceCoordinatorTest, CountAndListCoverEveryKeyOnce) {
  ReplicationHarness harness(5);
  const std::set<std::string> keys = populate(harness, 200);
  for (size_t node = 1; node <= 5; node++) {
    const ClusterReply count = harness.run(node, keyspace(RequestKind::kCountKeys));
    ASSERT_TRUE(count.status.is_ok()) << count.status.to_string();
    EXPECT_EQ(count.integer, static_cast<int64_t>(keys.size())) << "through node " << node;
    const ClusterReply listed = harness.run(node, keyspace(RequestKind::kListKeys));
    ASSERT_TRUE(listed.status.is_ok()) << listed.status.to_string();
    EXPECT_EQ(std::set<std::string>(listed.values.begin(), listed.values.end()), keys);
    EXPECT_EQ(listed.values.size(), keys.size());
  }
  harness.set_down(2, true);
  EXPECT_EQ(harness.run(4, keyspace(RequestKind::kCountKeys)).integer,
            static_cast<int64_t>(keys.size()));
  ClusterRequest hashes = keyspace(RequestKind::kListKeys);
  hashes.query.pattern = "hash:*";
  EXPECT_EQ(harness.run(3, hashes).values.size(), 10u);
}

// Proves a SCAN loop with a small COUNT returns every key exactly once, MATCH and TYPE only the
// keys that match, and an empty cluster a single empty page.
TEST(KeyspaceCoordinatorTest, AScanLoopReturnsEveryKeyOnce) {
  ReplicationHarness harness(5);
  const ClusterReply empty = harness.run(2, keyspace(RequestKind::kScanKeys));
  EXPECT_TRUE(empty.values.empty());
  EXPECT_FALSE(empty.next.has_value());
  const std::set<std::string> keys = populate(harness, 300);
  for (const uint64_t count : {3, 10, 1000}) {
    KeyspaceQuery query;
    query.count = count;
    const std::map<std::string, int> seen = scan_loop(harness, 1 + count % 5, query);
    EXPECT_EQ(seen.size(), keys.size()) << "COUNT " << count;
    for (const auto& [key, times] : seen) {
      EXPECT_TRUE(keys.contains(key)) << key;
      EXPECT_EQ(times, 1) << key;
    }
  }
  KeyspaceQuery matching;
  matching.pattern = "key:1*";
  EXPECT_EQ(scan_loop(harness, 3, matching).size(), 111u);  // 1, 10-19, 100-199
  KeyspaceQuery hashes;
  hashes.type = KeyStateType::kHash;
  EXPECT_EQ(scan_loop(harness, 4, hashes).size(), 10u);
}

// Proves RANDOMKEY answers a live key from any starting slot, and nil on an empty cluster.
TEST(KeyspaceCoordinatorTest, RandomKeyAnswersALiveKey) {
  ReplicationHarness harness(5);
  ClusterRequest random = keyspace(RequestKind::kRandomKey);
  EXPECT_FALSE(harness.run(1, random).value.has_value());
  ASSERT_TRUE(harness.run(1, set_request("only", "v")).status.is_ok());
  std::set<std::string> answers;
  for (int64_t number : {0, 1, 8191, 16383, 99'999}) {
    random.number = number;
    const ClusterReply reply = harness.run(2, random);
    ASSERT_TRUE(reply.status.is_ok()) << reply.status.to_string();
    answers.insert(reply.value.value_or("(nil)"));
  }
  EXPECT_EQ(answers, std::set<std::string>{"only"});
  // Nothing but tombstones: every page is empty, and the answer is nil.
  for (const std::string& key : populate(harness, 300)) {
    ASSERT_TRUE(harness.run(3, ClusterRequest{RequestKind::kDelete, key, {}, 0}).status.is_ok());
  }
  ASSERT_TRUE(harness.run(3, ClusterRequest{RequestKind::kDelete, "only", {}, 0}).status.is_ok());
  random.number = 12'345;
  const ClusterReply none = harness.run(4, random);
  ASSERT_TRUE(none.status.is_ok()) << none.status.to_string();
  EXPECT_FALSE(none.value.has_value());
  EXPECT_EQ(harness.run(5, keyspace(RequestKind::kCountKeys)).integer, 0);
}

// Proves a slot whose replicas are all down fails a read with CLUSTERDOWN naming the slots, and
// FLUSHALL with any ring member down is refused before anything is flushed.
TEST(KeyspaceCoordinatorTest, MissingNodesFailTheRequest) {
  ReplicationHarness harness(5);
  populate(harness, 20);
  const std::vector<size_t> replicas = harness.replicas_of("key:0");
  for (const size_t replica : replicas) harness.set_down(replica, true);
  const size_t asker = harness.non_replica_of("key:0");
  const ClusterReply count = harness.run(asker, keyspace(RequestKind::kCountKeys));
  EXPECT_TRUE(
      count.status.message().starts_with("CLUSTERDOWN DBSIZE needs a live replica of "
                                         "every slot, and slots "))
      << count.status.to_string();
  for (const size_t replica : replicas) harness.set_down(replica, false);

  harness.set_down(3, true);
  const ClusterReply flush = harness.run(1, keyspace(RequestKind::kFlushAll));
  EXPECT_TRUE(
      flush.status.message().starts_with("CLUSTERDOWN FLUSHALL needs every node of the "
                                         "ring, and node "))
      << flush.status.to_string();
  EXPECT_TRUE(flush.status.message().ends_with("is down; nothing was flushed"));
  harness.set_down(3, false);
  EXPECT_EQ(harness.run(1, keyspace(RequestKind::kCountKeys)).integer, 20 + 10);
}

// Proves a node that stops answering before membership notices is passed over: its slots are
// read from their next replicas, so DBSIZE, KEYS and a SCAN loop stay exact; with every replica
// of some slot silent the request fails naming the silent node; a silent node fails FLUSHALL.
TEST(KeyspaceCoordinatorTest, ASilentNodeIsPassedOver) {
  ReplicationHarness harness(5);
  const std::set<std::string> keys = populate(harness, 100);
  harness.set_unreachable(3, true);
  const ClusterReply count = harness.run(1, keyspace(RequestKind::kCountKeys));
  ASSERT_TRUE(count.status.is_ok()) << count.status.to_string();
  EXPECT_EQ(count.integer, static_cast<int64_t>(keys.size()));
  const ClusterReply listed = harness.run(2, keyspace(RequestKind::kListKeys));
  EXPECT_EQ(std::set<std::string>(listed.values.begin(), listed.values.end()), keys);
  KeyspaceQuery query;
  query.count = 20;
  const std::map<std::string, int> seen = scan_loop(harness, 4, query);
  EXPECT_EQ(seen.size(), keys.size());
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << key;

  (void)harness.start(1, keyspace(RequestKind::kFlushAll));
  harness.deliver_all();
  harness.advance_ms(31'000);  // past the flush timeout
  harness.deliver_all();
  ASSERT_TRUE(harness.last_reply().has_value());
  EXPECT_TRUE(harness.last_reply()->status.message().starts_with(
      "CLUSTERDOWN FLUSHALL was acked by 4 of 5 "))
      << harness.last_reply()->status.to_string();

  const std::vector<size_t> replicas = harness.replicas_of("key:0");
  size_t asker = 1;
  while (asker == 3 || std::find(replicas.begin(), replicas.end(), asker) != replicas.end()) {
    asker++;
  }
  ASSERT_LE(asker, 5u);
  for (const size_t replica : replicas) harness.set_unreachable(replica, true);
  // Each silent replica of the slot is waited for in turn.
  (void)harness.start(asker, keyspace(RequestKind::kCountKeys));
  for (int i = 0; i < 100 && !harness.last_reply().has_value(); i++) {
    harness.deliver_all();
    harness.advance_ms(100);
  }
  ASSERT_TRUE(harness.last_reply().has_value());
  const ClusterReply failed = *harness.last_reply();
  EXPECT_TRUE(failed.status.message().starts_with("CLUSTERDOWN DBSIZE needs a live replica"))
      << failed.status.to_string();
  EXPECT_NE(failed.status.message().find("that answers in time (node "), std::string::npos);
}

// Proves a request whose message was lost (the node was briefly unreachable) is sent again and
// completes: a flush, and a count.
TEST(KeyspaceCoordinatorTest, LostMessagesAreSentAgain) {
  ReplicationHarness harness(5);
  const std::set<std::string> keys = populate(harness, 50);
  for (const RequestKind kind : {RequestKind::kCountKeys, RequestKind::kFlushAll}) {
    harness.set_unreachable(4, true);
    (void)harness.start(2, keyspace(kind));
    harness.deliver_all();  // node 4's copy is lost
    harness.set_unreachable(4, false);
    EXPECT_FALSE(harness.last_reply().has_value());
    for (int i = 0; i < 10 && !harness.last_reply().has_value(); i++) {
      harness.advance_ms(100);
      harness.deliver_all();
    }
    ASSERT_TRUE(harness.last_reply().has_value()) << request_kind_name(kind);
    EXPECT_TRUE(harness.last_reply()->status.is_ok()) << harness.last_reply()->status.to_string();
    if (kind == RequestKind::kCountKeys) {
      EXPECT_EQ(harness.last_reply()->integer, static_cast<int64_t>(keys.size()));
    }
  }
  for (size_t node = 1; node <= 5; node++) {
    EXPECT_NE(harness.cluster(node).store().flush_version(), WriteVersion{}) << node;
  }
}

// Proves FLUSHALL empties every replica; a write after it survives; and writes from before it
// delivered late (every message replayed, a hint held for a node) bring nothing back.
TEST(KeyspaceCoordinatorTest, FlushAllDeletesEverythingOlder) {
  ReplicationHarness harness(5);
  populate(harness, 50);
  // A write that misses node 5 leaves a hint for it, delivered after the flush.
  const std::string hinted = [&] {
    for (int i = 0;; i++) {
      const std::string key = "hinted:" + std::to_string(i);
      const std::vector<size_t> replicas = harness.replicas_of(key);
      if (std::find(replicas.begin(), replicas.end(), 5u) != replicas.end()) return key;
    }
  }();
  harness.set_down(5, true);
  ASSERT_TRUE(harness.run(1, set_request(hinted, "old")).status.is_ok());
  harness.advance_ms(2'000);  // the write's deadline passes: the hint is stored
  harness.set_down(5, false);

  const ClusterReply flush = harness.run(2, keyspace(RequestKind::kFlushAll));
  ASSERT_TRUE(flush.status.is_ok()) << flush.status.to_string();
  for (size_t node = 1; node <= 5; node++) {
    EXPECT_EQ(harness.run(node, keyspace(RequestKind::kCountKeys)).integer, 0);
    EXPECT_EQ(harness.cluster(node).store().flush_version(), flush.version);
  }
  ASSERT_TRUE(harness.run(3, set_request("after", "new")).status.is_ok());
  harness.replay_delivered();  // every message of the run again, the old writes among them
  harness.advance_ms(2'000);   // hint delivery
  harness.deliver_all();
  const ClusterReply listed = harness.run(4, keyspace(RequestKind::kListKeys));
  EXPECT_EQ(listed.values, std::vector<std::string>{"after"});
  for (size_t node = 1; node <= 5; node++) {
    EXPECT_EQ(harness.stored(node, hinted).type(harness.now().unix_ms), KeyStateType::kNone);
    EXPECT_EQ(harness.stored(node, "key:7").type(harness.now().unix_ms), KeyStateType::kNone);
  }
  EXPECT_EQ(harness.run(1, ClusterRequest{RequestKind::kGet, "after", {}, 0}).value, "new");
}

}  // namespace
}  // namespace cairn
