// Proves fused writes (server/fused_writes.h): a pipelined run of commands on one key, announced
// as the connection does (Session::prefetch, then execute into one output buffer), replies and
// leaves the keyspace exactly as the same commands run one at a time; its writes reach no other
// client before its last command, whose key's lock it holds to the end; and a run whose batch
// fails answers every command it held with the error, never with a success.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/fault_env.h"
#include "io/random.h"
#include "server/server.h"
#include "support/session_client.h"
#include "support/test_directory.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::Command;
using test::connect;
using test::execute;

// Runs `window` as a connection runs the commands complete in one read: announced first when
// there are two or more, replies appended to one buffer, which is returned.
std::string run_window(Session& session, const std::vector<Command>& window, bool announce) {
  if (announce && window.size() >= 2) {
    std::vector<PeekedCommand> peeked;
    for (const Command& command : window) {
      peeked.push_back({command[0], command.size() > 1 ? std::string_view(command[1]) : ""});
    }
    session.prefetch(peeked);
  }
  std::string out;
  for (const Command& command : window) execute(session, command, out);
  return out;
}

class FusedWritesTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& [server, dir] : servers_) {
      server.reset();
      std::filesystem::remove_all(dir);
    }
  }
  Server& open_server() {
    ServerConfig config;
    config.dir = test::fresh_test_directory("server_fused_writes_" +
                                            std::to_string(servers_.size()) + "_");
    auto opened = Server::open(config);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    servers_.emplace_back(std::move(opened).value(), config.dir);
    return *servers_.back().first;
  }

  std::vector<std::pair<std::unique_ptr<Server>, std::string>> servers_;
};

// A random command on `key`: mostly the fusable writes, some reads and other writes that end a
// run, over keys shared by every type so that WRONGTYPE comes up too.
Command random_command(Random& random, const std::string& key) {
  const std::string member = "m" + std::to_string(random.uniform(6));
  const std::string number = std::to_string(static_cast<int64_t>(random.uniform(21)) - 10);
  switch (random.uniform(30)) {
    case 0: return {"LPUSH", key, member, "x"};
    case 1: return {"RPUSH", key, member};
    case 2: return {"LPOP", key};
    case 3: return {"RPOP", key};
    case 4: return {"LPUSHX", key, member};
    case 5: return {"SADD", key, member};
    case 6: return {"SREM", key, member};
    case 7: return {"SPOP", key};
    case 8: return {"HSET", key, member, number};
    case 9: return {"HDEL", key, member};
    case 10: return {"HINCRBY", key, member, number};
    case 11: return {"HSETNX", key, member, number};
    case 12: return {"ZADD", key, number, member};
    case 13: return {"ZREM", key, member};
    case 14: return {"ZINCRBY", key, number, member};
    case 15: return {"ZPOPMIN", key};
    case 16: return {"ZPOPMAX", key};
    case 17: return {"INCR", key};
    case 18: return {"DECRBY", key, number};
    case 19: return {"INCRBYFLOAT", key, "0.5"};
    case 20: return {"SET", key, number};
    case 21: return {"APPEND", key, member};
    case 22: return {"SPOP", key, "2"};  // walks the sample index: ends the run's fusion
    case 23: return {"LRANGE", key, "0", "-1"};
    case 24: return {"GET", key};
    case 25: return {"SMEMBERS", key};
    case 26: return {"ZRANGE", key, "0", "-1", "WITHSCORES"};
    case 27: return {"HGETALL", key};
    case 28: return {"DEL", key};
    default: return {"EXPIRE", key, "100"};
  }
}

// Everything a key holds, read with the commands of its type.
std::string dump(Session& session, const std::string& key) {
  std::string out;
  const std::string type = execute(session, {"TYPE", key}, out);
  if (type == "+list\r\n") execute(session, {"LRANGE", key, "0", "-1"}, out);
  if (type == "+set\r\n") execute(session, {"SMEMBERS", key}, out);
  if (type == "+hash\r\n") execute(session, {"HGETALL", key}, out);
  if (type == "+zset\r\n") execute(session, {"ZRANGE", key, "0", "-1", "WITHSCORES"}, out);
  if (type == "+string\r\n") execute(session, {"GET", key}, out);
  execute(session, {"TTL", key}, out);
  return out;
}

TEST_F(FusedWritesTest, AnnouncedRunsReplyAndWriteAsCommandsOneAtATime) {
  for (const uint64_t seed : test::test_seeds(9100, 6, 60)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Server& fused_server = open_server();
    Server& plain_server = open_server();
    std::unique_ptr<Session> fused = connect(fused_server, 1);
    std::unique_ptr<Session> plain = connect(plain_server, 1);
    const std::vector<std::string> keys = {"a", "b", "{a}c"};
    Random random(seed);
    std::string key = keys[0];
    for (int w = 0; w < 300; w++) {
      std::vector<Command> window;
      const uint64_t size = random.range(1, 16);
      for (uint64_t i = 0; i < size; i++) {
        if (random.one_in(6)) key = keys[random.uniform(keys.size())];
        window.push_back(random_command(random, key));
      }
      ASSERT_EQ(run_window(*fused, window, true), run_window(*plain, window, false))
          << "window " << w;
    }
    for (const std::string& k : keys) EXPECT_EQ(dump(*fused, k), dump(*plain, k)) << k;
  }
}

TEST_F(FusedWritesTest, ARunsWritesReachOthersOnlyAfterItsLastCommand) {
  Server& server = open_server();
  std::unique_ptr<Session> writer = connect(server, 1);
  std::unique_ptr<Session> reader = connect(server, 2);
  std::unique_ptr<Session> other_writer = connect(server, 3);
  const std::vector<Command> run = {{"RPUSH", "list", "a"}, {"RPUSH", "list", "b"},
                                    {"RPUSH", "list", "c"}};
  std::vector<PeekedCommand> peeked;
  for (const Command& command : run) peeked.push_back({command[0], command[1]});
  writer->prefetch(peeked);

  std::string replies;
  execute(*writer, run[0], replies);
  execute(*writer, run[1], replies);
  std::string out;
  EXPECT_EQ(execute(*reader, {"LLEN", "list"}, out), ":0\r\n");
  EXPECT_EQ(execute(*reader, {"LRANGE", "list", "0", "-1"}, out), "*0\r\n");

  // A write of the key from another client waits for the run's lock.
  std::atomic<bool> done{false};
  std::string other_reply;
  std::thread other([&] {
    std::string other_out;
    other_reply = execute(*other_writer, {"RPUSH", "list", "d"}, other_out);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(done.load());

  execute(*writer, run[2], replies);
  other.join();
  EXPECT_EQ(replies, ":1\r\n:2\r\n:3\r\n");
  EXPECT_EQ(other_reply, ":4\r\n");
  EXPECT_EQ(execute(*reader, {"LRANGE", "list", "0", "-1"}, out),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n");
}

TEST_F(FusedWritesTest, ARunEndsBeforeACommandThatIsNotItsNext) {
  Server& server = open_server();
  std::unique_ptr<Session> session = connect(server, 1);
  std::vector<PeekedCommand> peeked = {{"INCR", "n"}, {"INCR", "n"}, {"INCR", "n"}};
  session->prefetch(peeked);
  std::string out;
  execute(*session, {"INCR", "n"}, out);
  // Not the announced next command: the run's write lands before it reads.
  EXPECT_EQ(execute(*session, {"GET", "n"}, out), "$1\r\n1\r\n");
  EXPECT_EQ(execute(*session, {"INCR", "n"}, out), ":2\r\n");
  EXPECT_EQ(out, ":1\r\n$1\r\n1\r\n:2\r\n");
}

// FLUSHDB removes keys without their locks; a list written beside it, in runs that hold their
// writes across 16 commands, must still read whole: its count matches its elements.
TEST_F(FusedWritesTest, FlushdbBesideRunsLeavesNoListWithMissingElements) {
  Server& server = open_server();
  std::unique_ptr<Session> writer = connect(server, 1);
  std::unique_ptr<Session> flusher = connect(server, 2);
  std::atomic<bool> stop{false};
  std::thread flushes([&] {
    std::string out;
    while (!stop.load()) {
      out.clear();
      execute(*flusher, {"FLUSHDB"}, out);
    }
  });
  const std::vector<Command> run(16, Command{"RPUSH", "list", "x"});
  for (int i = 0; i < 400; i++) {
    const std::string replies = run_window(*writer, run, true);
    ASSERT_EQ(replies.find('-'), std::string::npos) << replies;
    std::string out;
    const std::string length = execute(*writer, {"LLEN", "list"}, out);
    const std::string elements = execute(*writer, {"LRANGE", "list", "0", "-1"}, out);
    ASSERT_EQ(elements.find('-'), std::string::npos) << elements;
    // The list may have been flushed between the two reads, never left with fewer elements
    // than its count.
    const size_t count = std::stoul(length.substr(1));
    const size_t listed = std::stoul(elements.substr(1));
    ASSERT_TRUE(listed == count || listed == 0) << length << " " << elements;
  }
  stop = true;
  flushes.join();
}

TEST_F(FusedWritesTest, AFailedRunAnswersEveryHeldCommandWithTheError) {
  FaultEnv env(7);
  ServerConfig config;
  config.dir = "/fused";
  KeyspaceOptions options;
  options.env = &env;
  auto opened = Server::open(config, options);
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  std::unique_ptr<Server> server = std::move(opened).value();
  std::unique_ptr<Session> session = connect(*server, 1);
  std::string out;
  ASSERT_EQ(execute(*session, {"SET", "before", "1"}, out), "+OK\r\n");

  env.inject({.ops = FaultEnv::kAppend, .path_substring = ".log"});
  std::vector<PeekedCommand> peeked = {{"INCR", "n"}, {"INCR", "n"}, {"INCR", "n"}};
  session->prefetch(peeked);
  out = "+earlier\r\n";
  for (int i = 0; i < 3; i++) execute(*session, {"INCR", "n"}, out);
  ASSERT_TRUE(out.starts_with("+earlier\r\n"));
  const std::string replies = out.substr(std::string("+earlier\r\n").size());
  size_t errors = 0;
  for (size_t at = 0; at < replies.size(); at = replies.find("\r\n", at) + 2) {
    EXPECT_EQ(replies[at], '-') << replies;
    errors++;
  }
  EXPECT_EQ(errors, 3u) << replies;

  // A run ended early by a command that is not its next: the held commands' replies become
  // errors, and the reply of the command that ended the run follows them unchanged.
  session->prefetch(peeked);
  out.clear();
  execute(*session, {"INCR", "n"}, out);
  execute(*session, {"INCR", "n"}, out);
  execute(*session, {"PING"}, out);
  ASSERT_TRUE(out.ends_with("\r\n+PONG\r\n")) << out;
  EXPECT_EQ(out[0], '-') << out;
  EXPECT_EQ(out[out.find("\r\n") + 2], '-') << out;
  session.reset();
  (void)server->close();
}

}  // namespace
}  // namespace cairn
