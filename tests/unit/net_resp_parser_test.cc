// RespParser: framing across any split, inline quoting, Redis's limit errors, the streaming
// hook, and memory bounded by arrived bytes rather than declared lengths.
#include "net/resp_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace cairn {
namespace {

using Commands = std::vector<std::vector<std::string>>;

class RecordingSink : public ByteSink {
 public:
  RecordingSink(std::string* bytes, int* appends, bool fail) : bytes_(bytes), appends_(appends), fail_(fail) {}
  Status append(std::string_view bytes) override {
    (*appends_)++;
    if (fail_) return Status::io_error("disk full");
    bytes_->append(bytes);
    return Status::ok();
  }

 private:
  std::string* bytes_;
  int* appends_;
  bool fail_;
};

// A session that streams arguments of at least the limit when asked to.
class StreamingSession : public Session {
 public:
  Outcome execute(std::span<const std::string_view>, std::string&) override { return {}; }
  std::unique_ptr<ByteSink> stream_argument(std::span<const std::string_view> argv_so_far,
                                            size_t index, size_t argc,
                                            uint64_t length) override {
    offers.push_back({std::vector<std::string>(argv_so_far.begin(), argv_so_far.end()), index,
                      argc, length});
    if (!accept) return nullptr;
    streamed.emplace_back();
    return std::make_unique<RecordingSink>(&streamed.back(), &appends, fail);
  }

  struct Offer {
    std::vector<std::string> argv_so_far;
    size_t index;
    size_t argc;
    uint64_t length;
  };
  bool accept = true;
  bool fail = false;
  int appends = 0;
  std::vector<Offer> offers;
  std::deque<std::string> streamed;
};

struct Fed {
  Commands commands;
  std::string error;
};

// Feeds `input` to `parser` in pieces at the given cut points, collecting commands.
Fed feed(RespParser& parser, Session& session, std::string_view input,
         const std::vector<size_t>& cuts) {
  Fed fed;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    const std::string_view piece = input.substr(start, end - start);
    start = end;
    std::span<char> space = parser.prepare(piece.size() + 1);
    std::memcpy(space.data(), piece.data(), piece.size());
    parser.commit(piece.size());
    while (true) {
      const RespParser::Step step = parser.next(session);
      if (step == RespParser::Step::kNeedMore) break;
      if (step == RespParser::Step::kError) {
        fed.error = parser.error();
        return fed;
      }
      fed.commands.emplace_back(parser.argv().begin(), parser.argv().end());
      parser.finish_command();
    }
  }
  return fed;
}

Fed feed_all(std::string_view input, const ProtocolLimits& limits = ProtocolLimits()) {
  RespParser parser(limits);
  StreamingSession session;
  session.accept = false;
  return feed(parser, session, input, {});
}

TEST(RespParserTest, EverySplitPointOfSampleFramesGivesTheSameCommands) {
  const Commands expected = {{"SET", "key", "value"},
                             {"PING"},
                             {"set", "a b", "c'd", "A\n"},
                             {"", std::string("bin\0", 4)},
                             {"LAST"}};
  // The literal above stops at the \0: rebuild it with the embedded NUL.
  std::string frames = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*0\r\nPING\r\n\r\n"
                       "set \"a b\" 'c\\'d' \"\\x41\\n\"\n*2\r\n$0\r\n\r\n$4\r\nbin";
  frames.push_back('\0');
  frames += "\r\n*-1\r\n*1\r\n$4\r\nLAST\r\n";
  for (size_t cut = 0; cut <= frames.size(); cut++) {
    ProtocolLimits limits;
    RespParser parser(limits);
    StreamingSession session;
    const Fed fed = feed(parser, session, frames, {cut});
    ASSERT_EQ(fed.error, "") << "cut at " << cut;
    ASSERT_EQ(fed.commands, expected) << "cut at " << cut;
  }
  // And byte by byte.
  std::vector<size_t> every;
  for (size_t i = 1; i < frames.size(); i++) every.push_back(i);
  ProtocolLimits limits;
  RespParser parser(limits);
  StreamingSession session;
  EXPECT_EQ(feed(parser, session, frames, every).commands, expected);
}

TEST(RespParserTest, InlineQuotingFollowsSdssplitargs) {
  EXPECT_EQ(feed_all("  a   b\tc \r\n").commands, (Commands{{"a", "b", "c"}}));
  EXPECT_EQ(feed_all("x\"y z\"\n").commands, (Commands{{"xy z"}}));
  EXPECT_EQ(feed_all("\"\\t\\r\\a\\b\\q\\\\\"\n").commands,
            (Commands{{std::string("\t\r\a\bq\\")}}));
  EXPECT_EQ(feed_all("\"\\x4g\" ''\n").commands, (Commands{{"x4g", ""}}));
  EXPECT_EQ(feed_all("\"\\xff\\x00\"\n").commands, (Commands{{std::string("\xff\0", 2)}}));
  EXPECT_EQ(feed_all("get\n\n  \nset k v\r\n").commands,
            (Commands{{"get"}, {"set", "k", "v"}}));
  const std::string unbalanced = "Protocol error: unbalanced quotes in request";
  EXPECT_EQ(feed_all("set \"abc\n").error, unbalanced);
  EXPECT_EQ(feed_all("set 'abc\n").error, unbalanced);
  EXPECT_EQ(feed_all("set \"a\"b\n").error, unbalanced);
  EXPECT_EQ(feed_all("set 'a'b\n").error, unbalanced);
}

TEST(RespParserTest, LimitsGiveRedisErrors) {
  EXPECT_EQ(feed_all("*abc\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(feed_all("*01\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(feed_all("*1\r\n$-1\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(feed_all("*1\r\n$x\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(feed_all("*1\r\nfoo\r\n").error, "Protocol error: expected '$', got 'f'");
  {
    ProtocolLimits limits;
    limits.multibulk_count_max = 3;
    EXPECT_EQ(feed_all("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits).commands.size(), 1u);
    EXPECT_EQ(feed_all("*4\r\n", limits).error, "Protocol error: invalid multibulk length");
  }
  {
    ProtocolLimits limits;
    limits.bulk_bytes_max = 5;
    EXPECT_EQ(feed_all("*1\r\n$5\r\nabcde\r\n", limits).commands.size(), 1u);
    EXPECT_EQ(feed_all("*1\r\n$6\r\n", limits).error, "Protocol error: invalid bulk length");
  }
  {
    ProtocolLimits limits;
    limits.inline_bytes_max = 8;
    EXPECT_EQ(feed_all("12345678\r\n", limits).commands.size(), 1u);
    EXPECT_EQ(feed_all("123456789", limits).error, "Protocol error: too big inline request");
    EXPECT_EQ(feed_all("123456789\r\n", limits).error,
              "Protocol error: too big inline request");
    EXPECT_EQ(feed_all("*123456789", limits).error,
              "Protocol error: too big mbulk count string");
    EXPECT_EQ(feed_all("*1\r\n$123456789", limits).error,
              "Protocol error: too big bulk count string");
  }
  {
    ProtocolLimits limits;
    limits.query_buffer_bytes_max = 100;
    EXPECT_EQ(feed_all("*1\r\n$90\r\n" + std::string(90, 'x') + "\r\n", limits).commands.size(),
              1u);
    EXPECT_EQ(feed_all("*1\r\n$200\r\n" + std::string(150, 'x'), limits).error,
              "Protocol error: query buffer limit exceeded");
  }
}

TEST(RespParserTest, LimitsAreReadAgainForEachFrame) {
  ProtocolLimits limits;
  RespParser parser(limits);
  StreamingSession session;
  EXPECT_EQ(feed(parser, session, "*1\r\n$3\r\nabc\r\n", {}).commands.size(), 1u);
  limits.bulk_bytes_max = 2;
  EXPECT_EQ(feed(parser, session, "*1\r\n$3\r\nabc\r\n", {}).error,
            "Protocol error: invalid bulk length");
}

TEST(RespParserTest, StreamingHookGetsPositionAndBytesAcrossEverySplit) {
  const std::string big(100, 'v');
  const std::string big2(80, 'w');
  const std::string frames = "*5\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$100\r\n" + big +
                             "\r\n$2\r\nk2\r\n$80\r\n" + big2 + "\r\n*1\r\n$4\r\nPING\r\n";
  for (size_t cut = 0; cut <= frames.size(); cut++) {
    ProtocolLimits limits;
    limits.stream_argument_bytes_min = 50;
    RespParser parser(limits);
    StreamingSession session;
    const Fed fed = feed(parser, session, frames, {cut});
    ASSERT_EQ(fed.error, "");
    ASSERT_EQ(fed.commands, (Commands{{"MSET", "k1", "", "k2", ""}, {"PING"}})) << cut;
    ASSERT_EQ(session.offers.size(), 2u);
    EXPECT_EQ(session.offers[0].argv_so_far, (std::vector<std::string>{"MSET", "k1"}));
    EXPECT_EQ(session.offers[0].index, 2u);
    EXPECT_EQ(session.offers[0].argc, 5u);
    EXPECT_EQ(session.offers[0].length, 100u);
    EXPECT_EQ(session.offers[1].argv_so_far, (std::vector<std::string>{"MSET", "k1", "", "k2"}));
    EXPECT_EQ(session.offers[1].index, 4u);
    EXPECT_EQ(session.offers[1].length, 80u);
    ASSERT_EQ(session.streamed.size(), 2u);
    EXPECT_EQ(session.streamed[0], big);
    EXPECT_EQ(session.streamed[1], big2);
  }
}

TEST(RespParserTest, StreamedBytesNeverAccumulateInTheBuffer) {
  ProtocolLimits limits;
  limits.stream_argument_bytes_min = 1000;
  limits.query_buffer_bytes_max = 4096;  // far below the value: streaming must not count
  RespParser parser(limits);
  StreamingSession session;
  const size_t value_bytes = 1 << 20;
  std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value_bytes) + "\r\n";
  EXPECT_EQ(feed(parser, session, input, {}).commands.size(), 0u);
  std::string chunk(1000, 'z');
  for (size_t sent = 0; sent < value_bytes; sent += chunk.size()) {
    const size_t n = std::min(chunk.size(), value_bytes - sent);
    const Fed fed = feed(parser, session, std::string_view(chunk).substr(0, n), {});
    ASSERT_EQ(fed.error, "");
    ASSERT_LE(parser.buffered_bytes(), 4096u);
  }
  const Fed fed = feed(parser, session, "\r\n", {});
  EXPECT_EQ(fed.commands, (Commands{{"SET", "k", ""}}));
  EXPECT_EQ(session.streamed.at(0).size(), value_bytes);
  EXPECT_LE(parser.buffer_capacity_bytes(), 64u * 1024);
}

TEST(RespParserTest, FailedSinkDrainsTheRestAndStillYieldsTheCommand) {
  ProtocolLimits limits;
  limits.stream_argument_bytes_min = 10;
  RespParser parser(limits);
  StreamingSession session;
  session.fail = true;
  const std::string frames = "*2\r\n$3\r\nSET\r\n$30\r\n" + std::string(30, 'a') +
                             "\r\n*1\r\n$4\r\nPING\r\n";
  std::vector<size_t> cuts = {25, 35, 40};
  const Fed fed = feed(parser, session, frames, cuts);
  EXPECT_EQ(fed.error, "");
  EXPECT_EQ(fed.commands, (Commands{{"SET", ""}, {"PING"}}));
  EXPECT_EQ(session.appends, 1);  // no append after the failure
}

TEST(RespParserTest, DeclinedStreamIsBuffered) {
  ProtocolLimits limits;
  limits.stream_argument_bytes_min = 10;
  RespParser parser(limits);
  StreamingSession session;
  session.accept = false;
  const Fed fed = feed(parser, session, "*2\r\n$3\r\nSET\r\n$12\r\nabcdefghijkl\r\n", {20});
  EXPECT_EQ(fed.commands, (Commands{{"SET", "abcdefghijkl"}}));
  EXPECT_EQ(session.offers.size(), 1u);
}

TEST(RespParserTest, BadCrlfAfterStreamedArgumentIsAnError) {
  ProtocolLimits limits;
  limits.stream_argument_bytes_min = 4;
  const Fed fed = [&] {
    RespParser parser(limits);
    StreamingSession session;
    return feed(parser, session, "*1\r\n$4\r\nabcdXY", {});
  }();
  EXPECT_EQ(fed.error, "Protocol error: expected CRLF after bulk argument");
}

TEST(RespParserTest, HugeDeclaredLengthsDoNotAllocate) {
  ProtocolLimits limits;
  RespParser parser(limits);
  StreamingSession session;
  session.accept = false;
  Fed fed = feed(parser, session, "*1000000\r\n$536870912\r\nabc", {});
  EXPECT_EQ(fed.error, "");
  EXPECT_LE(parser.buffer_capacity_bytes(), 64u * 1024);
  // Many small arguments of a huge multibulk: memory follows arguments that arrived.
  RespParser parser2(limits);
  fed = feed(parser2, session, "*1000000\r\n$1\r\na\r\n$1\r\nb\r\n", {});
  EXPECT_EQ(fed.error, "");
  EXPECT_LE(parser2.buffer_capacity_bytes(), 64u * 1024);
}

TEST(RespParserTest, LongInlineLineUnderLimitAndBinaryBulk) {
  std::string line(1000, 'a');
  EXPECT_EQ(feed_all(line + "\n").commands, (Commands{{line}}));
  std::string binary = "\r\n\0*$";
  binary.push_back('\0');
  const std::string frame = "*1\r\n$" + std::to_string(binary.size()) + "\r\n" + binary + "\r\n";
  EXPECT_EQ(feed_all(frame).commands, (Commands{{binary}}));
}

// Commits `bytes` to the parser without parsing.
void append(RespParser& parser, std::string_view bytes) {
  std::span<char> space = parser.prepare(bytes.size() + 1);
  std::memcpy(space.data(), bytes.data(), bytes.size());
  parser.commit(bytes.size());
}

std::vector<std::pair<std::string, std::string>> peek_all(const RespParser& parser,
                                                          size_t max) {
  std::vector<PeekedCommand> out(max);
  const size_t count = parser.peek(out);
  std::vector<std::pair<std::string, std::string>> shown;
  for (size_t i = 0; i < count; i++) shown.emplace_back(out[i].name, out[i].key);
  return shown;
}

using Shown = std::vector<std::pair<std::string, std::string>>;

TEST(RespParserTest, PeekShowsEachCompleteCommandAtEverySplitWithoutConsumingIt) {
  const std::string frames = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n"
                             "*3\r\n$3\r\nSET\r\n$2\r\nbc\r\n$0\r\n\r\n";
  const size_t ends[] = {20, 34, frames.size()};  // where each frame ends
  const Shown all = {{"GET", "a"}, {"PING", ""}, {"SET", "bc"}};
  for (size_t cut = 0; cut <= frames.size(); cut++) {
    ProtocolLimits limits;
    RespParser parser(limits);
    append(parser, frames.substr(0, cut));
    const size_t complete = static_cast<size_t>(std::count_if(
        std::begin(ends), std::end(ends), [&](size_t end) { return end <= cut; }));
    ASSERT_EQ(peek_all(parser, 8), Shown(all.begin(), all.begin() + complete)) << "cut " << cut;
    // Nothing was consumed: the parser yields the same commands afterwards.
    StreamingSession session;
    const Fed fed = feed(parser, session, frames.substr(cut), {});
    ASSERT_EQ(fed.commands, (Commands{{"GET", "a"}, {"PING"}, {"SET", "bc", ""}}));
  }
}

TEST(RespParserTest, PeekShowsTheThirdArgumentAndHowManyArgumentsACommandHas) {
  ProtocolLimits limits;
  RespParser parser(limits);
  append(parser, "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"
                 "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nNX\r\n");
  std::vector<PeekedCommand> out(8);
  ASSERT_EQ(parser.peek(out), 3u);
  EXPECT_EQ(out[0].argc, 1u);
  EXPECT_EQ(out[0].value, "");
  EXPECT_EQ(out[1].argc, 3u);
  EXPECT_EQ(out[1].value, "value");
  EXPECT_EQ(out[2].argc, 4u);
  EXPECT_EQ(out[2].value, "v");
}

TEST(RespParserTest, PeekStopsAtWhatItCannotShowAndAtTheOutputsEnd) {
  ProtocolLimits limits;
  const std::string get = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
  const auto peek_of = [&](const std::string& input, size_t max = 8) {
    RespParser parser(limits);
    append(parser, input);
    return peek_all(parser, max);
  };
  const Shown one = {{"GET", "a"}};
  EXPECT_EQ(peek_of(get + "GET a\r\n" + get), one);               // inline
  EXPECT_EQ(peek_of(get + "*2\r\n$x\r\n" + get), one);           // malformed length
  EXPECT_EQ(peek_of(get + "*2\r\n$-1\r\n" + get), one);          // negative length
  EXPECT_EQ(peek_of(get + "*0\r\n" + get), one);                   // empty
  EXPECT_EQ(peek_of(get + "*99999999999999999999999\r\n"), one);  // over 20 digits
  std::string many = "*" + std::to_string(RespParser::kPeekArgumentsMax + 1) + "\r\n";
  for (size_t i = 0; i <= RespParser::kPeekArgumentsMax; i++) many += "$1\r\nx\r\n";
  EXPECT_EQ(peek_of(get + many + get), one);  // too many arguments to skip cheaply
  EXPECT_EQ(peek_of(get + get + get, 2).size(), 2u);
  EXPECT_EQ(peek_of(get + get + get, 0).size(), 0u);
}

TEST(RespParserTest, PeekShowsNothingInTheMiddleOfAFrame) {
  ProtocolLimits limits;
  RespParser parser(limits);
  StreamingSession session;
  append(parser, "*2\r\n$3\r\nGET\r\n");
  ASSERT_EQ(parser.next(session), RespParser::Step::kNeedMore);  // now inside the frame
  append(parser, "$1\r\na\r\n*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(peek_all(parser, 8), Shown());
  ASSERT_EQ(parser.next(session), RespParser::Step::kCommand);
  parser.finish_command();
  EXPECT_EQ(peek_all(parser, 8), (Shown{{"PING", ""}}));
}

}  // namespace
}  // namespace cairn
