// Proves the block cache: least-recently-used eviction charged by bytes within its capacity,
// blocks held by readers surviving eviction, exact counters, correctness under concurrent use,
// and tables reading through it (distinct tables never see each other's blocks).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/block.h"
#include "storage/block_builder.h"
#include "storage/block_cache.h"
#include "storage/internal_key.h"
#include "storage/table.h"
#include "storage/table_builder.h"
#include "support/string_file.h"

namespace cairn {
namespace {

// A parsed block holding one entry whose value is `value_bytes` copies of `fill`.
std::shared_ptr<const Block> make_block(size_t value_bytes, char fill = 'v') {
  BlockBuilder builder(16);
  builder.add(make_internal_key("key", 1, ValueType::kValue), std::string(value_bytes, fill));
  Result<std::shared_ptr<const Block>> block =
      Block::parse(std::string(builder.finish()), std::make_shared<const std::string>("test.sst"));
  EXPECT_TRUE(block.is_ok());
  return std::move(block).value();
}

// The value stored in a block made by make_block.
std::string value_of(const Block& block) {
  const auto iterator = block.new_iterator();
  iterator->seek_to_first();
  return iterator->valid() ? std::string(iterator->value()) : std::string();
}

// Proves a single-shard cache evicts the least recently used entry, where a lookup counts as use.
TEST(BlockCacheTest, EvictsLeastRecentlyUsed) {
  const size_t charge = BlockCache::charge_bytes(*make_block(100));
  BlockCache cache(3 * charge, 0);
  for (uint64_t offset = 0; offset < 3; offset++) cache.insert(1, offset, make_block(100));
  ASSERT_NE(cache.lookup(1, 0), nullptr);  // 0 becomes the most recently used; 1 the least
  cache.insert(1, 3, make_block(100));
  EXPECT_EQ(cache.lookup(1, 1), nullptr);
  EXPECT_NE(cache.lookup(1, 0), nullptr);
  EXPECT_NE(cache.lookup(1, 2), nullptr);
  EXPECT_NE(cache.lookup(1, 3), nullptr);
  cache.insert(1, 4, make_block(100));  // now 0 is the least recently used
  EXPECT_EQ(cache.lookup(1, 0), nullptr);
  EXPECT_EQ(cache.stats().evictions, 2u);
}

// Proves the cache is exactly an LRU of its capacity under long random sequences of inserts,
// replacements and lookups, against a model list: every lookup hits exactly when the model holds
// the key, and returns the block last inserted under it. With many keys per id and offset, this
// covers the index's growth, collisions and removal from the middle of probe runs.
TEST(BlockCacheTest, MatchesAnLruModel) {
  const size_t charge = BlockCache::charge_bytes(*make_block(100));
  for (const size_t entry_capacity : {1, 3, 50, 400}) {
    BlockCache cache(entry_capacity * charge, 0);
    std::mt19937_64 random(entry_capacity);
    std::vector<std::pair<uint64_t, char>> model;  // (key, fill), front = most recently used
    for (int step = 0; step < 20000; step++) {
      const uint64_t key = random() % (3 * entry_capacity + 10);
      const auto found = std::find_if(model.begin(), model.end(),
                                      [&](const auto& entry) { return entry.first == key; });
      if (random() % 2 == 0) {
        const char fill = static_cast<char>('a' + random() % 26);
        cache.insert(key % 7, key, make_block(100, fill));
        if (found != model.end()) model.erase(found);
        model.insert(model.begin(), {key, fill});
        if (model.size() > entry_capacity) model.pop_back();
        continue;
      }
      const std::shared_ptr<const Block> block = cache.lookup(key % 7, key);
      ASSERT_EQ(block != nullptr, found != model.end()) << "step " << step << " key " << key;
      if (block == nullptr) continue;
      ASSERT_EQ(value_of(*block), std::string(100, found->second)) << "step " << step;
      std::rotate(model.begin(), found, found + 1);
    }
    EXPECT_EQ(cache.stats().usage_bytes, model.size() * charge);
  }
}

// Proves entries are charged by their bytes: usage is the sum of charges, and one large block
// evicts as many small ones as it needs room for, oldest first.
TEST(BlockCacheTest, ChargesByBytes) {
  const size_t small_charge = BlockCache::charge_bytes(*make_block(100));
  const size_t large_charge = BlockCache::charge_bytes(*make_block(1000));
  EXPECT_GE(small_charge, 100 + BlockCache::kEntryOverheadBytes);
  BlockCache cache(large_charge + 2 * small_charge, 0);
  for (uint64_t offset = 0; offset < 8; offset++) cache.insert(7, offset, make_block(100));
  EXPECT_LE(cache.stats().usage_bytes, cache.capacity_bytes());
  const uint64_t small_held = cache.stats().usage_bytes / small_charge;
  EXPECT_EQ(cache.stats().usage_bytes, small_held * small_charge);

  cache.insert(7, 100, make_block(1000));
  EXPECT_EQ(cache.stats().usage_bytes, large_charge + 2 * small_charge);
  EXPECT_NE(cache.lookup(7, 6), nullptr);  // the two newest small blocks stay
  EXPECT_NE(cache.lookup(7, 7), nullptr);
  EXPECT_EQ(cache.lookup(7, 5), nullptr);
}

// Proves the capacity holds across shards under random inserts of random sizes, that the
// shard capacities add up to exactly the cache's, and that a block larger than its shard's
// capacity is not cached at all.
TEST(BlockCacheTest, CapacityIsRespected) {
  BlockCache cache(100003, 4);
  std::mt19937_64 random(5);
  for (int i = 0; i < 3000; i++) {
    cache.insert(1 + random() % 4, random() % 500, make_block(random() % 3000));
    ASSERT_LE(cache.stats().usage_bytes, cache.capacity_bytes());
  }
  EXPECT_GT(cache.stats().usage_bytes, cache.capacity_bytes() / 2);
  const uint64_t inserts = cache.stats().inserts;
  cache.insert(9, 9, make_block(100003 / 16 + 1));
  EXPECT_EQ(cache.lookup(9, 9), nullptr);
  EXPECT_EQ(cache.stats().inserts, inserts);

  BlockCache empty(0);
  empty.insert(1, 0, make_block(1));
  EXPECT_EQ(empty.lookup(1, 0), nullptr);
  EXPECT_EQ(empty.stats().usage_bytes, 0u);
}

// Proves a block a reader holds stays alive and intact after the cache evicts it, and is no
// longer counted in usage.
TEST(BlockCacheTest, HeldBlockSurvivesEviction) {
  const size_t charge = BlockCache::charge_bytes(*make_block(500));
  BlockCache cache(charge, 0);
  cache.insert(3, 0, make_block(500, 'a'));
  std::shared_ptr<const Block> held = cache.lookup(3, 0);
  ASSERT_NE(held, nullptr);
  const auto iterator = held->new_iterator();  // a reader mid-scan
  cache.insert(3, 4096, make_block(500, 'b'));
  EXPECT_EQ(cache.lookup(3, 0), nullptr);
  EXPECT_EQ(cache.stats().usage_bytes, charge);
  iterator->seek_to_first();
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->value(), std::string(500, 'a'));
  EXPECT_EQ(value_of(*held), std::string(500, 'a'));
}

// Proves the counters count exactly: hits, misses, inserts (replacements included), evictions
// (replacements excluded) and usage after a replacement by a block of another size.
TEST(BlockCacheTest, CountersAreExact) {
  const size_t charge = BlockCache::charge_bytes(*make_block(100));
  BlockCache cache(2 * charge + 50, 0);
  EXPECT_EQ(cache.lookup(1, 0), nullptr);
  cache.insert(1, 0, make_block(100));
  cache.insert(1, 1, make_block(100));
  EXPECT_NE(cache.lookup(1, 0), nullptr);
  EXPECT_NE(cache.lookup(1, 1), nullptr);
  cache.insert(1, 1, make_block(120, 'r'));  // replaces: no eviction
  EXPECT_EQ(value_of(*cache.lookup(1, 1)), std::string(120, 'r'));
  cache.insert(1, 2, make_block(100));  // evicts offset 0, the least recently used
  const BlockCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 3u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.inserts, 4u);
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.usage_bytes, charge + BlockCache::charge_bytes(*make_block(120)));
  EXPECT_EQ(stats.capacity_bytes, 2 * charge + 50);
}

// Proves keys are (cache id, offset): the same offset under two ids is two entries, and ids are
// distinct and nonzero even when taken from several threads.
TEST(BlockCacheTest, CacheIdsSeparateTables) {
  BlockCache cache(1 << 20);
  cache.insert(1, 0, make_block(10, 'x'));
  cache.insert(2, 0, make_block(10, 'y'));
  EXPECT_EQ(value_of(*cache.lookup(1, 0)), std::string(10, 'x'));
  EXPECT_EQ(value_of(*cache.lookup(2, 0)), std::string(10, 'y'));

  std::vector<std::vector<uint64_t>> ids(4);
  std::vector<std::thread> threads;
  for (auto& mine : ids) {
    threads.emplace_back([&cache, &mine] {
      for (int i = 0; i < 1000; i++) mine.push_back(cache.new_cache_id());
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<uint64_t> all;
  for (const auto& mine : ids) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  EXPECT_NE(all.front(), 0u);
}

// Proves concurrent lookups and inserts from several threads always return the block inserted
// under the looked-up key, keep every counter consistent and stay within the capacity.
TEST(BlockCacheTest, ConcurrentLookupsAndInserts) {
  constexpr int kThreadCount = 4;
  constexpr int kOperationCount = 20000;
  constexpr uint64_t kKeyCount = 64;
  BlockCache cache(16 * BlockCache::charge_bytes(*make_block(200)), 2);
  std::vector<int> wrong(kThreadCount, 0);
  std::vector<uint64_t> lookups(kThreadCount, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadCount; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(100 + t);
      for (int i = 0; i < kOperationCount; i++) {
        const uint64_t key = random() % kKeyCount;
        // The block's value names its key, so a block under the wrong key is visible.
        const char fill = static_cast<char>('A' + key % 26);
        const size_t value_bytes = 100 + key;
        std::shared_ptr<const Block> block = cache.lookup(key / 8, key * 4096);
        lookups[t]++;
        if (block == nullptr) {
          cache.insert(key / 8, key * 4096, make_block(value_bytes, fill));
        } else if (value_of(*block) != std::string(value_bytes, fill)) {
          wrong[t]++;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(kThreadCount, 0));
  const BlockCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits + stats.misses, uint64_t{kThreadCount} * kOperationCount);
  EXPECT_EQ(stats.inserts, stats.misses);
  EXPECT_GT(stats.hits, 0u);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.usage_bytes, stats.capacity_bytes);
}

// ---- Tables reading through the cache.

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries make_entries(int count, char fill) {
  Entries entries;
  for (int i = 0; i < count; i++) {
    entries.emplace_back(
        make_internal_key("key/" + std::to_string(10000 + i), 1, ValueType::kValue),
        std::string(50 + i % 50, fill));
  }
  return entries;
}

std::shared_ptr<Table> open_table(const TableOptions& options, const Entries& entries,
                                  const std::string& name) {
  std::string contents;
  test::StringWritableFile file(&contents);
  TableBuilder builder(options, &file);
  for (const auto& [key, value] : entries) builder.add(key, value);
  EXPECT_TRUE(builder.finish().is_ok());
  const uint64_t size = contents.size();
  auto table = Table::open(
      options, std::make_unique<test::StringRandomAccessFile>(std::move(contents)), size, name);
  EXPECT_TRUE(table.is_ok()) << table.status().to_string();
  return std::move(table).value();
}

Entries scan_all(const Table& table) {
  Entries result;
  const auto iterator = table.new_iterator();
  for (iterator->seek_to_first(); iterator->valid(); iterator->next()) {
    result.emplace_back(iterator->key(), iterator->value());
  }
  EXPECT_TRUE(iterator->status().is_ok());
  return result;
}

// Proves two tables sharing one cache — their blocks at the same offsets — each read their own
// data, that the cache holds blocks uncompressed (usage exceeds the compressed file's size), and
// that a second scan is served from the cache.
TEST(BlockCacheTableTest, TablesShareCacheWithoutMixingBlocks) {
  TableOptions options;
  options.block_size_bytes = 512;
  options.compression = CompressionType::kZstd;
  options.block_cache = std::make_shared<BlockCache>(4 << 20);
  const Entries entries_a = make_entries(300, 'a');
  const Entries entries_b = make_entries(300, 'b');
  const std::shared_ptr<Table> table_a = open_table(options, entries_a, "000001.sst");
  const std::shared_ptr<Table> table_b = open_table(options, entries_b, "000002.sst");
  for (int pass = 0; pass < 2; pass++) {
    EXPECT_EQ(scan_all(*table_a), entries_a);
    EXPECT_EQ(scan_all(*table_b), entries_b);
  }
  const BlockCache::Stats stats = options.block_cache->stats();
  EXPECT_EQ(stats.hits, stats.misses);  // the second pass only hits
  EXPECT_EQ(stats.inserts, stats.misses);
  EXPECT_GT(stats.usage_bytes, table_a->file_size_bytes() + table_b->file_size_bytes());

  // Lookups share the cached blocks too.
  const uint64_t hits = stats.hits;
  for (const auto& [key, value] : entries_b) {
    const auto found = table_b->find_first_at_or_after(key);
    ASSERT_TRUE(found.is_ok() && found->has_value());
    EXPECT_EQ((*found)->value, value);
  }
  EXPECT_EQ(options.block_cache->stats().hits, hits + entries_b.size());
}

// Proves a table reopened from the same file gets a fresh cache id, so it never hits the blocks
// cached for the earlier open (which may have been another file with that number).
TEST(BlockCacheTableTest, ReopenedTableGetsFreshCacheId) {
  TableOptions options;
  options.block_cache = std::make_shared<BlockCache>(1 << 20);
  const Entries entries = make_entries(50, 'c');
  EXPECT_EQ(scan_all(*open_table(options, entries, "000003.sst")), entries);
  const uint64_t misses = options.block_cache->stats().misses;
  EXPECT_EQ(scan_all(*open_table(options, entries, "000003.sst")), entries);
  EXPECT_EQ(options.block_cache->stats().misses, 2 * misses);
  EXPECT_EQ(options.block_cache->stats().hits, 0u);
}

}  // namespace
}  // namespace cairn
