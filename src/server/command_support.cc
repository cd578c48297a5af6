#include "server/command_support.h"

#include <cmath>
#include <limits>
#include <string>

#include "model/string_number.h"
#include "server/server.h"

namespace cairn {

Keyspace& keyspace_of(CommandContext& context) { return context.server.keyspace(); }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void reply_status(ReplyWriter& reply, const Status& status) {
  if (status.is_invalid_argument()) {
    reply.error("ERR " + std::string(status.message()));
  } else {
    reply.error("ERR " + status.to_string());
  }
}

std::optional<int64_t> parse_integer_argument(ReplyWriter& reply, std::string_view text) {
  const std::optional<int64_t> value = string_to_int64(text);
  if (!value.has_value()) reply.error(kNotIntegerError);
  return value;
}

bool collection_usable(CommandContext& context, const Result<FoundCollection>& found) {
  if (!found.is_ok()) {
    reply_status(context.reply, found.status());
    return false;
  }
  if (found->wrong_type()) {
    context.reply.error(kWrongTypeError);
    return false;
  }
  return true;
}

void reply_wrong_arity(CommandContext& context, std::string_view name) {
  context.reply.error("ERR wrong number of arguments for '" + std::string(name) + "' command");
}

void reply_payload(CommandContext& context, const KeyEntry& entry) {
  if (entry.is_inline()) {
    context.reply.bulk_string(entry.inline_payload());
    return;
  }
  Result<std::unique_ptr<ByteSource>> body = keyspace_of(context).payload_body(entry);
  if (!body.is_ok()) {
    reply_status(context.reply, body.status());
    return;
  }
  context.reply.bulk_header(entry.payload_bytes);
  context.reply_body = std::move(body).value();
}

void reply_payload_buffered(CommandContext& context, const KeyEntry& entry) {
  if (entry.is_inline()) {
    context.reply.bulk_string(entry.inline_payload());
    return;
  }
  Result<std::string> payload = keyspace_of(context).read_payload(entry);
  if (!payload.is_ok()) {
    // Inside an array the element must still be there: a null keeps the reply well-formed.
    context.reply.null();
    return;
  }
  context.reply.bulk_string(*payload);
}

std::optional<uint64_t> parse_block_timeout(CommandContext& context, std::string_view text) {
  const std::optional<long double> seconds = string_to_long_double(text);
  if (!seconds.has_value()) {
    context.reply.error("ERR timeout is not a float or out of range");
    return std::nullopt;
  }
  const long double ms = std::ceil(*seconds * 1000);
  constexpr auto kMax = static_cast<long double>(std::numeric_limits<int64_t>::max());
  // Redis 7.0 converts a timeout past the 64-bit range to a negative number, so answers so.
  if (ms < 0 || ms > kMax) {
    context.reply.error("ERR timeout is negative");
    return std::nullopt;
  }
  const auto timeout_ms = static_cast<uint64_t>(ms);
  // As Redis: the deadline (now + timeout) must fit in a signed 64-bit number of ms.
  if (timeout_ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) -
                       keyspace_of(context).now_ms()) {
    context.reply.error("ERR timeout is out of range");
    return std::nullopt;
  }
  return timeout_ms;
}

std::optional<uint64_t> parse_scan_cursor(ReplyWriter& reply, std::string_view text) {
  uint64_t cursor = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || cursor > (UINT64_MAX - 9) / 10) {
      reply.error("ERR invalid cursor");
      return std::nullopt;
    }
    cursor = cursor * 10 + static_cast<uint64_t>(c - '0');
  }
  if (text.empty()) {
    reply.error("ERR invalid cursor");
    return std::nullopt;
  }
  return cursor;
}

std::optional<ScanOptions> parse_scan_options(CommandContext& context, size_t first,
                                              bool allow_type) {
  ScanOptions options;
  for (size_t i = first; i < context.argv.size(); i += 2) {
    const std::string_view option = context.argv[i];
    if (i + 1 >= context.argv.size()) {
      context.reply.error(kSyntaxError);
      return std::nullopt;
    }
    const std::string_view value = context.argv[i + 1];
    if (equals_ignore_case(option, "count")) {
      const std::optional<int64_t> parsed = parse_integer_argument(context.reply, value);
      if (!parsed.has_value()) return std::nullopt;
      if (*parsed < 1) {
        context.reply.error(kSyntaxError);
        return std::nullopt;
      }
      options.count = static_cast<uint64_t>(*parsed);
    } else if (equals_ignore_case(option, "match")) {
      options.pattern = value;
    } else if (allow_type && equals_ignore_case(option, "type")) {
      options.type_lower.assign(value);
      for (char& c : options.type_lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
    } else {
      context.reply.error(kSyntaxError);
      return std::nullopt;
    }
  }
  return options;
}

std::optional<StringOptions> parse_string_options(CommandContext& context, size_t first,
                                                  StringCommandKind kind) {
  using Expire = StringOptions::Expire;
  StringOptions options;
  const bool set = kind == StringCommandKind::kSet;
  const auto& argv = context.argv;
  for (size_t j = first; j < argv.size(); j++) {
    const std::string_view option = argv[j];
    const bool has_next = j + 1 < argv.size();
    const bool no_expire = options.expire_kind == Expire::kNone;
    auto take_expire = [&](Expire kind_wanted) {
      const bool allowed = !options.keepttl && !options.persist &&
                           (no_expire || options.expire_kind == kind_wanted) && has_next;
      if (!allowed) return false;
      options.expire_kind = kind_wanted;
      options.expire_text = argv[++j];
      return true;
    };
    bool ok = false;
    if (set && equals_ignore_case(option, "nx") && !options.xx) {
      ok = options.nx = true;
    } else if (set && equals_ignore_case(option, "xx") && !options.nx) {
      ok = options.xx = true;
    } else if (set && equals_ignore_case(option, "get")) {
      ok = options.get = true;
    } else if (set && equals_ignore_case(option, "keepttl") && !options.persist && no_expire) {
      ok = options.keepttl = true;
    } else if (!set && equals_ignore_case(option, "persist") && !options.keepttl && no_expire) {
      ok = options.persist = true;
    } else if (equals_ignore_case(option, "ex")) {
      ok = take_expire(Expire::kEx);
    } else if (equals_ignore_case(option, "px")) {
      ok = take_expire(Expire::kPx);
    } else if (equals_ignore_case(option, "exat")) {
      ok = take_expire(Expire::kExat);
    } else if (equals_ignore_case(option, "pxat")) {
      ok = take_expire(Expire::kPxat);
    }
    if (!ok) {
      context.reply.error(kSyntaxError);
      return std::nullopt;
    }
  }
  return options;
}

namespace {

void reply_invalid_expire(CommandContext& context, std::string_view command) {
  context.reply.error("ERR invalid expire time in '" + std::string(command) + "' command");
}

// Redis's getExpireMillisecondsOrReply: positive, no overflow once in ms and made absolute.
std::optional<uint64_t> expiry_from(CommandContext& context, std::string_view text,
                                    bool seconds, bool relative, std::string_view command) {
  std::optional<int64_t> value = parse_integer_argument(context.reply, text);
  if (!value.has_value()) return std::nullopt;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t ms = *value;
  if (ms <= 0 || (seconds && ms > kMax / 1000)) {
    reply_invalid_expire(context, command);
    return std::nullopt;
  }
  if (seconds) ms *= 1000;
  if (relative) {
    const auto now = static_cast<int64_t>(keyspace_of(context).now_ms());
    if (ms > kMax - now) {
      reply_invalid_expire(context, command);
      return std::nullopt;
    }
    ms += now;
  }
  return static_cast<uint64_t>(ms);
}

}  // namespace

std::optional<uint64_t> resolve_expiry(CommandContext& context, const StringOptions& options,
                                       std::string_view command) {
  using Expire = StringOptions::Expire;
  switch (options.expire_kind) {
    case Expire::kNone:
      return uint64_t{0};
    case Expire::kEx:
      return expiry_from(context, options.expire_text, true, true, command);
    case Expire::kPx:
      return expiry_from(context, options.expire_text, false, true, command);
    case Expire::kExat:
      return expiry_from(context, options.expire_text, true, false, command);
    case Expire::kPxat:
      return expiry_from(context, options.expire_text, false, false, command);
  }
  return uint64_t{0};
}

std::optional<uint64_t> relative_expiry(CommandContext& context, std::string_view text,
                                        int64_t unit_ms, std::string_view command) {
  return expiry_from(context, text, unit_ms == 1000, true, command);
}

}  // namespace cairn
