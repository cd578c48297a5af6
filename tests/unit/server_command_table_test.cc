// Proves the command table: case-insensitive lookup of commands and subcommands, full names,
// arity rules, and Redis 7's exact wording of the dispatcher's errors.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string_view>

#include "server/command_groups.h"
#include "server/command_table.h"
#include "server/session.h"

namespace cairn {
namespace {

void noop(CommandContext&) {}

constexpr std::array kSubs = {
    CommandSpec{.name = "get", .arity = -3, .group = "g", .since = "1.0.0", .summary = "s", .complexity = "O(1)", .handler = noop, .subcommands = {}},
    CommandSpec{.name = "set", .arity = -4, .group = "g", .since = "1.0.0", .summary = "s", .complexity = "O(1)", .handler = noop, .subcommands = {}},
};
constexpr std::array kGroup = {
    CommandSpec{.name = "ping", .arity = -1, .group = "g", .since = "1.0.0", .summary = "s", .complexity = "O(1)", .handler = noop, .subcommands = {}},
    CommandSpec{.name = "config", .arity = -2, .group = "g", .since = "1.0.0", .summary = "s", .complexity = "O(1)", .handler = nullptr, .subcommands = kSubs},
    CommandSpec{.name = "get", .arity = 2, .group = "g", .since = "1.0.0", .summary = "s", .complexity = "O(1)", .handler = noop, .subcommands = {}},
};

TEST(ServerCommandTable, LookupIgnoresCase) {
  CommandTable table({kGroup});
  ASSERT_NE(table.find("GET"), nullptr);
  EXPECT_EQ(table.find("gEt"), table.find("get"));
  EXPECT_EQ(table.find("get")->full_name, "get");
  EXPECT_EQ(table.find("nosuch"), nullptr);
  EXPECT_EQ(table.find(std::string(200, 'a')), nullptr);  // too long: unknown, no overflow
}

TEST(ServerCommandTable, SubcommandsHaveFullNamesAndIndexes) {
  CommandTable table({kGroup});
  const CommandEntry* config = table.find("CONFIG");
  ASSERT_NE(config, nullptr);
  const CommandEntry* get = CommandTable::find_subcommand(*config, "GeT");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->full_name, "config|get");
  EXPECT_EQ(get->container, config);
  EXPECT_EQ(CommandTable::find_subcommand(*config, "x"), nullptr);
  EXPECT_EQ(table.entry_count(), 5u);
  EXPECT_EQ(table.entries()[get->index], get);
  // Top-level commands sorted by name.
  ASSERT_EQ(table.commands().size(), 3u);
  EXPECT_EQ(table.commands()[0]->spec->name, "config");
  EXPECT_EQ(table.commands()[2]->spec->name, "ping");
}

TEST(ServerCommandTable, ArityFollowsRedisConvention) {
  EXPECT_TRUE(arity_matches(2, 2));
  EXPECT_FALSE(arity_matches(2, 3));
  EXPECT_FALSE(arity_matches(2, 1));
  EXPECT_TRUE(arity_matches(-2, 2));
  EXPECT_TRUE(arity_matches(-2, 9));
  EXPECT_FALSE(arity_matches(-2, 1));
}

TEST(ServerCommandTable, ErrorMessagesAreRedisExact) {
  std::array<std::string_view, 3> argv = {"foo", "a", "b"};
  EXPECT_EQ(unknown_command_message(argv),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
  std::array<std::string_view, 1> bare = {"foo"};
  EXPECT_EQ(unknown_command_message(bare), "ERR unknown command 'foo', with args beginning with: ");
  CommandTable table({kGroup});
  EXPECT_EQ(wrong_arity_message(*table.find("get")), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(wrong_arity_message(*CommandTable::find_subcommand(*table.find("config"), "get")),
            "ERR wrong number of arguments for 'config|get' command");
  EXPECT_EQ(unknown_subcommand_message("config", "x"), "ERR unknown subcommand 'x'. Try CONFIG HELP.");
}

TEST(ServerCommandTable, LongArgumentsAreQuotedUpTo128Bytes) {
  std::string big(300, 'x');
  std::array<std::string_view, 3> argv = {"foo", big, "next"};
  std::string message = unknown_command_message(argv);
  // Redis stops once 128 bytes of arguments are quoted.
  EXPECT_EQ(message.find("next"), std::string::npos);
  EXPECT_LT(message.size(), 200u + 60u);
}

TEST(ServerCommandTable, StandardTableHoldsEveryGroup) {
  const CommandTable& table = CommandTable::standard();
  for (std::string_view name : {"ping", "echo", "hello", "client", "config", "command", "info",
                                "multi", "exec", "watch", "get", "set", "del", "expire", "object"}) {
    EXPECT_NE(table.find(name), nullptr) << name;
  }
  for (const CommandEntry* entry : table.entries()) {
    EXPECT_FALSE(entry->spec->summary.empty()) << entry->full_name;
    EXPECT_FALSE(entry->spec->group.empty()) << entry->full_name;
    EXPECT_NE(entry->spec->arity, 0) << entry->full_name;
  }
}

// Proves the commands a pipeline prefetches an element for are all found (a misspelt name would
// silently lose its hint), and each names a collection key first and an element second.
TEST(ServerCommandTable, ElementLookupCommandsNameAKeyThenAnElement) {
  std::set<std::string> flagged;
  for (const CommandEntry* entry : CommandTable::standard().entries()) {
    if (!entry->looks_up_element) continue;
    flagged.insert(entry->full_name);
    EXPECT_EQ(entry->spec->first_key, 1) << entry->full_name;
    EXPECT_TRUE(entry->spec->arity >= 3 || entry->spec->arity <= -3) << entry->full_name;
    EXPECT_TRUE(entry->spec->group == "hash" || entry->spec->group == "set" ||
                entry->spec->group == "sorted_set")
        << entry->full_name;
  }
  const std::set<std::string> expected = {
      "sadd",   "srem",    "sismember", "smismember", "hset",    "hmset",   "hsetnx",
      "hget",   "hmget",   "hdel",      "hexists",    "hstrlen", "hincrby", "hincrbyfloat",
      "zscore", "zmscore", "zrem",      "zrank",      "zrevrank"};
  EXPECT_EQ(flagged, expected);
}

}  // namespace
}  // namespace cairn
