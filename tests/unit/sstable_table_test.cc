// Proves the SSTable writer and reader: tables round-trip against a sorted model across block,
// restart, filter, compression and block cache settings, in both directions, and every kind of
// damage (flipped bytes, truncation, bad magic, absurd handles) gives a Corruption status naming
// the file, never wrong data or a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "storage/block_cache.h"
#include "storage/compression.h"
#include "storage/internal_key.h"
#include "storage/table.h"
#include "storage/table_builder.h"
#include "storage/table_format.h"
#include "support/iterator_walk.h"
#include "support/string_file.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

const std::string kFileName = "000042.sst";

// Even numbers are stored; odd numbers make absent keys that sort between stored ones.
std::string user_key_for(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "slot/%08d", i);
  return buffer;
}

// Sorted entries over `user_key_count` stored user keys: 1-3 versions each (newest first), about
// one in five a deletion, values mostly short with an occasional one larger than a block.
Entries make_entries(int user_key_count, uint64_t seed) {
  std::mt19937_64 random(seed);
  Entries entries;
  for (int i = 0; i < user_key_count; i++) {
    const int version_count = 1 + static_cast<int>(random() % 3);
    SequenceNumber sequence = 1 + random() % 1000000;
    std::vector<std::pair<std::string, std::string>> versions;
    for (int v = 0; v < version_count; v++) {
      sequence += 1 + random() % 100;
      const bool deletion = random() % 5 == 0;
      const size_t value_size = random() % 50 == 0 ? 5000 : random() % 100;
      const std::string value = deletion ? "" : std::string(value_size, char('a' + random() % 26));
      versions.emplace_back(make_internal_key(user_key_for(2 * i), sequence,
                                              deletion ? ValueType::kDeletion : ValueType::kValue),
                            value);
    }
    entries.insert(entries.end(), versions.rbegin(), versions.rend());  // newest first
  }
  return entries;
}

std::string build_table(const TableOptions& options, const Entries& entries) {
  std::string contents;
  test::StringWritableFile file(&contents);
  TableBuilder builder(options, &file);
  for (const auto& [key, value] : entries) builder.add(key, value);
  EXPECT_TRUE(builder.finish().is_ok());
  EXPECT_EQ(builder.entry_count(), entries.size());
  EXPECT_EQ(builder.file_size_bytes(), contents.size());
  if (!entries.empty()) {
    EXPECT_EQ(builder.smallest_key(), entries.front().first);
    EXPECT_EQ(builder.largest_key(), entries.back().first);
  }
  return contents;
}

Result<std::shared_ptr<Table>> open_table(const TableOptions& options, std::string contents) {
  const uint64_t size = contents.size();
  return Table::open(options, std::make_unique<test::StringRandomAccessFile>(std::move(contents)),
                     size, kFileName);
}

// A full scan, bounded so that a broken iterator cannot loop forever.
Entries scan(Iterator* iterator, size_t entry_count_max) {
  Entries result;
  for (iterator->seek_to_first(); iterator->valid() && result.size() <= entry_count_max;
       iterator->next()) {
    result.emplace_back(iterator->key(), iterator->value());
  }
  return result;
}

// A full scan from the last entry back, bounded as scan() is.
Entries scan_backward(Iterator* iterator, size_t entry_count_max) {
  Entries result;
  for (iterator->seek_to_last(); iterator->valid() && result.size() <= entry_count_max;
       iterator->prev()) {
    result.emplace_back(iterator->key(), iterator->value());
  }
  return result;
}

Entries::const_iterator model_lower_bound(const Entries& entries, std::string_view target) {
  return std::lower_bound(entries.begin(), entries.end(), target,
                          [](const auto& entry, std::string_view t) {
                            return compare_internal_keys(entry.first, t) < 0;
                          });
}

bool names_file(const Status& status) {
  return status.message().find(kFileName) != std::string_view::npos;
}

struct TableConfig {
  size_t block_size_bytes;
  int restart_interval;
  int bloom_bits_per_key;
  CompressionType compression;
  size_t block_cache_bytes;  // 0: no block cache
};

class TableRoundTripTest : public ::testing::TestWithParam<TableConfig> {
 protected:
  void SetUp() override {
    options_.block_size_bytes = GetParam().block_size_bytes;
    options_.block_restart_interval = GetParam().restart_interval;
    options_.bloom_bits_per_key = GetParam().bloom_bits_per_key;
    options_.compression = GetParam().compression;
    if (GetParam().block_cache_bytes > 0) {
      options_.block_cache = std::make_shared<BlockCache>(GetParam().block_cache_bytes);
    }
    const std::string contents = build_table(options_, entries_);
    // Many data blocks, so lookups cross block boundaries (blocks close at an uncompressed size).
    TableOptions uncompressed = options_;
    uncompressed.compression = CompressionType::kNone;
    const size_t uncompressed_bytes = build_table(uncompressed, entries_).size();
    ASSERT_GT(uncompressed_bytes / options_.block_size_bytes, 20u);
    // The values repeat one letter, so compression must have shrunk the table.
    if (options_.compression != CompressionType::kNone) {
      ASSERT_LT(contents.size(), uncompressed_bytes * 3 / 4);
    }
    Result<std::shared_ptr<Table>> table = open_table(options_, contents);
    ASSERT_TRUE(table.is_ok()) << table.status().to_string();
    table_ = *table;
  }

  TableOptions options_;
  const Entries entries_ = make_entries(2000, 7);
  std::shared_ptr<Table> table_;
};

// Proves a full scan returns exactly the entries written (versions, deletions, large values).
TEST_P(TableRoundTripTest, ScanEqualsInput) {
  const auto iterator = table_->new_iterator();
  EXPECT_EQ(scan(iterator.get(), entries_.size()), entries_);
  EXPECT_TRUE(iterator->status().is_ok());
  EXPECT_EQ(table_->file_name(), kFileName);
}

// Proves seek lands on every stored key and, between keys, on the model's next entry.
TEST_P(TableRoundTripTest, SeekMatchesModel) {
  const auto iterator = table_->new_iterator();
  std::vector<std::string> targets = {make_internal_key("", 0, ValueType::kValue),
                                      make_internal_key("zzz", 0, ValueType::kValue)};
  for (const auto& entry : entries_) targets.push_back(entry.first);
  for (int i = 0; i < 4001; i += 3) {
    targets.push_back(make_internal_key(user_key_for(i), 500000, kValueTypeForSeek));
  }
  for (const std::string& target : targets) {
    iterator->seek(target);
    ASSERT_TRUE(iterator->status().is_ok());
    const auto expected = model_lower_bound(entries_, target);
    if (expected == entries_.end()) {
      EXPECT_FALSE(iterator->valid());
      continue;
    }
    ASSERT_TRUE(iterator->valid());
    EXPECT_EQ(iterator->key(), expected->first);
    EXPECT_EQ(iterator->value(), expected->second);
  }
}

// Proves find_first_at_or_after returns, for present user keys, the newest version visible at
// the target's sequence, deletions included.
TEST_P(TableRoundTripTest, FindPresentKeysReturnsVisibleVersion) {
  for (const auto& [key, value] : entries_) {
    ParsedInternalKey parsed;
    ASSERT_TRUE(parse_internal_key(key, &parsed));
    // At the entry's own sequence and at the latest, as a snapshot read and a current read would.
    for (const SequenceNumber sequence : {parsed.sequence, kSequenceNumberMax}) {
      const std::string target = make_internal_key(parsed.user_key, sequence, kValueTypeForSeek);
      const auto found = table_->find_first_at_or_after(target);
      ASSERT_TRUE(found.is_ok()) << found.status().to_string();
      ASSERT_TRUE(found->has_value());
      const auto expected = model_lower_bound(entries_, target);
      EXPECT_EQ((*found)->internal_key, expected->first);
      EXPECT_EQ((*found)->value, expected->second);
    }
  }
}

// Proves find_first_at_or_after for absent user keys answers nullopt or the model's next entry,
// and that with a filter nearly all absent keys are ruled out without a data block read.
TEST_P(TableRoundTripTest, FindAbsentKeysIsNulloptOrNextEntry) {
  int ruled_out = 0;
  int past_last_key = 0;
  int absent_count = 0;
  for (int i = 1; i < 4002; i += 2, absent_count++) {
    const std::string target =
        make_internal_key(user_key_for(i), kSequenceNumberMax, kValueTypeForSeek);
    const auto found = table_->find_first_at_or_after(target);
    ASSERT_TRUE(found.is_ok());
    const auto expected = model_lower_bound(entries_, target);
    if (expected == entries_.end()) past_last_key++;
    if (!found->has_value()) {
      ruled_out++;
      continue;
    }
    ASSERT_NE(expected, entries_.end());
    EXPECT_EQ((*found)->internal_key, expected->first);
  }
  if (options_.bloom_bits_per_key == 0) {
    EXPECT_EQ(ruled_out, past_last_key);
  } else {
    EXPECT_GT(ruled_out, absent_count * 8 / 10);
  }
}

// A seek target near make_entries(user_key_count)'s entries: one of them exactly, or a stored or
// absent user key at a random sequence and type.
std::string random_table_target(std::mt19937_64& random, const Entries& entries,
                                int user_key_count) {
  if (!entries.empty() && random() % 3 == 0) return entries[random() % entries.size()].first;
  const int user_key = static_cast<int>(random() % (2 * static_cast<uint64_t>(user_key_count) + 2));
  const SequenceNumber sequence = random() % 2 == 0 ? random() % 1000200 : kSequenceNumberMax;
  return make_internal_key(user_key_for(user_key), sequence, static_cast<ValueType>(random() % 3));
}

// Proves seek_to_last then prev visits every entry in reverse across all data blocks, and random
// walks mixing both directions and both kinds of seek match the model at every step (with a
// block cache too small to hold the table, blocks are read again on the way back).
TEST_P(TableRoundTripTest, WalksBothWaysMatchModel) {
  const auto iterator = table_->new_iterator();
  test::IteratorModelWalk walk(*iterator, entries_, &compare_internal_keys);
  walk.check_backward_scan();
  for (const uint64_t seed : test::test_seeds(200, 3, 30)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    walk.run(random, 3000, [&] { return random_table_target(random, entries_, 2000); });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, TableRoundTripTest,
    ::testing::Values(TableConfig{4096, 16, 10, CompressionType::kNone, 0},
                      TableConfig{256, 1, 10, CompressionType::kLz4, 0},
                      TableConfig{1024, 16, 0, CompressionType::kZstd, 0},
                      TableConfig{64, 4, 5, CompressionType::kLz4, 0},
                      TableConfig{4096, 16, 10, CompressionType::kLz4, 8 << 20},
                      TableConfig{256, 4, 10, CompressionType::kZstd, 16 << 10},
                      TableConfig{1024, 16, 0, CompressionType::kNone, 1 << 20}),
    [](const ::testing::TestParamInfo<TableConfig>& param_info) {
      const TableConfig& config = param_info.param;
      return "block" + std::to_string(config.block_size_bytes) + "_restart" +
             std::to_string(config.restart_interval) + "_bloom" +
             std::to_string(config.bloom_bits_per_key) + "_" +
             std::string(compression_type_name(config.compression)) + "_cache" +
             std::to_string(config.block_cache_bytes);
    });

// Proves backward moves on random small tables — none, one or many blocks, any restart interval,
// with and without a block cache — match the model at every step of random walks.
TEST(TableTest, RandomTablesWalkBothWays) {
  for (const uint64_t seed : test::test_seeds(300, 40, 400)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    std::mt19937_64 random(seed);
    TableOptions options;
    options.block_size_bytes = 64 + random() % 1024;
    options.block_restart_interval = 1 + static_cast<int>(random() % 16);
    options.compression = random() % 2 == 0 ? CompressionType::kNone : CompressionType::kLz4;
    if (random() % 2 == 0) options.block_cache = std::make_shared<BlockCache>(4096);
    const int user_key_count = static_cast<int>(random() % 200);
    const Entries entries = make_entries(user_key_count, seed);
    Result<std::shared_ptr<Table>> table = open_table(options, build_table(options, entries));
    ASSERT_TRUE(table.is_ok()) << table.status().to_string();
    const auto iterator = (*table)->new_iterator();
    test::IteratorModelWalk walk(*iterator, entries, &compare_internal_keys);
    walk.check_backward_scan();
    walk.run(random, 500, [&] { return random_table_target(random, entries, user_key_count); });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Proves that reading a table twice through a block cache gives the same answers, serves the
// second pass from the cache when everything fits, and keeps the cache within its capacity when
// it does not.
TEST(TableTest, SecondScanHitsBlockCache) {
  const Entries entries = make_entries(2000, 7);
  for (const size_t cache_bytes : {size_t{8} << 20, size_t{64} << 10}) {
    TableOptions options;
    options.block_size_bytes = 1024;
    options.compression = CompressionType::kZstd;
    options.block_cache = std::make_shared<BlockCache>(cache_bytes);
    auto table = open_table(options, build_table(options, entries));
    ASSERT_TRUE(table.is_ok());
    for (int pass = 0; pass < 2; pass++) {
      const auto iterator = (*table)->new_iterator();
      EXPECT_EQ(scan(iterator.get(), entries.size()), entries);
      EXPECT_TRUE(iterator->status().is_ok());
    }
    const BlockCache::Stats stats = options.block_cache->stats();
    EXPECT_LE(stats.usage_bytes, stats.capacity_bytes);
    EXPECT_GT(stats.inserts, 0u);
    if (cache_bytes > (size_t{1} << 20)) {
      EXPECT_EQ(stats.hits, stats.misses);  // the second pass only hits
      EXPECT_EQ(stats.evictions, 0u);
    } else {
      EXPECT_GT(stats.evictions, 0u);
    }
  }
}

// Proves an iterator that skips filling the cache (as compaction's do) reads the same entries,
// uses blocks already cached, and adds none.
TEST(TableTest, IteratorThatSkipsFillingUsesButDoesNotFillTheCache) {
  const Entries entries = make_entries(2000, 11);
  TableOptions options;
  options.block_size_bytes = 1024;
  options.block_cache = std::make_shared<BlockCache>(size_t{8} << 20);
  auto table = open_table(options, build_table(options, entries));
  ASSERT_TRUE(table.is_ok());
  const auto skipping = (*table)->new_iterator(BlockCacheFill::kSkip);
  EXPECT_EQ(scan(skipping.get(), entries.size()), entries);
  BlockCache::Stats stats = options.block_cache->stats();
  EXPECT_EQ(stats.inserts, 0u);
  EXPECT_GT(stats.misses, 0u);
  const uint64_t block_count = stats.misses;

  const auto filling = (*table)->new_iterator();
  EXPECT_EQ(scan(filling.get(), entries.size()), entries);
  stats = options.block_cache->stats();
  EXPECT_EQ(stats.inserts, block_count);
  const auto skipping_again = (*table)->new_iterator(BlockCacheFill::kSkip);
  EXPECT_EQ(scan(skipping_again.get(), entries.size()), entries);
  stats = options.block_cache->stats();
  EXPECT_EQ(stats.hits, block_count);  // every block of the last pass came from the cache
  EXPECT_EQ(stats.inserts, block_count);
}

// Proves a table with no entries opens and reads as empty.
TEST(TableTest, EmptyTableHasNoEntries) {
  for (const int bits_per_key : {0, 10}) {
    TableOptions options;
    options.bloom_bits_per_key = bits_per_key;
    auto table = open_table(options, build_table(options, {}));
    ASSERT_TRUE(table.is_ok()) << table.status().to_string();
    const auto iterator = (*table)->new_iterator();
    iterator->seek_to_first();
    EXPECT_FALSE(iterator->valid());
    EXPECT_TRUE(iterator->status().is_ok());
    const auto found =
        (*table)->find_first_at_or_after(make_internal_key("a", 1, kValueTypeForSeek));
    ASSERT_TRUE(found.is_ok());
    EXPECT_FALSE(found->has_value());
  }
}

// Proves an iterator kept alive with keep_alive outlives the caller's reference to the Table.
TEST(TableTest, IteratorKeepsTableAlive) {
  const Entries entries = make_entries(100, 1);
  std::unique_ptr<Iterator> iterator;
  {
    auto table = open_table(TableOptions{}, build_table(TableOptions{}, entries));
    ASSERT_TRUE(table.is_ok());
    iterator = (*table)->new_iterator();
    iterator->keep_alive(*table);
  }
  EXPECT_EQ(scan(iterator.get(), entries.size()), entries);
}

// Two threads read every entry of one table three times, by lookup and by scan.
void read_concurrently(const TableOptions& options) {
  const Entries entries = make_entries(500, 3);
  auto table = open_table(options, build_table(options, entries));
  ASSERT_TRUE(table.is_ok());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(2, 0);
  for (int t = 0; t < 2; t++) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; round++) {
        for (const auto& [key, value] : entries) {
          const auto found = (*table)->find_first_at_or_after(key);
          if (!found.is_ok() || !found->has_value() || (*found)->value != value) mismatches[t]++;
        }
        const auto iterator = (*table)->new_iterator();
        if (scan(iterator.get(), entries.size()) != entries) mismatches[t]++;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(2, 0));
}

// Proves concurrent readers of one Table each see correct results, without a block cache and
// through one small enough that the readers keep evicting each other's blocks.
TEST(TableTest, ConcurrentReadersSeeCorrectData) {
  for (const size_t cache_bytes : {size_t{0}, size_t{8} << 10}) {
    TableOptions options;
    options.block_size_bytes = 512;
    if (cache_bytes > 0) options.block_cache = std::make_shared<BlockCache>(cache_bytes, 2);
    read_concurrently(options);
    if (cache_bytes > 0) {
      EXPECT_GT(options.block_cache->stats().evictions, 0u);
    }
  }
}

// ---- Damage: every failure must be a Corruption status naming the file, never wrong data.

struct SmallTable {
  TableOptions options;
  Entries entries;
  std::string contents;
};

// About 80 entries in a dozen or more data blocks, plus a filter, an index and the footer. The
// values repeat one letter, so lz4 and zstd compress the data blocks.
SmallTable make_small_table(CompressionType compression = CompressionType::kNone) {
  SmallTable table;
  table.options.compression = compression;
  table.options.block_size_bytes = 256;
  table.options.block_restart_interval = 4;
  table.options.bloom_bits_per_key = 10;
  table.entries = make_entries(40, 11);
  for (auto& entry : table.entries) entry.second.resize(std::min<size_t>(entry.second.size(), 40));
  table.contents = build_table(table.options, table.entries);
  return table;
}

// Opens, scans both ways and looks up through damaged `contents`; fails the test on wrong data or a
// status other than a Corruption naming the file, and returns whether the damage was detected.
bool read_detects_damage(const SmallTable& table, std::string contents) {
  auto opened = open_table(table.options, std::move(contents));
  if (!opened.is_ok()) {
    EXPECT_TRUE(opened.status().is_corruption() && names_file(opened.status()))
        << opened.status().to_string();
    return true;
  }
  bool detected = false;
  const auto iterator = (*opened)->new_iterator();
  const Entries scanned = scan(iterator.get(), table.entries.size());
  if (iterator->status().is_ok()) {
    EXPECT_EQ(scanned, table.entries);
  } else {
    detected = true;
    EXPECT_TRUE(iterator->status().is_corruption() && names_file(iterator->status()));
    EXPECT_LE(scanned.size(), table.entries.size());
    EXPECT_TRUE(std::equal(scanned.begin(), scanned.end(), table.entries.begin()));
  }
  const auto backward = (*opened)->new_iterator();
  const Entries scanned_backward = scan_backward(backward.get(), table.entries.size());
  if (backward->status().is_ok()) {
    EXPECT_TRUE(std::equal(scanned_backward.begin(), scanned_backward.end(), table.entries.rbegin(),
                           table.entries.rend()));
  } else {
    detected = true;
    EXPECT_TRUE(backward->status().is_corruption() && names_file(backward->status()));
    EXPECT_LE(scanned_backward.size(), table.entries.size());
    EXPECT_TRUE(
        std::equal(scanned_backward.begin(), scanned_backward.end(), table.entries.rbegin()));
  }
  for (size_t i = 0; i < table.entries.size(); i += 3) {
    const auto& [key, value] = table.entries[i];
    const auto found = (*opened)->find_first_at_or_after(key);
    if (!found.is_ok()) {
      detected = true;
      EXPECT_TRUE(found.status().is_corruption() && names_file(found.status()));
      continue;
    }
    EXPECT_TRUE(found->has_value() && (*found)->internal_key == key && (*found)->value == value);
  }
  return detected;
}

class TableFlipTest : public ::testing::TestWithParam<CompressionType> {};

// Proves every byte of a table, compressed or not, is covered by a checksum or the magic:
// flipping any one bit of any byte is detected by open or by a full read (never a crash), and
// nothing read is ever wrong.
TEST_P(TableFlipTest, EveryByteFlipIsDetected) {
  const SmallTable table = make_small_table(GetParam());
  ASSERT_GT(make_small_table().contents.size() / table.options.block_size_bytes, 10u);
  if (GetParam() != CompressionType::kNone) {
    ASSERT_LT(table.contents.size(), make_small_table().contents.size() * 3 / 4);
  }
  ASSERT_TRUE(!read_detects_damage(table, table.contents));
  int undetected = 0;
  for (size_t offset = 0; offset < table.contents.size(); offset++) {
    std::string damaged = table.contents;
    damaged[offset] = static_cast<char>(damaged[offset] ^ (1 << (offset % 8)));
    if (!read_detects_damage(table, std::move(damaged))) undetected++;
  }
  EXPECT_EQ(undetected, 0);
}

INSTANTIATE_TEST_SUITE_P(Compressions, TableFlipTest,
                         ::testing::Values(CompressionType::kNone, CompressionType::kLz4,
                                           CompressionType::kZstd),
                         [](const ::testing::TestParamInfo<CompressionType>& param_info) {
                           return std::string(compression_type_name(param_info.param));
                         });

// Proves a table truncated to any shorter length fails to open with Corruption.
TEST(TableCorruptionTest, TruncatedFileIsCorruption) {
  const SmallTable table = make_small_table();
  for (size_t size = 0; size < table.contents.size(); size++) {
    const auto opened = open_table(table.options, table.contents.substr(0, size));
    ASSERT_FALSE(opened.is_ok()) << "size " << size;
    EXPECT_TRUE(opened.status().is_corruption() && names_file(opened.status()))
        << opened.status().to_string();
  }
}

// Proves a footer whose magic number is wrong is reported as "not a table".
TEST(TableCorruptionTest, WrongMagicIsCorruption) {
  const SmallTable table = make_small_table();
  std::string damaged = table.contents;
  damaged.back() = 'X';
  const auto opened = open_table(table.options, damaged);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_TRUE(opened.status().is_corruption());
  EXPECT_NE(opened.status().message().find("magic"), std::string_view::npos);
  EXPECT_TRUE(names_file(opened.status()));
}

// Proves a well-checksummed footer with absurd or overflowing handles is refused with Corruption
// before any allocation of the claimed size.
TEST(TableCorruptionTest, AbsurdHandlesAreRefused) {
  const SmallTable table = make_small_table();
  const std::string blocks = table.contents.substr(0, table.contents.size() - kFooterBytes);
  const std::vector<Footer> footers = {
      {BlockHandle{0, 0}, BlockHandle{0, uint64_t{1} << 62}},
      {BlockHandle{0, 0}, BlockHandle{UINT64_MAX - 2, 10}},
      {BlockHandle{0, 0}, BlockHandle{blocks.size() - 3, 10}},  // runs into the footer
      {BlockHandle{UINT64_MAX, UINT64_MAX}, BlockHandle{0, 10}},
  };
  for (const Footer& footer : footers) {
    std::string contents = blocks;
    encode_footer(&contents, footer);
    const auto opened = open_table(table.options, contents);
    ASSERT_FALSE(opened.is_ok());
    EXPECT_TRUE(opened.status().is_corruption() && names_file(opened.status()))
        << opened.status().to_string();
  }
}

// A file whose reads all fail, as a dying disk's would.
class FailingRandomAccessFile final : public RandomAccessFile {
 public:
  Status read(uint64_t, size_t, std::string_view*, char*) const override {
    return Status::io_error("injected read error");
  }
};

// A file that accepts `bytes_left` bytes, then fails every append.
class FailingWritableFile final : public WritableFile {
 public:
  explicit FailingWritableFile(size_t bytes_left) : bytes_left_(bytes_left) {}
  Status append(std::string_view data) override {
    if (data.size() > bytes_left_) return Status::io_error("injected write error");
    bytes_left_ -= data.size();
    return Status::ok();
  }
  Status flush() override { return Status::ok(); }
  Status sync() override { return Status::ok(); }
  Status close() override { return Status::ok(); }

 private:
  size_t bytes_left_;
};

// Proves I/O errors pass through as IOError (not Corruption), naming the file on read.
TEST(TableIoErrorTest, ReadAndWriteErrorsPassThrough) {
  const auto opened =
      Table::open(TableOptions{}, std::make_unique<FailingRandomAccessFile>(), 4096, kFileName);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_TRUE(opened.status().is_io_error() && names_file(opened.status()));

  const Entries entries = make_entries(200, 2);
  FailingWritableFile file(1000);
  TableOptions options;
  options.block_size_bytes = 256;
  TableBuilder builder(options, &file);
  for (const auto& [key, value] : entries) builder.add(key, value);
  EXPECT_TRUE(builder.status().is_io_error());
  EXPECT_TRUE(builder.finish().is_io_error());
  EXPECT_LE(builder.file_size_bytes(), 1000u);
}

// ---- table_format: handles, trailers, footer.

// Proves block handles round-trip at extreme values and truncated encodings are refused.
TEST(TableFormatTest, BlockHandleRoundTrip) {
  for (const BlockHandle handle :
       {BlockHandle{0, 0}, BlockHandle{4096, 17}, BlockHandle{UINT64_MAX, UINT64_MAX}}) {
    std::string encoded;
    encode_block_handle(&encoded, handle);
    EXPECT_LE(encoded.size(), kBlockHandleEncodedBytesMax);
    std::string_view input = encoded;
    BlockHandle decoded;
    ASSERT_TRUE(decode_block_handle(&input, &decoded));
    EXPECT_TRUE(input.empty());
    EXPECT_EQ(decoded.offset, handle.offset);
    EXPECT_EQ(decoded.size, handle.size);
    std::string_view truncated = std::string_view(encoded).substr(0, encoded.size() - 1);
    EXPECT_FALSE(decode_block_handle(&truncated, &decoded));
  }
}

// Proves the footer is exactly kFooterBytes, round-trips, and any flipped bit is Corruption.
TEST(TableFormatTest, FooterRoundTripAndDamage) {
  const Footer footer{BlockHandle{123456, 789}, BlockHandle{UINT64_MAX, 1}};
  std::string encoded;
  encode_footer(&encoded, footer);
  ASSERT_EQ(encoded.size(), kFooterBytes);
  EXPECT_EQ(encoded.substr(kFooterBytes - 8), "CAIRNSST");
  const auto decoded = decode_footer(encoded, kFileName);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->filter_handle.offset, 123456u);
  EXPECT_EQ(decoded->index_handle.offset, UINT64_MAX);
  for (size_t bit = 0; bit < 8 * kFooterBytes; bit++) {
    std::string damaged = encoded;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    const auto result = decode_footer(damaged, kFileName);
    ASSERT_FALSE(result.is_ok()) << "bit " << bit;
    EXPECT_TRUE(result.status().is_corruption() && names_file(result.status()));
  }
  EXPECT_TRUE(decode_footer(encoded.substr(1), kFileName).status().is_corruption());
}

// Proves read_block verifies the trailer: a good block reads back; a flipped byte, an unknown
// type, a short read and an absurd size are each Corruption naming the file and offset.
TEST(TableFormatTest, ReadBlockVerifiesTrailer) {
  const std::string contents = "some block contents";
  std::string file_bytes = "prefix";
  const BlockHandle handle{file_bytes.size(), contents.size()};
  file_bytes += contents;
  append_block_trailer(&file_bytes, contents, CompressionType::kNone);
  const auto read = [](const std::string& bytes, const BlockHandle& h) {
    return read_block(test::StringRandomAccessFile(bytes), h, kFileName);
  };
  const auto good = read(file_bytes, handle);
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, contents);

  std::string flipped = file_bytes;
  flipped[handle.offset + 3] ^= 0x10;
  std::string unknown_type = file_bytes.substr(0, handle.offset) + contents + '\x07';
  put_fixed32(&unknown_type, checksum32(contents + '\x07'));
  const std::vector<std::pair<Result<std::string>, std::string>> failures = {
      {read(flipped, handle), "checksum"},
      {read(unknown_type, handle), "unknown block type"},
      {read(file_bytes.substr(0, file_bytes.size() - 1), handle), "truncated"},
      {read(file_bytes, BlockHandle{0, kBlockContentsBytesMax + 1}), "absurd"},
  };
  for (const auto& [result, expected_words] : failures) {
    ASSERT_FALSE(result.is_ok());
    EXPECT_TRUE(result.status().is_corruption());
    EXPECT_TRUE(names_file(result.status()));
    EXPECT_NE(result.status().message().find(expected_words), std::string_view::npos)
        << result.status().to_string();
  }
  EXPECT_NE(read(flipped, handle).status().message().find("offset 6"), std::string_view::npos);
}

}  // namespace
}  // namespace cairn
