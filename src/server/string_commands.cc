// String commands (Redis 7 semantics): SET and its variants, GET and its variants, MGET/MSET,
// APPEND, STRLEN, GETRANGE/SETRANGE. The counters (INCR family) are in counter_commands.cc.
// Read-modify-write commands hold their keys' locks from the read to the commit.
#include <algorithm>
#include <string>

#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/counter_commands.h"
#include "server/streamed_value.h"

namespace cairn {
namespace {

using Entry = std::optional<KeyEntry>;

// Reads `key` under its lock; replies the error and returns false on failure.
bool find_locked(CommandContext& context, std::string_view key, Entry* entry) {
  // A write path: Redis counts keyspace hits and misses only for reads.
  Result<Entry> found = keyspace_of(context).find(key, true, false);
  if (!found.is_ok()) {
    reply_status(context.reply, found.status());
    return false;
  }
  *entry = std::move(found).value();
  return true;
}

bool commit(CommandContext& context, KeyspaceWrite& write) {
  const Status status = write.commit();
  if (!status.is_ok()) reply_status(context.reply, status);
  return status.is_ok();
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]; the value may be streamed.
void set_command(CommandContext& context) {
  const std::optional<StringOptions> options =
      parse_string_options(context, 3, StringCommandKind::kSet);
  if (!options.has_value()) return;
  const std::optional<uint64_t> expiry = resolve_expiry(context, *options, "set");
  if (!expiry.has_value()) return;
  StreamedValue* streamed = context.streamed_value;
  if (streamed != nullptr && !streamed->error().is_ok()) {
    reply_status(context.reply, streamed->error());
    return;
  }
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Entry old;
  // A plain SET needs nothing of the old record: it is overwritten, and an expiry index entry it
  // had becomes stale, which active expiry discards (docs/keyspace-format.md). One lookup saved.
  const bool plain = !options->nx && !options->xx && !options->get && !options->keepttl;
  if (!plain && !find_locked(context, key, &old)) return;
  if (options->get && old.has_value() && !is_string(*old)) {
    context.reply.error(kWrongTypeError);
    return;
  }
  const bool skip = (options->nx && old.has_value()) || (options->xx && !old.has_value());
  const uint64_t expiry_ms = options->keepttl && old.has_value() ? old->trailer.expiry_ms : *expiry;
  if (!skip) {
    Status status;
    if (streamed != nullptr) {
      status = streamed->commit(expiry_ms, old);
    } else {
      KeyspaceWrite write(keyspace);
      status = write.put_string(key, context.argv[2], expiry_ms, old);
      if (status.is_ok()) status = write.commit();
    }
    if (!status.is_ok()) {
      reply_status(context.reply, status);
      return;
    }
  }
  if (options->get) {
    if (old.has_value()) {
      reply_payload(context, *old);
    } else {
      context.reply.null();
    }
  } else if (skip) {
    context.reply.null();
  } else {
    context.reply.ok();
  }
}

// Sets argv[1] to `value` with `expiry_ms` unless `only_if_absent` and it exists; returns
// whether it was set (replies errors itself, returning nullopt).
std::optional<bool> set_simple(CommandContext& context, std::string_view value,
                               uint64_t expiry_ms, bool only_if_absent) {
  const std::string_view key = context.argv[1];
  KeyLockGuard guard = keyspace_of(context).lock_key(key);
  Entry old;
  if (!find_locked(context, key, &old)) return std::nullopt;
  if (only_if_absent && old.has_value()) return false;
  KeyspaceWrite write(keyspace_of(context));
  const Status status = write.put_string(key, value, expiry_ms, old);
  if (!status.is_ok()) {
    reply_status(context.reply, status);
    return std::nullopt;
  }
  if (!commit(context, write)) return std::nullopt;
  return true;
}

void setnx_command(CommandContext& context) {
  const std::optional<bool> set = set_simple(context, context.argv[2], 0, true);
  if (set.has_value()) context.reply.integer(*set ? 1 : 0);
}

void setex_generic(CommandContext& context, int64_t unit_ms, std::string_view name) {
  const std::optional<uint64_t> expiry = relative_expiry(context, context.argv[2], unit_ms, name);
  if (!expiry.has_value()) return;
  if (set_simple(context, context.argv[3], *expiry, false).has_value()) context.reply.ok();
}
void setex_command(CommandContext& context) { setex_generic(context, 1000, "setex"); }
void psetex_command(CommandContext& context) { setex_generic(context, 1, "psetex"); }

void get_command(CommandContext& context) {
  Result<Entry> entry = keyspace_of(context).find(context.argv[1], false);
  if (!entry.is_ok()) return reply_status(context.reply, entry.status());
  if (!entry->has_value()) return context.reply.null();
  if (!is_string(**entry)) return context.reply.error(kWrongTypeError);
  reply_payload(context, **entry);
}

// GETSET key value: SET key value GET (the TTL is dropped).
void getset_command(CommandContext& context) {
  const std::string_view key = context.argv[1];
  KeyLockGuard guard = keyspace_of(context).lock_key(key);
  Entry old;
  if (!find_locked(context, key, &old)) return;
  if (old.has_value() && !is_string(*old)) return context.reply.error(kWrongTypeError);
  // Open the old value's reader before it is overwritten.
  const size_t mark = context.reply.buffer().size();
  if (old.has_value()) reply_payload(context, *old);
  KeyspaceWrite write(keyspace_of(context));
  Status status = write.put_string(key, context.argv[2], 0, old);
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) {
    context.reply.buffer().resize(mark);
    context.reply_body.reset();
    return reply_status(context.reply, status);
  }
  if (!old.has_value()) context.reply.null();
}

void getdel_command(CommandContext& context) {
  const std::string_view key = context.argv[1];
  KeyLockGuard guard = keyspace_of(context).lock_key(key);
  Entry old;
  if (!find_locked(context, key, &old)) return;
  if (!old.has_value()) return context.reply.null();
  if (!is_string(*old)) return context.reply.error(kWrongTypeError);
  const size_t mark = context.reply.buffer().size();
  reply_payload(context, *old);
  KeyspaceWrite write(keyspace_of(context));
  write.remove(key, *old);
  const Status status = write.commit();
  if (!status.is_ok()) {
    context.reply.buffer().resize(mark);
    context.reply_body.reset();
    reply_status(context.reply, status);
  }
}

// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
void getex_command(CommandContext& context) {
  const std::optional<StringOptions> options =
      parse_string_options(context, 2, StringCommandKind::kGetex);
  if (!options.has_value()) return;
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Entry old;
  if (!find_locked(context, key, &old)) return;
  if (!old.has_value()) return context.reply.null();
  if (!is_string(*old)) return context.reply.error(kWrongTypeError);
  // As Redis: the expiry is validated only once the key is known to exist.
  const std::optional<uint64_t> expiry = resolve_expiry(context, *options, "getex");
  if (!expiry.has_value()) return;
  const size_t mark = context.reply.buffer().size();
  reply_payload(context, *old);
  const bool change_expiry = options->expire_kind != StringOptions::Expire::kNone;
  KeyspaceWrite write(keyspace);
  Status status;
  if (change_expiry && *expiry <= keyspace.now_ms()) {
    write.remove(key, *old);  // an expiry in the past deletes the key, as Redis does
  } else if (change_expiry || (options->persist && old->trailer.expiry_ms != 0)) {
    status = write.put_entry(key, *old, change_expiry ? *expiry : 0, old);
  }
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) {
    context.reply.buffer().resize(mark);
    context.reply_body.reset();
    reply_status(context.reply, status);
  }
}

void mget_command(CommandContext& context) {
  context.reply.array_header(context.argv.size() - 1);
  for (size_t i = 1; i < context.argv.size(); i++) {
    Result<Entry> entry = keyspace_of(context).find(context.argv[i], false);
    if (!entry.is_ok() || !entry->has_value() || !is_string(**entry)) {
      context.reply.null();
    } else {
      reply_payload_buffered(context, **entry);
    }
  }
}

// MSET / MSETNX: every pair in one batch under all the keys' locks.
void mset_generic(CommandContext& context, bool only_if_none_exist) {
  if (context.argv.size() % 2 == 0) {
    std::string name(context.argv[0]);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return context.reply.error("ERR wrong number of arguments for '" + name + "' command");
  }
  std::vector<std::string_view> keys;
  for (size_t i = 1; i < context.argv.size(); i += 2) keys.push_back(context.argv[i]);
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(keys);
  // As for a plain SET, MSET needs nothing of the old records (a stale expiry index entry is
  // discarded by active expiry when its time comes); MSETNX reads them to decide.
  std::vector<Entry> olds(keys.size());
  for (size_t k = 0; only_if_none_exist && k < keys.size(); k++) {
    if (!find_locked(context, keys[k], &olds[k])) return;
    if (olds[k].has_value()) return context.reply.integer(0);
  }
  KeyspaceWrite write(keyspace);
  for (size_t k = 0; k < keys.size(); k++) {
    // A key repeated in the command: its later value wins, and its old entry was read once.
    const Status status = write.put_string(keys[k], context.argv[2 * k + 2], 0, olds[k]);
    if (!status.is_ok()) return reply_status(context.reply, status);
  }
  if (!commit(context, write)) return;
  if (only_if_none_exist) {
    context.reply.integer(1);
  } else {
    context.reply.ok();
  }
}
void mset_command(CommandContext& context) { mset_generic(context, false); }
void msetnx_command(CommandContext& context) { mset_generic(context, true); }

void append_command(CommandContext& context) {
  const std::string_view key = context.argv[1];
  const std::string_view tail = context.argv[2];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Entry old;
  if (!find_locked(context, key, &old)) return;
  if (old.has_value() && !is_string(*old)) return context.reply.error(kWrongTypeError);
  const uint64_t old_bytes = old.has_value() ? old->payload_bytes : 0;
  if (old_bytes + tail.size() > keyspace.string_bytes_max()) {
    return context.reply.error(kStringTooLongError);
  }
  std::string value;
  if (old.has_value()) {
    Result<std::string> payload = keyspace.read_payload(*old);
    if (!payload.is_ok()) return reply_status(context.reply, payload.status());
    value = std::move(payload).value();
  }
  value.append(tail);
  KeyspaceWrite write(keyspace);
  const Status status =
      write.put_string(key, value, old.has_value() ? old->trailer.expiry_ms : 0, old);
  if (!status.is_ok()) return reply_status(context.reply, status);
  if (commit(context, write)) context.reply.integer(static_cast<int64_t>(value.size()));
}

void strlen_command(CommandContext& context) {
  Result<Entry> entry = keyspace_of(context).find(context.argv[1], false);
  if (!entry.is_ok()) return reply_status(context.reply, entry.status());
  if (!entry->has_value()) return context.reply.integer(0);
  if (!is_string(**entry)) return context.reply.error(kWrongTypeError);
  context.reply.integer(static_cast<int64_t>((*entry)->payload_bytes));
}

// GETRANGE key start end (SUBSTR): inclusive, negative counts from the end.
void getrange_command(CommandContext& context) {
  const std::optional<int64_t> start_arg = parse_integer_argument(context.reply, context.argv[2]);
  if (!start_arg.has_value()) return;
  const std::optional<int64_t> end_arg = parse_integer_argument(context.reply, context.argv[3]);
  if (!end_arg.has_value()) return;
  Result<Entry> entry = keyspace_of(context).find(context.argv[1], false);
  if (!entry.is_ok()) return reply_status(context.reply, entry.status());
  if (!entry->has_value()) return context.reply.bulk_string("");
  if (!is_string(**entry)) return context.reply.error(kWrongTypeError);
  int64_t start = *start_arg;
  int64_t end = *end_arg;
  if (start < 0 && end < 0 && start > end) return context.reply.bulk_string("");
  const auto length = static_cast<int64_t>((*entry)->payload_bytes);
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length == 0) return context.reply.bulk_string("");
  Result<std::string> bytes = keyspace_of(context).read_payload_range(
      **entry, static_cast<uint64_t>(start), static_cast<uint64_t>(end - start + 1));
  if (!bytes.is_ok()) return reply_status(context.reply, bytes.status());
  context.reply.bulk_string(*bytes);
}

// SETRANGE key offset value: zero-pads as needed; the TTL stays.
void setrange_command(CommandContext& context) {
  const std::optional<int64_t> offset = parse_integer_argument(context.reply, context.argv[2]);
  if (!offset.has_value()) return;
  if (*offset < 0) return context.reply.error("ERR offset is out of range");
  const std::string_view key = context.argv[1];
  const std::string_view patch = context.argv[3];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  Entry old;
  if (!find_locked(context, key, &old)) return;
  if (old.has_value() && !is_string(*old)) return context.reply.error(kWrongTypeError);
  const uint64_t old_bytes = old.has_value() ? old->payload_bytes : 0;
  if (patch.empty()) return context.reply.integer(static_cast<int64_t>(old_bytes));
  const auto end = static_cast<uint64_t>(*offset) + patch.size();
  if (end > keyspace.string_bytes_max()) return context.reply.error(kStringTooLongError);
  std::string value;
  if (old.has_value()) {
    Result<std::string> payload = keyspace.read_payload(*old);
    if (!payload.is_ok()) return reply_status(context.reply, payload.status());
    value = std::move(payload).value();
  }
  if (value.size() < end) value.resize(end, '\0');
  value.replace(static_cast<size_t>(*offset), patch.size(), patch);
  KeyspaceWrite write(keyspace);
  const Status status =
      write.put_string(key, value, old.has_value() ? old->trailer.expiry_ms : 0, old);
  if (!status.is_ok()) return reply_status(context.reply, status);
  if (commit(context, write)) context.reply.integer(static_cast<int64_t>(value.size()));
}

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kDenyOom = kCommandDenyOom;
constexpr uint32_t kFast = kCommandFast;
constexpr uint32_t kRead = kCommandReadonly;

const CommandSpec kStringCommands[] = {
    {"set", -3, kWrite | kDenyOom, 1, 1, 1, "string", "1.0.0",
     "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
     "O(1)", set_command, {}},
    {"get", 2, kRead | kFast, 1, 1, 1, "string", "1.0.0", "Returns the string value of a key.",
     "O(1)", get_command, {}},
    {"getset", 3, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "1.0.0",
     "Returns the previous string value of a key after setting it to a new value.", "O(1)",
     getset_command, {}},
    {"getdel", 2, kWrite | kFast, 1, 1, 1, "string", "6.2.0",
     "Returns the string value of a key after deleting the key.", "O(1)", getdel_command, {}},
    {"getex", -2, kWrite | kFast, 1, 1, 1, "string", "6.2.0",
     "Returns the string value of a key after setting its expiration time.", "O(1)",
     getex_command, {}},
    {"mget", -2, kRead | kFast, 1, -1, 1, "string", "1.0.0",
     "Atomically returns the string values of one or more keys.",
     "O(N) where N is the number of keys to retrieve.", mget_command, {}},
    {"mset", -3, kWrite | kDenyOom, 1, -1, 2, "string", "1.0.1",
     "Atomically creates or modifies the string values of one or more keys.",
     "O(N) where N is the number of keys to set.", mset_command, {}},
    {"msetnx", -3, kWrite | kDenyOom, 1, -1, 2, "string", "1.0.1",
     "Atomically modifies the string values of one or more keys only when all keys don't exist.",
     "O(N) where N is the number of keys to set.", msetnx_command, {}},
    {"setnx", 3, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "1.0.0",
     "Set the string value of a key only when the key doesn't exist.", "O(1)", setnx_command, {}},
    {"setex", 4, kWrite | kDenyOom, 1, 1, 1, "string", "2.0.0",
     "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
     "O(1)", setex_command, {}},
    {"psetex", 4, kWrite | kDenyOom, 1, 1, 1, "string", "2.6.0",
     "Sets both string value and expiration time in milliseconds of a key. The key is created "
     "if it doesn't exist.",
     "O(1)", psetex_command, {}},
    {"append", 3, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "2.0.0",
     "Appends a string to the value of a key. Creates the key if it doesn't exist.",
     "O(1). The amortized time complexity is O(1) assuming the appended value is small and the "
     "already present value is of any size, since the dynamic string library used by Redis will "
     "double the free space available on every reallocation.",
     append_command, {}},
    {"strlen", 2, kRead | kFast, 1, 1, 1, "string", "2.2.0",
     "Returns the length of a string value.", "O(1)", strlen_command, {}},
    {"getrange", 4, kRead, 1, 1, 1, "string", "2.4.0",
     "Returns a substring of the string stored at a key.",
     "O(N) where N is the length of the returned string. The complexity is ultimately "
     "determined by the returned length, but because creating a substring from an existing "
     "string is very cheap, it can be considered O(1) for small strings.",
     getrange_command, {}},
    {"substr", 4, kRead, 1, 1, 1, "string", "1.0.0",
     "Returns a substring from a string value.",
     "O(N) where N is the length of the returned string. The complexity is ultimately "
     "determined by the returned length, but because creating a substring from an existing "
     "string is very cheap, it can be considered O(1) for small strings.",
     getrange_command, {}},
    {"setrange", 4, kWrite | kDenyOom, 1, 1, 1, "string", "2.2.0",
     "Overwrites a part of a string value with another by an offset. Creates the key if it "
     "doesn't exist.",
     "O(1), not counting the time taken to copy the new string in place. Usually, this string "
     "is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M "
     "being the length of the value argument.",
     setrange_command, {}},
    {"incr", 2, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "1.0.0",
     "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't "
     "exist.",
     "O(1)", incr_command, {}},
    {"decr", 2, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "1.0.0",
     "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't "
     "exist.",
     "O(1)", decr_command, {}},
    {"incrby", 3, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "1.0.0",
     "Increments the integer value of a key by a number. Uses 0 as initial value if the key "
     "doesn't exist.",
     "O(1)", incrby_command, {}},
    {"decrby", 3, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "1.0.0",
     "Decrements a number from the integer value of a key. Uses 0 as initial value if the key "
     "doesn't exist.",
     "O(1)", decrby_command, {}},
    {"incrbyfloat", 3, kWrite | kDenyOom | kFast, 1, 1, 1, "string", "2.6.0",
     "Increment the floating point value of a key by a number. Uses 0 as initial value if the "
     "key doesn't exist.",
     "O(1)", incrbyfloat_command, {}},
};

}  // namespace

std::span<const CommandSpec> string_commands() { return kStringCommands; }

}  // namespace cairn
