// Proves the CONFIG registry: glob GET, validation and normalization as Redis, atomic SET of
// several parameters, aliases, immutable parameters, and run-time effects on ProtocolLimits
// and maxclients.
#include "server/config_registry.h"

#include <gtest/gtest.h>

#include <array>

#include "server/client_registry.h"

namespace cairn {
namespace {

class ServerConfigRegistryTest : public ::testing::Test {
 protected:
  ServerConfigRegistryTest() : clients_(config_.maxclients), registry_(config_, limits_, clients_) {}

  std::vector<std::pair<std::string, std::string>> get(std::string_view pattern) {
    std::array<std::string_view, 1> patterns = {pattern};
    return registry_.get(patterns);
  }
  Result<bool> set(std::initializer_list<std::string_view> pairs) {
    std::vector<std::string_view> argv(pairs);
    return registry_.set(argv);
  }

  ServerConfig config_;
  ProtocolLimits limits_;
  ClientRegistry clients_;
  ConfigRegistry registry_;
};

TEST_F(ServerConfigRegistryTest, GetByGlobIsSortedAndCaseInsensitive) {
  auto pairs = get("HASH-MAX-*");
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"hash-max-listpack-entries", "128"}));
  EXPECT_EQ(pairs[1].first, "hash-max-listpack-value");
  EXPECT_EQ(pairs[2].first, "hash-max-ziplist-entries");
  EXPECT_EQ(pairs[2].second, "128");
  EXPECT_EQ(get("maxmemory")[0].second, "0");
  EXPECT_EQ(get("port")[0].second, "7379");
  EXPECT_EQ(get("appendfsync")[0].second, "everysec");
  EXPECT_TRUE(get("nosuch*").empty());
  EXPECT_GT(get("*").size(), 50u);
}

TEST_F(ServerConfigRegistryTest, SetNormalizesMemoryAndBool) {
  ASSERT_TRUE(set({"maxmemory", "1gb"}).is_ok());
  EXPECT_EQ(registry_.value("maxmemory"), "1073741824");
  ASSERT_TRUE(set({"activerehashing", "NO"}).is_ok());
  EXPECT_EQ(registry_.value("activerehashing"), "no");
  ASSERT_TRUE(set({"maxmemory-policy", "ALLKEYS-LRU"}).is_ok());
  EXPECT_EQ(registry_.value("maxmemory-policy"), "allkeys-lru");
}

TEST_F(ServerConfigRegistryTest, AliasesShareOneValue) {
  ASSERT_TRUE(set({"hash-max-ziplist-entries", "77"}).is_ok());
  EXPECT_EQ(registry_.value("hash-max-listpack-entries"), "77");
  auto duplicate = set({"hash-max-ziplist-entries", "1", "hash-max-listpack-entries", "2"});
  ASSERT_FALSE(duplicate.is_ok());
  EXPECT_NE(duplicate.status().message().find("duplicate parameter"), std::string::npos);
}

TEST_F(ServerConfigRegistryTest, ErrorsAreRedisWordedAndNothingChanges) {
  auto unknown = set({"foo", "bar"});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().message(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  // One bad value: the good one before it is not applied either.
  auto bad = set({"hz", "20", "maxmemory", "lots"});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be "
            "a memory value");
  EXPECT_EQ(registry_.value("hz"), "10");
  auto not_int = set({"hz", "x"});
  EXPECT_NE(not_int.status().message().find("couldn't be parsed into an integer"), std::string::npos);
  auto immutable = set({"port", "1"});
  EXPECT_NE(immutable.status().message().find("can't set immutable config"), std::string::npos);
  auto choice = set({"maxmemory-policy", "sometimes"});
  EXPECT_NE(choice.status().message().find("must be one of the following"), std::string::npos);
}

TEST_F(ServerConfigRegistryTest, RunTimeParametersAct) {
  ASSERT_TRUE(set({"proto-max-bulk-len", "2mb"}).is_ok());
  EXPECT_EQ(limits_.bulk_bytes_max.load(), 2u << 20);
  EXPECT_FALSE(set({"proto-max-bulk-len", "2gb"}).is_ok());  // over 1 GiB
  ASSERT_TRUE(set({"maxclients", "3"}).is_ok());
  EXPECT_EQ(clients_.maxclients(), 3u);
  ASSERT_TRUE(set({"client-query-buffer-limit", "4mb"}).is_ok());
  EXPECT_EQ(limits_.query_buffer_bytes_max.load(), 4u << 20);
}

TEST_F(ServerConfigRegistryTest, OutputBufferLimitMapsNormalHardLimit) {
  ASSERT_TRUE(set({"client-output-buffer-limit", "normal 1mb 0 0"}).is_ok());
  EXPECT_EQ(limits_.output_buffer_bytes_max.load(), 1u << 20);
  // The classes not named keep their limits.
  EXPECT_EQ(registry_.value("client-output-buffer-limit"),
            "normal 1048576 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  EXPECT_FALSE(set({"client-output-buffer-limit", "normal 1mb 0"}).is_ok());
  EXPECT_FALSE(set({"client-output-buffer-limit", "weird 1 0 0"}).is_ok());
}

TEST(ServerParseMemory, UnitsAsRedis) {
  EXPECT_EQ(parse_memory("100"), 100u);
  EXPECT_EQ(parse_memory("1k"), 1000u);
  EXPECT_EQ(parse_memory("1KB"), 1024u);
  EXPECT_EQ(parse_memory("3mb"), 3u << 20);
  EXPECT_EQ(parse_memory("1g"), 1000000000u);
  EXPECT_FALSE(parse_memory("").has_value());
  EXPECT_FALSE(parse_memory("12x").has_value());
  EXPECT_FALSE(parse_memory("-1").has_value());
}

}  // namespace
}  // namespace cairn
