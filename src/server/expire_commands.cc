// TTL commands (Redis 7 semantics): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, TTL,
// PTTL, EXPIRETIME, PEXPIRETIME, PERSIST. Expiry times are absolute unix ms in the record's
// trailer; changing one rewrites the record and its index entry in one batch.
#include <limits>
#include <string>

#include "server/command_groups.h"
#include "server/command_support.h"

namespace cairn {
namespace {

using Entry = std::optional<KeyEntry>;

struct ExpireFlags {
  bool nx = false, xx = false, gt = false, lt = false;
};

// Parses NX XX GT LT from argv[3..]; replies Redis's error and returns nullopt on a bad mix.
std::optional<ExpireFlags> parse_expire_flags(CommandContext& context) {
  ExpireFlags flags;
  for (size_t i = 3; i < context.argv.size(); i++) {
    const std::string_view option = context.argv[i];
    if (equals_ignore_case(option, "nx")) {
      flags.nx = true;
    } else if (equals_ignore_case(option, "xx")) {
      flags.xx = true;
    } else if (equals_ignore_case(option, "gt")) {
      flags.gt = true;
    } else if (equals_ignore_case(option, "lt")) {
      flags.lt = true;
    } else {
      context.reply.error("ERR Unsupported option " + std::string(option));
      return std::nullopt;
    }
  }
  if (flags.nx && (flags.xx || flags.gt || flags.lt)) {
    context.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return std::nullopt;
  }
  if (flags.gt && flags.lt) {
    context.reply.error("ERR GT and LT options at the same time are not compatible");
    return std::nullopt;
  }
  return flags;
}

// Whether the flags allow replacing `current` (0 = no TTL, i.e. infinite) with `when`.
bool flags_allow(const ExpireFlags& flags, uint64_t current, int64_t when) {
  if (flags.nx && current != 0) return false;
  if (flags.xx && current == 0) return false;
  if (flags.gt && (current == 0 || when <= static_cast<int64_t>(current))) return false;
  if (flags.lt && current != 0 && when >= static_cast<int64_t>(current)) return false;
  return true;
}

// The common body of the four EXPIRE commands (Redis's expireGenericCommand).
void expire_generic(CommandContext& context, bool seconds, bool relative, std::string_view name) {
  // Redis checks the options before the time.
  const std::optional<ExpireFlags> flags = parse_expire_flags(context);
  if (!flags.has_value()) return;
  const std::optional<int64_t> value = parse_integer_argument(context.reply, context.argv[2]);
  if (!value.has_value()) return;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  Keyspace& keyspace = keyspace_of(context);
  const auto now = static_cast<int64_t>(keyspace.now_ms());
  int64_t when = *value;
  const std::string invalid = "ERR invalid expire time in '" + std::string(name) + "' command";
  if (seconds) {
    if (when > kMax / 1000 || when < kMin / 1000) return context.reply.error(invalid);
    when *= 1000;
  }
  if (relative) {
    if (when > kMax - now) return context.reply.error(invalid);
    when += now;
  }
  const std::string_view key = context.argv[1];
  KeyLockGuard guard = keyspace.lock_key(key);
  Result<Entry> entry = keyspace.find(key, true, false);
  if (!entry.is_ok()) return reply_status(context.reply, entry.status());
  if (!entry->has_value()) return context.reply.integer(0);
  if (!flags_allow(*flags, (*entry)->trailer.expiry_ms, when)) return context.reply.integer(0);
  KeyspaceWrite write(keyspace);
  Status status;
  if (when <= now) {
    write.remove(key, **entry);  // a time in the past deletes the key (Redis replies 1)
  } else {
    status = write.put_entry(key, **entry, static_cast<uint64_t>(when), *entry);
  }
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(1);
}

void expire_command(CommandContext& context) { expire_generic(context, true, true, "expire"); }
void pexpire_command(CommandContext& context) { expire_generic(context, false, true, "pexpire"); }
void expireat_command(CommandContext& context) {
  expire_generic(context, true, false, "expireat");
}
void pexpireat_command(CommandContext& context) {
  expire_generic(context, false, false, "pexpireat");
}

// TTL family: -2 when absent, -1 without expiry; seconds are rounded as Redis does.
void ttl_generic(CommandContext& context, bool milliseconds, bool absolute) {
  Keyspace& keyspace = keyspace_of(context);
  Result<Entry> entry = keyspace.find(context.argv[1], false, false);
  if (!entry.is_ok()) return reply_status(context.reply, entry.status());
  if (!entry->has_value()) return context.reply.integer(-2);
  const uint64_t expiry = (*entry)->trailer.expiry_ms;
  if (expiry == 0) return context.reply.integer(-1);
  int64_t ttl = static_cast<int64_t>(expiry);
  if (!absolute) {
    ttl -= static_cast<int64_t>(keyspace.now_ms());
    if (ttl < 0) ttl = 0;
  }
  context.reply.integer(milliseconds ? ttl : (ttl + 500) / 1000);
}

void ttl_command(CommandContext& context) { ttl_generic(context, false, false); }
void pttl_command(CommandContext& context) { ttl_generic(context, true, false); }
void expiretime_command(CommandContext& context) { ttl_generic(context, false, true); }
void pexpiretime_command(CommandContext& context) { ttl_generic(context, true, true); }

void persist_command(CommandContext& context) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Result<Entry> entry = keyspace.find(key, true, false);
  if (!entry.is_ok()) return reply_status(context.reply, entry.status());
  if (!entry->has_value() || (*entry)->trailer.expiry_ms == 0) return context.reply.integer(0);
  KeyspaceWrite write(keyspace);
  Status status = write.put_entry(key, **entry, 0, *entry);
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(1);
}

constexpr uint32_t kWriteFast = kCommandWrite | kCommandFast;
constexpr uint32_t kReadFast = kCommandReadonly | kCommandFast;

const CommandSpec kExpireCommands[] = {
    {"expire", -3, kWriteFast, 1, 1, 1, "generic", "1.0.0",
     "Sets the expiration time of a key in seconds.", "O(1)", expire_command, {}},
    {"pexpire", -3, kWriteFast, 1, 1, 1, "generic", "2.6.0",
     "Sets the expiration time of a key in milliseconds.", "O(1)", pexpire_command, {}},
    {"expireat", -3, kWriteFast, 1, 1, 1, "generic", "1.2.0",
     "Sets the expiration time of a key to a Unix timestamp.", "O(1)", expireat_command, {}},
    {"pexpireat", -3, kWriteFast, 1, 1, 1, "generic", "2.6.0",
     "Sets the expiration time of a key to a Unix milliseconds timestamp.", "O(1)",
     pexpireat_command, {}},
    {"ttl", 2, kReadFast, 1, 1, 1, "generic", "1.0.0",
     "Returns the expiration time in seconds of a key.", "O(1)", ttl_command, {}},
    {"pttl", 2, kReadFast, 1, 1, 1, "generic", "2.6.0",
     "Returns the expiration time in milliseconds of a key.", "O(1)", pttl_command, {}},
    {"expiretime", 2, kReadFast, 1, 1, 1, "generic", "7.0.0",
     "Returns the expiration time of a key as a Unix timestamp.", "O(1)", expiretime_command, {}},
    {"pexpiretime", 2, kReadFast, 1, 1, 1, "generic", "7.0.0",
     "Returns the expiration time of a key as a Unix milliseconds timestamp.", "O(1)",
     pexpiretime_command, {}},
    {"persist", 2, kWriteFast, 1, 1, 1, "generic", "2.2.0",
     "Removes the expiration time of a key.", "O(1)", persist_command, {}},
};

}  // namespace

std::span<const CommandSpec> expire_commands() { return kExpireCommands; }

}  // namespace cairn
