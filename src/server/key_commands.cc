// Generic key commands (Redis 7 semantics): DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, KEYS,
// SCAN, RANDOMKEY, TOUCH, COPY. Commands that change keys hold their locks (sorted stripes)
// from the read to the one-batch commit. DEL of a collection removes its record only: O(1)
// whatever its size. RENAME and COPY of a collection copy its elements (O(N)).
#include <string>
#include <unordered_set>
#include <vector>

#include "model/string_number.h"
#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/keyspace_internal.h"

namespace cairn {
namespace {

using Entry = std::optional<KeyEntry>;

std::vector<std::string_view> keys_from(CommandContext& context, size_t first) {
  return std::vector<std::string_view>(context.argv.begin() + static_cast<ptrdiff_t>(first),
                                       context.argv.end());
}

// DEL / UNLINK: removes every existing key in one batch; replies how many existed.
void del_command(CommandContext& context) {
  std::vector<std::string_view> keys = keys_from(context, 1);
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(keys);
  KeyspaceWrite write(keyspace);
  int64_t removed = 0;
  // DEL a a counts once. A hash set: a command may name a million keys.
  std::unordered_set<std::string_view> seen;
  seen.reserve(keys.size());
  for (std::string_view key : keys) {
    if (!seen.insert(key).second) continue;
    Result<Entry> entry = keyspace.find(key, true, false);
    if (!entry.is_ok()) return reply_status(context.reply, entry.status());
    if (!entry->has_value()) continue;
    write.remove(key, **entry);
    removed++;
  }
  const Status status = write.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(removed);
}

// EXISTS / TOUCH: counts existing keys, a key repeated counted each time.
void exists_command(CommandContext& context) {
  int64_t count = 0;
  for (size_t i = 1; i < context.argv.size(); i++) {
    Result<Entry> entry = keyspace_of(context).find(context.argv[i], false, false);
    if (!entry.is_ok()) return reply_status(context.reply, entry.status());
    if (entry->has_value()) count++;
  }
  context.reply.integer(count);
}

void type_command(CommandContext& context) {
  Result<std::optional<KeyDescription>> description =
      keyspace_of(context).describe(context.argv[1]);
  if (!description.is_ok()) return reply_status(context.reply, description.status());
  context.reply.simple_string(description->has_value() ? (*description)->type : "none");
}

// Puts a copy of `source`'s value (`from`, with its TTL) at `target` (whose live entry is `to`)
// into `write`. A string's record is copied; a collection's elements are copied to a new
// generation first (copy_collection), so that the batch carries only the target's record.
// REQUIRES: both keys' locks held.
Status put_copy(Keyspace& keyspace, KeyspaceWrite& write, std::string_view source,
                const KeyEntry& from, std::string_view target, const Entry& to) {
  if (!is_collection(from.type())) return write.put_entry(target, from, from.trailer.expiry_ms, to);
  CAIRN_ASSIGN_OR_RETURN(const FoundCollection found,
                         find_collection(keyspace, source, from.type(), true));
  if (!found.collection.has_value()) return Status::corruption("collection vanished under its lock");
  CAIRN_RETURN_IF_ERROR(check_user_key(target));
  CAIRN_ASSIGN_OR_RETURN(const Collection copy,
                         copy_collection(keyspace, *found.collection, target, from.trailer.expiry_ms));
  return write.put_collection(target, copy.type(), copy.meta(), copy.expiry_ms(), to);
}

// RENAME / RENAMENX: the value (and its TTL) moves in one batch.
void rename_generic(CommandContext& context, bool only_if_absent) {
  const std::string_view source = context.argv[1];
  const std::string_view target = context.argv[2];
  Keyspace& keyspace = keyspace_of(context);
  const std::string_view keys[2] = {source, target};
  KeyLockGuard guard = keyspace.lock_keys(keys);
  Result<Entry> from = keyspace.find(source, true, false);
  if (!from.is_ok()) return reply_status(context.reply, from.status());
  if (!from->has_value()) return context.reply.error("ERR no such key");
  if (source == target) {
    if (only_if_absent) return context.reply.integer(0);
    return context.reply.ok();
  }
  Result<Entry> to = keyspace.find(target, true, false);
  if (!to.is_ok()) return reply_status(context.reply, to.status());
  if (only_if_absent && to->has_value()) return context.reply.integer(0);
  KeyspaceWrite write(keyspace);
  Status status = put_copy(keyspace, write, source, **from, target, *to);
  if (status.is_ok()) {
    write.remove(source, **from);
    status = write.commit();
  }
  if (!status.is_ok()) return reply_status(context.reply, status);
  if (only_if_absent) {
    context.reply.integer(1);
  } else {
    context.reply.ok();
  }
}
void rename_command(CommandContext& context) { rename_generic(context, false); }
void renamenx_command(CommandContext& context) { rename_generic(context, true); }

void keys_command(CommandContext& context) {
  Result<std::vector<std::string>> keys = keyspace_of(context).keys(context.argv[1]);
  if (!keys.is_ok()) return reply_status(context.reply, keys.status());
  context.reply.array_header(keys->size());
  for (const std::string& key : *keys) context.reply.bulk_string(key);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void scan_command(CommandContext& context) {
  const std::optional<uint64_t> cursor = parse_scan_cursor(context.reply, context.argv[1]);
  if (!cursor.has_value()) return;
  const std::optional<ScanOptions> options = parse_scan_options(context, 2, true);
  if (!options.has_value()) return;
  Result<Keyspace::ScanPage> page = keyspace_of(context).scan(*cursor, options->pattern,
                                                              options->count, options->type_lower);
  if (!page.is_ok()) return reply_status(context.reply, page.status());
  context.reply.array_header(2);
  context.reply.bulk_string(std::to_string(page->cursor));
  context.reply.array_header(page->keys.size());
  for (const std::string& key : page->keys) context.reply.bulk_string(key);
}

void randomkey_command(CommandContext& context) {
  Result<std::optional<std::string>> key = keyspace_of(context).random_key();
  if (!key.is_ok()) return reply_status(context.reply, key.status());
  if (!key->has_value()) return context.reply.null();
  context.reply.bulk_string(**key);
}

// COPY source destination [DB destination-db] [REPLACE]
void copy_command(CommandContext& context) {
  bool replace = false;
  for (size_t i = 3; i < context.argv.size(); i++) {
    if (equals_ignore_case(context.argv[i], "replace")) {
      replace = true;
    } else if (equals_ignore_case(context.argv[i], "db") && i + 1 < context.argv.size()) {
      const std::optional<int64_t> db = parse_integer_argument(context.reply, context.argv[++i]);
      if (!db.has_value()) return;
      if (*db != 0) return context.reply.error("ERR DB index is out of range");
    } else {
      return context.reply.error(kSyntaxError);
    }
  }
  const std::string_view source = context.argv[1];
  const std::string_view target = context.argv[2];
  if (source == target) {
    return context.reply.error("ERR source and destination objects are the same");
  }
  Keyspace& keyspace = keyspace_of(context);
  const std::string_view keys[2] = {source, target};
  KeyLockGuard guard = keyspace.lock_keys(keys);
  Result<Entry> from = keyspace.find(source, true, false);
  if (!from.is_ok()) return reply_status(context.reply, from.status());
  if (!from->has_value()) return context.reply.integer(0);
  Result<Entry> to = keyspace.find(target, true, false);
  if (!to.is_ok()) return reply_status(context.reply, to.status());
  if (to->has_value() && !replace) return context.reply.integer(0);
  KeyspaceWrite write(keyspace);
  Status status = put_copy(keyspace, write, source, **from, target, *to);
  if (status.is_ok()) status = write.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(1);
}

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kRead = kCommandReadonly;
constexpr uint32_t kFast = kCommandFast;

const CommandSpec kKeyCommands[] = {
    {"del", -2, kWrite, 1, -1, 1, "generic", "1.0.0", "Deletes one or more keys.",
     "O(N) where N is the number of keys that will be removed.", del_command, {}},
    {"unlink", -2, kWrite | kFast, 1, -1, 1, "generic", "4.0.0",
     "Asynchronously deletes one or more keys.",
     "O(1) for each key removed regardless of its size.", del_command, {}},
    {"exists", -2, kRead | kFast, 1, -1, 1, "generic", "1.0.0",
     "Determines whether one or more keys exist.",
     "O(N) where N is the number of keys to check.", exists_command, {}},
    {"type", 2, kRead | kFast, 1, 1, 1, "generic", "1.0.0",
     "Determines the type of value stored at a key.", "O(1)", type_command, {}},
    {"rename", 3, kWrite, 1, 2, 1, "generic", "1.0.0",
     "Renames a key and overwrites the destination.",
     "O(1) for a string; O(N) for a collection of N elements in Cairn, which copies them.",
     rename_command, {}},
    {"renamenx", 3, kWrite | kFast, 1, 2, 1, "generic", "1.0.0",
     "Renames a key only when the target key name doesn't exist.",
     "O(1) for a string; O(N) for a collection of N elements in Cairn, which copies them.",
     renamenx_command, {}},
    {"keys", 2, kRead, 0, 0, 0, "generic", "1.0.0", "Returns all key names that match a pattern.",
     "O(N) with N being the number of keys in the database, under the assumption that the key "
     "names in the database and the given pattern have limited length.",
     keys_command, {}},
    {"scan", -2, kRead, 0, 0, 0, "generic", "2.8.0", "Iterates over the key names in the database.",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
     "cursor to return back to 0. N is the number of elements inside the collection.",
     scan_command, {}},
    {"randomkey", 1, kRead, 0, 0, 0, "generic", "1.0.0",
     "Returns a random key name from the database.", "O(1)", randomkey_command, {}},
    {"touch", -2, kRead | kFast, 1, -1, 1, "generic", "3.2.1",
     "Returns the number of existing keys out of those specified after updating the time they "
     "were last accessed.",
     "O(N) where N is the number of keys that will be touched.", exists_command, {}},
    {"copy", -3, kWrite | kCommandDenyOom, 1, 2, 1, "generic", "6.2.0", "Copies the value of a key to a new key.",
     "O(N) worst case for collections, where N is the number of nested items. O(1) for string "
     "values.",
     copy_command, {}},
};

}  // namespace

std::span<const CommandSpec> key_commands() { return kKeyCommands; }

}  // namespace cairn
