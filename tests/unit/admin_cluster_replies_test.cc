// The cluster replies cairnctl reads: CLUSTER NODES lines as Redis 7 writes them (flags, slot
// ranges, IPv6, host names, migrating slots), CLUSTER SLOTS with Redis 7's metadata, merged and
// sorted, the INFO fields, and malformed replies as Corruption rather than a crash.
#include <gtest/gtest.h>

#include "admin/cluster_replies.h"
#include "net/resp_reply_reader.h"

namespace cairn {
namespace {

constexpr std::string_view kThreeNodes =
    "6accd9c4c82761126db27b76aaa5488c3853862b 127.0.0.1:31003@41003 master - 0 1795479567992 3 "
    "connected 10923-16383\n"
    "4016c2ec9c889d1312f18d6f3e7aee599e159d9e 127.0.0.1:31002@41002 master,fail? - 0 "
    "1795479566988 2 connected 5461-10922\n"
    "f7ed239c3b1390e25f4a571be2282e559a0c0fed 127.0.0.1:31001@41001 myself,master - 0 "
    "1795479566000 1 connected 0-5460\n";

// Proves the fields of each line: id, address, flags, myself, state and slot ranges.
TEST(ClusterRepliesTest, ParsesClusterNodes) {
  Result<std::vector<ClusterNodesLine>> nodes = parse_cluster_nodes(kThreeNodes);
  ASSERT_TRUE(nodes.is_ok()) << nodes.status().to_string();
  ASSERT_EQ(nodes->size(), 3u);
  const ClusterNodesLine& first = (*nodes)[0];
  EXPECT_EQ(first.id, "6accd9c4c82761126db27b76aaa5488c3853862b");
  EXPECT_EQ(first.address, (HostPort{"127.0.0.1", 31003}));
  EXPECT_FALSE(first.myself);
  EXPECT_EQ(first.state, NodeState::kAlive);
  EXPECT_EQ(first.slots, (std::vector<SlotSpan>{{10923, 16383}}));
  EXPECT_EQ(first.slot_count(), 5461u);
  EXPECT_EQ((*nodes)[1].state, NodeState::kSuspect);
  EXPECT_EQ((*nodes)[1].flags, (std::vector<std::string>{"master", "fail?"}));
  EXPECT_TRUE((*nodes)[2].myself);
  EXPECT_EQ((*nodes)[2].slot_count(), 5461u);
}

// Proves the other shapes a line takes: fail and pfail flags, single slots and several ranges,
// migrating and importing entries skipped, CRLF, a host name after the bus port, an IPv6
// address, a node that does not know its address, and a replica line without slots.
TEST(ClusterRepliesTest, ClusterNodesVariants) {
  const std::string text =
      "a1 10.0.0.1:7379@17379 master,fail - 0 0 1 disconnected 0-99 100 200-300 "
      "[301->-b2] [302-<-c3]\r\n"
      "b2 ::1:7380@17380,node-b.example master,pfail - 0 0 2 connected 5000\r\n"
      "c3 :7381@0 myself,master,noaddr - 0 0 3 connected\r\n"
      "d4 127.0.0.1:7382@17382 slave a1 0 0 1 connected\r\n"
      "\r\n";
  Result<std::vector<ClusterNodesLine>> nodes = parse_cluster_nodes(text);
  ASSERT_TRUE(nodes.is_ok()) << nodes.status().to_string();
  ASSERT_EQ(nodes->size(), 4u);
  EXPECT_EQ((*nodes)[0].state, NodeState::kDead);
  EXPECT_EQ((*nodes)[0].slots, (std::vector<SlotSpan>{{0, 99}, {100, 100}, {200, 300}}));
  EXPECT_EQ((*nodes)[0].slot_count(), 202u);
  EXPECT_EQ((*nodes)[1].state, NodeState::kSuspect);
  EXPECT_EQ((*nodes)[1].address, (HostPort{"::1", 7380}));
  EXPECT_EQ((*nodes)[1].address.to_string(), "[::1]:7380");
  EXPECT_EQ((*nodes)[2].address, (HostPort{"", 7381}));
  EXPECT_TRUE((*nodes)[2].myself);
  EXPECT_TRUE((*nodes)[3].slots.empty());
  EXPECT_EQ(node_state_name(NodeState::kSuspect), "suspect");
}

// Proves malformed CLUSTER NODES text is a Corruption naming the line.
TEST(ClusterRepliesTest, MalformedClusterNodes) {
  for (const char* text :
       {"", "\n\n", "a1 127.0.0.1:1@2 master - 0 0\n", "a1 nocolon master - 0 0 1 connected\n",
        "a1 h:99999@1 master - 0 0 1 connected\n", "a1 h:1@2 master - 0 0 1 connected 16384\n",
        "a1 h:1@2 master - 0 0 1 connected 10-5\n", "a1 h:1@2 master - 0 0 1 connected x-y\n"}) {
    Result<std::vector<ClusterNodesLine>> nodes = parse_cluster_nodes(text);
    ASSERT_FALSE(nodes.is_ok()) << text;
    EXPECT_TRUE(nodes.status().is_corruption()) << nodes.status().to_string();
  }
}

RespValue decode(std::string_view bytes) {
  Result<RespValue> value = decode_resp_reply(bytes);
  EXPECT_TRUE(value.is_ok()) << value.status().to_string();
  return value.is_ok() ? *value : RespValue();
}

std::string entry(std::string_view ip, int port, std::string_view id) {
  return "*4\r\n$" + std::to_string(ip.size()) + "\r\n" + std::string(ip) +
         "\r\n:" + std::to_string(port) + "\r\n$" + std::to_string(id.size()) + "\r\n" +
         std::string(id) + "\r\n*0\r\n";
}

// Proves CLUSTER SLOTS as Redis 7 answers (each entry ip, port, id, metadata), the ranges sorted
// by start slot and adjacent ranges with the same preference list merged.
TEST(ClusterRepliesTest, ParsesClusterSlots) {
  const std::string reply =
      "*4\r\n"
      "*4\r\n:200\r\n:299\r\n" +
      entry("10.0.0.2", 7380, "b") + entry("10.0.0.1", 7379, "a") + "*3\r\n:0\r\n:99\r\n" +
      entry("10.0.0.1", 7379, "a") + "*3\r\n:100\r\n:199\r\n" + entry("10.0.0.1", 7379, "a") +
      "*4\r\n:300\r\n:300\r\n" + entry("10.0.0.2", 7380, "b") + entry("10.0.0.1", 7379, "a");
  Result<std::vector<SlotRange>> ranges = parse_cluster_slots(decode(reply));
  ASSERT_TRUE(ranges.is_ok()) << ranges.status().to_string();
  const Replica a{{"10.0.0.1", 7379}, "a"};
  const Replica b{{"10.0.0.2", 7380}, "b"};
  EXPECT_EQ(*ranges, (std::vector<SlotRange>{{{0, 199}, {a}}, {{200, 300}, {b, a}}}));
  EXPECT_EQ(find_slot_range(*ranges, 0), &(*ranges)[0]);
  EXPECT_EQ(find_slot_range(*ranges, 199), &(*ranges)[0]);
  EXPECT_EQ(find_slot_range(*ranges, 250), &(*ranges)[1]);
  EXPECT_EQ(find_slot_range(*ranges, 301), nullptr);
  EXPECT_EQ(unassigned_spans(*ranges), (std::vector<SlotSpan>{{301, 16383}}));
  EXPECT_EQ(unassigned_spans({}), (std::vector<SlotSpan>{{0, 16383}}));
  EXPECT_TRUE(unassigned_spans({{{0, 16383}, {a}}}).empty());

  // Redis before 4.0: entries without ids.
  Result<std::vector<SlotRange>> old =
      parse_cluster_slots(decode("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$1\r\nh\r\n:1\r\n"));
  ASSERT_TRUE(old.is_ok()) << old.status().to_string();
  EXPECT_EQ((*old)[0].replicas[0], (Replica{{"h", 1}, ""}));
}

// Proves malformed CLUSTER SLOTS replies are Corruption.
TEST(ClusterRepliesTest, MalformedClusterSlots) {
  for (const char* bytes :
       {"+OK\r\n", "*1\r\n:1\r\n", "*1\r\n*1\r\n:0\r\n", "*1\r\n*2\r\n:5\r\n:4\r\n",
        "*1\r\n*2\r\n:0\r\n:16384\r\n", "*1\r\n*3\r\n:0\r\n:1\r\n:7\r\n",
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:70000\r\n",
        "*2\r\n*2\r\n:0\r\n:10\r\n*2\r\n:5\r\n:20\r\n"}) {
    Result<std::vector<SlotRange>> ranges = parse_cluster_slots(decode(bytes));
    ASSERT_FALSE(ranges.is_ok()) << bytes;
    EXPECT_TRUE(ranges.status().is_corruption()) << ranges.status().to_string();
  }
}

// Proves the INFO fields cairnctl shows, and their absence.
TEST(ClusterRepliesTest, ParsesInfo) {
  const NodeStats full = parse_info(
      "# Server\r\nredis_version:7.0.15\r\ncairn_rack:rack-a\r\n\r\n# Stats\r\n"
      "instantaneous_ops_per_sec:1234\r\ncairn_disk_bytes:1610612736\r\n\r\n# Keyspace\r\n"
      "db0:keys=42,expires=1,avg_ttl=0\r\ndb1:keys=7,expires=0,avg_ttl=0\r\n");
  EXPECT_EQ(full.rack, "rack-a");
  EXPECT_EQ(full.ops_per_sec, 1234u);
  EXPECT_EQ(full.disk_bytes, 1610612736u);
  EXPECT_EQ(full.keys, 42u);

  // Redis leaves db0 out when it is empty; a server without a keyspace section reports nothing.
  EXPECT_EQ(parse_info("# Keyspace\n").keys, 0u);
  const NodeStats none = parse_info("# Server\nredis_version:7.0.15\nnonsense line\n");
  EXPECT_FALSE(none.rack.has_value());
  EXPECT_FALSE(none.keys.has_value());
  EXPECT_FALSE(none.ops_per_sec.has_value());
  EXPECT_FALSE(none.disk_bytes.has_value());
  EXPECT_FALSE(parse_info("cairn_disk_bytes:lots\n").disk_bytes.has_value());
}

// Proves human-readable sizes in binary units.
TEST(ClusterRepliesTest, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes((1u << 20) - 1), "1.0 MiB");
  EXPECT_EQ(human_bytes(uint64_t{20} << 30), "20.0 GiB");
  EXPECT_EQ(human_bytes(uint64_t{3} << 40), "3.0 TiB");
  EXPECT_EQ(human_bytes(UINT64_MAX), "16.0 EiB");
}

}  // namespace
}  // namespace cairn
