// Proves the row cache: it answers what was inserted until a write invalidates it, refuses reads
// older than a write it saw, keeps within its capacity with second-chance eviction; and a
// database using it answers exactly as one without it — against a model under random writes,
// flushes and snapshots, and under concurrent writers and readers.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/random.h"
#include "storage/database.h"
#include "storage/row_cache.h"
#include "support/disk_database_test.h"

namespace cairn {
namespace {

// Proves a cached value is answered, and a write's invalidation makes it a miss.
TEST(RowCacheTest, InsertLookupInvalidate) {
  RowCache cache(1 << 20);
  std::string value;
  EXPECT_FALSE(cache.lookup("k", &value));
  cache.insert("k", "v1", 10);
  ASSERT_TRUE(cache.lookup("k", &value));
  EXPECT_EQ(value, "v1");
  cache.invalidate("k", 11);
  EXPECT_FALSE(cache.lookup("k", &value));
  const RowCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.usage_bytes, 0u);
}

// Proves a read older than an invalidation its shard saw is refused (it may predate the
// write), while a read at or after it is cached.
TEST(RowCacheTest, RefusesReadsOlderThanAnInvalidation) {
  RowCache cache(1 << 20);
  cache.invalidate("k", 20);
  cache.insert("k", "stale", 19);
  std::string value;
  EXPECT_FALSE(cache.lookup("k", &value));
  EXPECT_EQ(cache.stats().refused_inserts, 1u);
  cache.insert("k", "fresh", 20);
  ASSERT_TRUE(cache.lookup("k", &value));
  EXPECT_EQ(value, "fresh");
}

// Proves usage stays within the capacity, large values are not cached, and an entry looked up
// since the hand passed survives eviction over one that was not.
TEST(RowCacheTest, CapacityAndSecondChance) {
  const size_t capacity = 64 * 1024;  // 1 KiB per shard
  RowCache cache(capacity);
  for (int i = 0; i < 10000; i++) {
    cache.insert("key" + std::to_string(i), std::string(100, 'v'), 1);
    ASSERT_LE(cache.stats().usage_bytes, capacity);
  }
  std::string value;
  cache.insert("big", std::string(RowCache::kValueBytesMax + 1, 'b'), 1);
  EXPECT_FALSE(cache.lookup("big", &value));

  // One shard holds about 4 entries of this size: fill with many keys, keeping one hot.
  RowCache small(capacity);
  small.insert("hot", std::string(100, 'h'), 1);
  for (int i = 0; i < 2000; i++) {
    ASSERT_TRUE(small.lookup("hot", &value)) << "evicted at " << i;
    small.insert("cold" + std::to_string(i), std::string(100, 'c'), 1);
  }
}

// Proves the index keeps every entry reachable through growth and the backward shifts of
// removals: under random inserts, overwrites, invalidations and (in a small cache) evictions,
// every lookup answers the last value inserted for its key or misses — never another key's
// value — and a cache large enough to hold everything misses nothing it holds.
TEST(RowCacheTest, IndexMatchesAModel) {
  for (const size_t capacity : {size_t{64} << 20, size_t{64} << 10}) {
    RowCache cache(capacity);
    const bool evicts = capacity < (size_t{1} << 20);
    std::map<std::string, std::string> model;
    Random random(capacity);
    std::string value;
    for (int step = 0; step < 50000; step++) {
      const std::string key = "k" + std::to_string(random.uniform(3000));
      const uint64_t action = random.uniform(10);
      if (action < 4) {
        const std::string inserted = key + "@" + std::to_string(step);
        cache.insert(key, inserted, 1);
        model[key] = inserted;
      } else if (action < 6) {
        cache.invalidate(key, 1);
        model.erase(key);
      } else {
        const bool hit = cache.lookup(key, &value);
        const auto expected = model.find(key);
        if (hit) {
          ASSERT_NE(expected, model.end()) << key << " answered after its invalidation";
          ASSERT_EQ(value, expected->second);
        } else if (!evicts) {
          ASSERT_EQ(expected, model.end()) << key << " lost at step " << step;
        }
      }
      ASSERT_LE(cache.stats().usage_bytes, capacity);
    }
  }
}

class RowCacheDatabaseTest : public test::DiskDatabaseTest {
 protected:
  void SetUp() override {
    Options options;
    options.fsync = FsyncPolicy::kNever;
    options.row_cache_bytes = 1 << 20;
    options.write_buffer_size_bytes = 64 << 10;  // flushes often, so lookups reach the tables
    open_database(options, "row_cache_");
  }
  std::optional<std::string> get(const ReadOptions& options, const std::string& key) {
    auto got = db_->get(options, key);
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    return got.is_ok() ? *got : std::nullopt;
  }
};

// Proves a database with a row cache answers as a model does under random puts, deletes,
// overwrites, flushes and reads, and that reads at a snapshot never get a newer cached value.
TEST_F(RowCacheDatabaseTest, MatchesAModel) {
  Random random(7);
  std::map<std::string, std::string> model;
  for (int step = 0; step < 20000; step++) {
    const std::string key = "key" + std::to_string(random.uniform(200));
    const uint64_t action = random.uniform(10);
    if (action < 3) {
      const std::string value = "v" + std::to_string(step);
      ASSERT_TRUE(db_->put(key, value).is_ok());
      model[key] = value;
    } else if (action < 4) {
      ASSERT_TRUE(db_->remove(key).is_ok());
      model.erase(key);
    } else if (action < 5 && step % 50 == 0) {
      ASSERT_TRUE(db_->flush().is_ok());
    } else {
      const auto expected = model.count(key) ? std::optional(model[key]) : std::nullopt;
      ASSERT_EQ(get(ReadOptions(), key), expected) << key << " at step " << step;
    }
  }
  EXPECT_GT(db_->stats().row_cache_hits, 1000u);

  ASSERT_TRUE(db_->put("snap", "old").is_ok());
  ASSERT_TRUE(db_->flush().is_ok());
  const Snapshot* snapshot = db_->get_snapshot();
  ASSERT_TRUE(db_->put("snap", "new").is_ok());
  ASSERT_TRUE(db_->flush().is_ok());
  EXPECT_EQ(get(ReadOptions(), "snap"), "new");  // now cached
  EXPECT_EQ(get(ReadOptions(), "snap"), "new");
  ReadOptions at_snapshot;
  at_snapshot.snapshot = snapshot;
  EXPECT_EQ(get(at_snapshot, "snap"), "old");
  db_->release_snapshot(snapshot);
}

// Proves no reader sees a value older than one already acknowledged: a writer counts each key
// up and publishes the count it acknowledged; readers (which fill the cache from the tables as
// flushes move the data there) must always read at least the published count.
TEST_F(RowCacheDatabaseTest, ReadersNeverSeeStaleValuesUnderConcurrentWrites) {
  constexpr int kKeys = 16;
  constexpr int kRounds = 400;
  std::vector<std::atomic<int>> acknowledged(kKeys);
  for (int k = 0; k < kKeys; k++) {
    ASSERT_TRUE(db_->put("c" + std::to_string(k), "0").is_ok());
    acknowledged[k] = 0;
  }
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int round = 1; round <= kRounds; round++) {
      for (int k = 0; k < kKeys; k++) {
        if (!db_->put("c" + std::to_string(k), std::to_string(round)).is_ok()) failures++;
        acknowledged[k].store(round);
      }
      if (round % 40 == 0 && !db_->flush().is_ok()) failures++;
    }
    writing = false;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; r++) {
    readers.emplace_back([&, r] {
      Random random(100 + r);
      while (writing.load()) {
        const int k = static_cast<int>(random.uniform(kKeys));
        const int floor = acknowledged[k].load();
        auto got = db_->get(ReadOptions(), "c" + std::to_string(k));
        if (!got.is_ok() || !got->has_value() || std::stoi(**got) < floor) failures++;
      }
    });
  }
  writer.join();
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  for (int k = 0; k < kKeys; k++) {
    EXPECT_EQ(get(ReadOptions(), "c" + std::to_string(k)), std::to_string(kRounds));
  }
}

}  // namespace
}  // namespace cairn
