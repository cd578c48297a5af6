// Hash commands (Redis 7 semantics): HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HEXISTS, HLEN,
// HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN. A hash is a
// collection (collection.h) whose elements are its fields, each valued with the field's value.
// Writers hold the key's lock from the read to the one-batch commit; readers of more than one
// field read at a snapshot.
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

#include "model/string_number.h"
#include "server/command_groups.h"
#include "server/collection_commands.h"
#include "server/command_support.h"
#include "server/keyspace_internal.h"

namespace cairn {
namespace {

constexpr RecordType kHash = RecordType::kHash;

// HSET key field value [field value ...] (replies the fields added) and HMSET (replies OK).
void hset_generic(CommandContext& context, std::string_view name) {
  if (context.argv.size() % 2 != 0) return reply_wrong_arity(context, name);
  for (size_t i = 2; i < context.argv.size(); i += 2) {
    const Status status = check_element(context.argv[i]);
    if (!status.is_ok()) return reply_status(context.reply, status);
  }
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kHash, true, &write)) return;
  KeyspaceWrite batch(keyspace);
  std::unordered_set<std::string_view> added;  // a field named twice is added once
  for (size_t i = 2; i < context.argv.size(); i += 2) {
    const std::string_view field = context.argv[i];
    bool exists = added.contains(field);
    if (!exists) {
      Result<bool> found = element_exists(keyspace, write, field);
      if (!found.is_ok()) return reply_status(context.reply, found.status());
      exists = *found;
    }
    if (exists) {
      write.collection->overwrite_element(batch, field, context.argv[i + 1]);
    } else {
      added.insert(field);
      write.collection->put_element(batch, field, context.argv[i + 1]);
    }
  }
  write.collection->meta().count += added.size();
  if (!commit_collection(context, batch, write)) return;
  if (name == "hmset") return context.reply.ok();
  context.reply.integer(static_cast<int64_t>(added.size()));
}
void hset_command(CommandContext& context) { hset_generic(context, "hset"); }
void hmset_command(CommandContext& context) { hset_generic(context, "hmset"); }

void hsetnx_command(CommandContext& context) {
  const std::string_view field = context.argv[2];
  const Status too_large = check_element(field);
  if (!too_large.is_ok()) return reply_status(context.reply, too_large);
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kHash, true, &write)) return;
  Result<bool> exists = element_exists(keyspace, write, field);
  if (!exists.is_ok()) return reply_status(context.reply, exists.status());
  if (*exists) return context.reply.integer(0);
  KeyspaceWrite batch(keyspace);
  write.collection->put_element(batch, field, context.argv[3]);
  write.collection->meta().count++;
  if (!commit_collection(context, batch, write)) return;
  context.reply.integer(1);
}

void hdel_command(CommandContext& context) { remove_elements(context, kHash); }

// The value of `field`, or nullopt when the hash or the field is absent. Replies the error (or
// WRONGTYPE) and returns false on failure.
bool read_field(CommandContext& context, std::string_view key, std::string_view field,
                std::optional<std::string>* value) {
  Keyspace& keyspace = keyspace_of(context);
  Result<FoundCollection> found = find_collection(keyspace, key, kHash, false);
  if (!collection_usable(context, found)) return false;
  value->reset();
  if (!found->collection.has_value()) return true;
  Result<std::optional<std::string>> read =
      keyspace.read_element(found->collection->element_key(field));
  if (!read.is_ok()) {
    reply_status(context.reply, read.status());
    return false;
  }
  *value = std::move(read).value();
  return true;
}

void hget_command(CommandContext& context) {
  std::optional<std::string> value;
  if (!read_field(context, context.argv[1], context.argv[2], &value)) return;
  if (!value.has_value()) return context.reply.null();
  context.reply.bulk_string(*value);
}

void hexists_command(CommandContext& context) {
  std::optional<std::string> value;
  if (!read_field(context, context.argv[1], context.argv[2], &value)) return;
  context.reply.integer(value.has_value() ? 1 : 0);
}

void hstrlen_command(CommandContext& context) {
  std::optional<std::string> value;
  if (!read_field(context, context.argv[1], context.argv[2], &value)) return;
  context.reply.integer(value.has_value() ? static_cast<int64_t>(value->size()) : 0);
}

void hmget_command(CommandContext& context) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], kHash, snapshot);
  if (!collection_usable(context, found)) return;
  std::vector<std::optional<std::string>> values;
  values.reserve(context.argv.size() - 2);
  for (size_t i = 2; i < context.argv.size(); i++) {
    if (!found->collection.has_value()) {
      values.emplace_back();
      continue;
    }
    Result<std::optional<std::string>> value =
        keyspace.read_element(found->collection->element_key(context.argv[i]), snapshot.get());
    if (!value.is_ok()) return reply_status(context.reply, value.status());
    values.push_back(std::move(value).value());
  }
  context.reply.array_header(values.size());
  for (const std::optional<std::string>& value : values) {
    if (value.has_value()) {
      context.reply.bulk_string(*value);
    } else {
      context.reply.null();
    }
  }
}

void hlen_command(CommandContext& context) {
  Result<FoundCollection> found = find_collection(keyspace_of(context), context.argv[1], kHash, false);
  if (!collection_usable(context, found)) return;
  context.reply.integer(
      found->collection.has_value() ? static_cast<int64_t>(found->collection->meta().count) : 0);
}

// HKEYS, HVALS and HGETALL: every field, value or both, read at a snapshot.
enum class HashParts { kFields, kValues, kBoth };

void reply_all(CommandContext& context, HashParts parts) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], kHash, snapshot);
  if (!collection_usable(context, found)) return;
  ElementValues fields;
  if (found->collection.has_value()) {
    Result<ElementValues> all = all_elements(keyspace, *found->collection, snapshot);
    if (!all.is_ok()) return reply_status(context.reply, all.status());
    fields = std::move(all).value();
  }
  if (parts == HashParts::kBoth) {
    context.reply.map_header(fields.size());
  } else {
    context.reply.array_header(fields.size());
  }
  for (const auto& [field, value] : fields) {
    if (parts != HashParts::kValues) context.reply.bulk_string(field);
    if (parts != HashParts::kFields) context.reply.bulk_string(value);
  }
}
void hkeys_command(CommandContext& context) { reply_all(context, HashParts::kFields); }
void hvals_command(CommandContext& context) { reply_all(context, HashParts::kValues); }
void hgetall_command(CommandContext& context) { reply_all(context, HashParts::kBoth); }

// HINCRBY and HINCRBYFLOAT: the field's value read and written under the key's lock; the new
// value is replied as an integer or as a bulk string.
enum class IncrementReply { kInteger, kBulk };

template <typename Compute>
void increment_field(CommandContext& context, IncrementReply reply, Compute&& compute) {
  const std::string_view key = context.argv[1];
  const std::string_view field = context.argv[2];
  const Status too_large = check_element(field);
  if (!too_large.is_ok()) return reply_status(context.reply, too_large);
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kHash, true, &write)) return;
  std::optional<std::string> old;
  if (write.found.collection.has_value()) {
    Result<std::optional<std::string>> read =
        keyspace.read_element(write.collection->element_key(field), nullptr, true);
    if (!read.is_ok()) return reply_status(context.reply, read.status());
    old = std::move(read).value();
  }
  // compute(old value or nullopt) -> the new value's text, or nullopt after replying an error.
  const std::optional<std::string> text = compute(old);
  if (!text.has_value()) return;
  KeyspaceWrite batch(keyspace);
  if (old.has_value()) {
    write.collection->overwrite_element(batch, field, *text);
  } else {
    write.collection->put_element(batch, field, *text);
    write.collection->meta().count++;
  }
  if (!commit_collection(context, batch, write)) return;
  if (reply == IncrementReply::kInteger) {
    context.reply.integer(*string_to_int64(*text));
  } else {
    context.reply.bulk_string(*text);
  }
}

void hincrby_command(CommandContext& context) {
  const std::optional<int64_t> delta = parse_integer_argument(context.reply, context.argv[3]);
  if (!delta.has_value()) return;
  increment_field(context, IncrementReply::kInteger,
                  [&](const std::optional<std::string>& old) -> std::optional<std::string> {
    int64_t value = 0;
    if (old.has_value()) {
      const std::optional<int64_t> parsed = string_to_int64(*old);
      if (!parsed.has_value()) {
        context.reply.error("ERR hash value is not an integer");
        return std::nullopt;
      }
      value = *parsed;
    }
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    if ((*delta < 0 && value < 0 && *delta < kMin - value) ||
        (*delta > 0 && value > 0 && *delta > kMax - value)) {
      context.reply.error("ERR increment or decrement would overflow");
      return std::nullopt;
    }
    return std::to_string(value + *delta);
  });
}

void hincrbyfloat_command(CommandContext& context) {
  const std::optional<long double> delta = string_to_long_double(context.argv[3]);
  if (!delta.has_value()) return context.reply.error("ERR value is not a valid float");
  if (std::isnan(*delta) || std::isinf(*delta)) {
    return context.reply.error("ERR value is NaN or Infinity");
  }
  increment_field(context, IncrementReply::kBulk,
                  [&](const std::optional<std::string>& old) -> std::optional<std::string> {
    long double value = 0;
    if (old.has_value()) {
      const std::optional<long double> parsed = string_to_long_double(*old);
      if (!parsed.has_value()) {
        context.reply.error("ERR hash value is not a float");
        return std::nullopt;
      }
      value = *parsed;
    }
    value += *delta;
    if (std::isnan(value) || std::isinf(value)) {
      context.reply.error("ERR increment would produce NaN or Infinity");
      return std::nullopt;
    }
    return format_long_double_human(value);
  });
}

// HRANDFIELD key [count [WITHVALUES]]
void hrandfield_command(CommandContext& context) {
  std::optional<RandomCount> count;
  bool with_values = false;
  if (context.argv.size() >= 3) {
    count = parse_random_count(context, context.argv[2]);
    if (!count.has_value()) return;
    if (context.argv.size() > 4 ||
        (context.argv.size() == 4 && !equals_ignore_case(context.argv[3], "withvalues"))) {
      return context.reply.error(kSyntaxError);
    }
    with_values = context.argv.size() == 4;
    // Redis bounds a count WITHVALUES to half the range (its reply has two entries per draw).
    constexpr auto kWithValuesMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 2);
    if (with_values && count->wanted > kWithValuesMax) {
      return context.reply.error("ERR value is out of range");
    }
  }
  const std::optional<ElementValues> picked =
      draw_random_elements(context, kHash, count, with_values);
  if (!picked.has_value()) return;
  const bool pairs = with_values && context.reply.version() == RespVersion::kResp3;
  context.reply.array_header(with_values && !pairs ? picked->size() * 2 : picked->size());
  for (const auto& [field, value] : *picked) {
    if (pairs) context.reply.array_header(2);
    context.reply.bulk_string(field);
    if (with_values) context.reply.bulk_string(value);
  }
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
void hscan_command(CommandContext& context) { scan_collection(context, kHash, ScanValues::kRaw); }

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kWriteGrows = kCommandWrite | kCommandDenyOom | kCommandFast;
constexpr uint32_t kRead = kCommandReadonly;
constexpr uint32_t kReadFast = kCommandReadonly | kCommandFast;

const CommandSpec kHashCommands[] = {
    {"hset", -4, kWriteGrows, 1, 1, 1, "hash", "2.0.0",
     "Creates or modifies the value of a field in a hash.",
     "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command "
     "is called with multiple field/value pairs.",
     hset_command, {}},
    {"hsetnx", 4, kWriteGrows, 1, 1, 1, "hash", "2.0.0",
     "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)",
     hsetnx_command, {}},
    {"hmset", -4, kWriteGrows, 1, 1, 1, "hash", "2.0.0",
     "Sets the values of multiple fields.", "O(N) where N is the number of fields being set.",
     hmset_command, {}},
    {"hget", 3, kReadFast, 1, 1, 1, "hash", "2.0.0", "Returns the value of a field in a hash.",
     "O(1)", hget_command, {}},
    {"hmget", -3, kReadFast, 1, 1, 1, "hash", "2.0.0",
     "Returns the values of all fields in a hash.",
     "O(N) where N is the number of fields being requested.", hmget_command, {}},
    {"hdel", -3, kWrite | kCommandFast, 1, 1, 1, "hash", "2.0.0",
     "Deletes one or more fields and their values from a hash. Deletes the hash if no fields "
     "remain.",
     "O(N) where N is the number of fields to be removed.", hdel_command, {}},
    {"hexists", 3, kReadFast, 1, 1, 1, "hash", "2.0.0",
     "Determines whether a field exists in a hash.", "O(1)", hexists_command, {}},
    {"hlen", 2, kReadFast, 1, 1, 1, "hash", "2.0.0", "Returns the number of fields in a hash.",
     "O(1)", hlen_command, {}},
    {"hstrlen", 3, kReadFast, 1, 1, 1, "hash", "3.2.0",
     "Returns the length of the value of a field.", "O(1)", hstrlen_command, {}},
    {"hkeys", 2, kRead, 1, 1, 1, "hash", "2.0.0", "Returns all fields in a hash.",
     "O(N) where N is the size of the hash.", hkeys_command, {}},
    {"hvals", 2, kRead, 1, 1, 1, "hash", "2.0.0", "Returns all values in a hash.",
     "O(N) where N is the size of the hash.", hvals_command, {}},
    {"hgetall", 2, kRead, 1, 1, 1, "hash", "2.0.0",
     "Returns all fields and values in a hash.", "O(N) where N is the size of the hash.",
     hgetall_command, {}},
    {"hincrby", 4, kWriteGrows, 1, 1, 1, "hash", "2.0.0",
     "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if "
     "the field doesn't exist.",
     "O(1)", hincrby_command, {}},
    {"hincrbyfloat", 4, kWriteGrows, 1, 1, 1, "hash", "2.6.0",
     "Increments the floating point value of a field by a number. Uses 0 as initial value if "
     "the field doesn't exist.",
     "O(1)", hincrbyfloat_command, {}},
    {"hrandfield", -2, kRead, 1, 1, 1, "hash", "6.2.0",
     "Returns one or more random fields from a hash.",
     "O(N) where N is the number of fields returned (Cairn: O(log size) per field drawn; one "
     "pass over the hash when |count| > size / 16).",
     hrandfield_command, {}},
    {"hscan", -3, kRead, 1, 1, 1, "hash", "2.8.0",
     "Iterates over fields and values of a hash.",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
     "cursor to return back to 0. N is the number of elements inside the collection.",
     hscan_command, {}},
};

}  // namespace

std::span<const CommandSpec> hash_commands() { return kHashCommands; }

}  // namespace cairn
