// RespValue: one reply a Redis-protocol server sent, fully parsed: the RESP2 types (simple
// string, error, integer, bulk string, null, array) and the RESP3 ones a server answers with
// after HELLO 3 (map, set, push, double, boolean, verbatim string, big number). The client side
// of the protocol: the server's own replies are written by ReplyWriter, not built as values.
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

enum class RespKind : uint8_t {
  kSimpleString,  // "+OK"
  kError,         // "-ERR ..." or RESP3's blob error "!len"
  kInteger,       // ":42"
  kBulkString,    // "$3\r\nfoo"
  kNull,          // "$-1", "*-1" or RESP3's "_"
  kArray,         // "*n"
  kMap,           // RESP3 "%n": elements hold key, value, key, value...
  kSet,           // RESP3 "~n"
  kPush,          // RESP3 ">n" (out-of-band messages such as pub/sub)
  kDouble,        // RESP3 ",3.14": number, and text as sent
  kBoolean,       // RESP3 "#t": integer 1 or 0
  kVerbatim,      // RESP3 "=len\r\ntxt:...": format "txt", text without the prefix
  kBigNumber,     // RESP3 "(123...": text holds the digits
};

// "simple string", "error", ...: for messages.
std::string_view resp_kind_name(RespKind kind);

struct RespValue {
  RespKind kind = RespKind::kNull;
  // Simple string, error, bulk string, verbatim string, big number, and a double as sent.
  std::string text;
  int64_t integer = 0;  // integer; boolean as 1 or 0
  double number = 0;    // double
  std::string format;   // verbatim string: the 3-character format ("txt", "mkd")
  // Array, set and push: the elements; map: keys and values alternating (an even count).
  std::vector<RespValue> elements;

  bool is_error() const { return kind == RespKind::kError; }
  bool is_null() const { return kind == RespKind::kNull; }
  // Array, map, set or push.
  bool is_aggregate() const;
  // A string of any sort whose bytes `text` holds: simple, bulk or verbatim.
  bool is_string() const;

  static RespValue simple_string(std::string text);
  static RespValue error(std::string message);
  static RespValue integer_value(int64_t value);
  static RespValue bulk_string(std::string bytes);
  static RespValue null();
  static RespValue array(std::vector<RespValue> elements);

  // A one-line rendering for messages and tests, close to redis-cli's: "OK", "(error) ERR x",
  // "(integer) 3", "\"bytes\"" with non-printable bytes escaped, "(nil)", "[a, b]", "{k: v}".
  std::string to_string() const;

  friend bool operator==(const RespValue&, const RespValue&) = default;
};

}  // namespace cairn
