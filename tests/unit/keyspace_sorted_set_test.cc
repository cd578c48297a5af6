// Proves the sorted-set encoding on a real engine (server/sorted_set.h) against an in-memory
// model over many seeds: after random ZADD-like updates, removals and pops (which leave index
// bounds behind), with reopens in between, the score index and the member records hold exactly
// the model's members; walks in score and member order, forward and in reverse, from any score
// or member bound, return what the model orders; the element count stays exact; the sample
// index holds exactly the members at their positions; pops read ahead never outlive a change;
// and compaction drops the index entries of a deleted sorted set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/sorted_set.h"
#include "support/keyspace_fixture.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using Model = std::map<std::string, double>;
using Order = SortedSetWalk::Order;

class KeyspaceSortedSetTest : public test::KeyspaceFixture {
 protected:
  // Runs `change` on the sorted set at `key` (created if absent) in one batch with its record.
  template <typename Change>
  void write(std::string_view key, Change change) {
    KeyLockGuard guard = keyspace_->lock_key(key);
    auto found = find_collection(*keyspace_, key, kSortedSet, true);
    ASSERT_TRUE(found.is_ok());
    auto zset = collection_for_write(*keyspace_, key, kSortedSet, *found);
    ASSERT_TRUE(zset.is_ok());
    KeyspaceWrite batch(*keyspace_);
    change(batch, *zset);
    ASSERT_TRUE(write_collection(batch, *zset, *found).is_ok());
    ASSERT_TRUE(batch.commit().is_ok());
  }

  std::optional<Collection> find(std::string_view key) {
    auto found = find_collection(*keyspace_, key, kSortedSet, false);
    EXPECT_TRUE(found.is_ok());
    return found.is_ok() ? found->collection : std::nullopt;
  }

  // Every member a walk visits from where `position` put it.
  template <typename Position>
  std::vector<ScoredMember> walk(const Collection& zset, Order order, bool reverse,
                                 Position position) {
    KeyspaceSnapshot snapshot(*keyspace_);
    SortedSetWalk walk(*keyspace_, zset, &snapshot, order, reverse);
    position(walk);
    auto all = collect_members(walk, 0, std::nullopt, [](const SortedSetWalk&) { return true; });
    EXPECT_TRUE(all.is_ok()) << all.status().to_string();
    return all.is_ok() ? *all : std::vector<ScoredMember>();
  }

  static std::vector<std::pair<double, std::string>> by_score(const Model& model) {
    std::vector<std::pair<double, std::string>> out;
    for (const auto& [member, score] : model) out.emplace_back(score, member);
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::vector<std::string> members(const std::vector<ScoredMember>& walked) {
    std::vector<std::string> out;
    for (const ScoredMember& scored : walked) out.push_back(scored.member);
    return out;
  }

  // Checks every read path of the sorted set at `key` against `model`.
  void check(std::string_view key, const Model& model, std::mt19937_64& random) {
    std::optional<Collection> zset = find(key);
    ASSERT_EQ(zset.has_value(), !model.empty());
    if (!zset.has_value()) return;
    ASSERT_EQ(zset->meta().count, model.size());
    const auto ordered = by_score(model);
    std::vector<std::string> expected;
    for (const auto& [score, member] : ordered) expected.push_back(member);
    auto start = [](SortedSetWalk& w) { w.seek_to_start(); };
    const auto forward = walk(*zset, Order::kScore, false, start);
    ASSERT_EQ(members(forward), expected);
    for (size_t i = 0; i < forward.size(); i++) EXPECT_EQ(forward[i].score, ordered[i].first);
    std::vector<std::string> reversed(expected.rbegin(), expected.rend());
    ASSERT_EQ(members(walk(*zset, Order::kScore, true, start)), reversed);
    std::vector<std::string> by_member;
    for (const auto& [member, score] : model) by_member.push_back(member);
    ASSERT_EQ(members(walk(*zset, Order::kMember, false, start)), by_member);
    // A score bound, inclusive or exclusive, either way.
    for (int round = 0; round < 4; round++) {
      const double bound = ordered[random() % ordered.size()].first + (random() % 3 == 0 ? 0.5 : 0);
      const bool exclusive = random() % 2 == 0;
      std::vector<std::string> up;
      std::vector<std::string> down;
      for (const auto& [score, member] : ordered) {
        if (exclusive ? score > bound : score >= bound) up.push_back(member);
      }
      for (auto it = ordered.rbegin(); it != ordered.rend(); ++it) {
        if (exclusive ? it->first < bound : it->first <= bound) down.push_back(it->second);
      }
      auto seek = [&](SortedSetWalk& w) { w.seek_score(bound, exclusive); };
      EXPECT_EQ(members(walk(*zset, Order::kScore, false, seek)), up) << bound << exclusive;
      EXPECT_EQ(members(walk(*zset, Order::kScore, true, seek)), down) << bound << exclusive;
    }
    // A member bound.
    LexBound bound{random() % 2 == 0 ? LexBound::Kind::kInclusive : LexBound::Kind::kExclusive,
                   std::next(model.begin(), static_cast<long>(random() % model.size()))->first};
    std::vector<std::string> up;
    std::vector<std::string> down;
    const bool inclusive = bound.kind == LexBound::Kind::kInclusive;
    for (const auto& [member, score] : model) {
      if (inclusive ? member >= bound.member : member > bound.member) up.push_back(member);
      if (inclusive ? member <= bound.member : member < bound.member) down.push_back(member);
    }
    std::reverse(down.begin(), down.end());
    auto seek = [&](SortedSetWalk& w) { w.seek_member(bound); };
    EXPECT_EQ(members(walk(*zset, Order::kMember, false, seek)), up);
    EXPECT_EQ(members(walk(*zset, Order::kMember, true, seek)), down);
    // The sample index (ZRANDMEMBER's) holds exactly the members: position, then member.
    std::set<std::string> sampled;
    {
      KeyspaceSnapshot snapshot(*keyspace_);
      ElementIterator it(*keyspace_, *zset, &snapshot, kSampleTag);
      for (it.seek(""); it.valid(); it.next()) {
        ASSERT_GE(it.element().size(), 8u);
        const std::string member(it.element().substr(8));
        EXPECT_EQ(zset->element_prefix(kSampleTag) + std::string(it.element()),
                  zset->sample_key(member))
            << "an entry at another position than its member's";
        sampled.insert(member);
      }
      ASSERT_TRUE(it.status().is_ok());
    }
    ASSERT_EQ(sampled, std::set<std::string>(by_member.begin(), by_member.end()));
    // Point reads.
    for (const auto& [member, score] : model) {
      auto read = read_score(*keyspace_, *zset, member, nullptr);
      ASSERT_TRUE(read.is_ok());
      ASSERT_EQ(*read, std::optional<double>(score)) << member;
    }
    auto absent = read_score(*keyspace_, *zset, "absent-member", nullptr);
    ASSERT_TRUE(absent.is_ok());
    EXPECT_FALSE(absent->has_value());
  }
};

TEST_F(KeyspaceSortedSetTest, MatchesAModelUnderRandomChangesAndReopens) {
  const int seeds = std::getenv("CAIRN_TEST_LONG") != nullptr ? 40 : 8;
  for (int seed = 1; seed <= seeds; seed++) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    const std::string key = "z" + std::to_string(seed);
    Model model;
    for (int step = 0; step < 60; step++) {
      const int action = static_cast<int>(random() % 10);
      if (action < 5) {  // add or update a few members; few distinct scores so ties are common
        write(key, [&](KeyspaceWrite& batch, Collection& zset) {
          for (int i = 0; i < 1 + static_cast<int>(random() % 6); i++) {
            const std::string member = "m" + std::to_string(random() % 40);
            const double score = static_cast<double>(static_cast<int>(random() % 9) - 4) / 2;
            auto it = model.find(member);
            put_member(batch, zset, member,
                       it == model.end() ? std::nullopt : std::optional<double>(it->second),
                       score);
            model[member] = score;
          }
        });
      } else if (action < 7 && !model.empty()) {  // remove a member
        auto victim = std::next(model.begin(), static_cast<long>(random() % model.size()));
        write(key, [&](KeyspaceWrite& batch, Collection& zset) {
          remove_member(batch, zset, victim->first, victim->second);
        });
        model.erase(victim);
      } else if (action < 9 && !model.empty()) {  // pop from either end
        const bool max = random() % 2 == 0;
        const uint64_t count = 1 + random() % 3;
        const auto ordered = by_score(model);
        std::vector<std::string> expected;
        for (size_t i = 0; i < std::min<size_t>(count, ordered.size()); i++) {
          expected.push_back(max ? ordered[ordered.size() - 1 - i].second : ordered[i].second);
        }
        std::vector<ScoredMember> popped;
        write(key, [&](KeyspaceWrite& batch, Collection& zset) {
          auto result = pop_members(*keyspace_, batch, zset, count, max);
          ASSERT_TRUE(result.is_ok());
          popped = *result;
        });
        EXPECT_EQ(members(popped), expected);
        for (const std::string& member : expected) model.erase(member);
      } else {
        reopen();
      }
      ASSERT_NO_FATAL_FAILURE(check(key, model, random));
    }
  }
}

TEST_F(KeyspaceSortedSetTest, PopsLeaveABoundThatLaterAddsBelowItClear) {
  write("z", [&](KeyspaceWrite& batch, Collection& zset) {
    for (int i = 0; i < 10; i++) put_member(batch, zset, "m" + std::to_string(i), std::nullopt, i);
  });
  write("z", [&](KeyspaceWrite& batch, Collection& zset) {
    auto popped = pop_members(*keyspace_, batch, zset, 3, false);
    ASSERT_TRUE(popped.is_ok());
    EXPECT_EQ(zset.meta().index_floor, score_index_element(2, "m2"));
    EXPECT_TRUE(zset.meta().index_ceiling.empty());
  });
  // A member below the floor: the floor goes, and the walk finds the new member.
  write("z", [&](KeyspaceWrite& batch, Collection& zset) {
    put_member(batch, zset, "low", std::nullopt, -1);
    EXPECT_TRUE(zset.meta().index_floor.empty());
  });
  std::optional<Collection> zset = find("z");
  ASSERT_TRUE(zset.has_value());
  auto first = walk(*zset, Order::kScore, false, [](SortedSetWalk& w) { w.seek_to_start(); });
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.front().member, "low");
  EXPECT_EQ(first.size(), 8u);
}

// Consecutive pops take their members from runs read ahead (server/pop_ahead.h). Proves that any
// change between two pops ends the run, even one that keeps the count: a member added past the
// end being popped, a score changed, a member the run holds removed; that pops from the other end
// use no run of this one; and that runs are kept at all. Every pop returns the model's lowest
// (highest) members.
TEST_F(KeyspaceSortedSetTest, PopAheadRunsEndWhenTheSortedSetChanges) {
  for (const uint64_t seed : test::test_seeds(7300, 4, 30)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 ")");
    std::mt19937_64 random(seed);
    const std::string key = "runs" + std::to_string(seed);
    Model model;
    int next_member = 0;
    auto add = [&](double score) {
      const std::string member = "m" + std::to_string(next_member++);
      write(key, [&](KeyspaceWrite& batch, Collection& zset) {
        put_member(batch, zset, member, std::nullopt, score);
      });
      model[member] = score;
    };
    write(key, [&](KeyspaceWrite& batch, Collection& zset) {
      for (int i = 0; i < 300; i++) {
        const std::string member = "m" + std::to_string(next_member++);
        put_member(batch, zset, member, std::nullopt, i);
        model[member] = i;
      }
    });
    int pops_from_a_run = 0;
    for (int step = 0; step < 400 && model.size() > 10; step++) {
      const auto ordered = by_score(model);
      const int action = static_cast<int>(random() % 20);
      if (action < 14) {  // pop, mostly from the low end
        const bool max = random() % 6 == 0;
        const uint64_t count = random() % 4 == 0 ? 1 + random() % 3 : 1;
        std::vector<std::string> expected;
        for (uint64_t i = 0; i < count; i++) {
          expected.push_back(max ? ordered[ordered.size() - 1 - i].second : ordered[i].second);
        }
        const bool had_run = keyspace_->pop_ahead().size() > 0;
        std::vector<ScoredMember> popped;
        write(key, [&](KeyspaceWrite& batch, Collection& zset) {
          auto result = pop_members(*keyspace_, batch, zset, count, max);
          ASSERT_TRUE(result.is_ok()) << result.status().to_string();
          popped = *result;
        });
        ASSERT_EQ(members(popped), expected);
        for (const std::string& member : expected) model.erase(member);
        pops_from_a_run += had_run ? 1 : 0;
      } else if (action < 16) {  // a new member at either end
        add(random() % 2 == 0 ? ordered.front().first - 1 : ordered.back().first + 1);
      } else if (action < 18) {  // a member's score changes; the count does not
        const auto& [score, member] = ordered[random() % ordered.size()];
        const double changed = random() % 2 == 0 ? ordered.front().first - 1 : score + 0.5;
        write(key, [&](KeyspaceWrite& batch, Collection& zset) {
          put_member(batch, zset, member, score, changed);
        });
        model[member] = changed;
      } else {  // one of the next members to pop goes
        const auto& [score, member] = ordered[random() % 4];
        write(key, [&](KeyspaceWrite& batch, Collection& zset) {
          remove_member(batch, zset, member, score);
        });
        model.erase(member);
      }
    }
    ASSERT_NO_FATAL_FAILURE(check(key, model, random));
    EXPECT_GT(pops_from_a_run, 50) << "pops found a run kept";
  }
}

TEST_F(KeyspaceSortedSetTest, CompactionDropsADeletedSortedSetsIndex) {
  write("z", [&](KeyspaceWrite& batch, Collection& zset) {
    for (int i = 0; i < 50; i++) put_member(batch, zset, "m" + std::to_string(i), std::nullopt, i);
  });
  auto count_tag = [&](char tag) {
    int n = 0;
    auto it = keyspace_->database().new_iterator(ReadOptions());
    for (it->seek_to_first(); it->valid(); it->next()) {
      ElementKey element;
      if (parse_element_key(it->key(), &element) && element.user_key == "z" && element.tag == tag) {
        n++;
      }
    }
    return n;
  };
  EXPECT_EQ(count_tag(kScoreTag), 50);
  EXPECT_EQ(count_tag(kElementTag), 50);
  {
    KeyLockGuard guard = keyspace_->lock_key("z");
    auto entry = keyspace_->find("z", true);
    ASSERT_TRUE(entry.is_ok() && entry->has_value());
    KeyspaceWrite batch(*keyspace_);
    batch.remove("z", **entry);
    ASSERT_TRUE(batch.commit().is_ok());
  }
  ASSERT_TRUE(keyspace_->save().is_ok());
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 20; i++) set("pad" + std::to_string(i), "v");
    ASSERT_TRUE(keyspace_->save().is_ok());
  }
  ASSERT_TRUE(keyspace_->database().wait_for_compactions().is_ok());
  EXPECT_EQ(count_tag(kScoreTag), 0);
  EXPECT_EQ(count_tag(kElementTag), 0);
}

}  // namespace
}  // namespace cairn
