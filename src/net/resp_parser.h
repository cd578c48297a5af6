// RespParser: the incremental RESP request parser of one connection. It owns the connection's
// input buffer: the connection reads into prepare()'s space, commit()s the bytes, then calls
// next() until it needs more. Multibulk frames ("*N\r\n$len\r\n...") and inline commands
// (telnet style, split as Redis's sdssplitargs does, quotes and \xHH escapes decoded in place)
// are accepted; a frame may be split across reads at any byte. Commands come out as argv views
// into the buffer: no allocation per argument.
//
// Memory is bounded by what has arrived, never by a declared length: a "$536870912" header
// reserves nothing until bytes come, and a "*1000000" header does not size a vector up front.
// A bulk argument of at least stream_argument_bytes_min is offered to
// Session::stream_argument; a returned sink receives the bytes as they arrive (the buffer never
// holds the value) and the argument appears as an empty view.
//
// Thread-safety: none; owned by one connection on its loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/session.h"

namespace cairn {

class RespParser {
 public:
  enum class Step {
    kNeedMore,  // read more bytes (after prepare/commit)
    kCommand,   // argv() holds a command; call finish_command() after running it
    kError,     // error() holds the protocol error; the connection must close
  };

  explicit RespParser(const ProtocolLimits& limits);
  ~RespParser();
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  // Free space to read into, at least `min_bytes` long; valid until the next call.
  std::span<char> prepare(size_t min_bytes);
  // `n` bytes were written at the start of prepare()'s span.
  void commit(size_t n);

  // Parses on. `session` is asked about streaming long bulk arguments.
  Step next(Session& session);
  // The command of the last kCommand; views valid until finish_command().
  std::span<const std::string_view> argv() const { return argv_; }
  // Releases the command's bytes (and the sinks of its streamed arguments).
  void finish_command();
  // Destroys the sinks of a command cut short (the connection is closing).
  void drop_sinks();
  // "Protocol error: ..." after kError.
  const std::string& error() const { return error_; }

  // Fills `out` with the name and first argument of the complete multibulk commands that start
  // where the parser stands (the command the next next() returns comes first), without consuming
  // anything: a lookahead for Session::prefetch. Stops at the first frame that is incomplete,
  // inline, malformed or has more than kPeekArgumentsMax arguments (next() reports what is wrong
  // with it), and returns 0 in the middle of a frame. The views are valid until the next call
  // that changes the parser.
  static constexpr size_t kPeekArgumentsMax = 64;
  size_t peek(std::span<PeekedCommand> out) const;

  // Bytes held for unparsed input and the current frame (CLIENT LIST qbuf); streamed bytes
  // never count.
  uint64_t buffered_bytes() const { return write_ - frame_start_ + saved_.size(); }
  size_t buffer_capacity_bytes() const { return capacity_; }
  // Whether unparsed bytes wait in the buffer.
  bool has_unparsed_input() const { return read_ < write_; }

 private:
  enum class State { kFrameStart, kArgHeader, kBulkBody, kStreamBody, kStreamCrlf };
  enum class ArgKind : uint8_t { kBuffer, kSaved, kStreamed };
  struct ArgRef {
    ArgKind kind;
    size_t offset;  // from frame_start_ (kBuffer) or into saved_ (kSaved)
    size_t length;
  };

  // What a parsing stage achieved: a public Step, or kContinue to run the next stage.
  enum class Progress { kContinue, kNeedMore, kCommand, kError };

  // Reads a "<kind><integer>\r\n" header at *position for peek(): the integer (>= 0), with
  // *position moved past it; false if the header is incomplete or malformed.
  bool peek_header(char kind, size_t* position, uint64_t* value) const;

  Progress start_frame();
  Progress parse_inline();
  Progress parse_arg_header(Session& session);
  Progress parse_bulk_body();
  Progress feed_stream();
  Progress stream_crlf();
  Progress fail(std::string message);
  Progress need_more();
  Progress arg_done();
  // Copies buffer-held arguments into saved_ so the buffer can drop the frame's start.
  void save_buffered_args();
  void build_views();
  void compact();

  const ProtocolLimits& limits_;
  // Limits read once per frame.
  uint64_t bulk_max_ = 0, multibulk_max_ = 0, inline_max_ = 0, query_max_ = 0, stream_min_ = 0;

  char* buffer_ = nullptr;
  size_t capacity_ = 0;
  size_t frame_start_ = 0;  // first byte of the frame being parsed
  size_t read_ = 0;         // parse position
  size_t write_ = 0;        // end of received bytes

  State state_ = State::kFrameStart;
  uint64_t argc_ = 0;
  uint64_t bulk_length_ = 0;  // of the argument being read
  uint64_t stream_remaining_ = 0;
  bool sink_failed_ = false;
  std::vector<ArgRef> args_;
  std::string saved_;
  std::vector<std::unique_ptr<ByteSink>> sinks_;
  std::vector<std::string_view> argv_;
  std::vector<std::pair<size_t, size_t>> inline_args_;
  std::string error_;
};

// Splits an inline command line as Redis's sdssplitargs, decoding in place: the arguments are
// written back into `line` (never longer than their source) and appended to `args` as
// (offset, length) pairs. False on unbalanced quotes. Exposed for tests.
bool split_inline_args(char* line, size_t length,
                       std::vector<std::pair<size_t, size_t>>* args);

}  // namespace cairn
