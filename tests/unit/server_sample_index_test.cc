// Proves that every write path of set and hash members keeps the sample index exact: after random
// sequences of SADD, SREM, SPOP (drawn by seeks and by the exact pass), SMOVE, S*STORE, HSET,
// HSETNX, HDEL, HINCRBY, DEL, SET over a collection, RENAME and COPY, run through real sessions
// against a model and with the server reopened between rounds, each live set's and hash's
// sample records name exactly its members at the positions their hash gives, and its elements
// are the model's. SRANDMEMBER and HRANDFIELD replies are members (with their values). SPOPs
// read ahead never outlive a change of their set. A failure prints its seed (CAIRN_TEST_SEED=N
// replays it).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "server/collection.h"
#include "server/server.h"
#include "server/session.h"
#include "support/session_client.h"
#include "support/test_directory.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

// A RESP reply, parsed: an error or simple string in `text`, an integer, a null, or an array
// (or set) of bulk strings.
struct Reply {
  bool error = false;
  bool null = false;
  std::string text;
  int64_t integer = 0;
  std::vector<std::string> items;
};

// Parses the replies these tests get: +, -, :, $, _ and one level of * or ~ of bulk strings.
Reply parse_reply(std::string_view bytes) {
  Reply reply;
  auto line = [&bytes]() {
    const size_t end = bytes.find("\r\n");
    std::string out(bytes.substr(1, end - 1));
    bytes.remove_prefix(end + 2);
    return out;
  };
  auto bulk = [&bytes, &line]() -> std::optional<std::string> {
    const int64_t length = std::stoll(line());
    if (length < 0) return std::nullopt;
    std::string out(bytes.substr(0, static_cast<size_t>(length)));
    bytes.remove_prefix(static_cast<size_t>(length) + 2);
    return out;
  };
  const char kind = bytes.at(0);
  if (kind == '-' || kind == '+') {
    reply.error = kind == '-';
    reply.text = line();
  } else if (kind == ':') {
    reply.integer = std::stoll(line());
  } else if (kind == '_') {
    reply.null = true;
  } else if (kind == '$') {
    std::optional<std::string> value = bulk();
    reply.null = !value.has_value();
    if (value.has_value()) reply.items.push_back(*value);
  } else {
    EXPECT_TRUE(kind == '*' || kind == '~') << bytes;
    const int64_t count = std::stoll(line());
    for (int64_t i = 0; i < count; i++) reply.items.push_back(bulk().value_or("<null>"));
  }
  EXPECT_TRUE(bytes.empty()) << "one reply";
  return reply;
}

using SetModel = std::set<std::string>;
using HashModel = std::map<std::string, int64_t>;
using Value = std::variant<std::string, SetModel, HashModel>;

class SampleIndexModelTest : public ::testing::Test {
 protected:
  void TearDown() override {
    close();
    if (!config_.dir.empty()) std::filesystem::remove_all(config_.dir);
  }
  void open() {
    auto opened = Server::open(config_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    server_ = std::move(opened).value();
    ConnectionInfo info;
    info.id = 1;
    info.peer = "127.0.0.1:40001";
    info.local = "127.0.0.1:7379";
    info.fd = 11;
    session_ = server_->open_session(info, std::make_shared<test::NullControl>());
  }
  // A server on an empty directory, with an empty model, for the run of `seed`.
  void start_fresh(uint64_t seed) {
    close();
    if (!config_.dir.empty()) std::filesystem::remove_all(config_.dir);
    config_.dir = test::fresh_test_directory("sample_index_");
    open();
    rng_.seed(seed);
    model_.clear();
  }
  void close() {
    session_.reset();
    if (server_) {
      EXPECT_TRUE(server_->close().is_ok());
    }
    server_.reset();
  }

  Reply run(const std::vector<std::string>& args) {
    std::vector<std::string_view> argv(args.begin(), args.end());
    std::string out;
    const Session::Outcome outcome = session_->execute(argv, out);
    EXPECT_FALSE(outcome.body) << "no streamed replies here";
    Reply reply = parse_reply(out);
    std::string command;
    for (const std::string& arg : args) command += arg + " ";
    EXPECT_FALSE(reply.error) << command << "-> " << reply.text;
    return reply;
  }

  uint64_t pick(uint64_t bound) {
    return std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng_);
  }
  std::string some_key() { return kKeys[pick(std::size(kKeys))]; }
  std::string some_member() { return "m" + std::to_string(pick(kMembers)); }
  bool is_set_or_absent(const std::string& key) {
    return !model_.contains(key) || std::holds_alternative<SetModel>(model_[key]);
  }
  bool is_hash_or_absent(const std::string& key) {
    return !model_.contains(key) || std::holds_alternative<HashModel>(model_[key]);
  }
  SetModel set_of(const std::string& key) {
    return model_.contains(key) ? std::get<SetModel>(model_[key]) : SetModel();
  }
  void store_set(const std::string& key, SetModel set) {
    if (set.empty()) {
      model_.erase(key);
    } else {
      model_[key] = std::move(set);
    }
  }

  void random_step();
  void set_step(const std::string& key);
  void hash_step(const std::string& key);
  void key_step(const std::string& key);
  void check_against_model();

  static constexpr const char* kKeys[] = {"a", "b", "{t}c", "{t}d"};
  static constexpr uint64_t kMembers = 160;

  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Session> session_;
  std::mt19937_64 rng_;
  std::map<std::string, Value> model_;
};

void SampleIndexModelTest::set_step(const std::string& key) {
  const uint64_t op = pick(10);
  if (op < 4) {  // SADD, in bulk so that sets grow past the draw thresholds
    std::vector<std::string> args = {"SADD", key};
    SetModel set = set_of(key);
    for (uint64_t i = 0, n = 1 + pick(12); i < n; i++) {
      args.push_back(some_member());
      set.insert(args.back());
    }
    run(args);
    store_set(key, set);
  } else if (op < 6) {  // SREM
    std::vector<std::string> args = {"SREM", key};
    SetModel set = set_of(key);
    for (uint64_t i = 0, n = 1 + pick(4); i < n; i++) {
      args.push_back(some_member());
      set.erase(args.back());
    }
    run(args);
    store_set(key, set);
  } else if (op < 8) {  // SPOP, with or without a count
    SetModel set = set_of(key);
    const bool with_count = pick(2) == 0;
    std::vector<std::string> args = {"SPOP", key};
    if (with_count) args.push_back(std::to_string(pick(8)));
    const Reply reply = run(args);
    for (const std::string& popped : reply.items) {
      EXPECT_EQ(set.erase(popped), 1u) << "SPOP popped a member: " << popped;
    }
    store_set(key, set);
  } else if (op < 9) {  // SMOVE
    const std::string destination = some_key();
    const std::string member = some_member();
    if (!is_set_or_absent(destination)) return;
    run({"SMOVE", key, destination, member});
    SetModel from = set_of(key);
    if (from.erase(member) == 1 && destination != key) {
      SetModel to = set_of(destination);
      to.insert(member);
      store_set(destination, to);
      store_set(key, from);
    }
  } else {  // SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key other
    const std::string other = some_key();
    if (!is_set_or_absent(other)) return;
    const std::string destination = some_key();
    const SetModel first = set_of(key);
    const SetModel second = set_of(other);
    SetModel result;
    const uint64_t kind = pick(3);
    for (const std::string& member : first) {
      if ((kind == 0) == second.contains(member)) result.insert(member);
    }
    if (kind == 1) {
      result = first;
      result.insert(second.begin(), second.end());
    }
    const char* names[] = {"SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"};
    run({names[kind], destination, key, other});
    model_.erase(destination);
    store_set(destination, result);
  }
}

void SampleIndexModelTest::hash_step(const std::string& key) {
  HashModel hash = model_.contains(key) ? std::get<HashModel>(model_[key]) : HashModel();
  const uint64_t op = pick(6);
  if (op < 2) {  // HSET of several fields, some named twice
    std::vector<std::string> args = {"HSET", key};
    for (uint64_t i = 0, n = 1 + pick(12); i < n; i++) {
      const std::string field = some_member();
      const int64_t value = static_cast<int64_t>(pick(1000));
      args.push_back(field);
      args.push_back(std::to_string(value));
      hash[field] = value;
    }
    run(args);
  } else if (op < 3) {  // HSETNX
    const std::string field = some_member();
    run({"HSETNX", key, field, "7"});
    hash.emplace(field, 7);
  } else if (op < 4) {  // HINCRBY
    const std::string field = some_member();
    run({"HINCRBY", key, field, "3"});
    hash[field] += 3;
  } else {  // HDEL
    std::vector<std::string> args = {"HDEL", key};
    for (uint64_t i = 0, n = 1 + pick(4); i < n; i++) {
      args.push_back(some_member());
      hash.erase(args.back());
    }
    run(args);
  }
  if (hash.empty()) {
    model_.erase(key);
  } else {
    model_[key] = hash;
  }
}

void SampleIndexModelTest::key_step(const std::string& key) {
  const std::string other = some_key();
  const uint64_t op = pick(4);
  if (op == 0) {
    run({"DEL", key});
    model_.erase(key);
  } else if (op == 1) {
    run({"SET", key, "a string"});
    model_[key] = std::string("a string");
  } else if (op == 2 && model_.contains(key)) {
    run({"RENAME", key, other});
    Value moved = model_[key];
    model_.erase(key);
    model_[other] = std::move(moved);
  } else if (op == 3 && model_.contains(key) && other != key) {
    run({"COPY", key, other, "REPLACE"});
    model_[other] = model_[key];
  }
}

void SampleIndexModelTest::random_step() {
  const std::string key = some_key();
  const uint64_t op = pick(20);
  if (op < 10) {
    if (is_set_or_absent(key)) set_step(key);
  } else if (op < 16) {
    if (is_hash_or_absent(key)) hash_step(key);
  } else if (op < 18) {
    key_step(key);
  } else if (model_.contains(key) && std::holds_alternative<SetModel>(model_[key])) {
    const SetModel& set = std::get<SetModel>(model_[key]);
    const int64_t count = static_cast<int64_t>(pick(6)) - 2;
    const Reply reply = run({"SRANDMEMBER", key, std::to_string(count)});
    EXPECT_EQ(reply.items.size(),
              count < 0 ? static_cast<size_t>(-count) : std::min<size_t>(count, set.size()));
    for (const std::string& drawn : reply.items) EXPECT_TRUE(set.contains(drawn)) << drawn;
  } else if (model_.contains(key) && std::holds_alternative<HashModel>(model_[key])) {
    const HashModel& hash = std::get<HashModel>(model_[key]);
    const Reply reply = run({"HRANDFIELD", key, "-3", "WITHVALUES"});
    EXPECT_EQ(reply.items.size(), 6u);
    for (size_t i = 0; i + 1 < reply.items.size(); i += 2) {
      ASSERT_TRUE(hash.contains(reply.items[i])) << reply.items[i];
      EXPECT_EQ(std::to_string(hash.at(reply.items[i])), reply.items[i + 1]);
    }
  }
}

void SampleIndexModelTest::check_against_model() {
  Keyspace& keyspace = server_->keyspace();
  for (const char* key : kKeys) {
    SCOPED_TRACE(std::string("key ") + key);
    const auto model = model_.find(key);
    const bool is_set = model != model_.end() && std::holds_alternative<SetModel>(model->second);
    const bool is_hash = model != model_.end() && std::holds_alternative<HashModel>(model->second);
    if (!is_set && !is_hash) continue;
    std::set<std::string> members;
    if (is_set) {
      members = std::get<SetModel>(model->second);
    } else {
      for (const auto& [field, value] : std::get<HashModel>(model->second)) members.insert(field);
    }
    const KeyspaceSnapshot snapshot(keyspace);
    auto found =
        find_collection_at(keyspace, key, is_set ? RecordType::kSet : RecordType::kHash, snapshot);
    ASSERT_TRUE(found.is_ok() && found->collection.has_value());
    const Collection& collection = *found->collection;
    EXPECT_EQ(collection.meta().count, members.size());
    auto elements = all_elements(keyspace, collection, snapshot);
    ASSERT_TRUE(elements.is_ok()) << elements.status().to_string();
    std::set<std::string> element_names;
    for (const auto& [element, value] : *elements) element_names.insert(element);
    EXPECT_EQ(element_names, members);
    // The sample records of the live generation: exactly the members, each at its position.
    std::set<std::string> sampled;
    const std::string prefix = collection.element_prefix(kSampleTag);
    auto it = keyspace.new_iterator(snapshot.get());
    for (it->seek(prefix); it->valid() && it->key().starts_with(prefix); it->next()) {
      std::string_view member;
      ASSERT_TRUE(parse_sample_element(it->key().substr(prefix.size()), &member));
      EXPECT_EQ(std::string(it->key()), collection.sample_key(member)) << "its position";
      EXPECT_TRUE(sampled.emplace(member).second);
    }
    ASSERT_TRUE(it->status().is_ok());
    EXPECT_EQ(sampled, members) << "the sample index holds exactly the members";
  }
}

TEST_F(SampleIndexModelTest, IndexHoldsExactlyTheMembers) {
  for (const uint64_t seed : test::test_seeds(7100, 3, 40)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 ")");
    start_fresh(seed);
    for (int round = 0; round < 4; round++) {
      for (int step = 0; step < 150; step++) {
        random_step();
        if (step % 10 == 0) check_against_model();
        if (::testing::Test::HasFailure()) return;
      }
      check_against_model();
      close();  // the index and the elements come back alike after a restart
      open();
      check_against_model();
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// SPOP without a count takes its members from runs read ahead (server/pop_ahead.h). Proves that
// any change of the set between two SPOPs ends the run, even one that keeps the count: SREMs of
// members a run may hold paired with as many SADDs, SPOP with a count, SMOVE out, a DEL and the
// same members added back; that runs are kept at all; and that every member popped is one the
// model holds, and the set ends as the model.
TEST_F(SampleIndexModelTest, SpopRunsEndWhenTheSetChanges) {
  for (const uint64_t seed : test::test_seeds(7200, 3, 30)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 ")");
    start_fresh(seed);
    SetModel set;
    int next_member = 0;
    auto add_new = [&](uint64_t count) {
      std::vector<std::string> args = {"SADD", "s"};
      for (uint64_t i = 0; i < count; i++) {
        args.push_back("p" + std::to_string(next_member++));
        set.insert(args.back());
      }
      run(args);
    };
    auto some_member = [&] { return *std::next(set.begin(), static_cast<long>(pick(set.size()))); };
    int pops_from_a_run = 0;
    for (int step = 0; step < 500; step++) {
      if (set.size() < 40) add_new(200);
      const uint64_t op = pick(20);
      if (op < 14) {
        const bool had_run = server_->keyspace().pop_ahead().size() > 0;
        const Reply reply = run({"SPOP", "s"});
        ASSERT_EQ(reply.items.size(), 1u);
        ASSERT_EQ(set.erase(reply.items[0]), 1u) << "SPOP popped a non-member: " << reply.items[0];
        pops_from_a_run += had_run ? 1 : 0;
      } else if (op < 16) {
        std::vector<std::string> args = {"SREM", "s"};
        uint64_t removed = 0;
        for (int i = 0; i < 8; i++) {
          args.push_back(some_member());
          removed += set.erase(args.back());
        }
        EXPECT_EQ(run(args).integer, static_cast<int64_t>(removed));
        add_new(removed);  // the count is back where it was
      } else if (op < 17) {
        const Reply reply = run({"SPOP", "s", "3"});
        for (const std::string& popped : reply.items) ASSERT_EQ(set.erase(popped), 1u) << popped;
      } else if (op < 18) {
        const std::string member = some_member();
        run({"SMOVE", "s", "elsewhere", member});
        set.erase(member);
      } else if (op < 19) {
        run({"DEL", "s"});
        std::vector<std::string> args = {"SADD", "s"};
        args.insert(args.end(), set.begin(), set.end());
        run(args);
      } else {
        run({"SADD", "s", some_member()});  // no change
      }
      if (::testing::Test::HasFailure()) return;
    }
    std::vector<std::string> expected(set.begin(), set.end());
    Reply members = run({"SMEMBERS", "s"});
    std::sort(members.items.begin(), members.items.end());
    EXPECT_EQ(members.items, expected);
    EXPECT_GT(pops_from_a_run, 100) << "SPOPs found a run kept";
  }
}

}  // namespace
}  // namespace cairn
