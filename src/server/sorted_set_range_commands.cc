// Sorted-set range commands (Redis 7.0 semantics): ZRANGE (BYSCORE, BYLEX, REV, LIMIT,
// WITHSCORES), ZRANGESTORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX,
// ZREVRANGE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
//
// A score range is one seek into the score index and a walk; a lex range walks the member
// records, which sort by member (Redis leaves lex ranges over unequal scores unspecified; Cairn
// answers them in member order). A rank range walks from whichever end is nearer.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/assert.h"
#include "server/collection_commands.h"
#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/sorted_set_commands.h"

namespace cairn {
namespace {

using Order = SortedSetWalk::Order;

constexpr std::string_view kNotFloatRangeError = "ERR min or max is not a float";
constexpr std::string_view kNotLexRangeError = "ERR min or max not valid string range item";

enum class RangeKind { kRank, kScore, kLex };

// One parsed range request: which members, in which order, how many.
struct RangeRequest {
  RangeKind kind = RangeKind::kRank;
  bool reverse = false;
  bool with_scores = false;
  int64_t start = 0;  // kRank
  int64_t stop = 0;
  ScoreRange score;   // kScore
  LexRange lex;       // kLex
  int64_t offset = 0;
  std::optional<uint64_t> limit;  // LIMIT's count, when not negative
};

// The first and last offsets, counted from the walk's own end, of the rank range [start, stop]
// of a sorted set of `size` members (negative ranks count from the other end); false if empty.
bool resolve_ranks(int64_t start, int64_t stop, uint64_t size, uint64_t* first, uint64_t* last) {
  const auto length = static_cast<int64_t>(size);
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  start = std::max<int64_t>(start, 0);
  if (start > stop || start >= length) return false;
  stop = std::min(stop, length - 1);
  *first = static_cast<uint64_t>(start);
  *last = static_cast<uint64_t>(stop);
  return true;
}

// A walk positioned at the first member of a score or lex range, in the request's order (at
// none when the range is empty); in_range says when it has left the range.
SortedSetWalk range_walk(Keyspace& keyspace, const Collection& zset,
                         const KeyspaceSnapshot* snapshot, const RangeRequest& request) {
  CAIRN_ASSERT(request.kind != RangeKind::kRank);
  const bool by_score = request.kind == RangeKind::kScore;
  SortedSetWalk walk(keyspace, zset, snapshot, by_score ? Order::kScore : Order::kMember,
                     request.reverse);
  if (by_score ? request.score.empty() : request.lex.empty()) return walk;  // not positioned
  if (!by_score) {
    walk.seek_member(request.reverse ? request.lex.max : request.lex.min);
  } else if (request.reverse) {
    walk.seek_score(request.score.max, request.score.max_exclusive);
  } else {
    walk.seek_score(request.score.min, request.score.min_exclusive);
  }
  return walk;
}
bool in_range(const SortedSetWalk& at, const RangeRequest& request) {
  if (request.kind == RangeKind::kScore) {
    return request.reverse ? request.score.above_min(at.score())
                           : request.score.below_max(at.score());
  }
  return request.reverse ? request.lex.above_min(at.member()) : request.lex.below_max(at.member());
}

// The members `request` selects from `zset`, in reply order.
Result<std::vector<ScoredMember>> select_members(Keyspace& keyspace, const Collection& zset,
                                                 const KeyspaceSnapshot* snapshot,
                                                 const RangeRequest& request) {
  const bool reverse = request.reverse;
  switch (request.kind) {
    case RangeKind::kRank: {
      uint64_t first = 0;
      uint64_t last = 0;
      const uint64_t size = zset.meta().count;
      if (!resolve_ranks(request.start, request.stop, size, &first, &last)) return std::vector<ScoredMember>();
      const uint64_t count = last - first + 1;
      // Walk from the nearer end: ZRANGE -10 -1 is as cheap as ZRANGE 0 9.
      const bool from_far_end = first > size - 1 - last;
      SortedSetWalk walk(keyspace, zset, snapshot, Order::kScore, reverse != from_far_end);
      walk.seek_to_start();
      CAIRN_ASSIGN_OR_RETURN(
          std::vector<ScoredMember> members,
          collect_members(walk, from_far_end ? size - 1 - last : first, count,
                          [](const SortedSetWalk&) { return true; }));
      if (from_far_end) std::reverse(members.begin(), members.end());
      return members;
    }
    case RangeKind::kScore:
    case RangeKind::kLex: {
      if (request.offset < 0) return std::vector<ScoredMember>();
      SortedSetWalk walk = range_walk(keyspace, zset, snapshot, request);
      return collect_members(walk, static_cast<uint64_t>(request.offset), request.limit,
                             [&](const SortedSetWalk& at) { return in_range(at, request); });
    }
  }
  return std::vector<ScoredMember>();
}

// Parses the bounds `min` and `max` of a `kind` range into `request`; replies the error and
// returns false when one is malformed.
bool parse_bounds(CommandContext& context, RangeKind kind, std::string_view min,
                  std::string_view max, RangeRequest* request) {
  request->kind = kind;
  switch (kind) {
    case RangeKind::kRank: {
      const std::optional<int64_t> start = parse_integer_argument(context.reply, min);
      if (!start.has_value()) return false;
      const std::optional<int64_t> stop = parse_integer_argument(context.reply, max);
      if (!stop.has_value()) return false;
      request->start = *start;
      request->stop = *stop;
      return true;
    }
    case RangeKind::kScore: {
      const std::optional<ScoreRange> range = parse_score_range(min, max);
      if (!range.has_value()) context.reply.error(kNotFloatRangeError);
      if (range.has_value()) request->score = *range;
      return range.has_value();
    }
    case RangeKind::kLex: {
      const std::optional<LexRange> range = parse_lex_range(min, max);
      if (!range.has_value()) context.reply.error(kNotLexRangeError);
      if (range.has_value()) request->lex = *range;
      return range.has_value();
    }
  }
  return false;
}

// What a ZRANGE-family command fixes before its options: nothing for ZRANGE and ZRANGESTORE,
// the kind and direction for the older commands.
struct RangePreset {
  std::optional<RangeKind> kind;
  std::optional<bool> reverse;
};

// Parses a ZRANGE-family command whose source key is argv[key_index], its two bounds after it
// and its options after them, as Redis's zrangeGenericCommand does. `store`: ZRANGESTORE (no
// WITHSCORES). Replies the error and returns nullopt on failure.
std::optional<RangeRequest> parse_range_request(CommandContext& context, size_t key_index,
                                                const RangePreset& preset, bool store) {
  std::optional<RangeKind> kind = preset.kind;
  std::optional<bool> reverse = preset.reverse;
  RangeRequest request;
  int64_t limit_count = -1;  // LIMIT's count as given; -1, its default, is no limit
  for (size_t i = key_index + 3; i < context.argv.size(); i++) {
    const std::string_view option = context.argv[i];
    const size_t arguments_left = context.argv.size() - i - 1;
    if (!store && equals_ignore_case(option, "withscores")) {
      request.with_scores = true;
    } else if (equals_ignore_case(option, "limit") && arguments_left >= 2) {
      const std::optional<int64_t> offset = parse_integer_argument(context.reply, context.argv[i + 1]);
      if (!offset.has_value()) return std::nullopt;
      const std::optional<int64_t> count = parse_integer_argument(context.reply, context.argv[i + 2]);
      if (!count.has_value()) return std::nullopt;
      limit_count = *count;
      request.offset = *offset;
      if (*count >= 0) request.limit = static_cast<uint64_t>(*count);
      i += 2;
    } else if (!reverse.has_value() && equals_ignore_case(option, "rev")) {
      reverse = true;
    } else if (!kind.has_value() && equals_ignore_case(option, "bylex")) {
      kind = RangeKind::kLex;
    } else if (!kind.has_value() && equals_ignore_case(option, "byscore")) {
      kind = RangeKind::kScore;
    } else {
      context.reply.error(kSyntaxError);
      return std::nullopt;
    }
  }
  request.reverse = reverse.value_or(false);
  const RangeKind chosen = kind.value_or(RangeKind::kRank);
  // As Redis, only a count other than -1 makes LIMIT an error here (LIMIT 5 -1 is accepted,
  // and a rank range ignores it).
  if (limit_count != -1 && chosen == RangeKind::kRank) {
    context.reply.error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return std::nullopt;
  }
  if (request.with_scores && chosen == RangeKind::kLex) {
    context.reply.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return std::nullopt;
  }
  // A reversed score or lex range is given as max, then min.
  std::string_view min = context.argv[key_index + 1];
  std::string_view max = context.argv[key_index + 2];
  if (request.reverse && chosen != RangeKind::kRank) std::swap(min, max);
  if (!parse_bounds(context, chosen, min, max, &request)) return std::nullopt;
  return request;
}

// ZRANGE and the older range commands: argv[1] is the key.
void range_reply(CommandContext& context, const RangePreset& preset) {
  const std::optional<RangeRequest> request = parse_range_request(context, 1, preset, false);
  if (!request.has_value()) return;
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found =
      find_collection_at(keyspace, context.argv[1], kSortedSet, snapshot);
  if (!collection_usable(context, found)) return;
  if (!found->collection.has_value()) return context.reply.array_header(0);
  Result<std::vector<ScoredMember>> members =
      select_members(keyspace, *found->collection, &snapshot, *request);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  reply_scored_members(context, *members, request->with_scores);
}

void zrange_command(CommandContext& context) { range_reply(context, {}); }
void zrevrange_command(CommandContext& context) { range_reply(context, {RangeKind::kRank, true}); }
void zrangebyscore_command(CommandContext& context) {
  range_reply(context, {RangeKind::kScore, false});
}
void zrevrangebyscore_command(CommandContext& context) {
  range_reply(context, {RangeKind::kScore, true});
}
void zrangebylex_command(CommandContext& context) { range_reply(context, {RangeKind::kLex, false}); }
void zrevrangebylex_command(CommandContext& context) {
  range_reply(context, {RangeKind::kLex, true});
}

// ZRANGESTORE destination source min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
void zrangestore_command(CommandContext& context) {
  const std::optional<RangeRequest> request = parse_range_request(context, 2, {}, true);
  if (!request.has_value()) return;
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(context.argv.subspan(1, 2));
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found =
      find_collection_at(keyspace, context.argv[2], kSortedSet, snapshot);
  if (!collection_usable(context, found)) return;
  std::vector<ScoredMember> members;
  if (found->collection.has_value()) {
    Result<std::vector<ScoredMember>> selected =
        select_members(keyspace, *found->collection, &snapshot, *request);
    if (!selected.is_ok()) return reply_status(context.reply, selected.status());
    members = std::move(selected).value();
  }
  store_sorted_set(context, context.argv[1], members);
}

// ZCOUNT / ZLEXCOUNT key min max: the members in the range, counted by walking it.
void count_generic(CommandContext& context, RangeKind kind) {
  RangeRequest request;
  if (!parse_bounds(context, kind, context.argv[2], context.argv[3], &request)) return;
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found =
      find_collection_at(keyspace, context.argv[1], kSortedSet, snapshot);
  if (!collection_usable(context, found)) return;
  if (!found->collection.has_value()) return context.reply.integer(0);
  SortedSetWalk walk = range_walk(keyspace, *found->collection, &snapshot, request);
  int64_t count = 0;
  for (; walk.valid() && in_range(walk, request); walk.next()) count++;
  if (!walk.status().is_ok()) return reply_status(context.reply, walk.status());
  context.reply.integer(count);
}
void zcount_command(CommandContext& context) { count_generic(context, RangeKind::kScore); }
void zlexcount_command(CommandContext& context) { count_generic(context, RangeKind::kLex); }

// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX key min max: removes the range in one
// batch (the key alone when every member goes) and replies how many went.
void remove_range(CommandContext& context, RangeKind kind) {
  RangeRequest request;
  if (!parse_bounds(context, kind, context.argv[2], context.argv[3], &request)) return;
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kSortedSet, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.integer(0);
  Result<std::vector<ScoredMember>> members =
      select_members(keyspace, *write.collection, nullptr, request);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  if (members->empty()) return context.reply.integer(0);
  KeyspaceWrite batch(keyspace);
  if (members->size() == write.collection->meta().count) {
    batch.remove(key, *write.found.entry);  // every member goes: the record alone
    const Status status = batch.commit();
    if (!status.is_ok()) return reply_status(context.reply, status);
  } else {
    for (const ScoredMember& scored : *members) {
      remove_member(batch, *write.collection, scored.member, scored.score);
    }
    if (!commit_collection(context, batch, write)) return;
  }
  context.reply.integer(static_cast<int64_t>(members->size()));
}
void zremrangebyrank_command(CommandContext& context) { remove_range(context, RangeKind::kRank); }
void zremrangebyscore_command(CommandContext& context) {
  remove_range(context, RangeKind::kScore);
}
void zremrangebylex_command(CommandContext& context) { remove_range(context, RangeKind::kLex); }

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kRead = kCommandReadonly;
constexpr std::string_view kRangeComplexity =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements returned (a rank range: O(distance from the nearer end + M) in Cairn).";
constexpr std::string_view kScoreRangeComplexity =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
    "with LIMIT), you can consider it O(log(N)).";

const CommandSpec kSortedSetRangeCommands[] = {
    {"zrange", -4, kRead, 1, 1, 1, "sorted_set", "1.2.0",
     "Returns members in a sorted set within a range of indexes.", kRangeComplexity,
     zrange_command, {}},
    {"zrangestore", -5, kWrite | kCommandDenyOom, 1, 2, 1, "sorted_set", "6.2.0",
     "Stores a range of members from sorted set in a key.",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
     "elements stored into the destination key.",
     zrangestore_command, {}},
    {"zrevrange", -4, kRead, 1, 1, 1, "sorted_set", "1.2.0",
     "Returns members in a sorted set within a range of indexes in reverse order.",
     kRangeComplexity, zrevrange_command, {}},
    {"zrangebyscore", -4, kRead, 1, 1, 1, "sorted_set", "1.0.5",
     "Returns members in a sorted set within a range of scores.", kScoreRangeComplexity,
     zrangebyscore_command, {}},
    {"zrevrangebyscore", -4, kRead, 1, 1, 1, "sorted_set", "2.2.0",
     "Returns members in a sorted set within a range of scores in reverse order.",
     kScoreRangeComplexity, zrevrangebyscore_command, {}},
    {"zrangebylex", -4, kRead, 1, 1, 1, "sorted_set", "2.8.9",
     "Returns members in a sorted set within a lexicographical range.", kScoreRangeComplexity,
     zrangebylex_command, {}},
    {"zrevrangebylex", -4, kRead, 1, 1, 1, "sorted_set", "2.8.9",
     "Returns members in a sorted set within a lexicographical range in reverse order.",
     kScoreRangeComplexity, zrevrangebylex_command, {}},
    {"zcount", 4, kRead | kCommandFast, 1, 1, 1, "sorted_set", "2.0.0",
     "Returns the count of members in a sorted set that have scores within a range.",
     "O(log(N)+M) in Cairn, M being the members in the range (Redis: O(log(N))).",
     zcount_command, {}},
    {"zlexcount", 4, kRead | kCommandFast, 1, 1, 1, "sorted_set", "2.8.9",
     "Returns the number of members in a sorted set within a lexicographical range.",
     "O(log(N)+M) in Cairn, M being the members in the range (Redis: O(log(N))).",
     zlexcount_command, {}},
    {"zremrangebyrank", 4, kWrite, 1, 1, 1, "sorted_set", "2.0.0",
     "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all "
     "members were removed.",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
     "elements removed by the operation.",
     zremrangebyrank_command, {}},
    {"zremrangebyscore", 4, kWrite, 1, 1, 1, "sorted_set", "1.2.0",
     "Removes members in a sorted set within a range of scores. Deletes the sorted set if all "
     "members were removed.",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
     "elements removed by the operation.",
     zremrangebyscore_command, {}},
    {"zremrangebylex", 4, kWrite, 1, 1, 1, "sorted_set", "2.8.9",
     "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if "
     "all members were removed.",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
     "elements removed by the operation.",
     zremrangebylex_command, {}},
};

}  // namespace

std::span<const CommandSpec> sorted_set_range_commands() { return kSortedSetRangeCommands; }

}  // namespace cairn
