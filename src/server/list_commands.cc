// List commands (Redis 7 semantics): LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE,
// LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP, and the blocking BLPOP,
// BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (a client that finds nothing waits in the BlockingRegistry; a write to
// a key it waits on runs its command again; see ServerSession). A list is a collection
// (collection.h) whose elements sit at consecutive positions head .. head + count - 1 (the
// element bytes are the position, big-endian), so a push or pop at either end and LINDEX/LSET
// are one lookup each, and LRANGE is one ordered walk. LINSERT and LREM move the elements of the
// shorter side of the change; LTRIM rebuilds the list as a new generation when it keeps fewer
// elements than it removes. Writers hold their keys' locks from the read to the commit.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "model/string_number.h"
#include "server/collection_commands.h"
#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/pop_ahead.h"
#include "server/server.h"

namespace cairn {
namespace {

constexpr RecordType kList = RecordType::kList;
constexpr std::string_view kOutOfRangePositive = "ERR value is out of range, must be positive";

enum class End { kLeft, kRight };

// LEFT / RIGHT (any case); replies "ERR syntax error" otherwise.
std::optional<End> parse_end(CommandContext& context, std::string_view text) {
  if (equals_ignore_case(text, "left")) return End::kLeft;
  if (equals_ignore_case(text, "right")) return End::kRight;
  context.reply.error(kSyntaxError);
  return std::nullopt;
}

// The engine key of the element `offset` places from the head.
std::string position_at(const Collection& list, uint64_t offset) {
  return encode_list_position(list.meta().list_head + offset);
}
std::string key_at(const Collection& list, uint64_t offset) {
  return list.element_key(position_at(list, offset));
}

// Up to this many elements are read by one lookup each rather than by an iterator, whose
// creation costs more than a few lookups (LPOP, RPOP, LMOVE read one).
constexpr uint64_t kPointReadsMax = 4;

// Passes `visit` the `count` elements from `offset` on, in order, at `snapshot` (or now when
// null); each view is valid during its call only. Corruption when an element is missing.
template <typename Visit>
Status visit_range(Keyspace& keyspace, const Collection& list, uint64_t offset, uint64_t count,
                   const KeyspaceSnapshot* snapshot, Visit&& visit) {
  if (count <= kPointReadsMax) {
    for (uint64_t i = 0; i < count; i++) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> value,
                             keyspace.read_element(key_at(list, offset + i),
                                                   snapshot != nullptr ? snapshot->get() : nullptr));
      if (!value.has_value()) return Status::corruption("list element missing at its position");
      visit(std::string_view(*value));
    }
    return Status::ok();
  }
  ElementIterator it(keyspace, list, snapshot);
  uint64_t position = list.meta().list_head + offset;
  uint64_t visited = 0;
  // No step past the last element read: beyond a list's tail may lie the deletions of a long
  // run of pops, which a step would walk over.
  for (it.seek(encode_list_position(position)); it.valid(); it.next()) {
    uint64_t found = 0;
    if (!decode_list_position(it.element(), &found) || found != position) break;
    visit(it.value());
    position++;
    if (++visited == count) break;
  }
  CAIRN_RETURN_IF_ERROR(it.status());
  if (visited != count) return Status::corruption("list element missing at its position");
  return Status::ok();
}

// The `count` elements from `offset` on, in order, at `snapshot` (or now when null).
Result<std::vector<std::string>> read_range(Keyspace& keyspace, const Collection& list,
                                            uint64_t offset, uint64_t count,
                                            const KeyspaceSnapshot* snapshot) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>(count, 1u << 16)));
  CAIRN_RETURN_IF_ERROR(visit_range(keyspace, list, offset, count, snapshot,
                                    [&](std::string_view value) { out.emplace_back(value); }));
  return out;
}

// The element `offset` places from the head (REQUIRES: offset < count).
Result<std::string> read_at(Keyspace& keyspace, const Collection& list, uint64_t offset,
                            const KeyspaceSnapshot* snapshot) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> value,
                         keyspace.read_element(key_at(list, offset),
                                               snapshot != nullptr ? snapshot->get() : nullptr));
  if (!value.has_value()) return Status::corruption("list element missing at its position");
  return std::move(*value);
}

// Redis's index: negative counts from the tail. nullopt when out of range.
std::optional<uint64_t> resolve_index(int64_t index, uint64_t size) {
  const auto signed_size = static_cast<int64_t>(size);
  if (index < 0) index += signed_size;
  if (index < 0 || index >= signed_size) return std::nullopt;
  return static_cast<uint64_t>(index);
}

// Redis's [start, stop] range over `size` elements: *first and *count; false when empty.
bool resolve_range(int64_t start, int64_t stop, uint64_t size, uint64_t* first, uint64_t* count) {
  const auto signed_size = static_cast<int64_t>(size);
  if (start < 0) start += signed_size;
  if (stop < 0) stop += signed_size;
  if (start < 0) start = 0;
  if (start > stop || start >= signed_size) return false;
  if (stop >= signed_size) stop = signed_size - 1;
  *first = static_cast<uint64_t>(start);
  *count = static_cast<uint64_t>(stop - start + 1);
  return true;
}

Status position_space_exhausted() {
  return Status::invalid_argument("list position space exhausted");
}

// Pushes `value` at one end of `list` into `batch`.
Status push(KeyspaceWrite& batch, Collection& list, std::string_view value, End end) {
  CollectionMeta& meta = list.meta();
  if (end == End::kLeft) {
    if (meta.list_head == 0) return position_space_exhausted();
    meta.list_head--;
    list.put_element(batch, position_at(list, 0), value);
  } else {
    if (meta.list_head + meta.count == UINT64_MAX) return position_space_exhausted();
    list.put_element(batch, position_at(list, meta.count), value);
  }
  meta.count++;
  return Status::ok();
}

// Pops up to `count` elements from one end of `list` into `batch`; returns them in pop order.
// With `list_goes_if_emptied`, popping every element leaves their records to compaction, as
// the caller removes the list's record; a list that is pushed to again (LMOVE onto itself) must
// not keep them.
Result<std::vector<std::string>> pop(Keyspace& keyspace, KeyspaceWrite& batch, Collection& list,
                                     uint64_t count, End end, bool list_goes_if_emptied = true) {
  CollectionMeta& meta = list.meta();
  count = std::min(count, meta.count);
  const uint64_t offset = end == End::kLeft ? 0 : meta.count - count;
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> values,
                         read_range(keyspace, list, offset, count, nullptr));
  if (count < meta.count || !list_goes_if_emptied) {
    for (uint64_t i = 0; i < count; i++) list.remove_element(batch, position_at(list, offset + i));
  }
  if (end == End::kLeft) {
    meta.list_head += count;
  } else {
    std::reverse(values.begin(), values.end());
  }
  meta.count -= count;
  return values;
}

// Pops one element from one end of `list` into `batch` (LPOP and RPOP without a count): taken
// from the list's pop-ahead run (pop_ahead.h), or read with the next elements of that end, which
// the batch keeps for the next pop of that end.
Result<std::string> pop_one(Keyspace& keyspace, KeyspaceWrite& batch, Collection& list, End end) {
  CollectionMeta& meta = list.meta();
  CAIRN_ASSERT(meta.count > 0);
  const PopKind kind = end == End::kLeft ? PopKind::kHead : PopKind::kTail;
  std::optional<PopRun> kept = keyspace.pop_ahead().take(list.key(), kind, meta);
  PopRun run = kept.has_value() ? std::move(*kept) : PopRun(kind, meta.generation);
  std::string value;
  if (!run.empty()) {
    value = run.take();
  } else {
    const uint64_t wanted = std::min<uint64_t>(1 + run.elements_ahead(), meta.count);
    const uint64_t offset = end == End::kLeft ? 0 : meta.count - wanted;
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> values,
                           read_range(keyspace, list, offset, wanted, nullptr));
    if (end == End::kRight) std::reverse(values.begin(), values.end());  // in pop order
    value = run.take_first_and_refill(std::move(values));
  }
  // The last element goes with the list's record, as in pop().
  if (meta.count > 1) {
    list.remove_element(batch, position_at(list, end == End::kLeft ? 0 : meta.count - 1));
  }
  if (end == End::kLeft) meta.list_head++;
  meta.count--;
  run.set_count(meta.count);
  if (meta.count > 0) batch.keep_pop_run(list.key(), std::move(run));
  return value;
}

// ---- Pushes ----------------------------------------------------------------------------------

// LPUSH / RPUSH / LPUSHX / RPUSHX key element [element ...]: replies the new length.
void push_generic(CommandContext& context, End end, bool only_if_exists) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kList, !only_if_exists, &write)) return;
  if (!write.collection.has_value()) return context.reply.integer(0);
  KeyspaceWrite batch(keyspace);
  for (size_t i = 2; i < context.argv.size(); i++) {
    const Status status = push(batch, *write.collection, context.argv[i], end);
    if (!status.is_ok()) return reply_status(context.reply, status);
  }
  if (!commit_collection(context, batch, write)) return;
  context.reply.integer(static_cast<int64_t>(write.collection->meta().count));
}
void lpush_command(CommandContext& context) { push_generic(context, End::kLeft, false); }
void rpush_command(CommandContext& context) { push_generic(context, End::kRight, false); }
void lpushx_command(CommandContext& context) { push_generic(context, End::kLeft, true); }
void rpushx_command(CommandContext& context) { push_generic(context, End::kRight, true); }

// ---- Pops ------------------------------------------------------------------------------------

// LPOP / RPOP key [count]
void pop_generic(CommandContext& context, End end) {
  if (context.argv.size() > 3) {
    return reply_wrong_arity(context, end == End::kLeft ? "lpop" : "rpop");
  }
  const bool has_count = context.argv.size() == 3;
  uint64_t count = 1;
  if (has_count) {
    const std::optional<int64_t> parsed = string_to_int64(context.argv[2]);
    if (!parsed.has_value() || *parsed < 0) return context.reply.error(kOutOfRangePositive);
    count = static_cast<uint64_t>(*parsed);
  }
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kList, false, &write)) return;
  if (!write.collection.has_value()) {
    return has_count ? context.reply.null_array() : context.reply.null();
  }
  if (has_count && count == 0) return context.reply.array_header(0);
  KeyspaceWrite batch(keyspace);
  if (!has_count) {
    Result<std::string> value = pop_one(keyspace, batch, *write.collection, end);
    if (!value.is_ok()) return reply_status(context.reply, value.status());
    if (!commit_collection(context, batch, write)) return;
    return context.reply.bulk_string(*value);
  }
  Result<std::vector<std::string>> values = pop(keyspace, batch, *write.collection, count, end);
  if (!values.is_ok()) return reply_status(context.reply, values.status());
  if (!commit_collection(context, batch, write)) return;
  context.reply.array_header(values->size());
  for (const std::string& value : *values) context.reply.bulk_string(value);
}
void lpop_command(CommandContext& context) { pop_generic(context, End::kLeft); }
void rpop_command(CommandContext& context) { pop_generic(context, End::kRight); }

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT (and RPOPLPUSH, BLMOVE): one element moves in
// one batch; source and destination may be the same list (a rotation).
void move_element(CommandContext& context, End from_end, End to_end, const Waiting& waiting) {
  const std::string_view source = context.argv[1];
  const std::string_view destination = context.argv[2];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(context.argv.subspan(1, 2));
  CollectionWrite from;
  if (!open_for_pop(context, source, kList, &from)) return;
  if (!from.collection.has_value()) {
    return wait_or_reply_null(context, context.argv.subspan(1, 1), waiting, false);
  }
  const bool same = source == destination;
  CollectionWrite to;
  if (!same && !open_collection_for_write(context, destination, kList, true, &to)) return;
  KeyspaceWrite batch(keyspace);
  Result<std::vector<std::string>> values =
      pop(keyspace, batch, *from.collection, 1, from_end, !same);
  if (!values.is_ok()) return reply_status(context.reply, values.status());
  Collection& target = same ? *from.collection : *to.collection;
  Status status = push(batch, target, values->front(), to_end);
  if (status.is_ok()) status = write_collection(batch, *from.collection, from.found);
  if (status.is_ok() && !same) status = write_collection(batch, *to.collection, to.found);
  if (status.is_ok()) status = batch.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.bulk_string(values->front());
}

void lmove_command(CommandContext& context) {
  const std::optional<End> from_end = parse_end(context, context.argv[3]);
  if (!from_end.has_value()) return;
  const std::optional<End> to_end = parse_end(context, context.argv[4]);
  if (!to_end.has_value()) return;
  move_element(context, *from_end, *to_end, Waiting{});
}
void rpoplpush_command(CommandContext& context) {
  move_element(context, End::kRight, End::kLeft, Waiting{});
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void blmove_command(CommandContext& context) {
  const std::optional<End> from_end = parse_end(context, context.argv[3]);
  if (!from_end.has_value()) return;
  const std::optional<End> to_end = parse_end(context, context.argv[4]);
  if (!to_end.has_value()) return;
  const std::optional<uint64_t> timeout_ms = parse_block_timeout(context, context.argv[5]);
  if (!timeout_ms.has_value()) return;
  move_element(context, *from_end, *to_end, Waiting{true, *timeout_ms});
}

// BRPOPLPUSH source destination timeout: BLMOVE source destination RIGHT LEFT timeout.
void brpoplpush_command(CommandContext& context) {
  const std::optional<uint64_t> timeout_ms = parse_block_timeout(context, context.argv[3]);
  if (!timeout_ms.has_value()) return;
  move_element(context, End::kRight, End::kLeft, Waiting{true, *timeout_ms});
}

// Pops up to `count` from the first of `keys` that holds a list, replying [key, [elements]]
// (LMPOP, BLMPOP) or [key, element] (BLPOP, BRPOP: `single`); with none, waits or replies a
// null array. Every key is locked from the look-up to the commit (or the registration).
void pop_first(CommandContext& context, std::span<const std::string_view> keys, End end,
               uint64_t count, bool single, const Waiting& waiting) {
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(keys);
  for (const std::string_view key : keys) {
    CollectionWrite write;
    if (!open_for_pop(context, key, kList, &write)) return;
    if (!write.collection.has_value()) continue;
    KeyspaceWrite batch(keyspace);
    Result<std::vector<std::string>> values = pop(keyspace, batch, *write.collection, count, end);
    if (!values.is_ok()) return reply_status(context.reply, values.status());
    if (!commit_collection(context, batch, write)) return;
    context.reply.array_header(2);
    context.reply.bulk_string(key);
    if (single) return context.reply.bulk_string(values->front());
    context.reply.array_header(values->size());
    for (const std::string& value : *values) context.reply.bulk_string(value);
    return;
  }
  wait_or_reply_null(context, keys, waiting, true);
}

// BLPOP / BRPOP key [key ...] timeout
void blocking_pop(CommandContext& context, End end) {
  const std::optional<uint64_t> timeout_ms = parse_block_timeout(context, context.argv.back());
  if (!timeout_ms.has_value()) return;
  pop_first(context, context.argv.subspan(1, context.argv.size() - 2), end, 1, true,
            Waiting{true, *timeout_ms});
}
void blpop_command(CommandContext& context) { blocking_pop(context, End::kLeft); }
void brpop_command(CommandContext& context) { blocking_pop(context, End::kRight); }

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] (numkeys at argv[first]), and BLMPOP.
void lmpop_generic(CommandContext& context, size_t first, bool blocking) {
  const std::optional<MultiPopRequest> request =
      parse_multi_pop(context, first, blocking, {"left", "right"});
  if (!request.has_value()) return;
  pop_first(context, request->keys, request->second_where ? End::kRight : End::kLeft,
            request->count, false, request->waiting);
}
void lmpop_command(CommandContext& context) { lmpop_generic(context, 1, false); }

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void blmpop_command(CommandContext& context) { lmpop_generic(context, 2, true); }

// ---- Reads -----------------------------------------------------------------------------------

void llen_command(CommandContext& context) {
  Result<FoundCollection> found = find_collection(keyspace_of(context), context.argv[1], kList, false);
  if (!collection_usable(context, found)) return;
  context.reply.integer(
      found->collection.has_value() ? static_cast<int64_t>(found->collection->meta().count) : 0);
}

// LINDEX: the record, then the one element (no snapshot, as HGET).
void lindex_command(CommandContext& context) {
  Keyspace& keyspace = keyspace_of(context);
  Result<FoundCollection> found = find_collection(keyspace, context.argv[1], kList, false);
  if (!collection_usable(context, found)) return;
  if (!found->collection.has_value()) return context.reply.null();
  const std::optional<int64_t> index = parse_integer_argument(context.reply, context.argv[2]);
  if (!index.has_value()) return;
  const std::optional<uint64_t> offset = resolve_index(*index, found->collection->meta().count);
  if (!offset.has_value()) return context.reply.null();
  Result<std::string> value = read_at(keyspace, *found->collection, *offset, nullptr);
  if (!value.is_ok()) return reply_status(context.reply, value.status());
  context.reply.bulk_string(*value);
}

void lrange_command(CommandContext& context) {
  const std::optional<int64_t> start = parse_integer_argument(context.reply, context.argv[2]);
  if (!start.has_value()) return;
  const std::optional<int64_t> stop = parse_integer_argument(context.reply, context.argv[3]);
  if (!stop.has_value()) return;
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], kList, snapshot);
  if (!collection_usable(context, found)) return;
  uint64_t first = 0;
  uint64_t count = 0;
  if (!found->collection.has_value() ||
      !resolve_range(*start, *stop, found->collection->meta().count, &first, &count)) {
    return context.reply.array_header(0);
  }
  // Straight from the walk into the reply, which an error takes back.
  const size_t reply_start = context.reply.buffer().size();
  context.reply.array_header(count);
  const Status status = visit_range(keyspace, *found->collection, first, count, &snapshot,
                                    [&](std::string_view value) { context.reply.bulk_string(value); });
  if (!status.is_ok()) {
    context.reply.buffer().resize(reply_start);
    reply_status(context.reply, status);
  }
}

// Offsets of the elements equal to `element`, in the order met: from the head, or from the tail
// when `from_tail`. Stops after `matches_max` matches (0: no limit) or `scanned_max` elements
// scanned (0: no limit). From the tail it reads one element per lookup.
Result<std::vector<uint64_t>> find_matches(Keyspace& keyspace, const Collection& list,
                                           std::string_view element, bool from_tail,
                                           uint64_t matches_max, uint64_t scanned_max,
                                           const KeyspaceSnapshot* snapshot) {
  std::vector<uint64_t> matches;
  const uint64_t size = list.meta().count;
  const uint64_t limit = scanned_max == 0 ? size : std::min(size, scanned_max);
  auto done = [&] { return matches_max != 0 && matches.size() == matches_max; };
  if (from_tail) {
    for (uint64_t scanned = 0; scanned < limit && !done(); scanned++) {
      const uint64_t offset = size - 1 - scanned;
      CAIRN_ASSIGN_OR_RETURN(const std::string value, read_at(keyspace, list, offset, snapshot));
      if (value == element) matches.push_back(offset);
    }
    return matches;
  }
  if (limit == 0) return matches;
  ElementIterator it(keyspace, list, snapshot);
  uint64_t offset = 0;
  // As read_range: no step past the last element it looks at.
  for (it.seek(encode_list_position(list.meta().list_head)); it.valid(); it.next()) {
    uint64_t position = 0;
    if (!decode_list_position(it.element(), &position) ||
        position != list.meta().list_head + offset) {
      return Status::corruption("list element missing at its position");
    }
    if (it.value() == element) matches.push_back(offset);
    if (++offset == limit || done()) break;
  }
  CAIRN_RETURN_IF_ERROR(it.status());
  return matches;
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void lpos_command(CommandContext& context) {
  int64_t rank = 1;
  std::optional<uint64_t> count;  // nullopt: not given (a single reply)
  uint64_t maxlen = 0;
  for (size_t i = 3; i < context.argv.size(); i++) {
    const std::string_view option = context.argv[i];
    const bool has_value = i + 1 < context.argv.size();
    if (equals_ignore_case(option, "rank") && has_value) {
      const std::optional<int64_t> parsed = parse_integer_argument(context.reply, context.argv[++i]);
      if (!parsed.has_value()) return;
      if (*parsed == 0) {
        return context.reply.error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      if (*parsed == std::numeric_limits<int64_t>::min()) {
        return context.reply.error("ERR value is out of range");
      }
      rank = *parsed;
    } else if ((equals_ignore_case(option, "count") || equals_ignore_case(option, "maxlen")) &&
               has_value) {
      const bool is_count = equals_ignore_case(option, "count");
      const std::optional<int64_t> parsed = string_to_int64(context.argv[++i]);
      if (!parsed.has_value() || *parsed < 0) {
        return context.reply.error(is_count ? "ERR COUNT can't be negative"
                                            : "ERR MAXLEN can't be negative");
      }
      (is_count ? count.emplace() : maxlen) = static_cast<uint64_t>(*parsed);
    } else {
      return context.reply.error(kSyntaxError);
    }
  }
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], kList, snapshot);
  if (!collection_usable(context, found)) return;
  if (!found->collection.has_value()) {
    return count.has_value() ? context.reply.array_header(0) : context.reply.null();
  }
  // The first (rank - 1) matches are skipped; COUNT 0 means every match after them.
  const uint64_t skip = static_cast<uint64_t>(rank > 0 ? rank : -rank) - 1;
  const uint64_t wanted = count.has_value() ? *count : 1;
  const uint64_t matches_max = wanted == 0 || skip > UINT64_MAX - wanted ? 0 : skip + wanted;
  Result<std::vector<uint64_t>> matches =
      find_matches(keyspace, *found->collection, context.argv[2], rank < 0, matches_max, maxlen,
                   &snapshot);
  if (!matches.is_ok()) return reply_status(context.reply, matches.status());
  const size_t first = static_cast<size_t>(std::min<uint64_t>(skip, matches->size()));
  if (!count.has_value()) {
    if (first == matches->size()) return context.reply.null();
    return context.reply.integer(static_cast<int64_t>((*matches)[first]));
  }
  context.reply.array_header(matches->size() - first);
  for (size_t i = first; i < matches->size(); i++) {
    context.reply.integer(static_cast<int64_t>((*matches)[i]));
  }
}

// ---- Changes in the middle -------------------------------------------------------------------

void lset_command(CommandContext& context) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kList, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.error("ERR no such key");
  const std::optional<int64_t> index = parse_integer_argument(context.reply, context.argv[2]);
  if (!index.has_value()) return;
  const std::optional<uint64_t> offset = resolve_index(*index, write.collection->meta().count);
  if (!offset.has_value()) return context.reply.error("ERR index out of range");
  KeyspaceWrite batch(keyspace);
  write.collection->put_element(batch, position_at(*write.collection, *offset), context.argv[3]);
  if (!commit_collection(context, batch, write)) return;
  context.reply.ok();
}

// Inserts `value` so that it ends at `offset` (0 .. count), moving the shorter side by one.
Status insert_at(Keyspace& keyspace, KeyspaceWrite& batch, Collection& list, uint64_t offset,
                 std::string_view value) {
  CollectionMeta& meta = list.meta();
  if (offset < meta.count - offset) {
    // The elements before it move one position towards the head.
    if (meta.list_head == 0) return position_space_exhausted();
    CAIRN_ASSIGN_OR_RETURN(const std::vector<std::string> before,
                           read_range(keyspace, list, 0, offset, nullptr));
    meta.list_head--;
    for (uint64_t i = 0; i < offset; i++) list.put_element(batch, position_at(list, i), before[i]);
  } else {
    if (meta.list_head + meta.count == UINT64_MAX) return position_space_exhausted();
    CAIRN_ASSIGN_OR_RETURN(const std::vector<std::string> after,
                           read_range(keyspace, list, offset, meta.count - offset, nullptr));
    for (uint64_t i = 0; i < after.size(); i++) {
      list.put_element(batch, position_at(list, offset + 1 + i), after[i]);
    }
  }
  list.put_element(batch, position_at(list, offset), value);
  meta.count++;
  return Status::ok();
}

// LINSERT key BEFORE|AFTER pivot element
void linsert_command(CommandContext& context) {
  bool after = false;
  if (equals_ignore_case(context.argv[2], "after")) {
    after = true;
  } else if (!equals_ignore_case(context.argv[2], "before")) {
    return context.reply.error(kSyntaxError);
  }
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kList, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.integer(0);
  Result<std::vector<uint64_t>> pivot =
      find_matches(keyspace, *write.collection, context.argv[3], false, 1, 0, nullptr);
  if (!pivot.is_ok()) return reply_status(context.reply, pivot.status());
  if (pivot->empty()) return context.reply.integer(-1);
  KeyspaceWrite batch(keyspace);
  const Status status = insert_at(keyspace, batch, *write.collection,
                                  pivot->front() + (after ? 1 : 0), context.argv[4]);
  if (!status.is_ok()) return reply_status(context.reply, status);
  if (!commit_collection(context, batch, write)) return;
  context.reply.integer(static_cast<int64_t>(write.collection->meta().count));
}

// Removes the elements at `removed` (offsets, ascending, distinct), closing the gaps by moving
// the shorter side: the elements before the last removed one towards the tail, or those after
// the first removed one towards the head.
Status remove_offsets(Keyspace& keyspace, KeyspaceWrite& batch, Collection& list,
                      const std::vector<uint64_t>& removed) {
  CollectionMeta& meta = list.meta();
  const uint64_t first = removed.front();
  const uint64_t last = removed.back();
  const bool move_head_side = last + 1 < meta.count - first;
  const uint64_t start = move_head_side ? 0 : first;
  const uint64_t end = move_head_side ? last + 1 : meta.count;  // the moved segment
  CAIRN_ASSIGN_OR_RETURN(const std::vector<std::string> segment,
                         read_range(keyspace, list, start, end - start, nullptr));
  std::vector<const std::string*> kept;
  size_t next_removed = 0;
  for (uint64_t offset = start; offset < end; offset++) {
    if (next_removed < removed.size() && removed[next_removed] == offset) {
      next_removed++;
    } else {
      kept.push_back(&segment[offset - start]);
    }
  }
  const uint64_t gone = removed.size();
  if (move_head_side) {
    for (uint64_t i = 0; i < kept.size(); i++) {
      list.put_element(batch, position_at(list, gone + i), *kept[i]);
    }
    for (uint64_t i = 0; i < gone; i++) list.remove_element(batch, position_at(list, i));
    meta.list_head += gone;
  } else {
    for (uint64_t i = 0; i < kept.size(); i++) {
      list.put_element(batch, position_at(list, first + i), *kept[i]);
    }
    for (uint64_t i = first + kept.size(); i < meta.count; i++) {
      list.remove_element(batch, position_at(list, i));
    }
  }
  meta.count -= gone;
  return Status::ok();
}

// LREM key count element
void lrem_command(CommandContext& context) {
  const std::optional<int64_t> count = parse_integer_argument(context.reply, context.argv[2]);
  if (!count.has_value()) return;
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kList, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.integer(0);
  const uint64_t matches_max =
      *count == std::numeric_limits<int64_t>::min() ? 0 : static_cast<uint64_t>(std::abs(*count));
  Result<std::vector<uint64_t>> matches = find_matches(
      keyspace, *write.collection, context.argv[3], *count < 0, matches_max, 0, nullptr);
  if (!matches.is_ok()) return reply_status(context.reply, matches.status());
  if (matches->empty()) return context.reply.integer(0);
  std::sort(matches->begin(), matches->end());
  KeyspaceWrite batch(keyspace);
  if (matches->size() == write.collection->meta().count) {
    write.collection->meta().count = 0;  // every element goes: the record alone
  } else {
    const Status status = remove_offsets(keyspace, batch, *write.collection, *matches);
    if (!status.is_ok()) return reply_status(context.reply, status);
  }
  if (!commit_collection(context, batch, write)) return;
  context.reply.integer(static_cast<int64_t>(matches->size()));
}

// LTRIM key start stop
void ltrim_command(CommandContext& context) {
  const std::optional<int64_t> start = parse_integer_argument(context.reply, context.argv[2]);
  if (!start.has_value()) return;
  const std::optional<int64_t> stop = parse_integer_argument(context.reply, context.argv[3]);
  if (!stop.has_value()) return;
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kList, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.ok();
  Collection& list = *write.collection;
  const uint64_t size = list.meta().count;
  uint64_t first = 0;
  uint64_t kept = 0;
  if (!resolve_range(*start, *stop, size, &first, &kept)) kept = 0;
  KeyspaceWrite batch(keyspace);
  Status status;
  if (kept == size) return context.reply.ok();
  if (kept == 0) {
    list.meta().count = 0;
  } else if (kept < size - kept) {
    // Fewer to keep than to remove: the kept ones become a new generation.
    Result<std::vector<std::string>> values = read_range(keyspace, list, first, kept, nullptr);
    Result<CollectionBuilder> builder =
        values.is_ok() ? CollectionBuilder::start(keyspace, key, kList, list.expiry_ms())
                       : Result<CollectionBuilder>(values.status());
    status = builder.status();
    for (uint64_t i = 0; status.is_ok() && i < kept; i++) {
      status = builder->add(encode_list_position(kListInitialHead + i), (*values)[i]);
    }
    Result<Collection> rebuilt = status.is_ok() ? builder->finish() : Result<Collection>(status);
    status = rebuilt.status();
    if (status.is_ok()) list = std::move(rebuilt).value();
  } else {
    for (uint64_t i = 0; i < first; i++) list.remove_element(batch, position_at(list, i));
    for (uint64_t i = first + kept; i < size; i++) list.remove_element(batch, position_at(list, i));
    list.meta().list_head += first;
    list.meta().count = kept;
  }
  if (!status.is_ok()) return reply_status(context.reply, status);
  if (!commit_collection(context, batch, write)) return;
  context.reply.ok();
}

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kWriteGrows = kCommandWrite | kCommandDenyOom;
constexpr uint32_t kRead = kCommandReadonly;

const CommandSpec kListCommands[] = {
    {"lpush", -3, kWriteGrows | kCommandFast, 1, 1, 1, "list", "1.0.0",
     "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
     "O(1) for each element added, so O(N) to add N elements when the command is called with "
     "multiple arguments.",
     lpush_command, {}},
    {"rpush", -3, kWriteGrows | kCommandFast, 1, 1, 1, "list", "1.0.0",
     "Appends one or more elements to a list. Creates the key if it doesn't exist.",
     "O(1) for each element added, so O(N) to add N elements when the command is called with "
     "multiple arguments.",
     rpush_command, {}},
    {"lpushx", -3, kWriteGrows | kCommandFast, 1, 1, 1, "list", "2.2.0",
     "Prepends one or more elements to a list only when the list exists.",
     "O(1) for each element added, so O(N) to add N elements when the command is called with "
     "multiple arguments.",
     lpushx_command, {}},
    {"rpushx", -3, kWriteGrows | kCommandFast, 1, 1, 1, "list", "2.2.0",
     "Appends an element to a list only when the list exists.",
     "O(1) for each element added, so O(N) to add N elements when the command is called with "
     "multiple arguments.",
     rpushx_command, {}},
    {"lpop", -2, kWrite | kCommandFast, 1, 1, 1, "list", "1.0.0",
     "Returns the first elements in a list after removing it. Deletes the list if the last "
     "element was popped.",
     "O(N) where N is the number of elements returned", lpop_command, {}},
    {"rpop", -2, kWrite | kCommandFast, 1, 1, 1, "list", "1.0.0",
     "Returns and removes the last elements of a list. Deletes the list if the last element was "
     "popped.",
     "O(N) where N is the number of elements returned", rpop_command, {}},
    {"llen", 2, kRead | kCommandFast, 1, 1, 1, "list", "1.0.0", "Returns the length of a list.",
     "O(1)", llen_command, {}},
    {"lrange", 4, kRead, 1, 1, 1, "list", "1.0.0", "Returns a range of elements from a list.",
     "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end "
     "(HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
     lrange_command, {}},
    {"lindex", 3, kRead, 1, 1, 1, "list", "1.0.0", "Returns an element from a list by its index.",
     "O(1) in Cairn: an element is found by its position.", lindex_command, {}},
    {"lset", 4, kWriteGrows, 1, 1, 1, "list", "1.0.0", "Sets the value of an element in a list by its index.",
     "O(1) in Cairn: an element is found by its position.", lset_command, {}},
    {"linsert", 5, kWriteGrows, 1, 1, 1, "list", "2.2.0",
     "Inserts an element before or after another element in a list.",
     "O(N) where N is the number of elements to traverse before seeing the value pivot.",
     linsert_command, {}},
    {"lrem", 4, kWrite, 1, 1, 1, "list", "1.0.0",
     "Removes elements from a list. Deletes the list if the last element was removed.",
     "O(N+M) where N is the length of the list and M is the number of elements removed.",
     lrem_command, {}},
    {"ltrim", 4, kWrite, 1, 1, 1, "list", "1.0.0",
     "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
     "O(N) where N is the number of elements to be removed by the operation.", ltrim_command, {}},
    {"lpos", -3, kRead, 1, 1, 1, "list", "6.0.6",
     "Returns the index of matching elements in a list.",
     "O(N) where N is the number of elements in the list, for the average case. When searching "
     "for elements near the head or the tail of the list, or when the MAXLEN option is provided, "
     "the command may run in constant time.",
     lpos_command, {}},
    {"lmove", 5, kWriteGrows, 1, 2, 1, "list", "6.2.0",
     "Returns an element after popping it from one list and pushing it to another. Deletes the "
     "list if the last element was moved.",
     "O(1)", lmove_command, {}},
    {"rpoplpush", 3, kWriteGrows, 1, 2, 1, "list", "1.2.0",
     "Returns the last element of a list after removing and pushing it to another list. Deletes "
     "the list if the last element was popped.",
     "O(1)", rpoplpush_command, {}},
    {"blpop", -3, kWrite | kCommandBlocking, 1, -2, 1, "list", "2.0.0",
     "Removes and returns the first element in a list. Blocks until an element is available "
     "otherwise. Deletes the list if the last element was popped.",
     "O(N) where N is the number of provided keys.", blpop_command, {}},
    {"brpop", -3, kWrite | kCommandBlocking, 1, -2, 1, "list", "2.0.0",
     "Removes and returns the last element in a list. Blocks until an element is available "
     "otherwise. Deletes the list if the last element was popped.",
     "O(N) where N is the number of provided keys.", brpop_command, {}},
    {"blmove", 6, kWriteGrows | kCommandBlocking, 1, 2, 1, "list", "6.2.0",
     "Pops an element from a list, pushes it to another list and returns it. Blocks until an "
     "element is available otherwise. Deletes the list if the last element was moved.",
     "O(1)", blmove_command, {}},
    {"brpoplpush", 4, kWriteGrows | kCommandBlocking, 1, 2, 1, "list", "2.2.0",
     "Pops an element from a list, pushes it to another list and returns it. Block until an "
     "element is available otherwise. Deletes the list if the last element was popped.",
     "O(1)", brpoplpush_command, {}},
    {"blmpop", -5, kWrite | kCommandBlocking, 0, 0, 0, "list", "7.0.0",
     "Pops the first element from one of multiple lists. Blocks until an element is available "
     "otherwise. Deletes the list if the last element was popped.",
     "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
     blmpop_command, {}},
    {"lmpop", -4, kWrite, 0, 0, 0, "list", "7.0.0",
     "Returns multiple elements from a list after removing them. Deletes the list if the last "
     "element was popped.",
     "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
     lmpop_command, {}},
};

}  // namespace

std::span<const CommandSpec> list_commands() { return kListCommands; }

}  // namespace cairn
