#include "net/resp_parser.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/assert.h"

namespace cairn {

namespace {

// Capacity kept between commands; a larger buffer is released once empty.
constexpr size_t kKeptCapacityBytes = 1 << 20;
// Argument slots kept between commands.
constexpr size_t kKeptArgCount = 4096;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses a decimal integer as Redis's string2ll: optional '-', no leading zeros, no spaces.
bool parse_integer(const char* begin, const char* end, int64_t* value) {
  if (begin == end || end - begin > 20) return false;
  bool negative = false;
  const char* p = begin;
  if (*p == '-') {
    negative = true;
    p++;
    if (p == end) return false;
  }
  if (*p == '0' && end - p > 1) return false;
  uint64_t result = 0;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(*p - '0');
    if (result > (UINT64_MAX - digit) / 10) return false;
    result = result * 10 + digit;
  }
  if (negative) {
    if (result > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *value = static_cast<int64_t>(0 - result);
  } else {
    if (result > static_cast<uint64_t>(INT64_MAX)) return false;
    *value = static_cast<int64_t>(result);
  }
  return true;
}

}  // namespace

bool split_inline_args(char* line, size_t length,
                       std::vector<std::pair<size_t, size_t>>* args) {
  size_t p = 0;
  size_t w = 0;  // write position: decoded bytes never outgrow their source
  auto at = [&](size_t i) -> char { return i < length ? line[i] : '\0'; };
  while (true) {
    while (p < length && is_space(line[p])) p++;
    if (p >= length) return true;
    const size_t start = w;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      const bool end = p >= length;
      const char c = at(p);
      if (in_double) {
        if (end) return false;
        if (c == '\\' && at(p + 1) == 'x' && p + 3 < length && hex_value(line[p + 2]) >= 0 &&
            hex_value(line[p + 3]) >= 0) {
          line[w++] = static_cast<char>(hex_value(line[p + 2]) * 16 + hex_value(line[p + 3]));
          p += 3;
        } else if (c == '\\' && p + 1 < length) {
          p++;
          char e = line[p];
          switch (e) {
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            case 'b': e = '\b'; break;
            case 'a': e = '\a'; break;
            default: break;
          }
          line[w++] = e;
        } else if (c == '"') {
          // A closing quote must be followed by a space or the end.
          if (p + 1 < length && !is_space(line[p + 1])) return false;
          done = true;
        } else {
          line[w++] = c;
        }
      } else if (in_single) {
        if (end) return false;
        if (c == '\\' && at(p + 1) == '\'') {
          p++;
          line[w++] = '\'';
        } else if (c == '\'') {
          if (p + 1 < length && !is_space(line[p + 1])) return false;
          done = true;
        } else {
          line[w++] = c;
        }
      } else if (end || is_space(c) || c == '\0') {
        done = true;
      } else if (c == '"') {
        in_double = true;
      } else if (c == '\'') {
        in_single = true;
      } else {
        line[w++] = c;
      }
      if (!end) p++;
    }
    args->emplace_back(start, w - start);
  }
}

RespParser::RespParser(const ProtocolLimits& limits) : limits_(limits) {}

RespParser::~RespParser() { std::free(buffer_); }

void RespParser::compact() {
  if (frame_start_ == 0) return;
  std::memmove(buffer_, buffer_ + frame_start_, write_ - frame_start_);
  read_ -= frame_start_;
  write_ -= frame_start_;
  frame_start_ = 0;
}

std::span<char> RespParser::prepare(size_t min_bytes) {
  if (capacity_ - write_ < min_bytes) compact();
  if (capacity_ - write_ < min_bytes) {
    // Grow by doubling what is held: memory follows the bytes that arrived, never a declared
    // length.
    size_t capacity = capacity_ == 0 ? min_bytes : capacity_ * 2;
    while (capacity - write_ < min_bytes) capacity *= 2;
    char* grown = static_cast<char*>(std::realloc(buffer_, capacity));
    CAIRN_ASSERT(grown != nullptr);
    buffer_ = grown;
    capacity_ = capacity;
  }
  return {buffer_ + write_, capacity_ - write_};
}

void RespParser::commit(size_t n) {
  CAIRN_ASSERT(write_ + n <= capacity_);
  write_ += n;
}

bool RespParser::peek_header(char kind, size_t* position, uint64_t* value) const {
  constexpr size_t kHeaderBytesMax = 22;  // kind, 20 digits, '\r'
  const size_t start = *position;
  if (start >= write_ || buffer_[start] != kind) return false;
  const size_t searched = std::min(write_ - start, kHeaderBytesMax);
  const char* begin = buffer_ + start;
  const char* cr = static_cast<const char*>(std::memchr(begin, '\r', searched));
  if (cr == nullptr || cr + 1 >= buffer_ + write_ || cr[1] != '\n') return false;
  int64_t parsed = 0;
  if (!parse_integer(begin + 1, cr, &parsed) || parsed < 0) return false;
  *position = static_cast<size_t>(cr + 2 - buffer_);
  *value = static_cast<uint64_t>(parsed);
  return true;
}

size_t RespParser::peek(std::span<PeekedCommand> out) const {
  if (state_ != State::kFrameStart) return 0;
  size_t position = read_;
  size_t count = 0;
  while (count < out.size()) {
    uint64_t argc = 0;
    if (!peek_header('*', &position, &argc) || argc == 0 || argc > kPeekArgumentsMax) break;
    PeekedCommand command;
    uint64_t arg = 0;
    for (; arg < argc; arg++) {
      uint64_t length = 0;
      if (!peek_header('$', &position, &length) || length + 2 > write_ - position) break;
      const std::string_view bytes(buffer_ + position, static_cast<size_t>(length));
      if (arg == 0) command.name = bytes;
      if (arg == 1) command.key = bytes;
      if (arg == 2) command.value = bytes;
      position += static_cast<size_t>(length) + 2;
    }
    if (arg < argc) break;  // incomplete or malformed
    command.argc = static_cast<size_t>(argc);
    out[count++] = command;
  }
  return count;
}

RespParser::Progress RespParser::fail(std::string message) {
  error_ = "Protocol error: " + std::move(message);
  return Progress::kError;
}

RespParser::Progress RespParser::need_more() {
  if (query_max_ != 0 && buffered_bytes() > query_max_) {
    return fail("query buffer limit exceeded");
  }
  return Progress::kNeedMore;
}

RespParser::Step RespParser::next(Session& session) {
  while (true) {
    Progress progress = Progress::kContinue;
    switch (state_) {
      case State::kFrameStart: progress = start_frame(); break;
      case State::kArgHeader: progress = parse_arg_header(session); break;
      case State::kBulkBody: progress = parse_bulk_body(); break;
      case State::kStreamBody: progress = feed_stream(); break;
      case State::kStreamCrlf: progress = stream_crlf(); break;
    }
    switch (progress) {
      case Progress::kContinue: continue;
      case Progress::kNeedMore: return Step::kNeedMore;
      case Progress::kCommand: return Step::kCommand;
      case Progress::kError: return Step::kError;
    }
  }
}

RespParser::Progress RespParser::start_frame() {
  frame_start_ = read_;
  if (read_ == write_) {
    // Nothing pending: restart at the buffer's beginning (no copy) and release a buffer that
    // a large argument grew.
    read_ = write_ = frame_start_ = 0;
    if (capacity_ > kKeptCapacityBytes) {
      std::free(buffer_);
      buffer_ = nullptr;
      capacity_ = 0;
    }
    return Progress::kNeedMore;
  }
  bulk_max_ = limits_.bulk_bytes_max.load(std::memory_order_relaxed);
  multibulk_max_ = limits_.multibulk_count_max.load(std::memory_order_relaxed);
  inline_max_ = limits_.inline_bytes_max.load(std::memory_order_relaxed);
  query_max_ = limits_.query_buffer_bytes_max.load(std::memory_order_relaxed);
  stream_min_ = limits_.stream_argument_bytes_min.load(std::memory_order_relaxed);
  if (buffer_[read_] != '*') return parse_inline();

  const char* begin = buffer_ + read_;
  const char* cr = static_cast<const char*>(std::memchr(begin, '\r', write_ - read_));
  if (cr == nullptr || cr + 1 >= buffer_ + write_) {
    if (write_ - read_ > inline_max_) return fail("too big mbulk count string");
    return need_more();
  }
  int64_t count = 0;
  if (!parse_integer(begin + 1, cr, &count) ||
      (count > 0 && static_cast<uint64_t>(count) > multibulk_max_)) {
    return fail("invalid multibulk length");
  }
  read_ = static_cast<size_t>(cr + 2 - buffer_);
  if (count <= 0) return Progress::kContinue;  // "*0" and "*-1" are skipped
  argc_ = static_cast<uint64_t>(count);
  state_ = State::kArgHeader;
  return Progress::kContinue;
}

RespParser::Progress RespParser::parse_inline() {
  char* begin = buffer_ + read_;
  char* newline = static_cast<char*>(std::memchr(begin, '\n', write_ - read_));
  if (newline == nullptr) {
    if (write_ - read_ > inline_max_) return fail("too big inline request");
    return need_more();
  }
  size_t length = static_cast<size_t>(newline - begin);
  if (length > 0 && begin[length - 1] == '\r') length--;
  if (length > inline_max_) return fail("too big inline request");
  inline_args_.clear();
  if (!split_inline_args(begin, length, &inline_args_)) {
    return fail("unbalanced quotes in request");
  }
  read_ = static_cast<size_t>(newline + 1 - buffer_);
  if (inline_args_.empty()) return Progress::kContinue;  // an empty line is skipped
  args_.clear();
  for (const auto& [offset, arg_length] : inline_args_) {
    args_.push_back(ArgRef{ArgKind::kBuffer, offset, arg_length});
  }
  argc_ = args_.size();
  build_views();
  return Progress::kCommand;
}

RespParser::Progress RespParser::parse_arg_header(Session& session) {
  if (read_ == write_) return need_more();
  if (buffer_[read_] != '$') {
    return fail(std::string("expected '$', got '") + buffer_[read_] + "'");
  }
  const char* begin = buffer_ + read_;
  const char* cr = static_cast<const char*>(std::memchr(begin, '\r', write_ - read_));
  if (cr == nullptr || cr + 1 >= buffer_ + write_) {
    if (write_ - read_ > inline_max_) return fail("too big bulk count string");
    return need_more();
  }
  int64_t length = 0;
  if (!parse_integer(begin + 1, cr, &length) || length < 0 ||
      static_cast<uint64_t>(length) > bulk_max_) {
    return fail("invalid bulk length");
  }
  read_ = static_cast<size_t>(cr + 2 - buffer_);
  bulk_length_ = static_cast<uint64_t>(length);
  if (bulk_length_ > 0 && bulk_length_ >= stream_min_) {
    build_views();
    std::unique_ptr<ByteSink> sink =
        session.stream_argument(argv_, args_.size(), static_cast<size_t>(argc_), bulk_length_);
    if (sink != nullptr) {
      save_buffered_args();
      sinks_.push_back(std::move(sink));
      args_.push_back(ArgRef{ArgKind::kStreamed, 0, 0});
      stream_remaining_ = bulk_length_;
      sink_failed_ = false;
      state_ = State::kStreamBody;
      return Progress::kContinue;
    }
  }
  state_ = State::kBulkBody;
  return Progress::kContinue;
}

RespParser::Progress RespParser::parse_bulk_body() {
  if (write_ - read_ < bulk_length_ + 2) return need_more();
  args_.push_back(ArgRef{ArgKind::kBuffer, read_ - frame_start_, bulk_length_});
  read_ += bulk_length_ + 2;  // Redis does not check the CRLF after a buffered argument
  return arg_done();
}

RespParser::Progress RespParser::feed_stream() {
  const size_t n = static_cast<size_t>(
      std::min<uint64_t>(write_ - read_, stream_remaining_));
  if (n > 0) {
    if (!sink_failed_) {
      // After a failed append the rest is drained and dropped; the session replies the error.
      const Status status = sinks_.back()->append(std::string_view(buffer_ + read_, n));
      if (!status.is_ok()) sink_failed_ = true;
    }
    read_ += n;
    stream_remaining_ -= n;
    // Every earlier argument is in saved_: the streamed bytes leave the buffer at once.
    frame_start_ = read_;
  }
  if (stream_remaining_ > 0) return need_more();
  state_ = State::kStreamCrlf;
  return Progress::kContinue;
}

RespParser::Progress RespParser::stream_crlf() {
  if (write_ - read_ < 2) return need_more();
  if (buffer_[read_] != '\r' || buffer_[read_ + 1] != '\n') {
    return fail("expected CRLF after bulk argument");
  }
  read_ += 2;
  frame_start_ = read_;
  return arg_done();
}

RespParser::Progress RespParser::arg_done() {
  if (args_.size() < argc_) {
    state_ = State::kArgHeader;
    return Progress::kContinue;
  }
  build_views();
  return Progress::kCommand;
}

void RespParser::save_buffered_args() {
  for (ArgRef& arg : args_) {
    if (arg.kind != ArgKind::kBuffer) continue;
    const size_t offset = saved_.size();
    saved_.append(buffer_ + frame_start_ + arg.offset, arg.length);
    arg = ArgRef{ArgKind::kSaved, offset, arg.length};
  }
  frame_start_ = read_;
}

void RespParser::build_views() {
  argv_.clear();
  for (const ArgRef& arg : args_) {
    switch (arg.kind) {
      case ArgKind::kBuffer:
        argv_.emplace_back(buffer_ + frame_start_ + arg.offset, arg.length);
        break;
      case ArgKind::kSaved:
        argv_.emplace_back(saved_.data() + arg.offset, arg.length);
        break;
      case ArgKind::kStreamed:
        argv_.emplace_back();
        break;
    }
  }
}

void RespParser::finish_command() {
  state_ = State::kFrameStart;
  frame_start_ = read_;
  args_.clear();
  argv_.clear();
  saved_.clear();
  sinks_.clear();
  if (args_.capacity() > kKeptArgCount) {
    std::vector<ArgRef>().swap(args_);
    std::vector<std::string_view>().swap(argv_);
  }
}

void RespParser::drop_sinks() {
  sinks_.clear();
}

}  // namespace cairn
