// ReplyWriter: every reply type in RESP2 and RESP3, as Redis sends them.
#include "net/reply_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace cairn {
namespace {

// Runs `write` against a writer of `version` and returns the bytes.
template <typename Fn>
std::string written(RespVersion version, Fn write) {
  std::string out;
  ReplyWriter writer(&out, version);
  write(writer);
  return out;
}

TEST(ReplyWriterTest, SameInBothVersions) {
  for (RespVersion v : {RespVersion::kResp2, RespVersion::kResp3}) {
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.ok(); }), "+OK\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.simple_string("PONG"); }), "+PONG\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.error("ERR bad\r\nthing"); }),
              "-ERR bad  thing\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.integer(-42); }), ":-42\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.integer(std::numeric_limits<int64_t>::min()); }),
              ":-9223372036854775808\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.bulk_string(std::string("a\0\r\n", 4)); }),
              std::string("$4\r\na\0\r\n\r\n", 10));
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.bulk_string(""); }), "$0\r\n\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.array_header(3); }), "*3\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.bulk_header(1ull << 30); }), "$1073741824\r\n");
    EXPECT_EQ(written(v, [](ReplyWriter& w) { w.raw("+X\r\n"); }), "+X\r\n");
  }
}

TEST(ReplyWriterTest, Resp2FormsOfResp3Types) {
  const RespVersion v = RespVersion::kResp2;
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.null(); }), "$-1\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.null_array(); }), "*-1\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.map_header(2); }), "*4\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.set_header(2); }), "*2\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.push_header(3); }), "*3\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.double_value(1.5); }), "$3\r\n1.5\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.boolean(true); }), ":1\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.boolean(false); }), ":0\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.verbatim("txt", "hi"); }), "$2\r\nhi\r\n");
}

TEST(ReplyWriterTest, Resp3Forms) {
  const RespVersion v = RespVersion::kResp3;
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.null(); }), "_\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.null_array(); }), "_\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.map_header(2); }), "%2\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.set_header(2); }), "~2\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.push_header(3); }), ">3\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.double_value(1.5); }), ",1.5\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.boolean(true); }), "#t\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.boolean(false); }), "#f\r\n");
  EXPECT_EQ(written(v, [](ReplyWriter& w) { w.verbatim("txt", "hi"); }), "=6\r\ntxt:hi\r\n");
}

TEST(ReplyWriterTest, DoublesFormatAsRedis) {
  EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_double(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(format_double(std::nan("")), "nan");
  EXPECT_EQ(format_double(3.0), "3");
  EXPECT_EQ(format_double(0.1), "0.10000000000000001");  // Redis 7.0's %.17g
  EXPECT_EQ(format_double(1e20), "1e+20");
  EXPECT_EQ(format_double(-0.0), "-0");
  EXPECT_EQ(std::stod(format_double(1.0 / 3.0)), 1.0 / 3.0);
  // Any finite double, as Redis 7.0's printf("%.17g") writes it: random bit patterns, so every
  // exponent and subnormals too, and small integers and halves as scores often are.
  std::mt19937_64 random(7);
  for (int i = 0; i < 200000; i++) {
    double value = 0;
    if (i % 2 == 0) {
      const uint64_t bits = random();
      std::memcpy(&value, &bits, sizeof(value));
      if (!std::isfinite(value)) continue;
    } else {
      value = static_cast<double>(static_cast<int64_t>(random() % 2000001) - 1000000) / 2;
    }
    char expected[40];
    std::snprintf(expected, sizeof(expected), "%.17g", value);
    ASSERT_EQ(format_double(value), expected);
  }
  EXPECT_EQ(written(RespVersion::kResp3, [](ReplyWriter& w) {
              w.double_value(-std::numeric_limits<double>::infinity());
            }),
            ",-inf\r\n");
}

}  // namespace
}  // namespace cairn
