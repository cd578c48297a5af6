// INCR family: read the string, parse it as Redis does (model/string_number.h), add, write it
// back keeping its TTL — all under the key's lock so concurrent increments never lose one.
#include "server/counter_commands.h"

#include <cmath>
#include <limits>
#include <string>

#include "model/string_number.h"
#include "server/command_support.h"

namespace cairn {
namespace {

using Entry = std::optional<KeyEntry>;

// The current value's text if it can be a number (a blob is far too long to be one).
std::optional<std::string_view> number_text(const KeyEntry& entry) {
  if (!entry.is_inline()) return std::nullopt;
  return entry.inline_payload();
}

void increment_by(CommandContext& context, int64_t delta) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Result<Entry> old = keyspace.find(key, true, false);
  if (!old.is_ok()) return reply_status(context.reply, old.status());
  int64_t value = 0;
  if (old->has_value()) {
    if (!is_string(**old)) return context.reply.error(kWrongTypeError);
    const std::optional<std::string_view> text = number_text(**old);
    const std::optional<int64_t> parsed = text.has_value() ? string_to_int64(*text) : std::nullopt;
    if (!parsed.has_value()) return context.reply.error(kNotIntegerError);
    value = *parsed;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if ((delta < 0 && value < 0 && delta < kMin - value) ||
      (delta > 0 && value > 0 && delta > kMax - value)) {
    return context.reply.error("ERR increment or decrement would overflow");
  }
  value += delta;
  KeyspaceWrite write(keyspace);
  Status status = write.put_string(key, std::to_string(value),
                                   old->has_value() ? (*old)->trailer.expiry_ms : 0, *old);
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(value);
}

}  // namespace

void incr_command(CommandContext& context) { increment_by(context, 1); }
void decr_command(CommandContext& context) { increment_by(context, -1); }

void incrby_command(CommandContext& context) {
  const std::optional<int64_t> delta = parse_integer_argument(context.reply, context.argv[2]);
  if (delta.has_value()) increment_by(context, *delta);
}

void decrby_command(CommandContext& context) {
  const std::optional<int64_t> delta = parse_integer_argument(context.reply, context.argv[2]);
  if (!delta.has_value()) return;
  if (*delta == std::numeric_limits<int64_t>::min()) {
    return context.reply.error("ERR decrement would overflow");
  }
  increment_by(context, -*delta);
}

void incrbyfloat_command(CommandContext& context) {
  constexpr std::string_view kNotFloat = "ERR value is not a valid float";
  const std::optional<long double> delta = string_to_long_double(context.argv[2]);
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Result<Entry> old = keyspace.find(key, true, false);
  if (!old.is_ok()) return reply_status(context.reply, old.status());
  long double value = 0;
  if (old->has_value()) {
    if (!is_string(**old)) return context.reply.error(kWrongTypeError);
    const std::optional<std::string_view> text = number_text(**old);
    const std::optional<long double> parsed =
        text.has_value() ? string_to_long_double(*text) : std::nullopt;
    if (!parsed.has_value()) return context.reply.error(kNotFloat);
    value = *parsed;
  }
  if (!delta.has_value()) return context.reply.error(kNotFloat);
  value += *delta;
  if (std::isnan(value) || std::isinf(value)) {
    return context.reply.error("ERR increment would produce NaN or Infinity");
  }
  const std::string text = format_long_double_human(value);
  KeyspaceWrite write(keyspace);
  Status status =
      write.put_string(key, text, old->has_value() ? (*old)->trailer.expiry_ms : 0, *old);
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.bulk_string(text);
}

}  // namespace cairn
