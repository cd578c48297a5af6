// Proves the command side end to end: a real Server on a temp dir, sessions driven through
// Session::execute, exact reply bytes for the connection, server and transaction commands
// (checked against redis-server 7.0), WATCH across sessions, CLIENT REPLY, CONFIG, INFO,
// COMMAND, and the fsync-always group commit in before_replies.
#include "server/session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <thread>

#include "server/server.h"
#include "support/test_directory.h"

namespace cairn {
namespace {

class FakeControl final : public ConnectionControl {
 public:
  void close() override { closed = true; }
  void wake_blocked() override { wakes++; }
  void end_block(BlockEnd) override {}
  uint64_t query_buffer_bytes() const override { return 0; }
  uint64_t output_buffer_bytes() const override { return 0; }
  std::atomic<bool> closed{false};
  std::atomic<int> wakes{0};
};

struct TestClient {
  std::shared_ptr<FakeControl> control = std::make_shared<FakeControl>();
  std::unique_ptr<Session> session;
  bool closed_after_reply = false;

  std::string run(std::initializer_list<std::string_view> args) {
    std::vector<std::string_view> argv(args);
    std::string out;
    Session::Outcome outcome = session->execute(argv, out);
    closed_after_reply = outcome.close_after_reply;
    if (outcome.body) {  // a streamed reply body: read it as the connection would
      char buffer[4096];
      while (true) {
        Result<size_t> read = outcome.body->read(buffer, sizeof(buffer));
        EXPECT_TRUE(read.is_ok());
        if (!read.is_ok() || *read == 0) break;
        out.append(buffer, *read);
      }
    }
    return out;
  }
};

class ServerSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.dir = test::fresh_test_directory("server_session_");
    open();
  }
  void TearDown() override {
    clients_.clear();
    if (server_) {
      ASSERT_TRUE(server_->close().is_ok());
    }
    server_.reset();
    std::filesystem::remove_all(config_.dir);
  }
  void open() {
    auto opened = Server::open(config_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    server_ = std::move(opened).value();
  }
  TestClient& connect() {
    auto client = std::make_unique<TestClient>();
    ConnectionInfo info;
    info.id = ++next_id_;
    info.peer = "127.0.0.1:" + std::to_string(40000 + next_id_);
    info.local = "127.0.0.1:7379";
    info.fd = static_cast<int>(next_id_ + 10);
    client->session = server_->open_session(info, client->control);
    clients_.push_back(std::move(client));
    return *clients_.back();
  }

  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::vector<std::unique_ptr<TestClient>> clients_;
  uint64_t next_id_ = 0;
};

TEST_F(ServerSessionTest, PingEchoAndErrors) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(c.run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(c.run({"ping", "a", "b"}), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(c.run({"ECHO", "x y"}), "$3\r\nx y\r\n");
  EXPECT_EQ(c.run({"foo", "a", "b"}),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(c.run({"get"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(c.run({"config"}), "-ERR wrong number of arguments for 'config' command\r\n");
  EXPECT_EQ(c.run({"config", "x"}), "-ERR unknown subcommand 'x'. Try CONFIG HELP.\r\n");
  EXPECT_EQ(c.run({"CONFIG", "GET"}), "-ERR wrong number of arguments for 'config|get' command\r\n");
  EXPECT_EQ(c.run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(c.run({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(c.run({"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(c.run({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(c.closed_after_reply);
}

TEST_F(ServerSessionTest, HelloSwitchesProtocol) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  std::string reply = c.run({"HELLO", "3", "SETNAME", "me"});
  EXPECT_EQ(reply.substr(0, 3), "%7\r");
  EXPECT_NE(reply.find("$5\r\nproto\r\n:3\r\n"), std::string::npos);
  EXPECT_NE(reply.find("$7\r\nversion\r\n$5\r\n7.0.0\r\n"), std::string::npos);
  EXPECT_NE(reply.find("$2\r\nid\r\n:1\r\n"), std::string::npos);
  EXPECT_EQ(c.run({"CLIENT", "GETNAME"}), "$2\r\nme\r\n");
  EXPECT_EQ(c.run({"CONFIG", "GET", "maxmemory"}), "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
  EXPECT_EQ(c.run({"OBJECT", "ENCODING", "nokey"}), "_\r\n");
  std::string hello2 = c.run({"HELLO", "2"});
  EXPECT_EQ(hello2.substr(0, 4), "*14\r");
  EXPECT_EQ(c.run({"OBJECT", "ENCODING", "nokey"}), "$-1\r\n");
  // RESET goes back to RESP2 and forgets the name.
  c.run({"HELLO", "3"});
  EXPECT_EQ(c.run({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(c.run({"CLIENT", "GETNAME"}), "$-1\r\n");
}

TEST_F(ServerSessionTest, MultiExecDiscard) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"EXEC"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(c.run({"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(c.run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c.run({"MULTI"}), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_EQ(c.run({"SET", "k", "v"}), "+QUEUED\r\n");
  EXPECT_EQ(c.run({"GET", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(c.run({"PING"}), "+QUEUED\r\n");
  EXPECT_EQ(c.run({"EXEC"}), "*3\r\n+OK\r\n$1\r\nv\r\n+PONG\r\n");
  EXPECT_EQ(c.run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c.run({"SET", "k", "w"}), "+QUEUED\r\n");
  EXPECT_EQ(c.run({"DISCARD"}), "+OK\r\n");
  EXPECT_EQ(c.run({"GET", "k"}), "$1\r\nv\r\n");
}

TEST_F(ServerSessionTest, ErrorsWhileQueueingAbortExec) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c.run({"SET", "a", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(c.run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
  EXPECT_EQ(c.run({"WATCH", "x"}), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_EQ(c.run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_EQ(c.run({"GET", "a"}), "$-1\r\n");
  // Wrong arity while queueing aborts too.
  c.run({"MULTI"});
  EXPECT_EQ(c.run({"SET", "a"}), "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(c.run({"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  // A command failing at run time does not abort the others.
  c.run({"MULTI"});
  c.run({"SET", "n", "x"});
  c.run({"INCR", "n"});
  c.run({"SET", "m", "1"});
  EXPECT_EQ(c.run({"EXEC"}),
            "*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n");
}

TEST_F(ServerSessionTest, WatchedKeyModifiedByAnotherClientAbortsExec) {
  TestClient& a = connect();
  TestClient& b = connect();
  EXPECT_EQ(a.run({"WATCH", "k"}), "+OK\r\n");
  EXPECT_EQ(b.run({"SET", "k", "other"}), "+OK\r\n");
  a.run({"MULTI"});
  a.run({"SET", "k", "mine"});
  EXPECT_EQ(a.run({"EXEC"}), "*-1\r\n");
  EXPECT_EQ(a.run({"GET", "k"}), "$5\r\nother\r\n");
  // EXEC cleared the watch: the next transaction runs.
  b.run({"SET", "k", "again"});
  a.run({"MULTI"});
  a.run({"SET", "k", "mine"});
  EXPECT_EQ(a.run({"EXEC"}), "*1\r\n+OK\r\n");
  // UNWATCH forgets; an unmodified watched key lets EXEC run.
  a.run({"WATCH", "k"});
  a.run({"UNWATCH"});
  b.run({"SET", "k", "b"});
  a.run({"MULTI"});
  a.run({"GET", "k"});
  EXPECT_EQ(a.run({"EXEC"}), "*1\r\n$1\r\nb\r\n");
  // FLUSHALL touches every watched key.
  a.run({"WATCH", "zzz"});
  b.run({"FLUSHALL"});
  a.run({"MULTI"});
  a.run({"PING"});
  EXPECT_EQ(a.run({"EXEC"}), "*-1\r\n");
}

TEST_F(ServerSessionTest, ClientCommands) {
  TestClient& a = connect();
  TestClient& b = connect();
  EXPECT_EQ(a.run({"CLIENT", "ID"}), ":1\r\n");
  EXPECT_EQ(a.run({"CLIENT", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(a.run({"client", "setname", "alpha"}), "+OK\r\n");
  EXPECT_EQ(a.run({"CLIENT", "GETNAME"}), "$5\r\nalpha\r\n");
  EXPECT_EQ(a.run({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}), "+OK\r\n");
  std::string list = a.run({"CLIENT", "LIST"});
  EXPECT_NE(list.find("id=1 addr=127.0.0.1:40001 laddr=127.0.0.1:7379 fd=11 name=alpha "),
            std::string::npos);
  EXPECT_NE(list.find("id=2 "), std::string::npos);
  EXPECT_NE(list.find("cmd=client|list"), std::string::npos);
  EXPECT_NE(list.find("lib-name=redis-py"), std::string::npos);
  std::string only = a.run({"CLIENT", "LIST", "ID", "2"});
  EXPECT_EQ(only.find("id=1 "), std::string::npos);
  EXPECT_NE(only.find("id=2 "), std::string::npos);
  EXPECT_EQ(a.run({"CLIENT", "LIST", "TYPE", "bogus"}), "-ERR Unknown client type 'bogus'\r\n");
  std::string info = a.run({"CLIENT", "INFO"});
  EXPECT_NE(info.find("id=1 "), std::string::npos);
  EXPECT_EQ(a.run({"CLIENT", "KILL", "1.2.3.4:5"}), "-ERR No such client\r\n");
  EXPECT_EQ(a.run({"CLIENT", "KILL", "ID", "2"}), ":1\r\n");
  EXPECT_TRUE(b.control->closed);
  EXPECT_EQ(a.run({"CLIENT", "KILL", "127.0.0.1:40002"}), "+OK\r\n");
  // SKIPME yes by default: killing by own id touches nobody.
  EXPECT_EQ(a.run({"CLIENT", "KILL", "ID", "1"}), ":0\r\n");
  EXPECT_FALSE(a.control->closed);
  EXPECT_EQ(a.run({"CLIENT", "UNBLOCK", "2"}), ":0\r\n");
  EXPECT_EQ(a.run({"CLIENT", "NO-EVICT", "on"}), "+OK\r\n");
  EXPECT_EQ(a.run({"CLIENT", "NO-EVICT", "x"}), "-ERR syntax error\r\n");
  // Closing b unregisters it.
  b.session->on_close();
  EXPECT_EQ(a.run({"CLIENT", "LIST", "ID", "2"}), "$0\r\n\r\n");
  EXPECT_EQ(server_->clients().connected(), 1u);
}

TEST_F(ServerSessionTest, MaxclientsRefusesNewConnections) {
  TestClient& c = connect();
  EXPECT_TRUE(server_->accepting_clients());
  EXPECT_EQ(c.run({"CONFIG", "SET", "maxclients", "1"}), "+OK\r\n");
  EXPECT_FALSE(server_->accepting_clients());
  EXPECT_NE(c.run({"INFO", "stats"}).find("rejected_connections:1\r\n"), std::string::npos);
  EXPECT_NE(c.run({"INFO", "clients"}).find("maxclients:1\r\n"), std::string::npos);
}

TEST_F(ServerSessionTest, ClientKillOldFormOfSelfClosesAfterReply) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"CLIENT", "KILL", "127.0.0.1:40001"}), "+OK\r\n");
  EXPECT_TRUE(c.closed_after_reply);
  EXPECT_FALSE(c.control->closed);  // its reply is still written
  EXPECT_EQ(c.run({"CLIENT", "KILL", "ID", "1", "SKIPME", "no"}), ":1\r\n");
  EXPECT_TRUE(c.closed_after_reply);
  EXPECT_EQ(c.run({"CLIENT", "KILL", "ID", "abc"}), "-ERR client-id should be greater than 0\r\n");
  EXPECT_EQ(c.run({"HELLO", "3", "AUTH", "bob", "x"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(c.run({"HELLO", "3", "foo"}), "-ERR Syntax error in HELLO option 'foo'\r\n");
  EXPECT_EQ(c.run({"HELLO", "x"}), "-ERR Protocol version is not an integer or out of range\r\n");
}

TEST_F(ServerSessionTest, ClientReplyModes) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"CLIENT", "REPLY", "OFF"}), "");
  EXPECT_EQ(c.run({"PING"}), "");
  EXPECT_EQ(c.run({"CLIENT", "REPLY", "ON"}), "+OK\r\n");
  EXPECT_EQ(c.run({"CLIENT", "REPLY", "SKIP"}), "");
  EXPECT_EQ(c.run({"PING"}), "");
  EXPECT_EQ(c.run({"PING"}), "+PONG\r\n");
}

TEST_F(ServerSessionTest, ConfigGetSet) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"CONFIG", "GET", "list-max-*-size"}),
            "*4\r\n$22\r\nlist-max-listpack-size\r\n$2\r\n-2\r\n"
            "$21\r\nlist-max-ziplist-size\r\n$2\r\n-2\r\n");
  EXPECT_EQ(c.run({"CONFIG", "SET", "hz", "20", "lua-time-limit", "100"}), "+OK\r\n");
  EXPECT_EQ(c.run({"CONFIG", "GET", "hz"}), "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
  EXPECT_EQ(c.run({"CONFIG", "SET", "foo", "bar"}),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n");
  EXPECT_EQ(c.run({"CONFIG", "SET", "hz", "1", "x"}), "-ERR syntax error\r\n");
  EXPECT_EQ(c.run({"CONFIG", "SET", "proto-max-bulk-len", "100mb"}), "+OK\r\n");
  EXPECT_EQ(server_->limits().bulk_bytes_max.load(), 100u << 20);
  EXPECT_EQ(c.run({"CONFIG", "REWRITE"}), "-ERR The server is running without a config file\r\n");
}

TEST_F(ServerSessionTest, InfoSectionsAndCommandstats) {
  TestClient& c = connect();
  c.run({"SET", "a", "1"});
  c.run({"GET", "a"});
  c.run({"GET", "b"});
  c.run({"GET"});
  std::string info = c.run({"INFO"});
  EXPECT_NE(info.find("# Server\r\nredis_version:7.0.0\r\n"), std::string::npos);
  EXPECT_NE(info.find("connected_clients:1\r\n"), std::string::npos);
  EXPECT_NE(info.find("blocked_clients:0\r\n"), std::string::npos);
  EXPECT_NE(info.find("used_memory:"), std::string::npos);
  EXPECT_NE(info.find("keyspace_hits:1\r\n"), std::string::npos);
  EXPECT_NE(info.find("keyspace_misses:"), std::string::npos);
  EXPECT_NE(info.find("role:master\r\n"), std::string::npos);
  EXPECT_NE(info.find("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"), std::string::npos);
  EXPECT_EQ(info.find("# Commandstats"), std::string::npos);  // not a default section
  std::string stats = c.run({"INFO", "commandstats"});
  EXPECT_EQ(stats.find("# Server"), std::string::npos);
  EXPECT_NE(stats.find("cmdstat_get:calls=2,usec="), std::string::npos);
  EXPECT_NE(stats.find(",rejected_calls=1,failed_calls=0\r\n"), std::string::npos);
  EXPECT_NE(stats.find("cmdstat_set:calls=1,"), std::string::npos);
  EXPECT_EQ(c.run({"CONFIG", "RESETSTAT"}), "+OK\r\n");
  EXPECT_EQ(c.run({"INFO", "commandstats"}).find("cmdstat_get"), std::string::npos);
  std::string everything = c.run({"INFO", "everything"});
  EXPECT_NE(everything.find("# Commandstats"), std::string::npos);
  EXPECT_NE(everything.find("# Persistence"), std::string::npos);
}

TEST_F(ServerSessionTest, CommandIntrospection) {
  TestClient& c = connect();
  std::string count = c.run({"COMMAND", "COUNT"});
  EXPECT_EQ(count, ":" + std::to_string(server_->table().commands().size()) + "\r\n");
  EXPECT_GT(server_->table().commands().size(), 50u);
  std::string info = c.run({"COMMAND", "INFO", "get", "nosuch"});
  EXPECT_EQ(info.substr(0, 22), "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n");
  EXPECT_NE(info.find("+readonly\r\n"), std::string::npos);
  EXPECT_NE(info.find(":1\r\n:1\r\n:1\r\n"), std::string::npos);
  EXPECT_EQ(info.substr(info.size() - 5), "*-1\r\n");
  std::string docs = c.run({"COMMAND", "DOCS", "echo"});
  EXPECT_EQ(docs, "*2\r\n$4\r\necho\r\n*8\r\n$7\r\nsummary\r\n$25\r\nReturns the given string.\r\n"
                  "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n"
                  "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n");
  std::string list = c.run({"COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"});
  EXPECT_NE(list.find("$10\r\nconfig|get\r\n"), std::string::npos);
  EXPECT_EQ(list.find("$4\r\nping\r\n"), std::string::npos);
  EXPECT_EQ(c.run({"COMMAND", "GETKEYS", "SET", "k", "v"}), "*1\r\n$1\r\nk\r\n");
  EXPECT_EQ(c.run({"COMMAND", "GETKEYS", "PING", "x"}), "-ERR The command has no key arguments\r\n");
  EXPECT_EQ(c.run({"COMMAND", "GETKEYS", "nosuch", "a"}), "-ERR Invalid command specified\r\n");
  EXPECT_EQ(c.run({"COMMAND", "GETKEYS", "get", "a", "b"}),
            "-ERR Invalid number of arguments specified for command\r\n");
  EXPECT_EQ(c.run({"COMMAND", "GETKEYS", "PING"}),
            "-ERR wrong number of arguments for 'command|getkeys' command\r\n");
}

TEST_F(ServerSessionTest, DbsizeFlushallTimeObject) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"DBSIZE"}), ":0\r\n");
  c.run({"SET", "a", "1"});
  c.run({"SET", "b", "hello"});
  EXPECT_EQ(c.run({"DBSIZE"}), ":2\r\n");
  EXPECT_EQ(c.run({"OBJECT", "ENCODING", "a"}), "$3\r\nint\r\n");
  EXPECT_EQ(c.run({"OBJECT", "REFCOUNT", "b"}), ":1\r\n");
  EXPECT_EQ(c.run({"OBJECT", "IDLETIME", "b"}), ":0\r\n");
  EXPECT_EQ(c.run({"OBJECT", "FREQ", "nokey"}), "$-1\r\n");
  EXPECT_EQ(c.run({"OBJECT", "FREQ", "a"}).substr(0, 36), "-ERR An LFU maxmemory policy is not ");
  EXPECT_EQ(c.run({"OBJECT", "x"}), "-ERR unknown subcommand 'x'. Try OBJECT HELP.\r\n");
  EXPECT_EQ(c.run({"FLUSHALL", "bogus"}), "-ERR syntax error\r\n");
  EXPECT_EQ(c.run({"FLUSHALL", "SYNC"}), "+OK\r\n");
  EXPECT_EQ(c.run({"DBSIZE"}), ":0\r\n");
  EXPECT_EQ(c.run({"TIME"}).substr(0, 4), "*2\r\n");
  EXPECT_EQ(c.run({"SAVE"}), "+OK\r\n");
  EXPECT_EQ(c.run({"BGSAVE"}), "+Background saving started\r\n");
  EXPECT_EQ(c.run({"LASTSAVE"})[0], ':');
}

TEST_F(ServerSessionTest, ShutdownCallsTheHandler) {
  TestClient& c = connect();
  EXPECT_EQ(c.run({"SHUTDOWN"}), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
  int calls = 0;
  server_->set_shutdown_handler([&] { ++calls; });
  EXPECT_EQ(c.run({"SHUTDOWN", "NOSAVE"}), "");
  EXPECT_EQ(calls, 1);
}

TEST_F(ServerSessionTest, FsyncAlwaysSyncsOncePerLoopIterationWithWrites) {
  ASSERT_TRUE(server_->close().is_ok());
  server_.reset();
  config_.fsync = ServerFsync::kAlways;
  open();
  TestClient& c = connect();
  uint64_t before = server_->stats().wal_syncs();
  server_->before_replies(0);  // nothing written: no sync
  EXPECT_EQ(server_->stats().wal_syncs(), before);
  c.run({"SET", "a", "1"});
  c.run({"SET", "b", "2"});
  server_->before_replies(0);
  EXPECT_EQ(server_->stats().wal_syncs(), before + 1);
  server_->before_replies(1);  // another loop, nothing new
  EXPECT_EQ(server_->stats().wal_syncs(), before + 1);
  c.run({"GET", "a"});
  server_->before_replies(0);  // reads do not sync
  EXPECT_EQ(server_->stats().wal_syncs(), before + 1);
}

TEST_F(ServerSessionTest, EverysecDoesNotSyncInBeforeReplies) {
  TestClient& c = connect();
  c.run({"SET", "a", "1"});
  uint64_t before = server_->stats().wal_syncs();
  server_->before_replies(0);
  EXPECT_EQ(server_->stats().wal_syncs(), before);
}

TEST_F(ServerSessionTest, StreamedSetValueReachesTheKeyspace) {
  TestClient& c = connect();
  std::string value(100 * 1024, 'v');
  for (size_t i = 0; i < value.size(); i += 997) value[i] = static_cast<char>('a' + i % 26);
  std::vector<std::string_view> head = {"SET", "big"};
  // Only SET's value, outside MULTI, is streamed.
  EXPECT_EQ(c.session->stream_argument(head, 1, 3, value.size()), nullptr);
  std::vector<std::string_view> get_head = {"GET", "big"};
  EXPECT_EQ(c.session->stream_argument(get_head, 2, 3, value.size()), nullptr);
  std::unique_ptr<ByteSink> sink = c.session->stream_argument(head, 2, 3, value.size());
  ASSERT_NE(sink, nullptr);
  for (size_t i = 0; i < value.size(); i += 30000) {
    ASSERT_TRUE(sink->append(std::string_view(value).substr(i, 30000)).is_ok());
  }
  sink.reset();
  EXPECT_EQ(c.run({"SET", "big", ""}), "+OK\r\n");
  std::string expected = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  EXPECT_EQ(c.run({"GET", "big"}), expected);
  // Inside a transaction the streamed GET body is inlined into EXEC's array.
  c.run({"MULTI"});
  EXPECT_EQ(c.session->stream_argument(head, 2, 3, value.size()), nullptr);
  c.run({"GET", "big"});
  EXPECT_EQ(c.run({"EXEC"}), "*1\r\n" + expected);
}

TEST_F(ServerSessionTest, ExecIsAtomicAgainstOtherClients) {
  // Two clients increment one counter with transactions of INCR+GET while a third INCRs
  // alone; each EXEC's GET must equal its INCR (nothing ran in between).
  TestClient& a = connect();
  TestClient& b = connect();
  TestClient& d = connect();
  std::atomic<bool> mismatch{false};
  auto transact = [&](TestClient& client) {
    for (int i = 0; i < 200; ++i) {
      client.run({"MULTI"});
      client.run({"INCR", "n"});
      client.run({"GET", "n"});
      std::string reply = client.run({"EXEC"});
      // "*2\r\n:N\r\n$len\r\nN\r\n"
      size_t colon = reply.find(':');
      size_t end = reply.find('\r', colon);
      std::string number = reply.substr(colon + 1, end - colon - 1);
      if (reply.find("\r\n" + number + "\r\n", end) == std::string::npos) mismatch = true;
    }
  };
  std::thread t1(transact, std::ref(a));
  std::thread t2(transact, std::ref(b));
  std::thread t3([&] {
    for (int i = 0; i < 400; ++i) d.run({"INCR", "n"});
  });
  t1.join();
  t2.join();
  t3.join();
  EXPECT_FALSE(mismatch);
  EXPECT_EQ(d.run({"GET", "n"}), "$3\r\n800\r\n");
}

}  // namespace
}  // namespace cairn
