// Set commands (Redis 7 semantics): SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP,
// SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SUNION, SDIFF, SINTERSTORE, SUNIONSTORE, SDIFFSTORE,
// SSCAN. A set is a collection (collection.h) whose elements are its members, with empty values.
// Writers hold their keys' locks from the read to the commit; readers of more than one element
// read at a snapshot. Intersections and differences walk one set and look members up in the
// others; a union gathers every member in memory (its size is the reply's).
#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/assert.h"
#include "model/string_number.h"
#include "server/collection_commands.h"
#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/keyspace_internal.h"

namespace cairn {
namespace {

constexpr RecordType kSet = RecordType::kSet;

// Replies `members` as a set (RESP3 "~"; RESP2 an array).
template <typename Members>
void reply_set(CommandContext& context, const Members& members) {
  context.reply.set_header(members.size());
  for (const auto& member : members) context.reply.bulk_string(member);
}

void sadd_command(CommandContext& context) {
  for (size_t i = 2; i < context.argv.size(); i++) {
    const Status status = check_element(context.argv[i]);
    if (!status.is_ok()) return reply_status(context.reply, status);
  }
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kSet, true, &write)) return;
  KeyspaceWrite batch(keyspace);
  std::unordered_set<std::string_view> added;
  for (size_t i = 2; i < context.argv.size(); i++) {
    const std::string_view member = context.argv[i];
    if (added.contains(member)) continue;
    Result<bool> exists = element_exists(keyspace, write, member);
    if (!exists.is_ok()) return reply_status(context.reply, exists.status());
    if (*exists) continue;
    added.insert(member);
    write.collection->put_element(batch, member, "");
  }
  if (added.empty()) return context.reply.integer(0);
  write.collection->meta().count += added.size();
  if (!commit_collection(context, batch, write)) return;
  context.reply.integer(static_cast<int64_t>(added.size()));
}

void srem_command(CommandContext& context) { remove_elements(context, kSet); }

// Whether each of argv[first..] is a member of the set at argv[1] (absent key: none is).
// Replies the error (or WRONGTYPE) and returns false on failure.
bool members_present(CommandContext& context, size_t first, std::vector<bool>* present) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], kSet, snapshot);
  if (!collection_usable(context, found)) return false;
  for (size_t i = first; i < context.argv.size(); i++) {
    if (!found->collection.has_value()) {
      present->push_back(false);
      continue;
    }
    Result<std::optional<std::string>> value =
        keyspace.read_element(found->collection->element_key(context.argv[i]), snapshot.get());
    if (!value.is_ok()) {
      reply_status(context.reply, value.status());
      return false;
    }
    present->push_back(value->has_value());
  }
  return true;
}

void sismember_command(CommandContext& context) {
  std::vector<bool> present;
  if (!members_present(context, 2, &present)) return;
  context.reply.integer(present[0] ? 1 : 0);
}

void smismember_command(CommandContext& context) {
  std::vector<bool> present;
  if (!members_present(context, 2, &present)) return;
  context.reply.array_header(present.size());
  for (const bool is_member : present) context.reply.integer(is_member ? 1 : 0);
}

void scard_command(CommandContext& context) {
  Result<FoundCollection> found = find_collection(keyspace_of(context), context.argv[1], kSet, false);
  if (!collection_usable(context, found)) return;
  context.reply.integer(
      found->collection.has_value() ? static_cast<int64_t>(found->collection->meta().count) : 0);
}

// ---- Set algebra ------------------------------------------------------------------------------

enum class SetOperation { kUnion, kIntersection, kDifference };

// The sets at `keys` as of `snapshot`: nullopt for an absent key. Replies the error (or
// WRONGTYPE: every key is checked before any set is read, as Redis does) and returns false.
bool find_sets(CommandContext& context, std::span<const std::string_view> keys,
               const KeyspaceSnapshot& snapshot, std::vector<std::optional<Collection>>* sets) {
  for (const std::string_view key : keys) {
    Result<FoundCollection> found = find_collection_at(keyspace_of(context), key, kSet, snapshot);
    if (!collection_usable(context, found)) return false;
    sets->push_back(std::move(found->collection));
  }
  return true;
}

// Whether `member` is in `set` as of `snapshot`.
Result<bool> contains(Keyspace& keyspace, const Collection& set, std::string_view member,
                      const KeyspaceSnapshot& snapshot) {
  CAIRN_ASSIGN_OR_RETURN(const std::optional<std::string> value,
                         keyspace.read_element(set.element_key(member), snapshot.get()));
  return value.has_value();
}

// The members of the operation over `sets` (absent sets are empty), sorted; an intersection
// stops after `limit` members when limit > 0.
Result<std::vector<std::string>> combine(Keyspace& keyspace,
                                         const std::vector<std::optional<Collection>>& sets,
                                         SetOperation operation, const KeyspaceSnapshot& snapshot,
                                         uint64_t limit = 0) {
  std::vector<std::string> out;
  if (operation == SetOperation::kUnion) {
    std::set<std::string> members;
    for (const std::optional<Collection>& set : sets) {
      if (!set.has_value()) continue;
      ElementIterator it(keyspace, *set, &snapshot);
      for (it.seek(""); it.valid(); it.next()) members.emplace(it.element());
      CAIRN_RETURN_IF_ERROR(it.status());
    }
    return std::vector<std::string>(members.begin(), members.end());
  }
  // An intersection walks its smallest set; a difference its first.
  std::vector<const Collection*> others;
  const Collection* walked = nullptr;
  for (size_t i = 0; i < sets.size(); i++) {
    if (!sets[i].has_value()) {
      if (operation == SetOperation::kIntersection || i == 0) return out;  // empty
      continue;
    }
    others.push_back(&*sets[i]);
  }
  if (operation == SetOperation::kIntersection) {
    std::sort(others.begin(), others.end(), [](const Collection* a, const Collection* b) {
      return a->meta().count < b->meta().count;
    });
  }
  walked = others.front();
  others.erase(others.begin());
  ElementIterator it(keyspace, *walked, &snapshot);
  for (it.seek(""); it.valid(); it.next()) {
    bool keep = true;
    for (const Collection* other : others) {
      if (other->key() == walked->key()) {  // the same set named twice
        keep = operation == SetOperation::kIntersection;
      } else {
        CAIRN_ASSIGN_OR_RETURN(const bool found, contains(keyspace, *other, it.element(), snapshot));
        keep = found == (operation == SetOperation::kIntersection);
      }
      if (!keep) break;
    }
    if (!keep) continue;
    out.emplace_back(it.element());
    if (limit > 0 && out.size() == limit) break;
  }
  CAIRN_RETURN_IF_ERROR(it.status());
  return out;
}

// SINTER / SUNION / SDIFF key [key ...]
void set_operation_reply(CommandContext& context, SetOperation operation) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  std::vector<std::optional<Collection>> sets;
  if (!find_sets(context, context.argv.subspan(1), snapshot, &sets)) return;
  Result<std::vector<std::string>> members = combine(keyspace, sets, operation, snapshot);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  reply_set(context, *members);
}
void sinter_command(CommandContext& context) {
  set_operation_reply(context, SetOperation::kIntersection);
}
void sunion_command(CommandContext& context) { set_operation_reply(context, SetOperation::kUnion); }
void sdiff_command(CommandContext& context) {
  set_operation_reply(context, SetOperation::kDifference);
}

// SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]: the destination, of any
// type, is replaced by the result (removed when it is empty). Every key is locked.
void set_operation_store(CommandContext& context, SetOperation operation) {
  const std::string_view destination = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(context.argv.subspan(1));
  const KeyspaceSnapshot snapshot(keyspace);
  std::vector<std::optional<Collection>> sets;
  if (!find_sets(context, context.argv.subspan(2), snapshot, &sets)) return;
  Result<std::vector<std::string>> members = combine(keyspace, sets, operation, snapshot);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  Result<FoundCollection> target = find_collection(keyspace, destination, kSet, true);
  if (!target.is_ok()) return reply_status(context.reply, target.status());
  KeyspaceWrite batch(keyspace);
  Status status;
  if (members->empty()) {
    if (target->entry.has_value()) batch.remove(destination, *target->entry);
  } else {
    Result<CollectionBuilder> builder = CollectionBuilder::start(keyspace, destination, kSet, 0);
    status = builder.status();
    for (size_t i = 0; status.is_ok() && i < members->size(); i++) {
      status = builder->add((*members)[i], "");
    }
    Result<Collection> result = status.is_ok() ? builder->finish() : Result<Collection>(status);
    status = result.status();
    if (status.is_ok()) status = write_collection(batch, *result, *target);
  }
  if (status.is_ok()) status = batch.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(static_cast<int64_t>(members->size()));
}
void sinterstore_command(CommandContext& context) {
  set_operation_store(context, SetOperation::kIntersection);
}
void sunionstore_command(CommandContext& context) {
  set_operation_store(context, SetOperation::kUnion);
}
void sdiffstore_command(CommandContext& context) {
  set_operation_store(context, SetOperation::kDifference);
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void sintercard_command(CommandContext& context) {
  constexpr std::string_view kBadNumkeys = "ERR numkeys should be greater than 0";
  const std::optional<int64_t> numkeys = string_to_int64(context.argv[1]);
  if (!numkeys.has_value() || *numkeys < 1) return context.reply.error(kBadNumkeys);
  if (static_cast<uint64_t>(*numkeys) > context.argv.size() - 2) {
    return context.reply.error("ERR Number of keys can't be greater than number of args");
  }
  const size_t keys_end = 2 + static_cast<size_t>(*numkeys);
  uint64_t limit = 0;
  for (size_t i = keys_end; i < context.argv.size(); i++) {
    if (equals_ignore_case(context.argv[i], "limit") && i + 1 < context.argv.size()) {
      const std::optional<int64_t> parsed = string_to_int64(context.argv[++i]);
      if (!parsed.has_value() || *parsed < 0) {
        return context.reply.error("ERR LIMIT can't be negative");
      }
      limit = static_cast<uint64_t>(*parsed);
    } else {
      return context.reply.error(kSyntaxError);
    }
  }
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  std::vector<std::optional<Collection>> sets;
  if (!find_sets(context, context.argv.subspan(2, keys_end - 2), snapshot, &sets)) return;
  Result<std::vector<std::string>> members =
      combine(keyspace, sets, SetOperation::kIntersection, snapshot, limit);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  context.reply.integer(static_cast<int64_t>(members->size()));
}

void smembers_command(CommandContext& context) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], kSet, snapshot);
  if (!collection_usable(context, found)) return;
  ElementValues members;
  if (found->collection.has_value()) {
    Result<ElementValues> all = all_elements(keyspace, *found->collection, snapshot);
    if (!all.is_ok()) return reply_status(context.reply, all.status());
    members = std::move(all).value();
  }
  context.reply.set_header(members.size());
  for (const auto& [member, value] : members) context.reply.bulk_string(member);
}

// SMOVE source destination member
void smove_command(CommandContext& context) {
  const std::string_view source = context.argv[1];
  const std::string_view destination = context.argv[2];
  const std::string_view member = context.argv[3];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(context.argv.subspan(1, 2));
  CollectionWrite from;
  CollectionWrite to;
  if (!open_collection_for_write(context, source, kSet, false, &from)) return;
  // Redis answers 0 for an absent source before it looks at the destination's type.
  if (!from.collection.has_value()) return context.reply.integer(0);
  if (!open_collection_for_write(context, destination, kSet, false, &to)) return;
  Result<bool> in_source = element_exists(keyspace, from, member);
  if (!in_source.is_ok()) return reply_status(context.reply, in_source.status());
  if (!*in_source || source == destination) return context.reply.integer(*in_source ? 1 : 0);
  if (!to.collection.has_value()) {
    Result<Collection> created = collection_for_write(keyspace, destination, kSet, to.found);
    if (!created.is_ok()) return reply_status(context.reply, created.status());
    to.collection.emplace(std::move(created).value());
  }
  Result<bool> in_destination = element_exists(keyspace, to, member);
  if (!in_destination.is_ok()) return reply_status(context.reply, in_destination.status());
  KeyspaceWrite batch(keyspace);
  from.collection->remove_element(batch, member);
  from.collection->meta().count--;
  Status status = write_collection(batch, *from.collection, from.found);
  if (!*in_destination) {
    to.collection->put_element(batch, member, "");
    to.collection->meta().count++;
    if (status.is_ok()) status = write_collection(batch, *to.collection, to.found);
  }
  if (status.is_ok()) status = batch.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(1);
}

// SPOP key on a set larger than kSampleWindow: removes a member into `batch`, taken from the
// set's pop-ahead run (pop_ahead.h) or drawn with the run's next members, which the batch keeps
// for the next SPOP. The member is looked up before it goes, so that only members are removed.
Result<std::string> pop_random_member(Keyspace& keyspace, KeyspaceWrite& batch, Collection& set) {
  CAIRN_ASSERT(set.meta().count > kSampleWindow);
  std::optional<PopRun> kept = keyspace.pop_ahead().take(set.key(), PopKind::kRandom, set.meta());
  PopRun run =
      kept.has_value() ? std::move(*kept) : PopRun(PopKind::kRandom, set.meta().generation);
  std::string member;
  if (!run.empty()) {
    member = run.take();
  } else {
    SampleDrawer drawer(keyspace, set, nullptr);
    // At most the set's size, so that the run's members are distinct.
    const size_t wanted =
        static_cast<size_t>(std::min<uint64_t>(1 + run.elements_ahead(), set.meta().count));
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> drawn, drawer.draw_run(wanted));
    member = run.take_first_and_refill(std::move(drawn));
  }
  CAIRN_ASSIGN_OR_RETURN(const std::optional<std::string> value,
                         keyspace.read_element(set.element_key(member), nullptr, true));
  if (!value.has_value()) {
    return Status::corruption("sample index names an element the collection does not hold");
  }
  set.remove_element(batch, member);
  set.meta().count--;
  run.set_count(set.meta().count);
  if (set.meta().count > kSampleWindow) batch.keep_pop_run(set.key(), std::move(run));
  return member;
}

// SPOP key [count]
void spop_command(CommandContext& context) {
  if (context.argv.size() > 3) return context.reply.error(kSyntaxError);
  const bool has_count = context.argv.size() == 3;
  uint64_t count = 1;
  if (has_count) {
    const std::optional<int64_t> parsed = string_to_int64(context.argv[2]);
    if (!parsed.has_value() || *parsed < 0) {
      return context.reply.error("ERR value is out of range, must be positive");
    }
    count = static_cast<uint64_t>(*parsed);
  }
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kSet, false, &write)) return;
  if (!write.collection.has_value()) {
    if (has_count) return context.reply.set_header(0);
    return context.reply.null();
  }
  if (count == 0) return context.reply.set_header(0);
  if (!has_count && write.collection->meta().count > kSampleWindow) {
    KeyspaceWrite batch(keyspace);
    Result<std::string> member = pop_random_member(keyspace, batch, *write.collection);
    if (!member.is_ok()) return reply_status(context.reply, member.status());
    if (!commit_collection(context, batch, write)) return;
    return context.reply.bulk_string(*member);
  }
  const KeyspaceSnapshot snapshot(keyspace);
  // With values: a member drawn from the sample index is looked up, so that only members are
  // removed (a set's values are empty).
  Result<ElementValues> picked =
      random_elements(keyspace, *write.collection, snapshot, count, true, true);
  if (!picked.is_ok()) return reply_status(context.reply, picked.status());
  KeyspaceWrite batch(keyspace);
  if (picked->size() == write.collection->meta().count) {
    batch.remove(key, *write.found.entry);  // every member goes: the record alone
  } else {
    for (const auto& [member, value] : *picked) write.collection->remove_element(batch, member);
    write.collection->meta().count -= picked->size();
    const Status status = write_collection(batch, *write.collection, write.found);
    if (!status.is_ok()) return reply_status(context.reply, status);
  }
  const Status status = batch.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  if (!has_count) return context.reply.bulk_string(picked->front().first);
  context.reply.set_header(picked->size());
  for (const auto& [member, value] : *picked) context.reply.bulk_string(member);
}

// SRANDMEMBER key [count]
void srandmember_command(CommandContext& context) {
  if (context.argv.size() > 3) return context.reply.error(kSyntaxError);
  std::optional<RandomCount> count;
  if (context.argv.size() == 3) {
    count = parse_random_count(context, context.argv[2]);
    if (!count.has_value()) return;
  }
  const std::optional<ElementValues> picked = draw_random_elements(context, kSet, count, false);
  if (!picked.has_value()) return;
  context.reply.array_header(picked->size());
  for (const auto& [member, value] : *picked) context.reply.bulk_string(member);
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
void sscan_command(CommandContext& context) { scan_collection(context, kSet, ScanValues::kNone); }

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kWriteGrows = kCommandWrite | kCommandDenyOom;
constexpr uint32_t kRead = kCommandReadonly;
constexpr uint32_t kReadFast = kCommandReadonly | kCommandFast;

const CommandSpec kSetCommands[] = {
    {"sadd", -3, kWriteGrows | kCommandFast, 1, 1, 1, "set", "1.0.0",
     "Adds one or more members to a set. Creates the key if it doesn't exist.",
     "O(1) for each element added, so O(N) to add N elements when the command is called with "
     "multiple arguments.",
     sadd_command, {}},
    {"srem", -3, kWrite | kCommandFast, 1, 1, 1, "set", "1.0.0",
     "Removes one or more members from a set. Deletes the set if the last member was removed.",
     "O(N) where N is the number of members to be removed.", srem_command, {}},
    {"sismember", 3, kReadFast, 1, 1, 1, "set", "1.0.0",
     "Determines whether a member belongs to a set.", "O(1)", sismember_command, {}},
    {"smismember", -3, kReadFast, 1, 1, 1, "set", "6.2.0",
     "Determines whether multiple members belong to a set.",
     "O(N) where N is the number of elements being checked for membership", smismember_command,
     {}},
    {"smembers", 2, kRead, 1, 1, 1, "set", "1.0.0", "Returns all members of a set.",
     "O(N) where N is the set cardinality.", smembers_command, {}},
    {"scard", 2, kReadFast, 1, 1, 1, "set", "1.0.0", "Returns the number of members in a set.",
     "O(1)", scard_command, {}},
    {"spop", -2, kWrite | kCommandFast, 1, 1, 1, "set", "1.0.0",
     "Returns one or more random members from a set after removing them. Deletes the set if the "
     "last member was popped.",
     "Without the count argument O(1), otherwise O(N) where N is the value of the passed count "
     "(Cairn: O(log size) per member drawn; one pass over the set when count > size / 16).",
     spop_command, {}},
    {"srandmember", -2, kRead, 1, 1, 1, "set", "1.0.0",
     "Get one or multiple random members from a set",
     "Without the count argument O(1), otherwise O(N) where N is the absolute value of the "
     "passed count (Cairn: O(log size) per member drawn; one pass over the set when |count| > "
     "size / 16).",
     srandmember_command, {}},
    {"smove", 4, kWrite | kCommandFast, 1, 2, 1, "set", "1.0.0",
     "Moves a member from one set to another.", "O(1)", smove_command, {}},
    {"sinter", -2, kRead, 1, -1, 1, "set", "1.0.0", "Returns the intersect of multiple sets.",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
     "sets.",
     sinter_command, {}},
    {"sintercard", -3, kRead, 0, 0, 0, "set", "7.0.0",
     "Returns the number of members of the intersect of multiple sets.",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
     "sets.",
     sintercard_command, {}},
    {"sunion", -2, kRead, 1, -1, 1, "set", "1.0.0", "Returns the union of multiple sets.",
     "O(N) where N is the total number of elements in all given sets.", sunion_command, {}},
    {"sdiff", -2, kRead, 1, -1, 1, "set", "1.0.0", "Returns the difference of multiple sets.",
     "O(N) where N is the total number of elements in all given sets.", sdiff_command, {}},
    {"sinterstore", -3, kWriteGrows, 1, -1, 1, "set", "1.0.0",
     "Stores the intersect of multiple sets in a key.",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
     "sets.",
     sinterstore_command, {}},
    {"sunionstore", -3, kWriteGrows, 1, -1, 1, "set", "1.0.0",
     "Stores the union of multiple sets in a key.",
     "O(N) where N is the total number of elements in all given sets.", sunionstore_command, {}},
    {"sdiffstore", -3, kWriteGrows, 1, -1, 1, "set", "1.0.0",
     "Stores the difference of multiple sets in a key.",
     "O(N) where N is the total number of elements in all given sets.", sdiffstore_command, {}},
    {"sscan", -3, kRead, 1, 1, 1, "set", "2.8.0", "Iterates over members of a set.",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
     "cursor to return back to 0. N is the number of elements inside the collection.",
     sscan_command, {}},
};

}  // namespace

std::span<const CommandSpec> set_commands() { return kSetCommands; }

}  // namespace cairn
