// Proves the merging iterator: the union of its children in internal-key order, equal keys in
// child order, from seek_to_first and from any seek, whatever the number and shape of children;
// backward the same sequence reversed, with changes of direction anywhere.
#include "storage/merging_iterator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "storage/internal_key.h"
#include "storage/memtable.h"
#include "support/iterator_walk.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

// One entry of the model: its internal key, then the child that holds it (the tie-break), then
// its value.
using ModelEntry = std::tuple<std::string, size_t, std::string>;

bool model_order(const ModelEntry& a, const ModelEntry& b) {
  const int order = compare_internal_keys(std::get<0>(a), std::get<0>(b));
  return order != 0 ? order < 0 : std::get<1>(a) < std::get<1>(b);
}

// Reads the iterator from where it stands to its end.
std::vector<std::pair<std::string, std::string>> drain(Iterator& iterator) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (; iterator.valid(); iterator.next()) {
    entries.emplace_back(std::string(iterator.key()), std::string(iterator.value()));
  }
  EXPECT_TRUE(iterator.status().is_ok());
  return entries;
}

// Proves that for random children — some empty, overlapping key ranges, and the same internal
// key in several children (as a flushed memtable and its table hold) — the merge yields every
// entry once, sorted, equal keys in child order, after seek_to_first and after seeks to present
// and absent keys.
TEST(MergingIteratorTest, YieldsTheSortedUnionWithTiesInChildOrder) {
  std::mt19937_64 random(42);
  for (int round = 0; round < 50; round++) {
    const size_t child_count = 1 + random() % 6;
    std::vector<std::shared_ptr<MemTable>> memtables;
    std::vector<ModelEntry> model;
    for (size_t child = 0; child < child_count; child++) {
      memtables.push_back(std::make_shared<MemTable>());
      const size_t entry_count = random() % 40;
      for (size_t i = 0; i < entry_count; i++) {
        const std::string user_key = "k" + std::to_string(random() % 30);
        const SequenceNumber sequence = 1 + random() % 5;
        const std::string internal_key = make_internal_key(user_key, sequence, ValueType::kValue);
        const bool taken = std::any_of(model.begin(), model.end(), [&](const ModelEntry& entry) {
          return std::get<0>(entry) == internal_key && std::get<1>(entry) == child;
        });
        if (taken) continue;  // a memtable holds each internal key once
        const std::string value = "v" + std::to_string(child) + "." + std::to_string(i);
        memtables.back()->add(sequence, ValueType::kValue, user_key, value);
        model.emplace_back(internal_key, child, value);
      }
    }
    std::sort(model.begin(), model.end(), model_order);
    std::vector<std::unique_ptr<Iterator>> children;
    for (const auto& memtable : memtables) children.push_back(memtable->new_iterator());
    const std::unique_ptr<Iterator> merged = new_merging_iterator(std::move(children));

    const auto expect_from = [&](size_t start, const std::string& context) {
      const auto entries = drain(*merged);
      ASSERT_EQ(entries.size(), model.size() - start) << context;
      for (size_t i = 0; i < entries.size(); i++) {
        ASSERT_EQ(entries[i].first, std::get<0>(model[start + i])) << context << " at " << i;
        ASSERT_EQ(entries[i].second, std::get<2>(model[start + i])) << context << " at " << i;
      }
    };
    merged->seek_to_first();
    expect_from(0, "round " + std::to_string(round) + " from the first");
    for (int seek = 0; seek < 10; seek++) {
      const std::string target =
          make_internal_key("k" + std::to_string(random() % 32), random() % 7, kValueTypeForSeek);
      const auto start = std::find_if(model.begin(), model.end(), [&](const ModelEntry& entry) {
        return compare_internal_keys(std::get<0>(entry), target) >= 0;
      });
      merged->seek(target);
      expect_from(static_cast<size_t>(start - model.begin()),
                  "round " + std::to_string(round) + " seek " + std::to_string(seek));
    }
  }
}

// Proves backward moves over random children (empty ones, overlapping ranges, the same internal
// key in several children with different values): seek_to_last then prev yields the merge in
// reverse, and random walks that switch direction at every kind of position — equal keys in
// several children included — match the model at every step. A prev that skipped an entry, or
// a direction switch that left a child on the wrong side of the current entry, fails here.
TEST(MergingIteratorTest, WalksBothWaysMatchTheModel) {
  for (const uint64_t seed : test::test_seeds(500, 60, 600)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    std::mt19937_64 random(seed);
    const size_t child_count = 1 + random() % 6;
    const uint64_t user_key_count = 1 + random() % 40;
    std::vector<std::shared_ptr<MemTable>> memtables;
    std::vector<ModelEntry> model;
    for (size_t child = 0; child < child_count; child++) {
      memtables.push_back(std::make_shared<MemTable>());
      const size_t entry_count = random() % 4 == 0 ? 0 : random() % 60;
      for (size_t i = 0; i < entry_count; i++) {
        const std::string user_key = "k" + std::to_string(random() % user_key_count);
        const SequenceNumber sequence = 1 + random() % 5;
        const std::string internal_key = make_internal_key(user_key, sequence, ValueType::kValue);
        const bool taken = std::any_of(model.begin(), model.end(), [&](const ModelEntry& entry) {
          return std::get<0>(entry) == internal_key && std::get<1>(entry) == child;
        });
        if (taken) continue;  // a memtable holds each internal key once
        const std::string value = "v" + std::to_string(child) + "." + std::to_string(i);
        memtables.back()->add(sequence, ValueType::kValue, user_key, value);
        model.emplace_back(internal_key, child, value);
      }
    }
    std::sort(model.begin(), model.end(), model_order);
    test::ModelEntries entries;
    for (const ModelEntry& entry : model)
      entries.emplace_back(std::get<0>(entry), std::get<2>(entry));

    std::vector<std::unique_ptr<Iterator>> children;
    for (const auto& memtable : memtables) {
      children.push_back(memtable->new_iterator());
      if (random() % 4 == 0) children.push_back(new_empty_iterator());
    }
    const std::unique_ptr<Iterator> merged = new_merging_iterator(std::move(children));
    test::IteratorModelWalk walk(*merged, entries, &compare_internal_keys);
    walk.check_backward_scan();
    walk.run(random, 800, [&] {
      if (!entries.empty() && random() % 3 == 0) return entries[random() % entries.size()].first;
      return make_internal_key("k" + std::to_string(random() % (user_key_count + 2)), random() % 7,
                               static_cast<ValueType>(random() % 3));
    });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Proves a child's error stops a backward walk too: the merge becomes invalid with the error.
TEST(MergingIteratorTest, ChildErrorStopsABackwardWalk) {
  auto memtable = std::make_shared<MemTable>();
  memtable->add(1, ValueType::kValue, "a", "1");
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(memtable->new_iterator());
  children.push_back(new_empty_iterator(Status::corruption("broken child")));
  const std::unique_ptr<Iterator> merged = new_merging_iterator(std::move(children));
  merged->seek_to_last();
  EXPECT_FALSE(merged->valid());
  EXPECT_TRUE(merged->status().is_corruption());
  merged->seek_for_prev(make_internal_key("a", 1, ValueType::kValue));
  EXPECT_FALSE(merged->valid());
  EXPECT_TRUE(merged->status().is_corruption());
}

}  // namespace
}  // namespace cairn
