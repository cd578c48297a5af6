#include "net/resp_reply_reader.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

namespace cairn {

namespace {

// Bytes asked of the source per read.
constexpr size_t kReadChunkBytes = 64 * 1024;
// Elements reserved up front for an aggregate, whatever count it declares: the rest grows with
// elements that actually arrived.
constexpr size_t kReserveElementsMax = 1024;

// A whole-string integer as Redis writes it: optional '-', then digits.
bool parse_int64(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

bool parse_double(std::string_view text, double* value) {
  if (text.empty() || text.front() == '+') return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

bool is_big_number(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "0x2a": a byte for messages.
std::string hex_byte(char c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  return {'0', 'x', kDigits[byte >> 4], kDigits[byte & 0xf]};
}

// Hands out a string's bytes, then reports the reply truncated.
class StringSource : public ReplyByteSource {
 public:
  explicit StringSource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> read_some(char* data, size_t capacity) override {
    if (bytes_.empty()) return Status::corruption("bad RESP reply: truncated");
    const size_t n = std::min(capacity, bytes_.size());
    std::memcpy(data, bytes_.data(), n);
    bytes_.remove_prefix(n);
    delivered_ += n;
    return n;
  }
  size_t delivered() const { return delivered_; }

 private:
  std::string_view bytes_;
  size_t delivered_ = 0;
};

}  // namespace

RespReplyReader::RespReplyReader(const RespReplyLimits& limits) : limits_(limits) {
  CAIRN_ASSERT(limits_.depth_max >= 1 && limits_.depth_max <= 1024);
  // Counts are doubled for maps: keep that far from overflow.
  CAIRN_ASSERT(limits_.value_count_max >= 1 && limits_.value_count_max <= (uint64_t{1} << 40));
}

Result<RespValue> RespReplyReader::read(ReplyByteSource& source) {
  reply_bytes_ = 0;
  value_count_ = 0;
  return read_value(source, 1);
}

Result<RespValue> RespReplyReader::read_value(ReplyByteSource& source, uint32_t depth) {
  CAIRN_RETURN_IF_ERROR(count_value());
  CAIRN_ASSIGN_OR_RETURN(std::string line, read_line(source));
  // RESP3 attributes (metadata about the reply that follows) are read and dropped; a loop, not
  // recursion, so a stream of them cannot deepen the stack.
  while (!line.empty() && line.front() == '|') {
    CAIRN_ASSIGN_OR_RETURN(const int64_t pairs, parse_length(line.substr(1), "attribute count",
                                                             limits_.value_count_max));
    if (pairs < 0) return fail("negative attribute count");
    RespValue attributes;
    CAIRN_RETURN_IF_ERROR(read_aggregate(source, depth, pairs * 2, &attributes));
    CAIRN_RETURN_IF_ERROR(count_value());
    CAIRN_ASSIGN_OR_RETURN(line, read_line(source));
  }
  if (line.empty()) return fail("empty line where a reply was expected");
  const char type = line.front();
  const std::string_view rest = std::string_view(line).substr(1);
  RespValue value;
  switch (type) {
    case '+':
    case '-':
      value.kind = type == '+' ? RespKind::kSimpleString : RespKind::kError;
      value.text.assign(rest);
      return value;
    case ':':
      value.kind = RespKind::kInteger;
      if (!parse_int64(rest, &value.integer)) return fail("bad integer '" + line + "'");
      return value;
    case '$':
    case '!':
    case '=': {
      CAIRN_ASSIGN_OR_RETURN(const int64_t length,
                             parse_length(rest, "string length", limits_.bulk_bytes_max));
      if (length < 0) {
        if (type == '$') return value;  // RESP2's null bulk string
        return fail("negative string length");
      }
      CAIRN_RETURN_IF_ERROR(read_body(source, static_cast<uint64_t>(length), &value.text));
      value.kind = type == '$' ? RespKind::kBulkString : RespKind::kError;
      if (type == '=') {
        if (value.text.size() < 4 || value.text[3] != ':') {
          return fail("verbatim string without its 'fmt:' prefix");
        }
        value.kind = RespKind::kVerbatim;
        value.format = value.text.substr(0, 3);
        value.text.erase(0, 4);
      }
      return value;
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      CAIRN_ASSIGN_OR_RETURN(const int64_t count,
                             parse_length(rest, "aggregate count", limits_.value_count_max));
      if (count < 0) {
        if (type == '*') return value;  // RESP2's null array
        return fail("negative aggregate count");
      }
      value.kind = type == '*'   ? RespKind::kArray
                   : type == '~' ? RespKind::kSet
                   : type == '>' ? RespKind::kPush
                                 : RespKind::kMap;
      CAIRN_RETURN_IF_ERROR(read_aggregate(source, depth, type == '%' ? count * 2 : count, &value));
      return value;
    }
    case '_':
      if (!rest.empty()) return fail("null with a payload");
      return value;
    case '#':
      if (rest != "t" && rest != "f") return fail("bad boolean '" + line + "'");
      value.kind = RespKind::kBoolean;
      value.integer = rest == "t" ? 1 : 0;
      return value;
    case ',':
      value.kind = RespKind::kDouble;
      if (!parse_double(rest, &value.number)) return fail("bad double '" + line + "'");
      value.text.assign(rest);
      return value;
    case '(':
      if (!is_big_number(rest)) return fail("bad big number '" + line + "'");
      value.kind = RespKind::kBigNumber;
      value.text.assign(rest);
      return value;
    default:
      return fail("unknown type byte " + hex_byte(type));
  }
}

Status RespReplyReader::read_aggregate(ReplyByteSource& source, uint32_t depth, int64_t count,
                                       RespValue* value) {
  CAIRN_ASSERT(count >= 0 && value_count_ <= limits_.value_count_max);
  if (depth > limits_.depth_max) {
    return fail("aggregates nested deeper than " + std::to_string(limits_.depth_max) + " levels");
  }
  const uint64_t left = limits_.value_count_max - value_count_;
  if (static_cast<uint64_t>(count) > left) {
    return fail("an aggregate of " + std::to_string(count) + " values exceeds the limit of " +
                std::to_string(limits_.value_count_max) + " values per reply");
  }
  value->elements.reserve(std::min<size_t>(static_cast<size_t>(count), kReserveElementsMax));
  for (int64_t i = 0; i < count; i++) {
    CAIRN_ASSIGN_OR_RETURN(RespValue element, read_value(source, depth + 1));
    value->elements.push_back(std::move(element));
  }
  return Status::ok();
}

Result<std::string> RespReplyReader::read_line(ReplyByteSource& source) {
  size_t scanned = 0;  // bytes after read_ known to hold no CRLF start
  while (true) {
    const size_t end = buffer_.find("\r\n", read_ + scanned);
    if (end != std::string::npos) {
      const size_t length = end - read_;
      if (length > limits_.line_bytes_max) break;
      std::string line = buffer_.substr(read_, length);
      CAIRN_RETURN_IF_ERROR(consume(length + 2));
      return line;
    }
    const size_t available = buffer_.size() - read_;
    if (available > limits_.line_bytes_max + 1) break;
    scanned = available == 0 ? 0 : available - 1;  // a CR may end the buffer
    CAIRN_RETURN_IF_ERROR(fill(source));
  }
  return fail("a line longer than " + std::to_string(limits_.line_bytes_max) + " bytes");
}

Status RespReplyReader::read_body(ReplyByteSource& source, uint64_t length, std::string* out) {
  if (reply_bytes_ + length + 2 > limits_.reply_bytes_max) {
    return fail("reply longer than " + std::to_string(limits_.reply_bytes_max) + " bytes");
  }
  uint64_t remaining = length;
  while (remaining > 0) {
    if (read_ == buffer_.size()) CAIRN_RETURN_IF_ERROR(fill(source));
    const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, buffer_.size() - read_));
    out->append(buffer_, read_, take);
    CAIRN_RETURN_IF_ERROR(consume(take));
    remaining -= take;
  }
  while (buffer_.size() - read_ < 2) CAIRN_RETURN_IF_ERROR(fill(source));
  if (buffer_[read_] != '\r' || buffer_[read_ + 1] != '\n') {
    return fail("a string not followed by CRLF");
  }
  return consume(2);
}

Result<int64_t> RespReplyReader::parse_length(std::string_view line, std::string_view what,
                                              uint64_t max) {
  int64_t value = 0;
  if (!parse_int64(line, &value) || value < -1) {
    return fail("bad " + std::string(what) + " '" + std::string(line) + "'");
  }
  if (value > 0 && static_cast<uint64_t>(value) > max) {
    return fail(std::string(what) + " " + std::to_string(value) + " exceeds the limit of " +
                std::to_string(max));
  }
  return value;
}

Status RespReplyReader::count_value() {
  if (value_count_ >= limits_.value_count_max) {
    return fail("more than " + std::to_string(limits_.value_count_max) + " values in one reply");
  }
  value_count_++;
  return Status::ok();
}

Status RespReplyReader::consume(size_t n) {
  CAIRN_ASSERT(n <= buffer_.size() - read_);
  read_ += n;
  reply_bytes_ += n;
  if (reply_bytes_ > limits_.reply_bytes_max) {
    return fail("reply longer than " + std::to_string(limits_.reply_bytes_max) + " bytes");
  }
  return Status::ok();
}

Status RespReplyReader::fill(ReplyByteSource& source) {
  // Drop consumed bytes first: what is left is at most a line, so the move is short.
  buffer_.erase(0, read_);
  read_ = 0;
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kReadChunkBytes);
  Result<size_t> got = source.read_some(buffer_.data() + old_size, kReadChunkBytes);
  if (!got.is_ok()) {
    buffer_.resize(old_size);
    return got.status();
  }
  CAIRN_ASSERT(*got >= 1 && *got <= kReadChunkBytes);
  buffer_.resize(old_size + *got);
  return Status::ok();
}

Status RespReplyReader::fail(std::string_view message) const {
  return Status::corruption("bad RESP reply: " + std::string(message));
}

Result<RespValue> decode_resp_reply(std::string_view bytes, const RespReplyLimits& limits,
                                    size_t* consumed) {
  StringSource source(bytes);
  RespReplyReader reader(limits);
  Result<RespValue> value = reader.read(source);
  if (value.is_ok() && consumed != nullptr) {
    *consumed = source.delivered() - reader.buffered_bytes();
  }
  return value;
}

std::string encode_resp_command(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& argument : argv) {
    out.append("$").append(std::to_string(argument.size())).append("\r\n");
    out.append(argument).append("\r\n");
  }
  return out;
}

}  // namespace cairn
