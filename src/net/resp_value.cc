#include "net/resp_value.h"

#include <cstdio>
#include <utility>

namespace cairn {

namespace {

// "bytes" with quotes, backslashes and non-printable bytes escaped as redis-cli does.
void append_quoted(std::string_view bytes, std::string* out) {
  out->push_back('"');
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      out->append(escaped);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void append_value(const RespValue& value, std::string* out) {
  switch (value.kind) {
    case RespKind::kSimpleString:
      out->append(value.text);
      return;
    case RespKind::kError:
      out->append("(error) ").append(value.text);
      return;
    case RespKind::kInteger:
      out->append("(integer) ").append(std::to_string(value.integer));
      return;
    case RespKind::kBulkString:
    case RespKind::kVerbatim:
      append_quoted(value.text, out);
      return;
    case RespKind::kNull:
      out->append("(nil)");
      return;
    case RespKind::kDouble:
      out->append("(double) ").append(value.text);
      return;
    case RespKind::kBoolean:
      out->append(value.integer != 0 ? "(true)" : "(false)");
      return;
    case RespKind::kBigNumber:
      out->append("(big number) ").append(value.text);
      return;
    case RespKind::kMap:
      out->push_back('{');
      for (size_t i = 0; i + 1 < value.elements.size(); i += 2) {
        if (i > 0) out->append(", ");
        append_value(value.elements[i], out);
        out->append(": ");
        append_value(value.elements[i + 1], out);
      }
      out->push_back('}');
      return;
    case RespKind::kArray:
    case RespKind::kSet:
    case RespKind::kPush:
      out->push_back('[');
      for (size_t i = 0; i < value.elements.size(); i++) {
        if (i > 0) out->append(", ");
        append_value(value.elements[i], out);
      }
      out->push_back(']');
      return;
  }
}

}  // namespace

std::string_view resp_kind_name(RespKind kind) {
  switch (kind) {
    case RespKind::kSimpleString:
      return "simple string";
    case RespKind::kError:
      return "error";
    case RespKind::kInteger:
      return "integer";
    case RespKind::kBulkString:
      return "bulk string";
    case RespKind::kNull:
      return "null";
    case RespKind::kArray:
      return "array";
    case RespKind::kMap:
      return "map";
    case RespKind::kSet:
      return "set";
    case RespKind::kPush:
      return "push";
    case RespKind::kDouble:
      return "double";
    case RespKind::kBoolean:
      return "boolean";
    case RespKind::kVerbatim:
      return "verbatim string";
    case RespKind::kBigNumber:
      return "big number";
  }
  return "unknown";
}

bool RespValue::is_aggregate() const {
  return kind == RespKind::kArray || kind == RespKind::kMap || kind == RespKind::kSet ||
         kind == RespKind::kPush;
}

bool RespValue::is_string() const {
  return kind == RespKind::kSimpleString || kind == RespKind::kBulkString ||
         kind == RespKind::kVerbatim;
}

RespValue RespValue::simple_string(std::string text) {
  RespValue value;
  value.kind = RespKind::kSimpleString;
  value.text = std::move(text);
  return value;
}

RespValue RespValue::error(std::string message) {
  RespValue value;
  value.kind = RespKind::kError;
  value.text = std::move(message);
  return value;
}

RespValue RespValue::integer_value(int64_t integer) {
  RespValue value;
  value.kind = RespKind::kInteger;
  value.integer = integer;
  return value;
}

RespValue RespValue::bulk_string(std::string bytes) {
  RespValue value;
  value.kind = RespKind::kBulkString;
  value.text = std::move(bytes);
  return value;
}

RespValue RespValue::null() { return RespValue(); }

RespValue RespValue::array(std::vector<RespValue> elements) {
  RespValue value;
  value.kind = RespKind::kArray;
  value.elements = std::move(elements);
  return value;
}

std::string RespValue::to_string() const {
  std::string out;
  append_value(*this, &out);
  return out;
}

}  // namespace cairn
