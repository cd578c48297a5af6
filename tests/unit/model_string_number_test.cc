// Proves integers and long doubles in string values parse and print as redis-server 7.0 does
// (values checked against redis-server's INCR / INCRBYFLOAT replies).
#include "model/string_number.h"

#include <gtest/gtest.h>

#include <limits>

namespace cairn {
namespace {

TEST(StringNumberTest, Int64Strictness) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("-1"), -1);
  EXPECT_EQ(parse_int64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_int64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(parse_int64("9223372036854775808").has_value());
  EXPECT_FALSE(parse_int64("-9223372036854775809").has_value());
  EXPECT_FALSE(parse_int64("99999999999999999999").has_value());
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "1.0", "1e3", "abc", "0x10"}) {
    EXPECT_FALSE(parse_int64(bad).has_value()) << bad;
  }
  EXPECT_FALSE(parse_int64(std::string_view("1\0", 2)).has_value());
}

TEST(StringNumberTest, LongDoubleParsing) {
  EXPECT_EQ(parse_long_double("10.5"), 10.5L);
  EXPECT_EQ(parse_long_double("5.0e3"), 5000.0L);
  EXPECT_EQ(parse_long_double("0x10"), 16.0L);  // strtold accepts hex, as in Redis
  EXPECT_TRUE(parse_long_double("inf").has_value());
  for (const char* bad : {"", " 1", "1 ", "abc", "nan", "1e5000", "1.5.5"}) {
    EXPECT_FALSE(parse_long_double(bad).has_value()) << bad;
  }
  EXPECT_FALSE(parse_long_double(std::string_view("1\0", 2)).has_value());
}

TEST(StringNumberTest, HumanFormatMatchesRedis) {
  EXPECT_EQ(format_long_double_human(10.5L + 0.1L), "10.6");
  EXPECT_EQ(format_long_double_human(5000.0L + 200.0L), "5200");
  EXPECT_EQ(format_long_double_human(3000.0L + 1e-20L), "3000");
  EXPECT_EQ(format_long_double_human(1.0L - 1.0L), "0");
  EXPECT_EQ(format_long_double_human(0.3L - 0.1L), "0.2");
  EXPECT_EQ(format_long_double_human(-0.0L), "0");
  EXPECT_EQ(format_long_double_human(*parse_long_double("1.5e300")),
            "1500000000000000000049800109861472166362379239118673928551219718248973529929812708"
            "7928543105758309306865306445660502294069266467393110176069842582883774341439376027"
            "7819671066123465594419577083851326884682615020541863299554727187482707293623059492"
            "0013241190363994471886080567336615911694509046614720512");
}

}  // namespace
}  // namespace cairn
