// RespReplyReader on bytes in memory: every RESP2 and RESP3 reply type, replies split at every
// byte, malformed replies as Corruption (never a crash), and the limits that keep a hostile
// server from making the reader allocate by declaring sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "net/resp_reply_reader.h"

namespace cairn {
namespace {

RespValue decode_ok(std::string_view bytes) {
  size_t consumed = 0;
  Result<RespValue> value = decode_resp_reply(bytes, {}, &consumed);
  EXPECT_TRUE(value.is_ok()) << value.status().to_string() << " for " << bytes;
  if (!value.is_ok()) return RespValue::error("decode failed");
  EXPECT_EQ(consumed, bytes.size()) << bytes;
  return *value;
}

Status decode_error(std::string_view bytes, const RespReplyLimits& limits = {}) {
  Result<RespValue> value = decode_resp_reply(bytes, limits);
  EXPECT_FALSE(value.is_ok()) << "decoded " << bytes;
  if (value.is_ok()) return Status::ok();
  return value.status();
}

// Hands out bytes one at a time, to prove every split point works.
class TrickleSource : public ReplyByteSource {
 public:
  explicit TrickleSource(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> read_some(char* data, size_t capacity) override {
    if (position_ == bytes_.size()) return Status::io_error("end of stream");
    EXPECT_GT(capacity, 0u);
    data[0] = bytes_[position_++];
    return size_t{1};
  }

 private:
  std::string bytes_;
  size_t position_ = 0;
};

// Proves the RESP2 types decode to their kinds and payloads.
TEST(RespReplyReaderTest, DecodesResp2Types) {
  EXPECT_EQ(decode_ok("+OK\r\n"), RespValue::simple_string("OK"));
  EXPECT_EQ(decode_ok("-ERR unknown command\r\n"), RespValue::error("ERR unknown command"));
  EXPECT_EQ(decode_ok(":0\r\n"), RespValue::integer_value(0));
  EXPECT_EQ(decode_ok(":-42\r\n"), RespValue::integer_value(-42));
  EXPECT_EQ(decode_ok(":9223372036854775807\r\n"),
            RespValue::integer_value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(decode_ok(":-9223372036854775808\r\n"),
            RespValue::integer_value(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(decode_ok("$3\r\nfoo\r\n"), RespValue::bulk_string("foo"));
  EXPECT_EQ(decode_ok("$0\r\n\r\n"), RespValue::bulk_string(""));
  EXPECT_EQ(decode_ok("$4\r\na\r\nb\r\n"), RespValue::bulk_string("a\r\nb"));
  EXPECT_EQ(decode_ok(std::string("$4\r\n\0\r\n\xff\r\n", 10)),
            RespValue::bulk_string(std::string("\0\r\n\xff", 4)));
  EXPECT_EQ(decode_ok("$-1\r\n"), RespValue::null());
  EXPECT_EQ(decode_ok("*-1\r\n"), RespValue::null());
  EXPECT_EQ(decode_ok("*0\r\n"), RespValue::array({}));
  EXPECT_EQ(
      decode_ok("*3\r\n:1\r\n$1\r\na\r\n*2\r\n+x\r\n$-1\r\n"),
      RespValue::array({RespValue::integer_value(1), RespValue::bulk_string("a"),
                        RespValue::array({RespValue::simple_string("x"), RespValue::null()})}));
}

// Proves the RESP3 types: null, boolean, double, big number, blob error, verbatim, map, set,
// push, and attributes skipped in front of the value they describe.
TEST(RespReplyReaderTest, DecodesResp3Types) {
  EXPECT_EQ(decode_ok("_\r\n"), RespValue::null());
  RespValue yes = decode_ok("#t\r\n");
  EXPECT_EQ(yes.kind, RespKind::kBoolean);
  EXPECT_EQ(yes.integer, 1);
  EXPECT_EQ(decode_ok("#f\r\n").integer, 0);

  RespValue pi = decode_ok(",3.25\r\n");
  EXPECT_EQ(pi.kind, RespKind::kDouble);
  EXPECT_EQ(pi.number, 3.25);
  EXPECT_EQ(pi.text, "3.25");
  EXPECT_TRUE(std::isinf(decode_ok(",inf\r\n").number));
  EXPECT_LT(decode_ok(",-inf\r\n").number, 0);
  EXPECT_TRUE(std::isnan(decode_ok(",nan\r\n").number));
  EXPECT_EQ(decode_ok(",1e3\r\n").number, 1000);

  RespValue big = decode_ok("(3492890328409238509324850943850943825024385\r\n");
  EXPECT_EQ(big.kind, RespKind::kBigNumber);
  EXPECT_EQ(big.text, "3492890328409238509324850943850943825024385");
  EXPECT_EQ(decode_ok("(-12\r\n").text, "-12");

  EXPECT_EQ(decode_ok("!21\r\nSYNTAX invalid syntax\r\n"),
            RespValue::error("SYNTAX invalid syntax"));

  RespValue verbatim = decode_ok("=15\r\ntxt:Some string\r\n");
  EXPECT_EQ(verbatim.kind, RespKind::kVerbatim);
  EXPECT_EQ(verbatim.format, "txt");
  EXPECT_EQ(verbatim.text, "Some string");
  EXPECT_TRUE(verbatim.is_string());

  RespValue map = decode_ok("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n");
  EXPECT_EQ(map.kind, RespKind::kMap);
  ASSERT_EQ(map.elements.size(), 4u);
  EXPECT_EQ(map.elements[0], RespValue::simple_string("first"));
  EXPECT_EQ(map.elements[3], RespValue::integer_value(2));
  EXPECT_EQ(map.to_string(), "{first: (integer) 1, \"second\": (integer) 2}");

  RespValue set = decode_ok("~2\r\n+a\r\n+b\r\n");
  EXPECT_EQ(set.kind, RespKind::kSet);
  EXPECT_EQ(set.elements.size(), 2u);
  RespValue push = decode_ok(">3\r\n+message\r\n+channel\r\n$2\r\nhi\r\n");
  EXPECT_EQ(push.kind, RespKind::kPush);
  EXPECT_EQ(push.elements[2], RespValue::bulk_string("hi"));

  EXPECT_EQ(decode_ok("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:7\r\n"),
            RespValue::array({RespValue::integer_value(7)}));
}

// Proves a reply split at every byte decodes the same, and pipelined replies come out one by one
// with the bytes past the first kept for the next read.
TEST(RespReplyReaderTest, AnySplitAndPipelinedReplies) {
  const std::string first = "*4\r\n$5\r\nhello\r\n%1\r\n+k\r\n,1.5\r\n=7\r\ntxt:abc\r\n:-3\r\n";
  const std::string second = "+PONG\r\n";
  TrickleSource source(first + second);
  RespReplyReader reader;
  Result<RespValue> one = reader.read(source);
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ(*one, decode_ok(first));
  EXPECT_EQ(one->to_string(), "[\"hello\", {k: (double) 1.5}, \"abc\", (integer) -3]");
  Result<RespValue> two = reader.read(source);
  ASSERT_TRUE(two.is_ok()) << two.status().to_string();
  EXPECT_EQ(*two, RespValue::simple_string("PONG"));
  EXPECT_EQ(reader.buffered_bytes(), 0u);

  size_t consumed = 0;
  ASSERT_TRUE(decode_resp_reply(second + first, {}, &consumed).is_ok());
  EXPECT_EQ(consumed, second.size());
}

// Proves malformed replies are Corruption with a message saying what is wrong.
TEST(RespReplyReaderTest, MalformedRepliesAreCorruption) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"?what\r\n", "unknown type byte 0x3f"},
      {"\r\n", "empty line"},
      {":12a\r\n", "bad integer"},
      {":\r\n", "bad integer"},
      {":99999999999999999999\r\n", "bad integer"},
      {":+1\r\n", "bad integer"},
      {"$abc\r\nfoo\r\n", "bad string length"},
      {"$-2\r\n", "bad string length"},
      {"$3\r\nfoobar\r\n", "not followed by CRLF"},
      {"*x\r\n", "bad aggregate count"},
      {"*-5\r\n", "bad aggregate count"},
      {"%-1\r\n", "negative aggregate count"},
      {"!-1\r\n", "negative string length"},
      {"#x\r\n", "bad boolean"},
      {",1.5x\r\n", "bad double"},
      {",+1\r\n", "bad double"},
      {"(12a\r\n", "bad big number"},
      {"(\r\n", "bad big number"},
      {"=3\r\ntxt\r\n", "verbatim"},
      {"=5\r\ntxt-x\r\n", "verbatim"},
      {"_x\r\n", "null with a payload"},
  };
  for (const auto& [bytes, message] : cases) {
    const Status status = decode_error(bytes);
    EXPECT_TRUE(status.is_corruption()) << bytes << " -> " << status.to_string();
    EXPECT_NE(status.message().find(message), std::string_view::npos)
        << bytes << " -> " << status.to_string();
  }
  // Truncated anywhere: an error, never a partial value.
  const std::string whole = "*2\r\n$5\r\nhello\r\n:1\r\n";
  for (size_t n = 0; n < whole.size(); n++) {
    EXPECT_FALSE(decode_resp_reply(whole.substr(0, n)).is_ok()) << n;
  }
}

// Proves declared sizes beyond the limits fail at once, before anything is reserved or read: a
// 1 GB bulk header or a billion-element array costs nothing.
TEST(RespReplyReaderTest, DeclaredSizesAreBounded) {
  RespReplyLimits limits;
  limits.bulk_bytes_max = 1000;
  limits.value_count_max = 100;
  limits.depth_max = 4;
  limits.line_bytes_max = 32;
  limits.reply_bytes_max = 2000;
  EXPECT_NE(decode_error("$1000000000\r\n", limits).message().find("exceeds the limit of 1000"),
            std::string_view::npos);
  EXPECT_NE(decode_error("!1001\r\n", limits).message().find("exceeds"), std::string_view::npos);
  EXPECT_NE(decode_error("*1000000000\r\n", limits).message().find("exceeds"),
            std::string_view::npos);
  EXPECT_NE(decode_error("%60\r\n", limits).message().find("exceeds"), std::string_view::npos);
  EXPECT_NE(decode_error("|60\r\n", limits).message().find("exceeds"), std::string_view::npos);
  // Values at every level count: 10 arrays of 10 fit the per-array count, not the reply's.
  std::string nested = "*10\r\n";
  for (int i = 0; i < 10; i++) {
    nested += "*10\r\n";
    for (int j = 0; j < 10; j++) nested += ":1\r\n";
  }
  EXPECT_NE(decode_error(nested, limits).message().find("values"), std::string_view::npos);
  // Depth: 4 levels pass, 5 do not; a deep stack of arrays is refused, not recursed into.
  EXPECT_TRUE(decode_resp_reply("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits).is_ok());
  EXPECT_NE(decode_error("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits).message().find("deeper"),
            std::string_view::npos);
  std::string deep;
  for (int i = 0; i < 100000; i++) deep += "*1\r\n";
  EXPECT_FALSE(decode_resp_reply(deep).is_ok());
  // A line without an end is refused once it passes the line limit, not read forever.
  EXPECT_NE(decode_error("+" + std::string(100, 'a') + "\r\n", limits).message().find("line"),
            std::string_view::npos);
  // The reply's total: two strings of 999 bytes pass the bulk limit but not the reply's.
  const std::string body(999, 'x');
  const std::string two = "*2\r\n$999\r\n" + body + "\r\n$999\r\n" + body + "\r\n";
  EXPECT_NE(decode_error(two, limits).message().find("reply longer"), std::string_view::npos);
  // Attributes cannot deepen the stack either: a long run of them ends at the value count.
  std::string attributes;
  for (int i = 0; i < 200; i++) attributes += "|0\r\n";
  EXPECT_FALSE(decode_resp_reply(attributes + ":1\r\n", limits).is_ok());
}

// Proves the command encoding is a RESP array of bulk strings, binary-safe.
TEST(RespReplyReaderTest, EncodesCommands) {
  EXPECT_EQ(encode_resp_command({"GET", "foo"}), "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
  EXPECT_EQ(encode_resp_command({"SET", "", std::string("a\r\n\0", 4)}),
            std::string("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na\r\n\0\r\n", 29));
}

}  // namespace
}  // namespace cairn
