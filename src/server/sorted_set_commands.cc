// Sorted-set commands (Redis 7.0 semantics, with 7.2's ZRANK/ZREVRANK WITHSCORE): ZADD, ZINCRBY,
// ZREM, ZSCORE, ZMSCORE, ZCARD, ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZMPOP, the blocking BZPOPMIN,
// BZPOPMAX and BZMPOP, ZRANDMEMBER and ZSCAN. Ranges are in sorted_set_range_commands.cc, unions
// and intersections in sorted_set_algebra_commands.cc. A sorted set is a collection whose
// members carry two records each (sorted_set.h). Writers hold their keys' locks from the read to
// the commit; readers of more than one record read at a snapshot.
#include "server/sorted_set_commands.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/string_number.h"
#include "server/collection_commands.h"
#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/keyspace_internal.h"

namespace cairn {

void reply_scored_members(CommandContext& context, std::span<const ScoredMember> members,
                          bool with_scores) {
  const bool pairs = with_scores && context.reply.version() == RespVersion::kResp3;
  context.reply.array_header(with_scores && !pairs ? members.size() * 2 : members.size());
  for (const ScoredMember& scored : members) {
    if (pairs) context.reply.array_header(2);
    context.reply.bulk_string(scored.member);
    if (with_scores) context.reply.double_value(scored.score);
  }
}

void reply_member_pairs(CommandContext& context, std::span<const ScoredMember> members) {
  context.reply.array_header(members.size());
  for (const ScoredMember& scored : members) {
    context.reply.array_header(2);
    context.reply.bulk_string(scored.member);
    context.reply.double_value(scored.score);
  }
}

void store_sorted_set(CommandContext& context, std::string_view destination,
                      std::span<const ScoredMember> members) {
  Keyspace& keyspace = keyspace_of(context);
  Result<FoundCollection> target = find_collection(keyspace, destination, kSortedSet, true);
  if (!target.is_ok()) return reply_status(context.reply, target.status());
  KeyspaceWrite batch(keyspace);
  Status status;
  if (members.empty()) {
    if (target->entry.has_value()) batch.remove(destination, *target->entry);
  } else {
    Result<CollectionBuilder> builder =
        CollectionBuilder::start(keyspace, destination, kSortedSet, 0);
    status = builder.status();
    for (size_t i = 0; status.is_ok() && i < members.size(); i++) {
      const std::string index = score_index_element(members[i].score, members[i].member);
      status = builder->add(members[i].member, std::string_view(index).substr(0, kScoreBytes));
      if (status.is_ok()) status = builder->add(index, "", kScoreTag);
    }
    Result<Collection> result = status.is_ok() ? builder->finish() : Result<Collection>(status);
    status = result.status();
    if (status.is_ok()) status = write_collection(batch, *result, *target);
  }
  if (status.is_ok()) status = batch.commit();
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.integer(static_cast<int64_t>(members.size()));
}

namespace {

constexpr std::string_view kNotFloatError = "ERR value is not a valid float";

// ---- ZADD, ZINCRBY, ZREM --------------------------------------------------------------------

struct AddOptions {
  bool nx = false;  // only add new members
  bool xx = false;  // only update members
  bool gt = false;  // update only to a greater score
  bool lt = false;  // update only to a lower score
  bool ch = false;  // reply added + changed
  bool incr = false;
};

// Adds or updates argv's (score, member) pairs, from argv[first] on (`scores[i]` parsed from
// argv[first + 2i], for the member argv[first + 2i + 1]), under
// `options`, as Redis's zaddGenericCommand: pairs apply in order, a member named twice sees its
// first update. Replies the count (or with INCR the new score, null when nothing was done).
void add_members(CommandContext& context, const AddOptions& options, size_t first,
                 const std::vector<double>& scores) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kSortedSet, !options.xx, &write)) return;
  if (!write.collection.has_value()) {  // XX on an absent key
    return options.incr ? context.reply.null() : context.reply.integer(0);
  }
  KeyspaceWrite batch(keyspace);
  std::unordered_map<std::string_view, std::optional<double>> current;  // as this command left it
  int64_t added = 0;
  int64_t changed = 0;
  bool processed = false;
  double last_score = 0;
  for (size_t i = 0; i < scores.size(); i++) {
    const std::string_view member = context.argv[first + 2 * i + 1];
    auto it = current.find(member);
    if (it == current.end()) {
      std::optional<double> score;
      if (write.found.collection.has_value()) {
        Result<std::optional<double>> read =
            read_score(keyspace, *write.collection, member, nullptr, true);
        if (!read.is_ok()) return reply_status(context.reply, read.status());
        score = *read;
      }
      it = current.emplace(member, score).first;
    }
    const std::optional<double> old_score = it->second;
    if (old_score.has_value() ? options.nx : options.xx) continue;
    double score = scores[i];
    if (old_score.has_value()) {
      if (options.incr) score += *old_score;
      if (std::isnan(score)) return context.reply.error("ERR resulting score is not a number (NaN)");
      if ((options.gt && score <= *old_score) || (options.lt && score >= *old_score)) continue;
      if (score != *old_score) changed++;
    } else {
      added++;
    }
    put_member(batch, *write.collection, member, old_score, score);
    it->second = score;
    processed = true;
    last_score = score;
  }
  if (added + changed > 0 && !commit_collection(context, batch, write)) return;
  if (options.incr) return processed ? context.reply.double_value(last_score) : context.reply.null();
  context.reply.integer(options.ch ? added + changed : added);
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
void zadd_command(CommandContext& context) {
  AddOptions options;
  size_t first = 2;
  for (; first < context.argv.size(); first++) {
    const std::string_view option = context.argv[first];
    bool* flag = equals_ignore_case(option, "nx")     ? &options.nx
                 : equals_ignore_case(option, "xx")   ? &options.xx
                 : equals_ignore_case(option, "gt")   ? &options.gt
                 : equals_ignore_case(option, "lt")   ? &options.lt
                 : equals_ignore_case(option, "ch")   ? &options.ch
                 : equals_ignore_case(option, "incr") ? &options.incr
                                                      : nullptr;
    if (flag == nullptr) break;
    *flag = true;
  }
  const size_t pair_arguments = context.argv.size() - first;
  if (pair_arguments == 0 || pair_arguments % 2 != 0) return context.reply.error(kSyntaxError);
  if (options.nx && options.xx) {
    return context.reply.error("ERR XX and NX options at the same time are not compatible");
  }
  if ((options.gt && options.nx) || (options.lt && options.nx) || (options.gt && options.lt)) {
    return context.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (options.incr && pair_arguments > 2) {
    return context.reply.error("ERR INCR option supports a single increment-element pair");
  }
  std::vector<double> scores;
  for (size_t i = first; i < context.argv.size(); i += 2) {
    const std::optional<double> score = parse_score(context.argv[i]);
    if (!score.has_value()) return context.reply.error(kNotFloatError);
    const Status status = check_element(context.argv[i + 1]);
    if (!status.is_ok()) return reply_status(context.reply, status);
    scores.push_back(*score);
  }
  add_members(context, options, first, scores);
}

// ZINCRBY key increment member
void zincrby_command(CommandContext& context) {
  const std::optional<double> increment = parse_score(context.argv[2]);
  if (!increment.has_value()) return context.reply.error(kNotFloatError);
  const Status status = check_element(context.argv[3]);
  if (!status.is_ok()) return reply_status(context.reply, status);
  AddOptions options;
  options.incr = true;
  add_members(context, options, 2, {*increment});
}

// ZREM key member [member ...]
void zrem_command(CommandContext& context) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, kSortedSet, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.integer(0);
  KeyspaceWrite batch(keyspace);
  std::unordered_map<std::string_view, bool> seen;  // a member named twice is removed once
  int64_t removed = 0;
  for (size_t i = 2; i < context.argv.size(); i++) {
    const std::string_view member = context.argv[i];
    if (!seen.emplace(member, true).second) continue;
    Result<std::optional<double>> score =
        read_score(keyspace, *write.collection, member, nullptr, true);
    if (!score.is_ok()) return reply_status(context.reply, score.status());
    if (!score->has_value()) continue;
    remove_member(batch, *write.collection, member, **score);
    removed++;
  }
  if (removed > 0 && !commit_collection(context, batch, write)) return;
  context.reply.integer(removed);
}

// ---- Reads of one member ----------------------------------------------------------------------

void zscore_command(CommandContext& context) {
  Keyspace& keyspace = keyspace_of(context);
  Result<FoundCollection> found = find_collection(keyspace, context.argv[1], kSortedSet, false);
  if (!collection_usable(context, found)) return;
  if (!found->collection.has_value()) return context.reply.null();
  Result<std::optional<double>> score =
      read_score(keyspace, *found->collection, context.argv[2], nullptr);
  if (!score.is_ok()) return reply_status(context.reply, score.status());
  if (!score->has_value()) return context.reply.null();
  context.reply.double_value(**score);
}

// ZMSCORE key member [member ...]
void zmscore_command(CommandContext& context) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found =
      find_collection_at(keyspace, context.argv[1], kSortedSet, snapshot);
  if (!collection_usable(context, found)) return;
  std::vector<std::optional<double>> scores;
  for (size_t i = 2; i < context.argv.size() && found->collection.has_value(); i++) {
    Result<std::optional<double>> score =
        read_score(keyspace, *found->collection, context.argv[i], snapshot.get());
    if (!score.is_ok()) return reply_status(context.reply, score.status());
    scores.push_back(*score);
  }
  scores.resize(context.argv.size() - 2);  // an absent key: every score is null
  context.reply.array_header(scores.size());
  for (const std::optional<double>& score : scores) {
    if (score.has_value()) {
      context.reply.double_value(*score);
    } else {
      context.reply.null();
    }
  }
}

void zcard_command(CommandContext& context) {
  Result<FoundCollection> found =
      find_collection(keyspace_of(context), context.argv[1], kSortedSet, false);
  if (!collection_usable(context, found)) return;
  context.reply.integer(
      found->collection.has_value() ? static_cast<int64_t>(found->collection->meta().count) : 0);
}

// ZRANK / ZREVRANK key member [WITHSCORE]: the member's position, counted by walking the index
// from the end the rank is counted from.
void rank_generic(CommandContext& context, bool reverse) {
  if (context.argv.size() > 4) return reply_wrong_arity(context, reverse ? "zrevrank" : "zrank");
  const bool with_score = context.argv.size() == 4;
  if (with_score && !equals_ignore_case(context.argv[3], "withscore")) {
    return context.reply.error(kSyntaxError);
  }
  auto reply_missing = [&] {
    return with_score ? context.reply.null_array() : context.reply.null();
  };
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found =
      find_collection_at(keyspace, context.argv[1], kSortedSet, snapshot);
  if (!collection_usable(context, found)) return;
  if (!found->collection.has_value()) return reply_missing();
  const std::string_view member = context.argv[2];
  Result<std::optional<double>> score =
      read_score(keyspace, *found->collection, member, snapshot.get());
  if (!score.is_ok()) return reply_status(context.reply, score.status());
  if (!score->has_value()) return reply_missing();
  const std::string target = score_index_element(**score, member);
  SortedSetWalk walk(keyspace, *found->collection, &snapshot, SortedSetWalk::Order::kScore,
                     reverse);
  int64_t rank = 0;
  for (walk.seek_to_start(); walk.valid() && walk.index_element() != target; walk.next()) rank++;
  if (!walk.status().is_ok()) return reply_status(context.reply, walk.status());
  if (!walk.valid()) {
    return reply_status(context.reply, Status::corruption("sorted-set member not in its index"));
  }
  if (with_score) context.reply.array_header(2);
  context.reply.integer(rank);
  if (with_score) context.reply.double_value(**score);
}
void zrank_command(CommandContext& context) { rank_generic(context, false); }
void zrevrank_command(CommandContext& context) { rank_generic(context, true); }

// ---- Pops -------------------------------------------------------------------------------------

// How the pops reply (ZPOPMIN, BZPOPMIN, ZMPOP).
enum class PopReply {
  kFlat,       // ZPOPMIN key: [member, score]
  kCounted,    // ZPOPMIN key count: as ZRANGE WITHSCORES
  kKeyMember,  // BZPOPMIN: [key, member, score]
  kKeyPairs,   // ZMPOP, BZMPOP: [key, [[member, score] ...]]
};

// Pops up to `count` members from the first of `keys` that holds a sorted set (every key is
// locked from the look-up to the commit, or the registration to wait), replying per `shape`.
// With none: an empty array (ZPOPMIN), or for the others a null array or a wait.
void pop_first(CommandContext& context, std::span<const std::string_view> keys, bool max,
               uint64_t count, PopReply shape, const Waiting& waiting) {
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(keys);
  for (const std::string_view key : keys) {
    CollectionWrite write;
    if (!open_for_pop(context, key, kSortedSet, &write)) return;
    if (!write.collection.has_value()) continue;
    if (count == 0) return context.reply.array_header(0);
    KeyspaceWrite batch(keyspace);
    Result<std::vector<ScoredMember>> popped =
        pop_members(keyspace, batch, *write.collection, count, max);
    if (!popped.is_ok()) return reply_status(context.reply, popped.status());
    if (!commit_collection(context, batch, write)) return;
    switch (shape) {
      case PopReply::kFlat:
        context.reply.array_header(2);
        context.reply.bulk_string(popped->front().member);
        return context.reply.double_value(popped->front().score);
      case PopReply::kCounted: return reply_scored_members(context, *popped, true);
      case PopReply::kKeyMember:
        context.reply.array_header(3);
        context.reply.bulk_string(key);
        context.reply.bulk_string(popped->front().member);
        return context.reply.double_value(popped->front().score);
      case PopReply::kKeyPairs:
        context.reply.array_header(2);
        context.reply.bulk_string(key);
        return reply_member_pairs(context, *popped);
    }
  }
  if (shape == PopReply::kFlat || shape == PopReply::kCounted) {
    return context.reply.array_header(0);
  }
  wait_or_reply_null(context, keys, waiting, true);
}

// ZPOPMIN / ZPOPMAX key [count]
void pop_generic(CommandContext& context, bool max) {
  if (context.argv.size() > 3) return context.reply.error(kSyntaxError);
  if (context.argv.size() == 2) {
    return pop_first(context, context.argv.subspan(1, 1), max, 1, PopReply::kFlat, Waiting{});
  }
  // Redis's getPositiveLongFromObjectOrReply: one message for a non-integer and a negative.
  const std::optional<int64_t> count = string_to_int64(context.argv[2]);
  if (!count.has_value() || *count < 0) {
    return context.reply.error("ERR value is out of range, must be positive");
  }
  pop_first(context, context.argv.subspan(1, 1), max, static_cast<uint64_t>(*count),
            PopReply::kCounted, Waiting{});
}
void zpopmin_command(CommandContext& context) { pop_generic(context, false); }
void zpopmax_command(CommandContext& context) { pop_generic(context, true); }

// BZPOPMIN / BZPOPMAX key [key ...] timeout
void blocking_pop(CommandContext& context, bool max) {
  const std::optional<uint64_t> timeout_ms = parse_block_timeout(context, context.argv.back());
  if (!timeout_ms.has_value()) return;
  pop_first(context, context.argv.subspan(1, context.argv.size() - 2), max, 1,
            PopReply::kKeyMember, Waiting{true, *timeout_ms});
}
void bzpopmin_command(CommandContext& context) { blocking_pop(context, false); }
void bzpopmax_command(CommandContext& context) { blocking_pop(context, true); }

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] (numkeys at argv[first]), and BZMPOP.
void mpop_generic(CommandContext& context, size_t first, bool blocking) {
  const std::optional<MultiPopRequest> request =
      parse_multi_pop(context, first, blocking, {"min", "max"});
  if (!request.has_value()) return;
  pop_first(context, request->keys, request->second_where, request->count, PopReply::kKeyPairs,
            request->waiting);
}
void zmpop_command(CommandContext& context) { mpop_generic(context, 1, false); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void bzmpop_command(CommandContext& context) { mpop_generic(context, 2, true); }

// ---- ZRANDMEMBER, ZSCAN -----------------------------------------------------------------------

// ZRANDMEMBER key [count [WITHSCORES]]
void zrandmember_command(CommandContext& context) {
  std::optional<RandomCount> count;
  bool with_scores = false;
  if (context.argv.size() >= 3) {
    count = parse_random_count(context, context.argv[2]);
    if (!count.has_value()) return;
    if (context.argv.size() > 4 ||
        (context.argv.size() == 4 && !equals_ignore_case(context.argv[3], "withscores"))) {
      return context.reply.error(kSyntaxError);
    }
    with_scores = context.argv.size() == 4;
    // Redis bounds a count WITHSCORES to half the range (its reply has two entries per draw).
    constexpr auto kWithScoresMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 2);
    if (with_scores && count->wanted > kWithScoresMax) {
      return context.reply.error("ERR value is out of range");
    }
  }
  std::optional<ElementValues> picked =
      draw_random_elements(context, kSortedSet, count, with_scores);
  if (!picked.has_value()) return;
  std::vector<ScoredMember> members;
  members.reserve(picked->size());
  for (auto& [member, value] : *picked) {
    ScoredMember scored{std::move(member), 0};
    if (with_scores && !decode_score(value, &scored.score)) {
      return reply_status(context.reply, Status::corruption("sorted-set score does not decode"));
    }
    members.push_back(std::move(scored));
  }
  reply_scored_members(context, members, with_scores);
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]
void zscan_command(CommandContext& context) {
  scan_collection(context, kSortedSet, ScanValues::kScore);
}

constexpr uint32_t kWrite = kCommandWrite;
constexpr uint32_t kWriteGrows = kCommandWrite | kCommandDenyOom;
constexpr uint32_t kRead = kCommandReadonly;
constexpr uint32_t kReadFast = kCommandReadonly | kCommandFast;
constexpr std::string_view kPopComplexity =
    "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
    "of elements popped.";

const CommandSpec kSortedSetCommands[] = {
    {"zadd", -4, kWriteGrows | kCommandFast, 1, 1, 1, "sorted_set", "1.2.0",
     "Adds one or more members to a sorted set, or updates their scores. Creates the key if it "
     "doesn't exist.",
     "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
     zadd_command, {}},
    {"zincrby", 4, kWriteGrows | kCommandFast, 1, 1, 1, "sorted_set", "1.2.0",
     "Increments the score of a member in a sorted set.",
     "O(log(N)) where N is the number of elements in the sorted set.", zincrby_command, {}},
    {"zrem", -3, kWrite | kCommandFast, 1, 1, 1, "sorted_set", "1.2.0",
     "Removes one or more members from a sorted set. Deletes the sorted set if all members were "
     "removed.",
     "O(M*log(N)) with N being the number of elements in the sorted set and M the number of "
     "elements to be removed.",
     zrem_command, {}},
    {"zscore", 3, kReadFast, 1, 1, 1, "sorted_set", "1.2.0",
     "Returns the score of a member in a sorted set.", "O(1)", zscore_command, {}},
    {"zmscore", -3, kReadFast, 1, 1, 1, "sorted_set", "6.2.0",
     "Returns the score of one or more members in a sorted set.",
     "O(N) where N is the number of members being requested.", zmscore_command, {}},
    {"zcard", 2, kReadFast, 1, 1, 1, "sorted_set", "1.2.0",
     "Returns the number of members in a sorted set.", "O(1)", zcard_command, {}},
    {"zrank", -3, kReadFast, 1, 1, 1, "sorted_set", "2.0.0",
     "Returns the index of a member in a sorted set ordered by ascending scores.",
     "O(rank) in Cairn: the index is walked from the lowest score (Redis: O(log(N))).",
     zrank_command, {}},
    {"zrevrank", -3, kReadFast, 1, 1, 1, "sorted_set", "2.0.0",
     "Returns the index of a member in a sorted set ordered by descending scores.",
     "O(rank) in Cairn: the index is walked from the highest score (Redis: O(log(N))).",
     zrevrank_command, {}},
    {"zpopmin", -2, kWrite | kCommandFast, 1, 1, 1, "sorted_set", "5.0.0",
     "Returns the lowest-scoring members from a sorted set after removing them. Deletes the "
     "sorted set if the last member was popped.",
     kPopComplexity, zpopmin_command, {}},
    {"zpopmax", -2, kWrite | kCommandFast, 1, 1, 1, "sorted_set", "5.0.0",
     "Returns the highest-scoring members from a sorted set after removing them. Deletes the "
     "sorted set if the last member was popped.",
     kPopComplexity, zpopmax_command, {}},
    {"bzpopmin", -3, kWrite | kCommandFast | kCommandBlocking, 1, -2, 1, "sorted_set", "5.0.0",
     "Removes and returns the member with the lowest score from one or more sorted sets. Blocks "
     "until a member is available otherwise. Deletes the sorted set if the last element was "
     "popped.",
     "O(log(N)) with N being the number of elements in the sorted set.", bzpopmin_command, {}},
    {"bzpopmax", -3, kWrite | kCommandFast | kCommandBlocking, 1, -2, 1, "sorted_set", "5.0.0",
     "Removes and returns the member with the highest score from one or more sorted sets. "
     "Blocks until a member available otherwise.  Deletes the sorted set if the last element "
     "was popped.",
     "O(log(N)) with N being the number of elements in the sorted set.", bzpopmax_command, {}},
    {"zmpop", -4, kWrite, 0, 0, 0, "sorted_set", "7.0.0",
     "Returns the highest- or lowest-scoring members from one or more sorted sets after removing "
     "them. Deletes the sorted set if the last member was popped.",
     "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
     "in the sorted set, and M being the number of elements popped.",
     zmpop_command, {}},
    {"bzmpop", -5, kWrite | kCommandBlocking, 0, 0, 0, "sorted_set", "7.0.0",
     "Removes and returns a member by score from one or more sorted sets. Blocks until a member "
     "is available otherwise. Deletes the sorted set if the last element was popped.",
     "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
     "in the sorted set, and M being the number of elements popped.",
     bzmpop_command, {}},
    {"zrandmember", -2, kRead, 1, 1, 1, "sorted_set", "6.2.0",
     "Returns one or more random members from a sorted set.",
     "O(N) where N is the number of members in the sorted set (Cairn walks them in one pass).",
     zrandmember_command, {}},
    {"zscan", -3, kRead, 1, 1, 1, "sorted_set", "2.8.0",
     "Iterates over members and scores of a sorted set.",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
     "cursor to return back to 0. N is the number of elements inside the collection.",
     zscan_command, {}},
};

}  // namespace

std::span<const CommandSpec> sorted_set_commands() { return kSortedSetCommands; }

}  // namespace cairn
