#include "model/sorted_set_score.h"

#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "common/assert.h"

namespace cairn {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// strtod over a NUL-terminated copy of `text`; *end_offset is where it stopped.
double parse_prefix(std::string_view text, size_t* end_offset, bool* range_error) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  *range_error = errno == ERANGE;
  // Redis reads a C string: bytes after an embedded NUL are never looked at.
  *end_offset = (*end == '\0') ? text.size() : static_cast<size_t>(end - copy.c_str());
  return value;
}

// One bound of a score range, as Redis's zslParseRange: strtod, the whole (C) string, no NaN.
bool parse_score_bound(std::string_view text, double* value, bool* exclusive) {
  *exclusive = text.starts_with('(');
  if (*exclusive) text.remove_prefix(1);
  size_t end = 0;
  bool range_error = false;
  *value = parse_prefix(text, &end, &range_error);
  return end == text.size() && !std::isnan(*value);
}

bool parse_lex_bound(std::string_view text, LexBound* bound) {
  if (text == "-") {
    bound->kind = LexBound::Kind::kMinusInfinity;
    return true;
  }
  if (text == "+") {
    bound->kind = LexBound::Kind::kPlusInfinity;
    return true;
  }
  if (text.starts_with('[')) {
    bound->kind = LexBound::Kind::kInclusive;
  } else if (text.starts_with('(')) {
    bound->kind = LexBound::Kind::kExclusive;
  } else {
    return false;
  }
  bound->member.assign(text.substr(1));
  return true;
}

// -1, 0, 1 as a < b, with the infinities at the ends.
int compare_bounds(const LexBound& a, const LexBound& b) {
  auto rank = [](const LexBound& bound) {
    switch (bound.kind) {
      case LexBound::Kind::kMinusInfinity: return 0;
      case LexBound::Kind::kPlusInfinity: return 2;
      default: return 1;
    }
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (rank(a) != 1) return 0;
  const int c = a.member.compare(b.member);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

std::string encode_score(double score) {
  CAIRN_ASSERT(!std::isnan(score));
  if (score == 0) score = 0;  // -0 sorts and reads back as 0
  uint64_t bits = std::bit_cast<uint64_t>(score);
  bits = (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
  std::string out(kScoreBytes, '\0');
  for (size_t i = 0; i < kScoreBytes; i++) {
    out[i] = static_cast<char>(bits >> (8 * (kScoreBytes - 1 - i)));
  }
  return out;
}

bool decode_score(std::string_view bytes, double* score) {
  if (bytes.size() != kScoreBytes) return false;
  uint64_t bits = 0;
  for (const char byte : bytes) bits = (bits << 8) | static_cast<uint8_t>(byte);
  bits = (bits & kSignBit) != 0 ? bits & ~kSignBit : ~bits;
  *score = std::bit_cast<double>(bits);
  return !std::isnan(*score);
}

std::string score_index_element(double score, std::string_view member) {
  std::string out = encode_score(score);
  out.append(member);
  return out;
}

bool parse_score_index_element(std::string_view element, double* score,
                               std::string_view* member) {
  if (element.size() < kScoreBytes || !decode_score(element.substr(0, kScoreBytes), score)) {
    return false;
  }
  *member = element.substr(kScoreBytes);
  return true;
}

std::optional<double> parse_score(std::string_view text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  size_t end = 0;
  bool range_error = false;
  const double value = parse_prefix(text, &end, &range_error);
  if (end != text.size() || std::isnan(value)) return std::nullopt;
  if (range_error && (std::isinf(value) || value == 0)) return std::nullopt;
  return value;
}

std::optional<ScoreRange> parse_score_range(std::string_view min, std::string_view max) {
  ScoreRange range;
  if (!parse_score_bound(min, &range.min, &range.min_exclusive) ||
      !parse_score_bound(max, &range.max, &range.max_exclusive)) {
    return std::nullopt;
  }
  return range;
}

bool LexRange::above_min(std::string_view member) const {
  switch (min.kind) {
    case LexBound::Kind::kMinusInfinity: return true;
    case LexBound::Kind::kPlusInfinity: return false;
    case LexBound::Kind::kInclusive: return member >= min.member;
    case LexBound::Kind::kExclusive: return member > min.member;
  }
  return false;
}

bool LexRange::below_max(std::string_view member) const {
  switch (max.kind) {
    case LexBound::Kind::kMinusInfinity: return false;
    case LexBound::Kind::kPlusInfinity: return true;
    case LexBound::Kind::kInclusive: return member <= max.member;
    case LexBound::Kind::kExclusive: return member < max.member;
  }
  return false;
}

bool LexRange::empty() const {
  const int c = compare_bounds(min, max);
  return c > 0 || (c == 0 && (min.kind == LexBound::Kind::kExclusive ||
                              max.kind == LexBound::Kind::kExclusive));
}

std::optional<LexRange> parse_lex_range(std::string_view min, std::string_view max) {
  LexRange range;
  if (!parse_lex_bound(min, &range.min) || !parse_lex_bound(max, &range.max)) return std::nullopt;
  return range;
}

}  // namespace cairn
