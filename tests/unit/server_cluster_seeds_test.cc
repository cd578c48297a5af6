// Proves how a node reads its seeds and the cluster's addresses: the --seeds list, the
// "ip:port@busport" member address, and the `myself` line of a seed's CLUSTER NODES.
#include <gtest/gtest.h>

#include "server/cluster_runtime.h"
#include "server/cluster_seeds.h"

namespace cairn {
namespace {

// Proves a seed list parses entry by entry, empty entries skipped, and bad ones are named.
TEST(ClusterSeedsTest, SeedListsParse) {
  const auto seeds = parse_seeds("127.0.0.1:7379,,node-2:7380");
  ASSERT_TRUE(seeds.is_ok()) << seeds.status().to_string();
  ASSERT_EQ(seeds->size(), 2u);
  EXPECT_EQ((*seeds)[0], (HostPort{"127.0.0.1", 7379}));
  EXPECT_EQ((*seeds)[1], (HostPort{"node-2", 7380}));
  EXPECT_FALSE(parse_seeds("127.0.0.1").is_ok());
  EXPECT_FALSE(parse_seeds("127.0.0.1:0").is_ok());
  std::string many;
  for (int i = 0; i < 17; i++) many += "h:" + std::to_string(7000 + i) + ",";
  EXPECT_FALSE(parse_seeds(many).is_ok());
}

// Proves member addresses round-trip and malformed ones are refused.
TEST(ClusterSeedsTest, MemberAddressesRoundTrip) {
  const std::string address = ClusterRuntime::member_address("10.0.0.7", 7379, 17379);
  EXPECT_EQ(address, "10.0.0.7:7379@17379");
  const auto parsed = ClusterRuntime::parse_member_address(address);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->ip, "10.0.0.7");
  EXPECT_EQ(parsed->port, 7379);
  EXPECT_EQ(parsed->bus_port, 17379);
  for (const char* bad : {"", "10.0.0.7:7379", "10.0.0.7@17379", ":7379@17379", "h:x@1", "h:1@",
                          "h:70000@1"}) {
    EXPECT_EQ(ClusterRuntime::parse_member_address(bad), std::nullopt) << bad;
  }
}

// Proves the seed's own line is found among others, and a reply without one, or with a node id
// that is not Cairn's, is an error.
TEST(ClusterSeedsTest, TheMyselfLineNamesTheSeed) {
  const std::string nodes =
      "0000000000000000000000000000000000000002 127.0.0.1:7380@17380 master - 0 0 3 connected "
      "8-15\n"
      "0000000000000000000000000000000000000001 127.0.0.1:7379@17379 myself,master - 0 0 3 "
      "connected 0-7\n";
  const auto seed = parse_myself_line(nodes);
  ASSERT_TRUE(seed.is_ok()) << seed.status().to_string();
  EXPECT_EQ(seed->id, NodeId{1});
  EXPECT_EQ(seed->ip, "127.0.0.1");
  EXPECT_EQ(seed->port, 7379);
  EXPECT_EQ(seed->bus_port, 17379);
  EXPECT_FALSE(parse_myself_line("").is_ok());
  EXPECT_FALSE(
      parse_myself_line("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 "
                        "myself,master - 0 0 1 connected 0-5460\n")
          .is_ok());
}

}  // namespace
}  // namespace cairn
