// Proves the bookkeeping of pop-ahead runs (server/pop_ahead.h): a run is handed back only to a
// pop of its kind on the same generation and count, once; a change of its key or of every key
// drops it; reads ahead grow 0, 1, 2, 4, ... up to the cap; and runs are kept for a bounded
// number of keys. (Whether pops use runs correctly: keyspace_sorted_set_test and
// server_sample_index_test.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/pop_ahead.h"

namespace cairn {
namespace {

CollectionMeta meta_of(uint64_t generation, uint64_t count) {
  CollectionMeta meta;
  meta.generation = generation;
  meta.count = count;
  return meta;
}

PopRun run_of(PopKind kind, uint64_t generation, uint64_t count,
              std::vector<std::string> elements = {}) {
  PopRun run(kind, generation);
  run.set_count(count);
  while (run.elements_ahead() < elements.size()) run.refill({});
  run.refill(std::move(elements));
  return run;
}

TEST(PopAheadTest, ARunIsTakenOnceByAPopOfItsKindOnTheSameCollection) {
  PopAhead ahead;
  ahead.keep("k", run_of(PopKind::kMin, 7, 10, {"a", "b"}));
  EXPECT_EQ(ahead.size(), 1u);
  std::optional<PopRun> run = ahead.take("k", PopKind::kMin, meta_of(7, 10));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->size(), 2u);
  EXPECT_EQ(run->take(), "a");
  EXPECT_EQ(run->take(), "b");
  EXPECT_TRUE(run->empty());
  EXPECT_EQ(ahead.size(), 0u);
  EXPECT_FALSE(ahead.take("k", PopKind::kMin, meta_of(7, 10)).has_value()) << "taken already";
}

TEST(PopAheadTest, AStaleRunIsDropped) {
  PopAhead ahead;
  const struct {
    PopKind kind;
    uint64_t generation;
    uint64_t count;
  } asks[] = {{PopKind::kMax, 7, 10}, {PopKind::kMin, 8, 10}, {PopKind::kMin, 7, 9}};
  for (const auto& ask : asks) {
    ahead.keep("k", run_of(PopKind::kMin, 7, 10, {"a"}));
    EXPECT_FALSE(ahead.take("k", ask.kind, meta_of(ask.generation, ask.count)).has_value());
    EXPECT_EQ(ahead.size(), 0u) << "a stale run is not kept";
  }
  ahead.keep("k", run_of(PopKind::kMin, 7, 10, {"a"}));
  EXPECT_FALSE(ahead.take("other", PopKind::kMin, meta_of(7, 10)).has_value());
  EXPECT_EQ(ahead.size(), 1u);
}

TEST(PopAheadTest, AChangeOfTheKeyOrOfEveryKeyDropsRuns) {
  PopAhead ahead;
  ahead.keep("a", run_of(PopKind::kRandom, 1, 100, {"x"}));
  ahead.keep("b", run_of(PopKind::kRandom, 2, 100, {"y"}));
  ahead.forget("a");
  ahead.forget("never-kept");
  EXPECT_EQ(ahead.size(), 1u);
  EXPECT_FALSE(ahead.take("a", PopKind::kRandom, meta_of(1, 100)).has_value());
  ahead.keep("a", run_of(PopKind::kRandom, 1, 100, {"x"}));
  ahead.clear();
  EXPECT_EQ(ahead.size(), 0u);
  EXPECT_FALSE(ahead.take("b", PopKind::kRandom, meta_of(2, 100)).has_value());
}

TEST(PopAheadTest, ReadsAheadGrowFromNoneToTheCap) {
  PopRun run(PopKind::kMin, 1);
  std::vector<size_t> sizes;
  for (int i = 0; i < 16; i++) {
    sizes.push_back(run.elements_ahead());
    run.refill({});
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048,
                                        4096, 4096, 4096}));
  static_assert(PopRun::kRunElementsMax == 4096);
  EXPECT_TRUE(run.full(PopRun::kRunElementsMax, 0));
  EXPECT_FALSE(run.full(PopRun::kRunElementsMax - 1, 0));
  EXPECT_TRUE(run.full(1, PopRun::kRunBytesMax)) << "a run is bounded in bytes too";
}

TEST(PopAheadTest, RunsAreKeptForABoundedNumberOfKeys) {
  PopAhead ahead;
  for (size_t i = 0; i < 4 * PopAhead::kRunsMax; i++) {
    ahead.keep("k" + std::to_string(i), run_of(PopKind::kMin, i, 1, {"a"}));
  }
  EXPECT_LE(ahead.size(), PopAhead::kRunsMax);
  EXPECT_GT(ahead.size(), PopAhead::kRunsMax / 2);
}

}  // namespace
}  // namespace cairn
