// Proves the SSTable block format: BlockBuilder and Block round-trip entries in internal-key order,
// seeks (both ways) and walks in both directions land where a sorted model says, and malformed
// contents give Corruption, never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "storage/block.h"
#include "storage/block_builder.h"
#include "storage/internal_key.h"
#include "support/iterator_walk.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

const std::string kFileName = "000007.sst";

std::string user_key_for(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "user/%08d", i * 2);  // odd numbers stay absent
  return buffer;
}

// Sorted internal-key entries: 1-3 versions per user key, some deletions, values 0-300 bytes.
Entries make_entries(int user_key_count, uint64_t seed) {
  std::mt19937_64 random(seed);
  Entries entries;
  for (int i = 0; i < user_key_count; i++) {
    const int version_count = 1 + static_cast<int>(random() % 3);
    for (int v = 0; v < version_count; v++) {
      const SequenceNumber sequence = 1000 - 100 * static_cast<SequenceNumber>(v);
      const bool deletion = random() % 5 == 0;
      const std::string value = deletion ? "" : std::string(random() % 300, char('a' + v));
      entries.emplace_back(make_internal_key(user_key_for(i), sequence,
                                             deletion ? ValueType::kDeletion : ValueType::kValue),
                           value);
    }
  }
  return entries;
}

std::string build_block(const Entries& entries, int restart_interval) {
  BlockBuilder builder(restart_interval);
  for (const auto& [key, value] : entries) builder.add(key, value);
  return std::string(builder.finish());
}

std::shared_ptr<const Block> parse_or_die(std::string contents) {
  Result<std::shared_ptr<const Block>> block =
      Block::parse(std::move(contents), std::make_shared<const std::string>(kFileName));
  EXPECT_TRUE(block.is_ok()) << block.status().to_string();
  return std::move(block).value();
}

// Every entry from seek_to_first on, bounded so a broken iterator cannot loop forever.
Entries scan(Iterator* iterator, size_t entry_count_max) {
  Entries result;
  for (iterator->seek_to_first(); iterator->valid() && result.size() <= entry_count_max;
       iterator->next()) {
    result.emplace_back(iterator->key(), iterator->value());
  }
  return result;
}

// Checks seek(target) against the first model entry >= target.
void expect_seek_matches_model(Iterator* iterator, const Entries& entries,
                               const std::string& target) {
  iterator->seek(target);
  ASSERT_TRUE(iterator->status().is_ok()) << iterator->status().to_string();
  const auto expected = std::lower_bound(
      entries.begin(), entries.end(), target,
      [](const auto& entry, const auto& t) { return compare_internal_keys(entry.first, t) < 0; });
  if (expected == entries.end()) {
    EXPECT_FALSE(iterator->valid());
    return;
  }
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->key(), expected->first);
  EXPECT_EQ(iterator->value(), expected->second);
}

class BlockRoundTripTest : public ::testing::TestWithParam<int> {
 protected:
  const Entries entries_ = make_entries(1000, 17);
};

// Proves a block of ~2000 entries scans back every key and value, in order.
TEST_P(BlockRoundTripTest, ScanReturnsEveryEntryInOrder) {
  const auto block = parse_or_die(build_block(entries_, GetParam()));
  const auto iterator = block->new_iterator();
  EXPECT_EQ(scan(iterator.get(), entries_.size()), entries_);
  EXPECT_TRUE(iterator->status().is_ok());
}

// Proves seek to every stored key lands exactly on it.
TEST_P(BlockRoundTripTest, SeekToEveryKeyLandsOnIt) {
  const auto block = parse_or_die(build_block(entries_, GetParam()));
  const auto iterator = block->new_iterator();
  for (const auto& [key, value] : entries_) {
    iterator->seek(key);
    ASSERT_TRUE(iterator->valid());
    EXPECT_EQ(iterator->key(), key);
    EXPECT_EQ(iterator->value(), value);
  }
}

// Proves seek between keys (absent user keys, sequences between versions, before the first and
// after the last key) lands on the next larger entry or becomes invalid at the end.
TEST_P(BlockRoundTripTest, SeekBetweenKeysLandsOnTheNextEntry) {
  const auto block = parse_or_die(build_block(entries_, GetParam()));
  const auto iterator = block->new_iterator();
  std::vector<std::string> targets = {make_internal_key("", kSequenceNumberMax, kValueTypeForSeek),
                                      make_internal_key("zzz", 0, ValueType::kDeletion)};
  for (int i = 0; i <= 1000; i++) {
    targets.push_back(make_internal_key(user_key_for(i) + "+", 5, ValueType::kValue));
    targets.push_back(make_internal_key(user_key_for(i), 950, kValueTypeForSeek));
    targets.push_back(make_internal_key(user_key_for(i), 850, ValueType::kDeletion));
    targets.push_back(make_internal_key(user_key_for(i), 1, kValueTypeForSeek));
  }
  for (const std::string& target : targets) {
    expect_seek_matches_model(iterator.get(), entries_, target);
  }
}

INSTANTIATE_TEST_SUITE_P(RestartIntervals, BlockRoundTripTest, ::testing::Values(1, 2, 16));

// Backward moves, per restart interval (1: every key whole; 4 and 16: prev decodes forward from a
// restart point).
class BlockReverseTest : public ::testing::TestWithParam<int> {};

// A seek target near the entries of make_entries(user_key_count): a stored or absent user key
// (odd numbers), at a sequence among, between or beyond the stored versions, of any type.
std::string random_block_target(std::mt19937_64& random, int user_key_count) {
  char user_key[32];
  std::snprintf(user_key, sizeof(user_key), "user/%08d",
                static_cast<int>(random() % (2 * static_cast<uint64_t>(user_key_count) + 2)));
  const SequenceNumber sequences[] = {0, 1, 800, 850, 900, 950, 1000, 1001, kSequenceNumberMax};
  return make_internal_key(user_key, sequences[random() % std::size(sequences)],
                           static_cast<ValueType>(random() % 3));
}

// Proves seek_to_last then prev visits every entry of a block in reverse, and random walks mixing
// next, prev, seek, seek_for_prev, seek_to_first and seek_to_last match the model at every step,
// over blocks of 0 to 300 entries.
TEST_P(BlockReverseTest, WalksBothWaysMatchTheModel) {
  for (const uint64_t seed : test::test_seeds(100, 40, 400)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    std::mt19937_64 random(seed);
    const int user_key_count = static_cast<int>(random() % 150);
    const Entries entries = make_entries(user_key_count, seed);
    const auto block = parse_or_die(build_block(entries, GetParam()));
    const auto iterator = block->new_iterator();
    test::IteratorModelWalk walk(*iterator, entries, &compare_internal_keys);
    walk.check_backward_scan();
    walk.run(random, 400, [&] { return random_block_target(random, user_key_count); });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Proves seek_for_prev to every stored key lands exactly on it, and prev from every entry lands on
// the entry before it.
TEST_P(BlockReverseTest, SeekForPrevToEveryKeyLandsOnIt) {
  const Entries entries = make_entries(500, 23);
  const auto block = parse_or_die(build_block(entries, GetParam()));
  const auto iterator = block->new_iterator();
  for (size_t i = 0; i < entries.size(); i++) {
    iterator->seek_for_prev(entries[i].first);
    ASSERT_TRUE(iterator->valid());
    EXPECT_EQ(iterator->key(), entries[i].first);
    EXPECT_EQ(iterator->value(), entries[i].second);
    iterator->prev();
    ASSERT_EQ(iterator->valid(), i > 0);
    if (i > 0) {
      EXPECT_EQ(iterator->key(), entries[i - 1].first);
    }
  }
  EXPECT_TRUE(iterator->status().is_ok());
}

INSTANTIATE_TEST_SUITE_P(RestartIntervals, BlockReverseTest, ::testing::Values(1, 4, 16));

// Proves an empty block is well formed: it parses, and its iterator is invalid with status OK.
TEST(BlockTest, EmptyBlockHasNoEntries) {
  BlockBuilder builder(16);
  EXPECT_TRUE(builder.empty());
  const auto block = parse_or_die(std::string(builder.finish()));
  const auto iterator = block->new_iterator();
  iterator->seek_to_first();
  EXPECT_FALSE(iterator->valid());
  iterator->seek(make_internal_key("a", 1, ValueType::kValue));
  EXPECT_FALSE(iterator->valid());
  iterator->seek_to_last();
  EXPECT_FALSE(iterator->valid());
  iterator->seek_for_prev(make_internal_key("a", 1, ValueType::kValue));
  EXPECT_FALSE(iterator->valid());
  EXPECT_TRUE(iterator->status().is_ok());
}

// Proves size_estimate_bytes() equals the finished size and reset() starts a fresh block.
TEST(BlockBuilderTest, SizeEstimateIsExactAndResetStartsOver) {
  const Entries entries = make_entries(100, 3);
  BlockBuilder builder(4);
  for (const auto& [key, value] : entries) builder.add(key, value);
  EXPECT_FALSE(builder.empty());
  const size_t estimate = builder.size_estimate_bytes();
  EXPECT_EQ(builder.finish().size(), estimate);

  builder.reset();
  EXPECT_TRUE(builder.empty());
  const Entries first(entries.begin(), entries.begin() + 3);
  for (const auto& [key, value] : first) builder.add(key, value);
  const auto block = parse_or_die(std::string(builder.finish()));
  const auto iterator = block->new_iterator();
  EXPECT_EQ(scan(iterator.get(), 3), first);
}

// Proves prefix compression: keys with a long common prefix take far less than their full size.
TEST(BlockBuilderTest, SharedPrefixesAreStoredOnce) {
  const std::string prefix(200, 'p');
  Entries entries;
  for (int i = 0; i < 64; i++) {
    entries.emplace_back(make_internal_key(prefix + user_key_for(i), 1, ValueType::kValue), "");
  }
  const size_t restart_every_key = build_block(entries, 1).size();
  const size_t restart_every_16 = build_block(entries, 16).size();
  EXPECT_GT(restart_every_key, 64 * prefix.size());
  EXPECT_LT(restart_every_16, restart_every_key / 4);
}

// Proves a malformed restart array (short, zero or oversized count, out of order, out of range)
// is Corruption naming the file.
TEST(BlockTest, MalformedRestartArrayIsCorruption) {
  const std::string good = build_block(make_entries(50, 5), 4);
  std::vector<std::string> bad = {"", "abc"};
  std::string zero_count = good;
  encode_fixed32(zero_count.data() + zero_count.size() - 4, 0);
  bad.push_back(zero_count);
  std::string huge_count = good;
  encode_fixed32(huge_count.data() + huge_count.size() - 4, 0xffffffff);
  bad.push_back(huge_count);
  std::string first_not_zero = good;
  const uint32_t restart_count = decode_fixed32(good.data() + good.size() - 4);
  const size_t restarts_offset = good.size() - 4 - 4 * size_t{restart_count};
  encode_fixed32(first_not_zero.data() + restarts_offset, 1);
  bad.push_back(first_not_zero);
  std::string out_of_range = good;
  encode_fixed32(out_of_range.data() + restarts_offset + 4, static_cast<uint32_t>(good.size()));
  bad.push_back(out_of_range);
  std::string out_of_order = good;
  encode_fixed32(out_of_order.data() + restarts_offset + 8, 1);
  bad.push_back(out_of_order);

  for (std::string& contents : bad) {
    const Result<std::shared_ptr<const Block>> block =
        Block::parse(std::move(contents), std::make_shared<const std::string>(kFileName));
    ASSERT_FALSE(block.is_ok());
    EXPECT_TRUE(block.status().is_corruption());
    EXPECT_NE(block.status().message().find(kFileName), std::string_view::npos);
  }
}

// Proves random damage to a block never crashes or reads out of bounds (run under ASan): parse,
// scans both ways and seeks end with OK or Corruption naming the file, and an iterator's error
// is final.
TEST(BlockTest, DamagedContentsGiveCorruptionNotCrash) {
  const Entries entries = make_entries(60, 9);
  const std::string good = build_block(entries, 3);
  std::mt19937_64 random(42);
  int corruptions_seen = 0;
  for (int round = 0; round < 3000; round++) {
    std::string damaged = good;
    const int damage_count = 1 + static_cast<int>(random() % 4);
    for (int d = 0; d < damage_count; d++) {
      damaged[random() % damaged.size()] = static_cast<char>(random());
    }
    Result<std::shared_ptr<const Block>> block =
        Block::parse(std::move(damaged), std::make_shared<const std::string>(kFileName));
    if (!block.is_ok()) {
      EXPECT_TRUE(block.status().is_corruption());
      continue;
    }
    const auto iterator = (*block)->new_iterator();
    scan(iterator.get(), entries.size() * 4);
    size_t steps = 0;
    for (iterator->seek_to_last(); iterator->valid() && steps <= entries.size() * 4; steps++) {
      iterator->prev();
    }
    iterator->seek_for_prev(entries[random() % entries.size()].first);
    if (iterator->valid()) iterator->prev();
    iterator->seek(entries[random() % entries.size()].first);
    const Status status = iterator->status();
    ASSERT_TRUE(status.is_ok() || status.is_corruption()) << status.to_string();
    if (status.is_corruption()) {
      corruptions_seen++;
      EXPECT_NE(status.message().find(kFileName), std::string_view::npos);
      EXPECT_FALSE(iterator->valid());
      iterator->seek_to_first();
      EXPECT_FALSE(iterator->valid());
    }
  }
  EXPECT_GT(corruptions_seen, 0);
}

}  // namespace
}  // namespace cairn
