// ReplyWriter: appends replies in RESP2 or RESP3 (the connection's protocol, chosen by HELLO) to a
// byte string the connection later writes to its socket. Types RESP2 lacks are sent the way
// Redis sends them to a RESP2 client: a map as a flat array of keys and values, a set or push
// as an array, a double as a bulk string, a boolean as an integer, a null as a null bulk string
// (or a null array where Redis sends one).
//
// Thread-safety: none; a writer and its string belong to one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

enum class RespVersion : uint8_t { kResp2 = 2, kResp3 = 3 };

class ReplyWriter {
 public:
  // REQUIRES: `out` outlives the writer.
  ReplyWriter(std::string* out, RespVersion version) : out_(out), version_(version) {}

  RespVersion version() const { return version_; }
  std::string& buffer() { return *out_; }

  // "+text": REQUIRES no CR or LF in `text`.
  void simple_string(std::string_view text);
  void ok() { simple_string("OK"); }
  // "-message": the whole message, its code first ("ERR syntax error", "WRONGTYPE ...").
  // CR and LF are replaced by spaces, as Redis does, so that any text is safe.
  void error(std::string_view message);
  void integer(int64_t value);
  void bulk_string(std::string_view bytes);
  // A missing value: "$-1" in RESP2, "_" in RESP3.
  void null();
  // A missing aggregate (EXEC aborted, BLPOP timed out): "*-1" in RESP2, "_" in RESP3.
  void null_array();
  void array_header(size_t count);
  // RESP3 "%pairs"; RESP2 an array of 2 * pairs elements (key, value, key, value...).
  void map_header(size_t pairs);
  // RESP3 "~count"; RESP2 an array.
  void set_header(size_t count);
  // RESP3 ">count"; RESP2 an array.
  void push_header(size_t count);
  // RESP3 ",value"; RESP2 a bulk string. Formatted as Redis 7.0's addReplyDouble does
  // (format_double).
  void double_value(double value);
  // RESP3 "#t"/"#f"; RESP2 the integer 1/0.
  void boolean(bool value);
  // RESP3 "=length\r\nfmt:text" (fmt is 3 characters, e.g. "txt"); RESP2 a bulk string of text.
  void verbatim(std::string_view format, std::string_view text);
  // The header "$length\r\n" of a bulk string whose body (and its final "\r\n") is sent
  // separately, e.g. from a ByteSource.
  void bulk_header(uint64_t length);
  // Bytes that are already RESP (a reply recorded earlier, e.g. by EXEC).
  void raw(std::string_view resp) { out_->append(resp); }

 private:
  void header(char type, uint64_t count);

  std::string* out_;
  RespVersion version_;
};

// The text Redis 7.0 uses for a double (ReplyWriter::double_value, and scores sent as bulk
// strings, as ZSCAN's): "inf", "-inf", "nan", or "%.17g" (17 significant digits: 0.1 is
// "0.10000000000000001", 1e20 is "1e+20"; Redis 7.2 moved to the shortest form).
std::string format_double(double value);

}  // namespace cairn
