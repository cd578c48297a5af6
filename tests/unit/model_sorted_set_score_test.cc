// Proves the sorted-set score encoding and argument parsing (model/sorted_set_score.h): encoded
// scores sort as the doubles do (infinities, subnormals and both zeros included) and decode
// back; index elements order by (score, member); score, range and lex arguments parse as Redis
// 7.0 parses them; a sorted set's metadata carries its index bounds and rejects malformed ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model/collection_meta.h"
#include "model/sorted_set_score.h"

namespace cairn {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(SortedSetScoreTest, EncodingSortsAsTheDoublesDo) {
  std::vector<double> scores = {-kInf,
                                -std::numeric_limits<double>::max(),
                                -1e20,
                                -1.5,
                                -std::numeric_limits<double>::min(),
                                -std::numeric_limits<double>::denorm_min(),
                                0.0,
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::min(),
                                0.1,
                                1,
                                3,
                                1e20,
                                std::numeric_limits<double>::max(),
                                kInf};
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> any(-1e12, 1e12);
  for (int i = 0; i < 2000; i++) scores.push_back(any(random));
  std::sort(scores.begin(), scores.end());
  for (size_t i = 0; i < scores.size(); i++) {
    const std::string encoded = encode_score(scores[i]);
    ASSERT_EQ(encoded.size(), kScoreBytes);
    double decoded = 0;
    ASSERT_TRUE(decode_score(encoded, &decoded));
    EXPECT_EQ(decoded, scores[i]);
    if (i > 0) {
      const std::string before = encode_score(scores[i - 1]);
      if (scores[i - 1] < scores[i]) {
        EXPECT_LT(before, encoded) << scores[i - 1] << " " << scores[i];
      } else {
        EXPECT_EQ(before, encoded);
      }
    }
  }
}

TEST(SortedSetScoreTest, NegativeZeroIsStoredAsZero) {
  EXPECT_EQ(encode_score(-0.0), encode_score(0.0));
  double decoded = -1;
  ASSERT_TRUE(decode_score(encode_score(-0.0), &decoded));
  EXPECT_FALSE(std::signbit(decoded));
}

TEST(SortedSetScoreTest, MalformedEncodingsDoNotDecode) {
  double score = 0;
  EXPECT_FALSE(decode_score("", &score));
  EXPECT_FALSE(decode_score(std::string(7, 'x'), &score));
  EXPECT_FALSE(decode_score(encode_score(1) + "x", &score));
  // All bits set decodes to a NaN, which no score is.
  EXPECT_FALSE(decode_score(std::string(8, '\xFF'), &score));
}

TEST(SortedSetScoreTest, IndexElementsOrderByScoreThenMember) {
  const std::string a = score_index_element(1, "b");
  const std::string b = score_index_element(1, "ba");
  const std::string c = score_index_element(2, "a");
  const std::string d = score_index_element(-1, "zzz");
  EXPECT_LT(d, a);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  double score = 0;
  std::string_view member;
  ASSERT_TRUE(parse_score_index_element(b, &score, &member));
  EXPECT_EQ(score, 1);
  EXPECT_EQ(member, "ba");
  ASSERT_TRUE(parse_score_index_element(score_index_element(3, ""), &score, &member));
  EXPECT_EQ(member, "");
  EXPECT_FALSE(parse_score_index_element("short", &score, &member));
}

TEST(SortedSetScoreTest, ScoresParseAsRedisParsesThem) {
  EXPECT_EQ(parse_score("1.5"), 1.5);
  EXPECT_EQ(parse_score("-3"), -3);
  EXPECT_EQ(parse_score("0x10"), 16);  // strtod reads hex
  EXPECT_EQ(parse_score("inf"), kInf);
  EXPECT_EQ(parse_score("+inf"), kInf);
  EXPECT_EQ(parse_score("-inf"), -kInf);
  EXPECT_EQ(parse_score("1e308"), 1e308);
  for (const char* bad : {"", " 1", "1 ", "abc", "1x", "nan", "1e400", "-1e400", "1e-400"}) {
    EXPECT_FALSE(parse_score(bad).has_value()) << bad;
  }
}

TEST(SortedSetScoreTest, ScoreRangesParseWithExclusiveBounds) {
  auto range = parse_score_range("(1", "+inf");
  ASSERT_TRUE(range.has_value());
  EXPECT_TRUE(range->min_exclusive);
  EXPECT_FALSE(range->max_exclusive);
  EXPECT_FALSE(range->contains(1));
  EXPECT_TRUE(range->contains(1.0001));
  EXPECT_TRUE(range->contains(kInf));
  range = parse_score_range("-inf", "(5");
  ASSERT_TRUE(range.has_value());
  EXPECT_TRUE(range->contains(-kInf));
  EXPECT_FALSE(range->contains(5));
  EXPECT_TRUE(parse_score_range("(3", "(3")->empty());
  EXPECT_TRUE(parse_score_range("3", "(3")->empty());
  EXPECT_FALSE(parse_score_range("3", "3")->empty());
  EXPECT_TRUE(parse_score_range("4", "3")->empty());
  EXPECT_FALSE(parse_score_range("x", "1").has_value());
  // "(" alone is an exclusive 0, as in Redis (strtod of "" reads 0 and stops at the end).
  range = parse_score_range("-1", "(");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->max, 0);
  EXPECT_TRUE(range->max_exclusive);
  EXPECT_FALSE(parse_score_range("nan", "1").has_value());
  EXPECT_FALSE(parse_score_range("1", "2x").has_value());
}

TEST(SortedSetScoreTest, LexRangesParseAndCompareBytes) {
  auto range = parse_lex_range("[b", "(d");
  ASSERT_TRUE(range.has_value());
  EXPECT_FALSE(range->contains("a"));
  EXPECT_TRUE(range->contains("b"));
  EXPECT_TRUE(range->contains("c\xFF"));
  EXPECT_FALSE(range->contains("d"));
  range = parse_lex_range("-", "+");
  ASSERT_TRUE(range.has_value());
  EXPECT_TRUE(range->contains(""));
  EXPECT_TRUE(range->contains("\xFF\xFF"));
  EXPECT_FALSE(range->empty());
  EXPECT_TRUE(parse_lex_range("+", "-")->empty());
  EXPECT_TRUE(parse_lex_range("(a", "[a")->empty());
  EXPECT_TRUE(parse_lex_range("[b", "[a")->empty());
  EXPECT_FALSE(parse_lex_range("[a", "[a")->empty());
  for (const char* bad : {"a", "", "+a", "-a", "1"}) {
    EXPECT_FALSE(parse_lex_range(bad, "+").has_value()) << bad;
    EXPECT_FALSE(parse_lex_range("-", bad).has_value()) << bad;
  }
}

TEST(SortedSetScoreTest, MetadataCarriesTheIndexBounds) {
  CollectionMeta meta;
  meta.generation = 9;
  meta.count = 3;
  meta.index_floor = score_index_element(1, "a");
  meta.index_ceiling = score_index_element(5, std::string(200, 'z'));
  const std::string encoded = encode_collection_meta(RecordType::kSortedSet, meta);
  auto decoded = decode_collection_meta(RecordType::kSortedSet, encoded);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->index_floor, meta.index_floor);
  EXPECT_EQ(decoded->index_ceiling, meta.index_ceiling);
  EXPECT_EQ(decoded->count, 3u);
  // Truncated or padded metadata is Corruption.
  for (size_t size : {size_t{16}, size_t{17}, encoded.size() - 1}) {
    EXPECT_TRUE(decode_collection_meta(RecordType::kSortedSet, encoded.substr(0, size))
                    .status()
                    .is_corruption())
        << size;
  }
  EXPECT_TRUE(
      decode_collection_meta(RecordType::kSortedSet, encoded + "x").status().is_corruption());
  // A bound longer than the limit is Corruption.
  std::string oversized = encoded.substr(0, 16);
  oversized += std::string("\xFF\x01", 2) + std::string(0x1FF, 'a') + std::string(2, '\0');
  EXPECT_TRUE(
      decode_collection_meta(RecordType::kSortedSet, oversized).status().is_corruption());
}

}  // namespace
}  // namespace cairn
