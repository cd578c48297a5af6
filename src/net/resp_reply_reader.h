// RespReplyReader: decodes the replies of a Redis-protocol server, one whole RespValue at a time,
// pulling bytes from a ReplyByteSource as it needs them (a blocking socket, or bytes in memory). It
// owns the bytes read past the end of a reply, so pipelined replies come out one call at a time.
//
// The server is untrusted: every size it declares is checked against RespReplyLimits before
// anything is reserved, and memory grows only with bytes that actually arrived, so a hostile or
// broken server costs at most the limits. Malformed input is a Corruption status, never an
// assert. After an error the reader's position in the stream is unknown: drop the connection.
//
// Thread-safety: none; one reader per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/resp_value.h"

namespace cairn {

struct RespReplyLimits {
  // Nesting of aggregates: "*1\r\n*1\r\n:1\r\n" has depth 2.
  uint32_t depth_max = 32;
  // Values in one reply at every level (an aggregate's declared count is checked against what
  // is left of it before any element is read): bounds the memory of small values.
  uint64_t value_count_max = 1u << 20;
  // One bulk, verbatim or blob-error string's declared length.
  uint64_t bulk_bytes_max = 512u << 20;
  // Bytes of one reply, headers included.
  uint64_t reply_bytes_max = 1u << 30;
  // A header or a simple string, error, integer, double or big number line, without its CRLF.
  uint64_t line_bytes_max = 64u << 10;
};

// Where a reader gets bytes.
class ReplyByteSource {
 public:
  virtual ~ReplyByteSource() = default;
  // Reads at least one byte into data[0, capacity) and returns how many; an error when no byte
  // comes (end of stream, time-out, I/O error). REQUIRES: capacity > 0.
  virtual Result<size_t> read_some(char* data, size_t capacity) = 0;
};

class RespReplyReader {
 public:
  explicit RespReplyReader(const RespReplyLimits& limits = {});

  // Reads one whole reply. Error replies from the server are values (kind kError), not errors;
  // the returned Status is the source's error or a Corruption for malformed or oversize input.
  Result<RespValue> read(ReplyByteSource& source);

  // Bytes received and not yet consumed by a reply.
  size_t buffered_bytes() const { return buffer_.size() - read_; }

 private:
  // `depth`: of the value read, from 1 for the reply itself.
  Result<RespValue> read_value(ReplyByteSource& source, uint32_t depth);
  // Reads `count` values into value->elements; `depth` is the aggregate's.
  Status read_aggregate(ReplyByteSource& source, uint32_t depth, int64_t count, RespValue* value);
  // The next line without its CRLF, consumed.
  Result<std::string> read_line(ReplyByteSource& source);
  // `length` bytes then CRLF, appended to *out.
  Status read_body(ReplyByteSource& source, uint64_t length, std::string* out);
  // A declared length or count: -1 or more, bounded by `max`.
  Result<int64_t> parse_length(std::string_view line, std::string_view what, uint64_t max);
  Status count_value();
  Status consume(size_t n);
  Status fill(ReplyByteSource& source);
  Status fail(std::string_view message) const;

  RespReplyLimits limits_;
  std::string buffer_;
  size_t read_ = 0;  // the first unconsumed byte of buffer_
  // Of the reply being read.
  uint64_t reply_bytes_ = 0;
  uint64_t value_count_ = 0;
};

// Decodes the one reply at the start of `bytes` (tests, fuzzing); *consumed says how long it was.
// A truncated reply is a Corruption.
Result<RespValue> decode_resp_reply(std::string_view bytes, const RespReplyLimits& limits = {},
                                    size_t* consumed = nullptr);

// The RESP2 multibulk of a command: "*N\r\n" then "$len\r\narg\r\n" per argument.
std::string encode_resp_command(const std::vector<std::string>& argv);

}  // namespace cairn
