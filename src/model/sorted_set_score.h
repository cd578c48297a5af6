// Sorted-set scores as the keyspace stores and compares them (docs/keyspace-format.md, "Sorted
// sets"), and the score and range arguments of the Z* commands, parsed as Redis 7.0 parses them.
//
// A score is stored as 8 bytes whose byte order is the order of the doubles: the sign bit is
// flipped for a positive number and every bit for a negative one, so memcmp sorts -inf < ... <
// -0 = 0 < ... < +inf. NaN is never stored; -0 is stored as 0 (Redis's small sorted sets, whose
// scores live in a listpack, also read -0 back as 0). A member's score-index element is its
// encoded score followed by the member's bytes, so the index sorts by (score, member) as Redis's
// skiplist does.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

constexpr size_t kScoreBytes = 8;

// REQUIRES: !isnan(score).
std::string encode_score(double score);
// False unless `bytes` is kScoreBytes long and does not decode to NaN.
bool decode_score(std::string_view bytes, double* score);

// The score-index element of (score, member), and its parts back (false if malformed).
std::string score_index_element(double score, std::string_view member);
bool parse_score_index_element(std::string_view element, double* score, std::string_view* member);

// A score argument (ZADD, ZINCRBY, WEIGHTS): Redis's getDoubleFromObject, strtod over the whole
// text with no leading space, no NaN, no overflow. "inf", "+inf", "-inf" are scores.
std::optional<double> parse_score(std::string_view text);

// A score range of ZRANGEBYSCORE, ZCOUNT, ...: "[(]number" per bound, "-inf"/"+inf" included.
struct ScoreRange {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  bool max_exclusive = false;

  bool above_min(double score) const { return min_exclusive ? score > min : score >= min; }
  bool below_max(double score) const { return max_exclusive ? score < max : score <= max; }
  bool contains(double score) const { return above_min(score) && below_max(score); }
  // No score can be in it (min > max, or equal bounds with one exclusive).
  bool empty() const { return min > max || (min == max && (min_exclusive || max_exclusive)); }
};
// nullopt for a malformed bound (Redis replies "ERR min or max is not a float").
std::optional<ScoreRange> parse_score_range(std::string_view min, std::string_view max);

// A member range of ZRANGEBYLEX, ZLEXCOUNT, ...: "[member" inclusive, "(member" exclusive, "-"
// before every member, "+" after every member.
struct LexBound {
  enum class Kind { kMinusInfinity, kInclusive, kExclusive, kPlusInfinity } kind;
  std::string member;
};
struct LexRange {
  LexBound min;
  LexBound max;

  bool above_min(std::string_view member) const;
  bool below_max(std::string_view member) const;
  bool contains(std::string_view member) const { return above_min(member) && below_max(member); }
  bool empty() const;
};
// nullopt for a malformed bound (Redis replies "ERR min or max not valid string range item").
std::optional<LexRange> parse_lex_range(std::string_view min, std::string_view max);

}  // namespace cairn
