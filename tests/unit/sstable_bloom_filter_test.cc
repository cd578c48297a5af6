// Proves the table bloom filter: the blocked encoding writers produce (no false negatives, the
// documented probe bits inside one 64-byte block, a false-positive rate close to theory), the
// older whole-array encoding that existing tables hold still answers as before, and "maybe" for
// malformed filters read from disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "storage/bloom_filter.h"

namespace cairn {
namespace {

constexpr size_t kBlockBytes = 64;

std::string added_key(int i) { return "key/" + std::to_string(i); }
std::string probe_key(int i) { return "probe/" + std::to_string(i); }

std::string build_filter(int bits_per_key, int key_count) {
  BloomFilterBuilder builder(bits_per_key);
  for (int i = 0; i < key_count; i++) builder.add_key(added_key(i));
  return builder.finish();
}

double measured_false_positive_rate(const std::string& filter, int probe_count) {
  int false_positives = 0;
  for (int i = 0; i < probe_count; i++) {
    if (bloom_filter_may_contain(filter, probe_key(i))) false_positives++;
  }
  return static_cast<double>(false_positives) / probe_count;
}

void set_bit(std::string* bytes, size_t offset, uint64_t bit) {
  (*bytes)[offset + bit / 8] |= static_cast<char>(1 << (bit % 8));
}

void clear_bit(std::string* bytes, size_t offset, uint64_t bit) {
  (*bytes)[offset + bit / 8] &= static_cast<char>(~(1 << (bit % 8)));
}

// The blocked encoding as docs/sstable-format.md states it, written out independently of the
// builder: the block of a key's hash and its k probe bits inside that block.
uint64_t documented_block(uint64_t hash, uint64_t block_count) {
  return ((hash >> 32) * block_count) >> 32;
}

std::vector<uint64_t> documented_block_bits(uint64_t hash, int k) {
  std::vector<uint64_t> bits;
  auto x = static_cast<uint32_t>(hash);
  for (int i = 0; i < k; i++) {
    bits.push_back(x >> 23);
    x *= 0x9e37'79b9u;
  }
  return bits;
}

std::string empty_blocked_filter(size_t block_count, int k) {
  std::string filter(block_count * kBlockBytes, '\0');
  filter.push_back(static_cast<char>(k));
  filter.push_back(static_cast<char>(0x81));
  return filter;
}

// The whole-array encoding that writers produced before the blocked one, kept here only to
// prove readers still answer it: max(64, n * b) bits rounded up to bytes, k = round(b ln 2)
// clamped to [1, 30], bits (h1 + i * h2) mod m.
int whole_probe_count(int bits_per_key) {
  return std::clamp(static_cast<int>(std::lround(bits_per_key * std::log(2.0))), 1, 30);
}

std::string build_whole_filter(int bits_per_key, int key_count) {
  const int k = whole_probe_count(bits_per_key);
  const size_t bits_wanted = std::max<size_t>(64, size_t(key_count) * bits_per_key);
  const size_t byte_count = (bits_wanted + 7) / 8;
  std::string filter(byte_count + 1, '\0');
  for (int key = 0; key < key_count; key++) {
    const uint64_t hash = bloom_filter_hash(added_key(key));
    for (int i = 0; i < k; i++) {
      set_bit(&filter, 0,
              ((hash & 0xffff'ffff) + static_cast<uint64_t>(i) * (hash >> 32)) % (byte_count * 8));
    }
  }
  filter.back() = static_cast<char>(k);
  return filter;
}

double whole_expected_false_positive_rate(int bits_per_key) {
  const double k = whole_probe_count(bits_per_key);
  return std::pow(1.0 - std::exp(-k / bits_per_key), k);
}

// Proves every added key is reported present, for many filter sizes and key counts, from none
// and one key (one block) up to many blocks.
TEST(BloomFilterTest, NoFalseNegatives) {
  for (const int bits_per_key : {1, 2, 5, 10, 20, 64}) {
    for (const int key_count : {0, 1, 2, 3, 7, 51, 52, 100, 1000, 10000}) {
      const std::string filter = build_filter(bits_per_key, key_count);
      for (int i = 0; i < key_count; i++) {
        ASSERT_TRUE(bloom_filter_may_contain(filter, added_key(i)))
            << "bits_per_key " << bits_per_key << " key_count " << key_count << " key " << i;
      }
    }
  }
}

// Proves a lookup probes exactly the documented bits: block ((h >> 32) * B) >> 32, and inside it
// bits x_i >> 23 with x_0 the low 32 bits of h and x_(i+1) = x_i * 0x9e3779b9. A hand-built
// filter with only those bits set answers "maybe", and clearing any one of them makes it answer
// "absent". Catches a builder or reader that drifts from the format stored filters follow.
TEST(BloomFilterTest, ProbesExactlyTheDocumentedBits) {
  for (const size_t block_count : {1, 3, 100, 4099}) {
    for (const int k : {1, 6, 20, 30}) {
      for (int key = 0; key < 50; key++) {
        const std::string user_key = added_key(key);
        const uint64_t hash = bloom_filter_hash(user_key);
        const size_t offset = documented_block(hash, block_count) * kBlockBytes;
        const std::vector<uint64_t> bits = documented_block_bits(hash, k);
        std::string filter = empty_blocked_filter(block_count, k);
        ASSERT_FALSE(bloom_filter_may_contain(filter, user_key));
        for (const uint64_t bit : bits) set_bit(&filter, offset, bit);
        ASSERT_TRUE(bloom_filter_may_contain(filter, user_key)) << block_count << " " << k;
        for (const uint64_t bit : bits) {
          std::string cleared = filter;
          clear_bit(&cleared, offset, bit);
          ASSERT_FALSE(bloom_filter_may_contain(cleared, user_key)) << block_count << " " << k;
        }
      }
    }
  }
}

// Proves all probes of one key land in one 64-byte block, the documented one: a key added 1000
// times sizes the filter for 1000 keys (20 blocks at 10 bits per key), yet only its block has
// bits set, between 1 and k of them.
TEST(BloomFilterTest, OneKeyTouchesOneBlock) {
  for (int key = 0; key < 100; key++) {
    BloomFilterBuilder builder(10);
    for (int i = 0; i < 1000; i++) builder.add_key(added_key(key));
    const std::string filter = builder.finish();
    ASSERT_EQ(filter.size(), 20 * kBlockBytes + 2);
    const int k = static_cast<unsigned char>(filter[filter.size() - 2]);
    const uint64_t expected_block = documented_block(bloom_filter_hash(added_key(key)), 20);
    for (size_t block = 0; block < 20; block++) {
      int bits_set = 0;
      for (size_t i = 0; i < kBlockBytes; i++) {
        bits_set += std::popcount(static_cast<unsigned char>(filter[block * kBlockBytes + i]));
      }
      if (block == expected_block) {
        EXPECT_GE(bits_set, 1) << "key " << key;
        EXPECT_LE(bits_set, k) << "key " << key;
      } else {
        EXPECT_EQ(bits_set, 0) << "key " << key << " block " << block;
      }
    }
  }
}

// Proves the measured false-positive rate over 100000 keys is within 1.5x of the blocked
// filter's theory at 5, 10 and 20 bits per key (probes scaled to expect >= 1000 hits), and at
// most 1% at 10 bits per key, the default. A filter that probed fewer bits than it stores, or
// set them carelessly, fails the ratio; one that set every bit fails both.
TEST(BloomFilterTest, FalsePositiveRateIsWithinOneAndAHalfTimesTheory) {
  constexpr int kKeyCount = 100000;
  for (const int bits_per_key : {5, 10, 20}) {
    const double expected = bloom_filter_expected_false_positive_rate(bits_per_key);
    const int probe_count = std::max(200000, static_cast<int>(1000 / expected));
    const double measured =
        measured_false_positive_rate(build_filter(bits_per_key, kKeyCount), probe_count);
    std::printf("blocked bloom bits/key %2d: measured %.6f expected %.6f ratio %.3f (%d probes)\n",
                bits_per_key, measured, expected, measured / expected, probe_count);
    EXPECT_LE(measured, expected * 1.5) << "bits_per_key " << bits_per_key;
    EXPECT_GE(measured, expected / 1.5) << "bits_per_key " << bits_per_key;
    if (bits_per_key == 10) {
      EXPECT_LE(measured, 0.01);
    }
  }
}

// Proves the layout: max(1, ceil(n * b / 512)) blocks of 64 bytes, then k = round(0.6 b) clamped
// to [1, 20], then the marker 0x81.
TEST(BloomFilterTest, LayoutIsBlocksThenProbeCountThenMarker) {
  struct Case {
    int bits_per_key;
    int key_count;
    size_t block_count;
    int k;
  };
  for (const Case& c :
       {Case{10, 1000, 20, 6}, Case{10, 1, 1, 6}, Case{10, 0, 1, 6}, Case{1, 3, 1, 1},
        Case{2, 100, 1, 1}, Case{5, 1001, 10, 3}, Case{20, 100, 4, 12}, Case{64, 8, 1, 20},
        Case{64, 9, 2, 20}, Case{50, 10, 1, 20}}) {
    const std::string filter = build_filter(c.bits_per_key, c.key_count);
    ASSERT_EQ(filter.size(), c.block_count * kBlockBytes + 2)
        << "bits_per_key " << c.bits_per_key << " key_count " << c.key_count;
    EXPECT_EQ(static_cast<unsigned char>(filter[filter.size() - 2]), c.k);
    EXPECT_EQ(static_cast<unsigned char>(filter.back()), 0x81);
  }
}

// Proves filters in the whole-array encoding, which tables written before the blocked one hold,
// still answer every added key present and rule out absent ones at their old rate (within 1.5x
// of (1 - e^(-k/b))^k over 10000 keys).
TEST(BloomFilterTest, WholeFiltersStillAnswer) {
  for (const int bits_per_key : {1, 5, 10, 20, 64}) {
    for (const int key_count : {0, 1, 7, 100, 10000}) {
      const std::string filter = build_whole_filter(bits_per_key, key_count);
      for (int i = 0; i < key_count; i++) {
        ASSERT_TRUE(bloom_filter_may_contain(filter, added_key(i)))
            << "bits_per_key " << bits_per_key << " key_count " << key_count << " key " << i;
      }
    }
  }
  for (const int bits_per_key : {5, 10, 20}) {
    const double expected = whole_expected_false_positive_rate(bits_per_key);
    const int probe_count = std::max(100000, static_cast<int>(300 / expected));
    const double measured =
        measured_false_positive_rate(build_whole_filter(bits_per_key, 10000), probe_count);
    EXPECT_LE(measured, expected * 1.5) << "bits_per_key " << bits_per_key;
    EXPECT_GE(measured, expected / 1.5) << "bits_per_key " << bits_per_key;
  }
  EXPECT_EQ(measured_false_positive_rate(build_whole_filter(10, 0), 1000), 0.0);
}

// Proves a whole-array filter is probed at exactly the documented bits (h1 + i * h2) mod m,
// i in [0, k), whatever m and k: only those bits set answers "maybe", and clearing any one of
// them answers "absent". Catches a reader that drifts from what old tables were built with.
TEST(BloomFilterTest, WholeFiltersProbeExactlyTheDocumentedBits) {
  for (const size_t byte_count : {8, 13, 64, 100, 4099}) {
    for (const int k : {1, 7, 30}) {
      for (int key = 0; key < 50; key++) {
        const std::string user_key = added_key(key);
        const uint64_t hash = bloom_filter_hash(user_key);
        const uint64_t bit_count = uint64_t{byte_count} * 8;
        std::vector<uint64_t> bits;
        for (int i = 0; i < k; i++) {
          bits.push_back(((hash & 0xffff'ffff) + static_cast<uint64_t>(i) * (hash >> 32)) %
                         bit_count);
        }
        std::string filter(byte_count + 1, '\0');
        filter.back() = static_cast<char>(k);
        for (const uint64_t bit : bits) set_bit(&filter, 0, bit);
        ASSERT_TRUE(bloom_filter_may_contain(filter, user_key)) << byte_count << " " << k;
        for (const uint64_t bit : bits) {
          std::string cleared = filter;
          clear_bit(&cleared, 0, bit);
          ASSERT_FALSE(bloom_filter_may_contain(cleared, user_key)) << byte_count << " " << k;
        }
      }
    }
  }
}

// Proves malformed filters answer "maybe" for every key: too short, an unknown last byte, a
// whole filter's k outside [1, 30], and blocked filters with no blocks, a bit array that is not
// a whole number of blocks, or a k outside [1, 30]. Each damaged filter comes from an all-zero
// one, which would rule every key out if it were parsed.
TEST(BloomFilterTest, MalformedFilterAnswersMaybe) {
  const std::string blocked = empty_blocked_filter(2, 6);
  ASSERT_FALSE(bloom_filter_may_contain(blocked, "anything"));
  std::vector<std::string> malformed = {std::string(), std::string(1, '\x07'),
                                        std::string(1, '\x81')};
  for (const int last_byte : {0, 31, 0x80, 0x82, 0xff}) {
    std::string filter(9, '\0');
    filter.back() = static_cast<char>(last_byte);
    malformed.push_back(filter);  // unknown marker, or a whole filter's k out of range
    filter = blocked;
    filter.back() = static_cast<char>(last_byte);
    malformed.push_back(filter);
  }
  malformed.push_back(empty_blocked_filter(0, 6));      // no blocks: just k and the marker
  for (const size_t cut_bytes : {1, 7, 63, 65, 127}) {  // blocks not whole: bytes cut off the front
    malformed.push_back(blocked.substr(cut_bytes));
  }
  for (const size_t extra_bytes : {1, 8}) {
    std::string filter = blocked;
    filter.insert(0, extra_bytes, '\0');
    malformed.push_back(filter);
  }
  for (const int k : {0, 31, 200, 255}) malformed.push_back(empty_blocked_filter(2, k));
  for (const std::string& filter : malformed) {
    for (int i = 0; i < 100; i++) {
      ASSERT_TRUE(bloom_filter_may_contain(filter, probe_key(i))) << "size " << filter.size();
    }
    EXPECT_TRUE(bloom_filter_may_contain(filter, ""));
  }
}

// Proves a filter over no keys is well formed (one block) and rules out every key.
TEST(BloomFilterTest, FilterOverNoKeysRulesOutEverything) {
  const std::string filter = build_filter(10, 0);
  EXPECT_EQ(filter.size(), kBlockBytes + 2);
  EXPECT_EQ(measured_false_positive_rate(filter, 1000), 0.0);
}

// Proves finish() starts over: a second filter does not contain the first one's keys.
TEST(BloomFilterTest, FinishStartsOver) {
  BloomFilterBuilder builder(10);
  for (int i = 0; i < 1000; i++) builder.add_key(added_key(i));
  const std::string first = builder.finish();
  builder.add_key("other");
  const std::string second = builder.finish();
  EXPECT_EQ(second.size(), kBlockBytes + 2);
  EXPECT_TRUE(bloom_filter_may_contain(second, "other"));
  EXPECT_LT(measured_false_positive_rate(second, 1000), 0.05);
  EXPECT_TRUE(bloom_filter_may_contain(first, added_key(999)));
}

// Proves the theoretical rate is 1 without a filter, falls as bits grow, is never below the
// whole filter's (a blocked filter trades some rate for locality) and matches a value computed
// by hand (Poisson sum at 10 bits per key, k = 6: 0.958%).
TEST(BloomFilterTest, ExpectedRateFollowsTheFormula) {
  EXPECT_EQ(bloom_filter_expected_false_positive_rate(0), 1.0);
  EXPECT_NEAR(bloom_filter_expected_false_positive_rate(10), 0.009576, 0.000002);
  for (int bits_per_key = 1; bits_per_key < 40; bits_per_key++) {
    EXPECT_LT(bloom_filter_expected_false_positive_rate(bits_per_key + 1),
              bloom_filter_expected_false_positive_rate(bits_per_key));
    EXPECT_GE(bloom_filter_expected_false_positive_rate(bits_per_key),
              whole_expected_false_positive_rate(bits_per_key) * 0.999);
  }
}

}  // namespace
}  // namespace cairn
