// Proves LPOP and RPOP without a count against a model list while they take their elements from
// runs read ahead (server/pop_ahead.h): any change of the list between two pops ends the run,
// including those that keep its length (LSET of an element a run holds, a rotation, LREM paired
// with a push, DEL and the same elements pushed back); pops from one end use no run of the other;
// runs are kept at all; and the list ends as the model.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "server/server.h"
#include "support/session_client.h"
#include "support/test_directory.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::Command;
using test::execute;

std::string bulk(const std::string& value) {
  return "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
}

TEST(ListPopsTest, PopRunsEndWhenTheListChanges) {
  for (const uint64_t seed : test::test_seeds(7400, 4, 40)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 ")");
    ServerConfig config;
    config.dir = test::fresh_test_directory("server_list_pops_");
    auto opened = Server::open(config);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    std::unique_ptr<Server> server = std::move(opened).value();
    std::unique_ptr<Session> session = test::connect(*server, 1);
    std::mt19937_64 random(seed);
    auto pick = [&](uint64_t bound) { return random() % bound; };
    std::deque<std::string> list;
    int next_value = 0;
    auto value = [&] { return "v" + std::to_string(next_value++); };
    int pops_from_a_run = 0;
    for (int step = 0; step < 3000 && !::testing::Test::HasFailure(); step++) {
      if (list.size() < 30) {
        Command push = {"RPUSH", "l"};
        for (int i = 0; i < 300; i++) {
          push.push_back(value());
          list.push_back(push.back());
        }
        execute(*session, push);
      }
      const uint64_t op = pick(40);
      if (op < 30) {
        const bool left = op < 18;
        const bool had_run = server->keyspace().pop_ahead().size() > 0;
        const std::string expected = left ? list.front() : list.back();
        ASSERT_EQ(execute(*session, {left ? "LPOP" : "RPOP", "l"}), bulk(expected)) << step;
        left ? list.pop_front() : list.pop_back();
        pops_from_a_run += had_run ? 1 : 0;
      } else if (op < 32) {
        const int64_t index = pick(2) == 0 ? static_cast<int64_t>(pick(4))
                                           : -1 - static_cast<int64_t>(pick(4));
        const std::string replaced = value();
        execute(*session, {"LSET", "l", std::to_string(index), replaced});
        (index >= 0 ? list[static_cast<size_t>(index)]
                    : list[list.size() - static_cast<size_t>(-index)]) = replaced;
      } else if (op < 33) {
        execute(*session, {"RPOPLPUSH", "l", "l"});
        list.push_front(list.back());
        list.pop_back();
      } else if (op < 34) {
        const std::string removed = list[pick(4)];
        execute(*session, {"LREM", "l", "1", removed});
        list.erase(std::find(list.begin(), list.end(), removed));
        const std::string pushed = value();
        execute(*session, {"LPUSH", "l", pushed});
        list.push_front(pushed);
      } else if (op < 35) {
        execute(*session, {"DEL", "l"});
        Command push = {"RPUSH", "l"};
        push.insert(push.end(), list.begin(), list.end());
        execute(*session, push);
      } else if (op < 36) {
        execute(*session, {"LPOP", "l", "2"});
        list.pop_front();
        list.pop_front();
      } else if (op < 37) {
        execute(*session, {"LTRIM", "l", "0", "-2"});
        list.pop_back();
      } else if (op < 38) {
        const std::string pushed = value();
        execute(*session, {"RPUSH", "l", pushed});
        list.push_back(pushed);
      } else {
        const std::string pushed = value();
        execute(*session, {"LPUSH", "l", pushed});
        list.push_front(pushed);
      }
    }
    std::string expected = "*" + std::to_string(list.size()) + "\r\n";
    for (const std::string& element : list) expected += bulk(element);
    EXPECT_EQ(execute(*session, {"LRANGE", "l", "0", "-1"}), expected);
    EXPECT_GT(pops_from_a_run, 300) << "pops found a run kept";
    session.reset();
    server.reset();
    std::filesystem::remove_all(config.dir);
  }
}

}  // namespace
}  // namespace cairn
