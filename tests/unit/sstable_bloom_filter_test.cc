// Proves the table bloom filter: no false negatives, a false-positive rate close to theory, the
// documented layout, and "maybe" for malformed filters read from disk.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "storage/bloom_filter.h"

namespace cairn {
namespace {

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

// Proves every added key is reported present, for many filter sizes and key counts.
TEST(BloomFilterTest, NoFalseNegatives) {
  for (const int bits_per_key : {1, 2, 5, 10, 20, 64}) {
    for (const int key_count : {1, 7, 100, 10000}) {
      const std::string filter = build_filter(bits_per_key, key_count);
      for (int i = 0; i < key_count; i++) {
        ASSERT_TRUE(bloom_filter_may_contain(filter, added_key(i)))
            << "bits_per_key " << bits_per_key << " key_count " << key_count << " key " << i;
      }
    }
  }
}

// Proves a lookup probes exactly the documented bits (h1 + i * h2) mod m of the key's hash,
// i in [0, k), whatever m and k: a hand-built filter with only those bits set answers "maybe",
// and clearing any one of them makes it answer "absent". Catches a probe sequence that drifts
// from the formula the stored filters were built with (say, when the modulo is stepped).
TEST(BloomFilterTest, ProbesExactlyTheDocumentedBits) {
  for (const size_t byte_count : {8, 13, 100, 4099}) {
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
        for (const uint64_t bit : bits) filter[bit / 8] |= static_cast<char>(1 << (bit % 8));
        ASSERT_TRUE(bloom_filter_may_contain(filter, user_key)) << byte_count << " " << k;
        for (const uint64_t bit : bits) {
          std::string cleared = filter;
          cleared[bit / 8] &= static_cast<char>(~(1 << (bit % 8)));
          ASSERT_FALSE(bloom_filter_may_contain(cleared, user_key)) << byte_count << " " << k;
        }
      }
    }
  }
}

// Proves the measured false-positive rate over 10000 keys is within 1.5x of
// (1 - e^(-k/b))^k at 5, 10 and 20 bits per key (probes scaled to expect >= 300 hits).
TEST(BloomFilterTest, FalsePositiveRateIsWithinOneAndAHalfTimesTheory) {
  constexpr int kKeyCount = 10000;
  for (const int bits_per_key : {5, 10, 20}) {
    const double expected = bloom_filter_expected_false_positive_rate(bits_per_key);
    const int probe_count = std::max(100000, static_cast<int>(300 / expected));
    const double measured =
        measured_false_positive_rate(build_filter(bits_per_key, kKeyCount), probe_count);
    std::printf("bloom bits/key %2d: measured %.6f expected %.6f ratio %.3f (%d probes)\n",
                bits_per_key, measured, expected, measured / expected, probe_count);
    EXPECT_LE(measured, expected * 1.5) << "bits_per_key " << bits_per_key;
    EXPECT_GE(measured, expected / 1.5) << "bits_per_key " << bits_per_key;
  }
}

// Proves the layout: max(64, n * bits_per_key) bits rounded up to bytes, then
// k = round(bits_per_key * ln 2) clamped to [1, 30] in the last byte.
TEST(BloomFilterTest, LayoutIsBitArrayThenProbeCount) {
  struct Case {
    int bits_per_key;
    int key_count;
    size_t bytes;
    int k;
  };
  for (const Case& c : {Case{10, 1000, 1250, 7}, Case{10, 1, 8, 7}, Case{1, 3, 8, 1},
                        Case{5, 1001, 626, 3}, Case{20, 100, 250, 14}, Case{50, 10, 63, 30}}) {
    const std::string filter = build_filter(c.bits_per_key, c.key_count);
    ASSERT_EQ(filter.size(), c.bytes + 1) << "bits_per_key " << c.bits_per_key;
    EXPECT_EQ(static_cast<unsigned char>(filter.back()), c.k);
  }
}

// Proves a filter that is empty, one byte, or has k outside [1, 30] answers "maybe".
TEST(BloomFilterTest, MalformedFilterAnswersMaybe) {
  std::string zero_k(9, '\0');
  std::string k_too_large(9, '\0');
  k_too_large.back() = 31;
  for (const std::string& filter : {std::string(), std::string(1, '\x07'), zero_k, k_too_large}) {
    EXPECT_TRUE(bloom_filter_may_contain(filter, "anything"));
    EXPECT_TRUE(bloom_filter_may_contain(filter, ""));
  }
}

// Proves a filter over no keys is well formed and rules out every key.
TEST(BloomFilterTest, FilterOverNoKeysRulesOutEverything) {
  const std::string filter = build_filter(10, 0);
  EXPECT_EQ(filter.size(), 9u);
  EXPECT_EQ(measured_false_positive_rate(filter, 1000), 0.0);
}

// Proves finish() starts over: a second filter does not contain the first one's keys.
TEST(BloomFilterTest, FinishStartsOver) {
  BloomFilterBuilder builder(10);
  for (int i = 0; i < 1000; i++) builder.add_key(added_key(i));
  const std::string first = builder.finish();
  builder.add_key("other");
  const std::string second = builder.finish();
  EXPECT_EQ(second.size(), 9u);
  EXPECT_TRUE(bloom_filter_may_contain(second, "other"));
  EXPECT_LT(measured_false_positive_rate(second, 1000), 0.05);
  EXPECT_TRUE(bloom_filter_may_contain(first, added_key(999)));
}

// Proves the theoretical rate is 1 without a filter, falls as bits grow and matches the formula.
TEST(BloomFilterTest, ExpectedRateFollowsTheFormula) {
  EXPECT_EQ(bloom_filter_expected_false_positive_rate(0), 1.0);
  EXPECT_NEAR(bloom_filter_expected_false_positive_rate(10), std::pow(1 - std::exp(-0.7), 7),
              1e-12);
  for (int bits_per_key = 1; bits_per_key < 40; bits_per_key++) {
    EXPECT_LT(bloom_filter_expected_false_positive_rate(bits_per_key + 1),
              bloom_filter_expected_false_positive_rate(bits_per_key));
  }
}

}  // namespace
}  // namespace cairn
