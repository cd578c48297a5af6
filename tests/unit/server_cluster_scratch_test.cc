// Proves the scratch keyspace runs a transaction's commands one after the other on the keys it
// loaded, each replying as the single node does (WRONGTYPE included), reads back what they left,
// answers a blocking pop at once, and is empty again after each run; and that cluster mode routes
// each command as docs/cluster-operations.md says (transactions and blocking pops run, the
// keyspace-wide commands do not yet).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/cluster_commands.h"
#include "server/cluster_scratch.h"
#include "server/command_table.h"

namespace cairn {
namespace {

KeyImage string_image(std::string value) {
  KeyImage image;
  image.type = KeyStateType::kString;
  image.string_value = std::move(value);
  return image;
}

// Runs argv (whose command must be in the standard table) in `run`, and returns its reply.
std::string execute(ClusterScratch::Run& run, std::vector<std::string_view> argv,
                    RespVersion resp = RespVersion::kResp2) {
  const CommandEntry* entry = CommandTable::standard().find(argv[0]);
  EXPECT_NE(entry, nullptr);
  std::string out;
  ReplyWriter reply(&out, resp);
  run.execute(*entry, argv, reply);
  return out;
}

std::unique_ptr<ClusterScratch> open_scratch() {
  Result<std::unique_ptr<ClusterScratch>> scratch = ClusterScratch::open();
  EXPECT_TRUE(scratch.is_ok()) << scratch.status().to_string();
  return std::move(scratch).value();
}

TEST(ClusterScratchTest, CommandsOfOneRunSeeEachOthersChanges) {
  std::unique_ptr<ClusterScratch> scratch = open_scratch();
  const std::vector<std::string> keys = {"{t}n", "{t}l"};
  {
    ClusterScratch::Run run = scratch->begin();
    ASSERT_TRUE(run.load(keys, std::vector<KeyImage>{string_image("41"), KeyImage()}).is_ok());
    EXPECT_EQ(execute(run, {"incr", "{t}n"}), ":42\r\n");
    EXPECT_EQ(execute(run, {"lpush", "{t}n", "x"}),
              "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    EXPECT_EQ(execute(run, {"rpush", "{t}l", "a", "b"}), ":2\r\n");
    EXPECT_EQ(execute(run, {"lpop", "{t}l"}, RespVersion::kResp3), "$1\r\na\r\n");
    // Nothing may block in the scratch: a blocking pop answers as if it timed out.
    EXPECT_EQ(execute(run, {"blpop", "{t}empty", "0"}), "*-1\r\n");
    EXPECT_EQ(execute(run, {"blpop", "{t}empty", "0"}, RespVersion::kResp3), "_\r\n");
    Result<std::vector<KeyImage>> after = run.read_back();
    ASSERT_TRUE(after.is_ok()) << after.status().to_string();
    ASSERT_EQ(after->size(), 2u);
    EXPECT_EQ((*after)[0], string_image("42"));
    EXPECT_EQ((*after)[1].type, KeyStateType::kList);
    EXPECT_EQ((*after)[1].list_elements, std::vector<std::string>{"b"});
  }
  // The next run starts from an empty scratch: the keys it does not load are absent.
  ClusterScratch::Run run = scratch->begin();
  ASSERT_TRUE(
      run.load(std::vector<std::string>{"{t}other"}, std::vector<KeyImage>{KeyImage()}).is_ok());
  EXPECT_EQ(execute(run, {"exists", "{t}n", "{t}l"}), ":0\r\n");
}

TEST(ClusterRouteTest, TransactionsAndBlockingPopsRunInClusterMode) {
  auto route = [](std::string_view name) {
    const CommandEntry* entry = CommandTable::standard().find(name);
    EXPECT_NE(entry, nullptr) << name;
    return cluster_route(entry->full_name, *entry->spec);
  };
  for (const std::string_view name : {"multi", "discard", "unwatch", "ping", "client"}) {
    EXPECT_EQ(route(name), ClusterRoute::kNode) << name;
  }
  EXPECT_EQ(route("watch"), ClusterRoute::kTransaction);
  EXPECT_EQ(route("exec"), ClusterRoute::kTransaction);
  for (const std::string_view name : {"get", "hset", "blpop", "brpoplpush", "bzmpop", "blmove"}) {
    EXPECT_EQ(route(name), ClusterRoute::kKeys) << name;
  }
  for (const std::string_view name : {"keys", "scan", "dbsize", "flushall"}) {
    EXPECT_EQ(route(name), ClusterRoute::kKeyspace) << name;
  }
  const CommandEntry* blpop = CommandTable::standard().find("blpop");
  EXPECT_EQ(blpop->cluster_handler, &cluster_blocking_command);
}

}  // namespace
}  // namespace cairn
