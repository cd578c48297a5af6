// Proves the pieces a real node is named and configured by: a node id is created once and kept
// in the data directory; its 40-hex-digit cluster name round-trips and strangers are refused;
// consistency names parse in any case, sloppy or not, and print back.
#include <gtest/gtest.h>

#include "cluster/consistency.h"
#include "cluster/node_identity.h"
#include "io/fault_env.h"
#include "storage/database.h"

namespace cairn {
namespace {

// Proves the first open keeps the fresh id and later opens find it, whatever fresh id they offer.
TEST(NodeIdentityTest, TheIdIsCreatedOnceAndKept) {
  FaultEnv env(1);
  Options options;
  options.env = &env;
  {
    auto database = Database::open(options, "/db").value();
    EXPECT_EQ(load_or_create_node_id(database.get(), NodeId{42}).value(), NodeId{42});
    ASSERT_TRUE(database->close().is_ok());
  }
  auto database = Database::open(options, "/db").value();
  EXPECT_EQ(load_or_create_node_id(database.get(), NodeId{7}).value(), NodeId{42});
  ASSERT_TRUE(database->put("\xFFNnode-id", "short").is_ok());
  EXPECT_TRUE(load_or_create_node_id(database.get(), NodeId{7}).status().is_corruption());
}

// Proves the cluster name is 40 hex digits that parse back, and other names are refused.
TEST(NodeIdentityTest, ClusterNamesRoundTrip) {
  const NodeId id{0x0123456789abcdefULL};
  const std::string name = cluster_node_name(id);
  EXPECT_EQ(name, "0000000000000000000000000123456789abcdef");
  EXPECT_EQ(parse_cluster_node_name(name), id);
  EXPECT_EQ(parse_cluster_node_name("0000000000000000000000000123456789ABCDEF"), id);
  EXPECT_EQ(parse_cluster_node_name("1000000000000000000000000123456789abcdef"), std::nullopt);
  EXPECT_EQ(parse_cluster_node_name("000000000000000000000000012345678"), std::nullopt);
  EXPECT_EQ(parse_cluster_node_name("00000000000000000000000001234567z9abcdef"), std::nullopt);
}

// Proves every level and its sloppy form parse in any case and print back; others are refused.
TEST(ConsistencyTest, NamesParseAndPrintBack) {
  for (const char* name : {"ONE", "QUORUM", "ALL", "SLOPPY-ONE", "SLOPPY-QUORUM", "SLOPPY-ALL"}) {
    const std::optional<Consistency> parsed = parse_consistency(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(consistency_name(*parsed), name);
  }
  const std::optional<Consistency> lower = parse_consistency("sloppy-quorum");
  ASSERT_TRUE(lower.has_value());
  EXPECT_TRUE(lower->sloppy);
  EXPECT_EQ(lower->level, ConsistencyLevel::kQuorum);
  for (const char* bad : {"", "most", "SLOPPY-", "SLOPPY", "quorum ", "sloppy-sloppy-one"}) {
    EXPECT_EQ(parse_consistency(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace cairn
