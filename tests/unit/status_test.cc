// Proves Status and Result carry codes and messages, and that the propagation macros return
// the first error.
#include "common/status.h"

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/result.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return Status::invalid_argument("not positive");
  return value;
}

Status double_positive(int value, int* out) {
  CAIRN_ASSIGN_OR_RETURN(const int parsed, parse_positive(value));
  *out = parsed * 2;
  return Status::ok();
}

TEST(StatusTest, CodesAndMessages) {
  EXPECT_TRUE(Status::ok().is_ok());
  EXPECT_EQ(Status::ok().to_string(), "OK");
  const Status corruption = Status::corruption("bad block").with_context("000007.sst");
  EXPECT_TRUE(corruption.is_corruption());
  EXPECT_EQ(corruption.to_string(), "Corruption: 000007.sst: bad block");
  EXPECT_TRUE(Status::no_space("disk full").is_no_space());
  EXPECT_FALSE(Status::busy("locked").is_ok());
}

TEST(StatusTest, AssignOrReturnPropagatesErrors) {
  int out = 0;
  EXPECT_TRUE(double_positive(21, &out).is_ok());
  EXPECT_EQ(out, 42);
  const Status failed = double_positive(-1, &out);
  EXPECT_TRUE(failed.is_invalid_argument());
  EXPECT_EQ(out, 42);
}

TEST(ChecksumTest, DetectsChangesAndSplitsAgree) {
  const std::string data = "the quick brown fox";
  const uint32_t whole = checksum32(data);
  EXPECT_EQ(checksum32(std::string_view(data).substr(0, 4), std::string_view(data).substr(4)),
            whole);
  std::string flipped = data;
  flipped[3] ^= 1;
  EXPECT_NE(checksum32(flipped), whole);
  EXPECT_NE(hash64(data, 1), hash64(data, 2));
}

TEST(InternalKeyTest, OrderIsUserKeyThenNewestFirst) {
  const std::string a5 = make_internal_key("a", 5, ValueType::kValue);
  const std::string a7 = make_internal_key("a", 7, ValueType::kDeletion);
  const std::string b1 = make_internal_key("b", 1, ValueType::kValue);
  EXPECT_LT(compare_internal_keys(a7, a5), 0);
  EXPECT_LT(compare_internal_keys(a5, b1), 0);
  EXPECT_EQ(compare_internal_keys(a5, a5), 0);
  ParsedInternalKey parsed;
  ASSERT_TRUE(parse_internal_key(a7, &parsed));
  EXPECT_EQ(parsed.user_key, "a");
  EXPECT_EQ(parsed.sequence, 7u);
  EXPECT_EQ(parsed.type, ValueType::kDeletion);
  EXPECT_FALSE(parse_internal_key("short", &parsed));
  std::string bad_type = a5;
  bad_type[1] = 9;  // the type byte is the first byte of the trailer
  EXPECT_FALSE(parse_internal_key(bad_type, &parsed));
}

}  // namespace
}  // namespace cairn
