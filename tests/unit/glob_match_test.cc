// Proves glob_match follows Redis's stringmatchlen: stars, ?, sets, negated sets, ranges,
// escapes, nocase, binary bytes, and no exponential blow-up on adversarial patterns.
#include "common/glob_match.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(GlobMatchTest, LiteralsAndStars) {
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("foo", "foo"));
  EXPECT_FALSE(glob_match("foo", "fo"));
  EXPECT_FALSE(glob_match("foo", "foox"));
  EXPECT_TRUE(glob_match("f*o", "fo"));
  EXPECT_TRUE(glob_match("f*o", "fxxxo"));
  EXPECT_FALSE(glob_match("f*o", "fxxxoy"));
  EXPECT_TRUE(glob_match("*o*o*", "foo"));
  EXPECT_TRUE(glob_match("user:*", "user:1000"));
  EXPECT_FALSE(glob_match("user:*", "user"));
  EXPECT_TRUE(glob_match("**a**", "bab"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
}

TEST(GlobMatchTest, QuestionMark) {
  EXPECT_TRUE(glob_match("h?llo", "hello"));
  EXPECT_TRUE(glob_match("h?llo", "hallo"));
  EXPECT_FALSE(glob_match("h?llo", "hllo"));
  EXPECT_TRUE(glob_match("???", "abc"));
  EXPECT_FALSE(glob_match("???", "ab"));
}

TEST(GlobMatchTest, SetsRangesAndNegation) {
  EXPECT_TRUE(glob_match("h[ae]llo", "hello"));
  EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[ae]llo", "hillo"));
  EXPECT_TRUE(glob_match("h[^e]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(glob_match("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(glob_match("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(glob_match("h[b-a]llo", "hallo"));  // reversed range, as Redis swaps
  EXPECT_TRUE(glob_match("[0-9][0-9]", "42"));
  EXPECT_FALSE(glob_match("[^0-9]", "7"));
  EXPECT_TRUE(glob_match("[\\]]", "]"));  // escaped ] inside a set
  EXPECT_FALSE(glob_match("[a-]", "-"));  // as Redis: "a-]" is the range ']'..'a', unterminated
  EXPECT_TRUE(glob_match("[a-]", "_"));
  EXPECT_TRUE(glob_match("x[abc", "xb"));  // unterminated set ends at the pattern's end
  EXPECT_FALSE(glob_match("x[abc", "xd"));
}

TEST(GlobMatchTest, Escapes) {
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_TRUE(glob_match("a\\?", "a?"));
  EXPECT_FALSE(glob_match("a\\?", "ab"));
  EXPECT_TRUE(glob_match("\\[x]", "[x]"));
  EXPECT_TRUE(glob_match("a\\", "a\\"));  // trailing backslash is literal
}

TEST(GlobMatchTest, Nocase) {
  EXPECT_FALSE(glob_match("HELLO", "hello"));
  EXPECT_TRUE(glob_match("HELLO", "hello", true));
  EXPECT_TRUE(glob_match("h[A-C]llo", "hbllo", true));
  EXPECT_TRUE(glob_match("maxmemory*", "MAXMEMORY-policy", true));
}

TEST(GlobMatchTest, BinarySafe) {
  const std::string text("a\0b", 3);
  EXPECT_TRUE(glob_match("a?b", text));
  EXPECT_TRUE(glob_match(std::string("a\0*", 3), text));
  EXPECT_FALSE(glob_match(std::string("a\0c", 3), text));
  EXPECT_TRUE(glob_match("*", std::string("\xff\xfe", 2)));
  EXPECT_TRUE(glob_match("[\x80-\xff]", "\xc3"));
}

TEST(GlobMatchTest, AdversarialPatternIsFast) {
  const std::string text(20000, 'a');
  std::string pattern;
  for (int i = 0; i < 50; i++) pattern += "*a";
  pattern += "b";
  EXPECT_FALSE(glob_match(pattern, text));  // would take forever with naive recursion
}

}  // namespace
}  // namespace cairn
