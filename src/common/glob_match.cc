#include "common/glob_match.h"

#include <cstddef>

namespace cairn {
namespace {

unsigned char fold(unsigned char c, bool nocase) {
  if (nocase && c >= 'A' && c <= 'Z') return static_cast<unsigned char>(c - 'A' + 'a');
  return c;
}

// Matches one byte `c` against the bracket set starting after `[` at pattern[*p]. Leaves *p
// after the closing `]` (or at the end of an unterminated set).
bool match_set(std::string_view pattern, size_t* p, unsigned char c, bool nocase) {
  size_t i = *p;
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    i++;
  }
  const unsigned char folded = fold(c, nocase);
  bool matched = false;
  while (i < pattern.size()) {
    const auto here = static_cast<unsigned char>(pattern[i]);
    if (here == '\\' && i + 1 < pattern.size()) {
      if (fold(static_cast<unsigned char>(pattern[i + 1]), nocase) == folded) matched = true;
      i += 2;
    } else if (here == ']') {
      i++;
      break;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      unsigned char start = fold(here, nocase);
      unsigned char end = fold(static_cast<unsigned char>(pattern[i + 2]), nocase);
      if (start > end) {
        const unsigned char swap = start;
        start = end;
        end = swap;
      }
      if (folded >= start && folded <= end) matched = true;
      i += 3;
    } else {
      if (fold(here, nocase) == folded) matched = true;
      i++;
    }
  }
  *p = i;
  return negate ? !matched : matched;
}

// Matches the single-byte token at pattern[*p] (not `*`) against `c`; advances *p past it.
bool match_token(std::string_view pattern, size_t* p, unsigned char c, bool nocase) {
  const auto token = static_cast<unsigned char>(pattern[*p]);
  if (token == '?') {
    (*p)++;
    return true;
  }
  if (token == '[') {
    (*p)++;
    return match_set(pattern, p, c, nocase);
  }
  if (token == '\\' && *p + 1 < pattern.size()) {
    const auto literal = static_cast<unsigned char>(pattern[*p + 1]);
    *p += 2;
    return fold(literal, nocase) == fold(c, nocase);
  }
  (*p)++;
  return fold(token, nocase) == fold(c, nocase);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text, bool nocase) {
  size_t p = 0;
  size_t t = 0;
  // Where to resume after the last `*`: pattern just after it, text one further each retry.
  // Every other token matches exactly one byte, so retrying from the last star alone suffices.
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') p++;
      if (p == pattern.size()) return true;
      star_p = p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      size_t next = p;
      if (match_token(pattern, &next, static_cast<unsigned char>(text[t]), nocase)) {
        p = next;
        t++;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') p++;
  return p == pattern.size();
}

}  // namespace cairn
