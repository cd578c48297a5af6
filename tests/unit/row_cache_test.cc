// Proves the row cache: it answers what was inserted until a write refreshes or invalidates it,
// never answers a read older than the value it holds, refuses reads older than a write it saw,
// keeps within its capacity with second-chance eviction; and a
// database using it answers exactly as one without it — against a model under random writes,
// flushes and snapshots, and under concurrent writers and readers.
#include "storage/row_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "io/random.h"
#include "storage/database.h"
#include "support/disk_database_test.h"

namespace cairn {
namespace {

constexpr SequenceNumber kLatest = kSequenceNumberMax;

// Proves a cached value is answered, and a write's invalidation makes it a miss.
TEST(RowCacheTest, InsertLookupInvalidate) {
  RowCache cache(1 << 20);
  std::string value;
  EXPECT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kMiss);
  cache.insert("k", "v1", 10);
  ASSERT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kValue);
  EXPECT_EQ(value, "v1");
  cache.invalidate("k", 11);
  EXPECT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kMiss);
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
  EXPECT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kMiss);
  EXPECT_EQ(cache.stats().refused_inserts, 1u);
  cache.insert("k", "fresh", 20);
  ASSERT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kValue);
  EXPECT_EQ(value, "fresh");
}

// Proves a write refreshes a cached entry in place or with a new size, valid only from the write's
// sequence (an older read misses and must not put its older value back), leaves an uncached key
// uncached, and forgets an entry whose new value is too large to cache.
TEST(RowCacheTest, WritesRefreshCachedEntries) {
  RowCache cache(1 << 20);
  std::string value;
  cache.insert("k", "10", 5);
  cache.refresh("k", "11", 7);  // same size: in place
  EXPECT_EQ(cache.lookup("k", 6, &value), RowCache::Answer::kMiss);
  ASSERT_EQ(cache.lookup("k", 7, &value), RowCache::Answer::kValue);
  EXPECT_EQ(value, "11");
  cache.insert("k", "10", 6);  // what a reader at 6 found in the memtable: refused
  EXPECT_EQ(cache.stats().refused_inserts, 1u);
  cache.refresh("k", "a longer value", 9);
  ASSERT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kValue);
  EXPECT_EQ(value, "a longer value");
  EXPECT_EQ(cache.stats().refreshes, 2u);
  EXPECT_EQ(cache.stats().usage_bytes, 1 + 14 + RowCache::kEntryOverheadBytes);

  cache.refresh("absent", "v", 10);
  EXPECT_EQ(cache.lookup("absent", kLatest, &value), RowCache::Answer::kMiss);
  cache.refresh("k", std::string(RowCache::kValueBytesMax + 1, 'b'), 11);
  EXPECT_EQ(cache.lookup("k", kLatest, &value), RowCache::Answer::kMiss);
  EXPECT_EQ(cache.stats().usage_bytes, 0u);
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
  EXPECT_EQ(cache.lookup("big", kLatest, &value), RowCache::Answer::kMiss);

  // One shard holds about 4 entries of this size: fill with many keys, keeping one hot.
  RowCache small(capacity);
  small.insert("hot", std::string(100, 'h'), 1);
  for (int i = 0; i < 2000; i++) {
    ASSERT_EQ(small.lookup("hot", kLatest, &value), RowCache::Answer::kValue) << "evicted at " << i;
    small.insert("cold" + std::to_string(i), std::string(100, 'c'), 1);
  }
}

// Proves the index keeps every entry reachable through growth and the backward shifts of
// removals: under random inserts (of values and of absence), overwrites, refreshes, invalidations
// and (in a small cache) evictions, every lookup answers what was last inserted or refreshed for
// its key or misses — never another key's value — and a cache large enough to hold everything
// misses nothing it holds. Prefetches of cached and uncached keys, among them, change nothing.
// Groups of refreshes and invalidations (GroupUpdate, longer and shorter than its lookahead,
// repeating keys) change it as the same operations one at a time would, in order.
TEST(RowCacheTest, IndexMatchesAModel) {
  for (const size_t capacity : {size_t{64} << 20, size_t{64} << 10}) {
    RowCache cache(capacity);
    const bool evicts = capacity < (size_t{1} << 20);
    std::map<std::string, std::optional<std::string>> model;  // nullopt: cached as absent
    Random random(capacity);
    std::string value;
    for (int step = 0; step < 50000; step++) {
      const std::string key = "k" + std::to_string(random.uniform(3000));
      const uint64_t action = random.uniform(12);
      if (action == 11) {
        std::vector<std::string> keys;  // held until the group is applied
        const size_t count = random.uniform(20);
        for (size_t i = 0; i < count; i++) keys.push_back("k" + std::to_string(random.uniform(40)));
        std::vector<std::string> values;
        values.reserve(count);
        {
          RowCache::GroupUpdate group(cache, 1);
          for (const std::string& grouped : keys) {
            if (random.uniform(2) == 0) {
              group.invalidate(grouped);
              model.erase(grouped);
              continue;
            }
            values.push_back(grouped + "%" + std::to_string(step) +
                             std::string(values.size(), 'g'));
            group.refresh(grouped, values.back());
            if (model.count(grouped) != 0) model[grouped] = values.back();
          }
        }  // applied here
      } else if (action == 10) {
        // More keys than one prefetch round takes.
        std::vector<std::string> keys;
        for (int i = 0; i < 20; i++) keys.push_back("k" + std::to_string(random.uniform(3000)));
        const std::vector<std::string_view> views(keys.begin(), keys.end());
        const RowCache::Stats before = cache.stats();
        cache.prefetch(views);
        const RowCache::Stats after = cache.stats();
        ASSERT_EQ(std::tie(after.hits, after.misses, after.inserts, after.usage_bytes),
                  std::tie(before.hits, before.misses, before.inserts, before.usage_bytes));
      } else if (action < 2) {
        const std::string inserted = key + "@" + std::to_string(step);
        cache.insert(key, inserted, 1);
        model[key] = inserted;
      } else if (action < 3) {
        cache.insert_absent(key, 1);
        model[key] = std::nullopt;
      } else if (action < 4) {
        // A write of a new size (the step's digits vary): a key that may be cached takes it.
        const std::string written = key + "#" + std::to_string(step);
        cache.refresh(key, written, 1);
        if (model.count(key) != 0) model[key] = written;
      } else if (action < 6) {
        cache.invalidate(key, 1);
        model.erase(key);
      } else {
        const RowCache::Answer answer = cache.lookup(key, kLatest, &value);
        const auto expected = model.find(key);
        if (answer != RowCache::Answer::kMiss) {
          ASSERT_NE(expected, model.end()) << key << " answered after its invalidation";
          ASSERT_EQ(answer == RowCache::Answer::kValue ? std::optional(value) : std::nullopt,
                    expected->second);
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
  void SetUp() override { open_with_row_cache(nullptr); }
  void open_with_row_cache(bool (*admits)(std::string_view user_key)) {
    Options options;
    options.fsync = FsyncPolicy::kNever;
    options.row_cache_bytes = 1 << 20;
    options.row_cache_admits = admits;
    options.write_buffer_size_bytes = 64 << 10;  // flushes often, so lookups reach the tables
    open_database(options, "row_cache_");
  }
  std::optional<std::string> get(const ReadOptions& options, const std::string& key) {
    auto got = db_->get(options, key);
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    return got.is_ok() ? *got : std::nullopt;
  }

  // `steps` random puts, deletes, flushes and reads (some before writes, which cache absence
  // too) of the keys `key_of` draws, each read checked against a model.
  void check_against_a_model(Random& random, int steps,
                             const std::function<std::string()>& key_of) {
    std::map<std::string, std::string> model;
    for (int step = 0; step < steps; step++) {
      const std::string key = key_of();
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
        // A read before a write also caches keys found absent; no write need follow it.
        ReadOptions options;
        options.before_write = random.uniform(2) == 0;
        const auto expected = model.count(key) ? std::optional(model[key]) : std::nullopt;
        ASSERT_EQ(get(options, key), expected) << key << " at step " << step;
      }
    }
  }
};

// Proves a database with a row cache answers as a model does under random puts, deletes,
// overwrites, flushes and reads (some before writes, which cache absence too), and that reads at
// a snapshot never get a newer cached value.
TEST_F(RowCacheDatabaseTest, MatchesAModel) {
  Random random(7);
  check_against_a_model(random, 20000, [&] { return "key" + std::to_string(random.uniform(200)); });
  if (HasFatalFailure()) return;
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

// A database whose row cache refuses the keys that begin with 'i' (as cairnd's refuses its index
// keys, which it only walks).
class RowCacheAdmissionTest : public RowCacheDatabaseTest {
 protected:
  void SetUp() override {
    open_with_row_cache([](std::string_view key) { return !key.starts_with('i'); });
  }
};

// Proves keys the row cache refuses read and write as a model says, mixed with keys it admits,
// and are never answered from it: a refused key read from the tables twice adds no hit, where an
// admitted one does.
TEST_F(RowCacheAdmissionTest, RefusedKeysAreNeverCachedAndReadAsWritten) {
  Random random(11);
  check_against_a_model(random, 10000, [&] {
    return (random.uniform(2) == 0 ? "i" : "k") + std::to_string(random.uniform(100));
  });
  if (HasFatalFailure()) return;
  ASSERT_TRUE(db_->put("index", "1").is_ok());
  ASSERT_TRUE(db_->put("key", "1").is_ok());
  ASSERT_TRUE(db_->flush().is_ok());
  for (const std::string key : {"index", "key"}) {
    EXPECT_EQ(get(ReadOptions(), key), "1");
    const uint64_t hits_before = db_->stats().row_cache_hits;
    EXPECT_EQ(get(ReadOptions(), key), "1");
    EXPECT_EQ(db_->stats().row_cache_hits - hits_before, key == "key" ? 1u : 0u) << key;
  }
}

// Proves a key read from the tables and then counted up, as INCR does, stays cached: each read
// after the first is a hit on the value the previous write left, not a walk to the memtable.
TEST_F(RowCacheDatabaseTest, ReadModifyWriteStaysCached) {
  ASSERT_TRUE(db_->put("counter", "0").is_ok());
  ASSERT_TRUE(db_->flush().is_ok());
  const uint64_t hits_before = db_->stats().row_cache_hits;
  for (int i = 0; i < 100; i++) {
    const std::optional<std::string> value = get(ReadOptions(), "counter");
    ASSERT_EQ(value, std::to_string(i));
    ASSERT_TRUE(db_->put("counter", std::to_string(i + 1)).is_ok());
  }
  EXPECT_EQ(get(ReadOptions(), "counter"), "100");
  EXPECT_EQ(db_->stats().row_cache_hits - hits_before, 100u);  // all but the first read
}

// Proves a plain read leaves what a memtable answered uncached (the memtable is fast already),
// while a read before a write caches it, so the read-modify-writes after it hit.
TEST_F(RowCacheDatabaseTest, ReadsBeforeWritesCacheWhatTheMemtableAnswered) {
  ASSERT_TRUE(db_->put("m", "1").is_ok());
  const uint64_t hits_before = db_->stats().row_cache_hits;
  EXPECT_EQ(get(ReadOptions(), "m"), "1");
  EXPECT_EQ(get(ReadOptions(), "m"), "1");
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before);
  ReadOptions before_write;
  before_write.before_write = true;
  EXPECT_EQ(get(before_write, "m"), "1");
  ASSERT_TRUE(db_->put("m", "2").is_ok());
  EXPECT_EQ(get(before_write, "m"), "2");
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before + 1);
}

// Proves a read that does not fill the row cache (a scan's) leaves a value it found in the tables
// uncached, yet still uses a cached one: the next plain read of the first misses, of the second
// hits.
TEST_F(RowCacheDatabaseTest, ReadsThatDoNotFillTheCacheStillUseIt) {
  ASSERT_TRUE(db_->put("scanned", "1").is_ok());
  ASSERT_TRUE(db_->put("hot", "2").is_ok());
  ASSERT_TRUE(db_->flush().is_ok());
  EXPECT_EQ(get(ReadOptions(), "hot"), "2");  // from the tables: now cached
  ReadOptions no_fill;
  no_fill.fill_row_cache = false;
  const uint64_t hits_before = db_->stats().row_cache_hits;
  const uint64_t misses_before = db_->stats().row_cache_misses;
  EXPECT_EQ(get(no_fill, "scanned"), "1");
  EXPECT_EQ(get(no_fill, "hot"), "2");
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before + 1);
  EXPECT_EQ(get(ReadOptions(), "scanned"), "1");
  EXPECT_EQ(db_->stats().row_cache_misses, misses_before + 2);
  EXPECT_EQ(get(ReadOptions(), "scanned"), "1");  // the plain read filled it
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before + 2);
}

// Proves a read before a write that finds no value (a key never written, or deleted) caches that,
// and the write after it gives the entry its value: the next read before a write is a hit, as
// INCR of a new key needs. A plain read of an absent key caches nothing.
TEST_F(RowCacheDatabaseTest, ReadsBeforeWritesCacheAbsenceUntilTheWrite) {
  ReadOptions before_write;
  before_write.before_write = true;
  const uint64_t hits_before = db_->stats().row_cache_hits;
  EXPECT_EQ(get(ReadOptions(), "new"), std::nullopt);
  EXPECT_EQ(get(ReadOptions(), "new"), std::nullopt);
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before);

  EXPECT_EQ(get(before_write, "new"), std::nullopt);
  EXPECT_EQ(get(ReadOptions(), "new"), std::nullopt);  // a hit on the absence
  ASSERT_TRUE(db_->put("new", "1").is_ok());
  EXPECT_EQ(get(before_write, "new"), "1");
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before + 2);

  ASSERT_TRUE(db_->remove("new").is_ok());
  ASSERT_TRUE(db_->flush().is_ok());
  EXPECT_EQ(get(before_write, "new"), std::nullopt);  // the tombstone, from the tables
  ASSERT_TRUE(db_->put("new", "2").is_ok());
  EXPECT_EQ(get(ReadOptions(), "new"), "2");
  EXPECT_EQ(db_->stats().row_cache_hits, hits_before + 3);
}

// Proves no reader sees a value older than one already acknowledged: a writer counts each key
// up and publishes the count it acknowledged; readers (which fill the cache from the tables as
// flushes move the data there) must always read at least the published count, and never a
// count lower than one they read before (a cache hit on a write not yet published, followed by
// a memtable read at the published sequence, would go back).
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
      std::vector<int> seen(kKeys, 0);
      while (writing.load()) {
        const int k = static_cast<int>(random.uniform(kKeys));
        const int floor = std::max(acknowledged[k].load(), seen[k]);
        auto got = db_->get(ReadOptions(), "c" + std::to_string(k));
        if (!got.is_ok() || !got->has_value() || std::stoi(**got) < floor) {
          failures++;
          continue;
        }
        seen[k] = std::stoi(**got);
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
