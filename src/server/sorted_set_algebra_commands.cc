// Sorted-set algebra (Redis 7.0 semantics): ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE,
// ZDIFFSTORE and ZINTERCARD. Inputs are sorted sets or sets (whose members score 1). As Redis,
// inputs are ordered by size before a union or an intersection and scores are aggregated in
// that order; an intersection walks its smallest input and looks members up in the others; a
// union gathers every member in memory (its size is the reply's); a difference walks its first
// input. Results are ordered by (score, member).
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/string_number.h"
#include "server/collection_commands.h"
#include "server/command_groups.h"
#include "server/command_support.h"
#include "server/sorted_set_commands.h"

namespace cairn {
namespace {

enum class Operation { kUnion, kIntersection, kDifference };
enum class Aggregate { kSum, kMin, kMax };

// One input: a sorted set or a set (nullopt when its key is absent), and its weight.
struct Input {
  std::optional<Collection> collection;
  double weight = 1;

  uint64_t size() const { return collection.has_value() ? collection->meta().count : 0; }
  bool is_set() const { return collection.has_value() && collection->type() == RecordType::kSet; }
};

// The member's score in `input` (1 in a set), or nullopt when it is not a member.
Result<std::optional<double>> input_score(Keyspace& keyspace, const Input& input,
                                          std::string_view member,
                                          const KeyspaceSnapshot& snapshot) {
  if (!input.collection.has_value()) return std::optional<double>();
  if (!input.is_set()) return read_score(keyspace, *input.collection, member, snapshot.get());
  CAIRN_ASSIGN_OR_RETURN(
      const std::optional<std::string> value,
      keyspace.read_element(input.collection->element_key(member), snapshot.get()));
  return value.has_value() ? std::optional<double>(1.0) : std::optional<double>();
}

// Calls visit(member, score) for the members of `input` in member order while it returns true.
template <typename Visit>
Status for_each_member(Keyspace& keyspace, const Input& input, const KeyspaceSnapshot& snapshot,
                       Visit visit) {
  if (!input.collection.has_value()) return Status::ok();
  ElementIterator it(keyspace, *input.collection, &snapshot);
  for (it.seek(""); it.valid(); it.next()) {
    double score = 1;
    if (!input.is_set() && !decode_score(it.value(), &score)) {
      return Status::corruption("sorted-set score does not decode");
    }
    CAIRN_ASSIGN_OR_RETURN(const bool more, visit(it.element(), score));
    if (!more) break;
  }
  return it.status();
}

// Redis's zunionInterAggregate: a sum that is NaN (inf + -inf) is 0.
void aggregate_into(double* target, double value, Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kSum:
      *target += value;
      if (std::isnan(*target)) *target = 0;
      break;
    case Aggregate::kMin: *target = value < *target ? value : *target; break;
    case Aggregate::kMax: *target = value > *target ? value : *target; break;
  }
}

// A weighted score; NaN (0 * inf) counts as 0, as in Redis.
double weighted(double score, double weight) {
  const double value = score * weight;
  return std::isnan(value) ? 0 : value;
}

// The result of `operation` over `inputs`, ordered by (score, member). An intersection stops
// after `limit` members when limit > 0 (ZINTERCARD).
Result<std::vector<ScoredMember>> combine(Keyspace& keyspace, std::vector<Input> inputs,
                                          Operation operation, Aggregate aggregate,
                                          const KeyspaceSnapshot& snapshot, uint64_t limit = 0) {
  std::vector<ScoredMember> out;
  if (operation != Operation::kDifference) {
    std::stable_sort(inputs.begin(), inputs.end(),
                     [](const Input& a, const Input& b) { return a.size() < b.size(); });
  }
  if (operation == Operation::kUnion) {
    std::map<std::string, double, std::less<>> scores;
    for (const Input& input : inputs) {
      CAIRN_RETURN_IF_ERROR(for_each_member(
          keyspace, input, snapshot, [&](std::string_view member, double score) -> Result<bool> {
            const double value = weighted(score, input.weight);
            auto it = scores.find(member);
            if (it == scores.end()) {
              scores.emplace(std::string(member), value);
            } else {
              aggregate_into(&it->second, value, aggregate);
            }
            return Result<bool>(true);
          }));
    }
    for (auto& [member, score] : scores) out.push_back(ScoredMember{member, score});
  } else if (inputs.front().size() > 0) {
    const Input& walked = inputs.front();
    CAIRN_RETURN_IF_ERROR(for_each_member(
        keyspace, walked, snapshot, [&](std::string_view member, double score) -> Result<bool> {
          const bool intersection = operation == Operation::kIntersection;
          double total = intersection ? weighted(score, walked.weight) : score;
          for (size_t i = 1; i < inputs.size(); i++) {
            CAIRN_ASSIGN_OR_RETURN(const std::optional<double> other,
                                   input_score(keyspace, inputs[i], member, snapshot));
            if (other.has_value() != intersection) return true;
            if (intersection) aggregate_into(&total, *other * inputs[i].weight, aggregate);
          }
          out.push_back(ScoredMember{std::string(member), total});
          return limit == 0 || out.size() < limit;
        }));
  }
  for (ScoredMember& scored : out) {
    if (scored.score == 0) scored.score = 0;  // -0 reads back as 0, as a stored score does
  }
  std::sort(out.begin(), out.end(), [](const ScoredMember& a, const ScoredMember& b) {
    return a.score != b.score ? a.score < b.score : a.member < b.member;
  });
  return out;
}

// A parsed Z{UNION,INTER,DIFF}[STORE] / ZINTERCARD command.
struct AlgebraRequest {
  std::vector<Input> inputs;
  Aggregate aggregate = Aggregate::kSum;
  bool with_scores = false;
  uint64_t limit = 0;  // ZINTERCARD's LIMIT; 0: none
};

enum class Form { kReply, kStore, kCardinality };

// Parses command `name`'s numkeys at argv[numkeys_index], looks the keys up at `snapshot` (WRONGTYPE unless each
// is a sorted set or a set, checked before the options, as Redis does) and parses the options.
// Replies the error and returns nullopt on failure.
std::optional<AlgebraRequest> parse_request(CommandContext& context, std::string_view name,
                                            size_t numkeys_index, Operation operation, Form form,
                                            const KeyspaceSnapshot& snapshot) {
  const std::optional<int64_t> numkeys =
      parse_integer_argument(context.reply, context.argv[numkeys_index]);
  if (!numkeys.has_value()) return std::nullopt;
  if (*numkeys < 1) {
    context.reply.error("ERR at least 1 input key is needed for '" + std::string(name) +
                        "' command");
    return std::nullopt;
  }
  if (static_cast<uint64_t>(*numkeys) > context.argv.size() - numkeys_index - 1) {
    context.reply.error(kSyntaxError);
    return std::nullopt;
  }
  AlgebraRequest request;
  Keyspace& keyspace = keyspace_of(context);
  size_t i = numkeys_index + 1;
  for (int64_t k = 0; k < *numkeys; k++, i++) {
    Result<std::optional<KeyEntry>> entry = keyspace.find_at(context.argv[i], snapshot.get());
    if (!entry.is_ok()) {
      reply_status(context.reply, entry.status());
      return std::nullopt;
    }
    const bool is_set = entry->has_value() && (*entry)->type() == RecordType::kSet;
    Result<FoundCollection> found =
        find_collection_at(keyspace, context.argv[i], is_set ? RecordType::kSet : kSortedSet,
                           snapshot);
    if (!collection_usable(context, found)) return std::nullopt;
    request.inputs.push_back(Input{std::move(found->collection), 1});
  }
  const bool weighs = operation != Operation::kDifference && form != Form::kCardinality;
  while (i < context.argv.size()) {
    const std::string_view option = context.argv[i];
    const size_t left = context.argv.size() - i;
    if (weighs && left >= request.inputs.size() + 1 && equals_ignore_case(option, "weights")) {
      for (Input& input : request.inputs) {
        const std::optional<double> weight = parse_score(context.argv[++i]);
        if (!weight.has_value()) {
          context.reply.error("ERR weight value is not a float");
          return std::nullopt;
        }
        input.weight = *weight;
      }
      i++;
    } else if (weighs && left >= 2 && equals_ignore_case(option, "aggregate")) {
      const std::string_view function = context.argv[i + 1];
      if (equals_ignore_case(function, "sum")) {
        request.aggregate = Aggregate::kSum;
      } else if (equals_ignore_case(function, "min")) {
        request.aggregate = Aggregate::kMin;
      } else if (equals_ignore_case(function, "max")) {
        request.aggregate = Aggregate::kMax;
      } else {
        context.reply.error(kSyntaxError);
        return std::nullopt;
      }
      i += 2;
    } else if (form == Form::kReply && equals_ignore_case(option, "withscores")) {
      request.with_scores = true;
      i++;
    } else if (form == Form::kCardinality && left >= 2 && equals_ignore_case(option, "limit")) {
      const std::optional<int64_t> limit = string_to_int64(context.argv[i + 1]);
      if (!limit.has_value() || *limit < 0) {
        context.reply.error("ERR LIMIT can't be negative");
        return std::nullopt;
      }
      request.limit = static_cast<uint64_t>(*limit);
      i += 2;
    } else {
      context.reply.error(kSyntaxError);
      return std::nullopt;
    }
  }
  return request;
}

// ZUNION / ZINTER / ZDIFF numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] [WITHSCORES]
void algebra_reply(CommandContext& context, std::string_view name, Operation operation) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  std::optional<AlgebraRequest> request =
      parse_request(context, name, 1, operation, Form::kReply, snapshot);
  if (!request.has_value()) return;
  Result<std::vector<ScoredMember>> members =
      combine(keyspace, std::move(request->inputs), operation, request->aggregate, snapshot);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  reply_scored_members(context, *members, request->with_scores);
}
void zunion_command(CommandContext& context) {
  algebra_reply(context, "zunion", Operation::kUnion);
}
void zinter_command(CommandContext& context) {
  algebra_reply(context, "zinter", Operation::kIntersection);
}
void zdiff_command(CommandContext& context) {
  algebra_reply(context, "zdiff", Operation::kDifference);
}

// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key [key ...] [options]: the
// destination, of any type, is replaced by the result (removed when it is empty). The keys are
// locked: the destination and every argument after it (a superset of the inputs).
void algebra_store(CommandContext& context, std::string_view name, Operation operation) {
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_keys(context.argv.subspan(1));
  const KeyspaceSnapshot snapshot(keyspace);
  std::optional<AlgebraRequest> request =
      parse_request(context, name, 2, operation, Form::kStore, snapshot);
  if (!request.has_value()) return;
  Result<std::vector<ScoredMember>> members =
      combine(keyspace, std::move(request->inputs), operation, request->aggregate, snapshot);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  store_sorted_set(context, context.argv[1], *members);
}
void zunionstore_command(CommandContext& context) {
  algebra_store(context, "zunionstore", Operation::kUnion);
}
void zinterstore_command(CommandContext& context) {
  algebra_store(context, "zinterstore", Operation::kIntersection);
}
void zdiffstore_command(CommandContext& context) {
  algebra_store(context, "zdiffstore", Operation::kDifference);
}

// ZINTERCARD numkeys key [key ...] [LIMIT limit]
void zintercard_command(CommandContext& context) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  std::optional<AlgebraRequest> request =
      parse_request(context, "zintercard", 1, Operation::kIntersection, Form::kCardinality,
                    snapshot);
  if (!request.has_value()) return;
  Result<std::vector<ScoredMember>> members =
      combine(keyspace, std::move(request->inputs), Operation::kIntersection, Aggregate::kSum,
              snapshot, request->limit);
  if (!members.is_ok()) return reply_status(context.reply, members.status());
  context.reply.integer(static_cast<int64_t>(members->size()));
}

constexpr uint32_t kWriteGrows = kCommandWrite | kCommandDenyOom;
constexpr uint32_t kRead = kCommandReadonly;

const CommandSpec kSortedSetAlgebraCommands[] = {
    {"zunion", -3, kRead, 0, 0, 0, "sorted_set", "6.2.0",
     "Returns the union of multiple sorted sets.",
     "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
     "the number of elements in the resulting sorted set.",
     zunion_command, {}},
    {"zinter", -3, kRead, 0, 0, 0, "sorted_set", "6.2.0",
     "Returns the intersect of multiple sorted sets.",
     "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
     "number of input sorted sets and M being the number of elements in the resulting sorted "
     "set.",
     zinter_command, {}},
    {"zdiff", -3, kRead, 0, 0, 0, "sorted_set", "6.2.0",
     "Returns the difference between multiple sorted sets.",
     "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
     "is the size of the first set, and K is the size of the result set.",
     zdiff_command, {}},
    {"zunionstore", -4, kWriteGrows, 1, 1, 1, "sorted_set", "2.0.0",
     "Stores the union of multiple sorted sets in a key.",
     "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
     "the number of elements in the resulting sorted set.",
     zunionstore_command, {}},
    {"zinterstore", -4, kWriteGrows, 1, 1, 1, "sorted_set", "2.0.0",
     "Stores the intersect of multiple sorted sets in a key.",
     "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
     "number of input sorted sets and M being the number of elements in the resulting sorted "
     "set.",
     zinterstore_command, {}},
    {"zdiffstore", -4, kWriteGrows, 1, 1, 1, "sorted_set", "6.2.0",
     "Stores the difference of multiple sorted sets in a key.",
     "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
     "is the size of the first set, and K is the size of the result set.",
     zdiffstore_command, {}},
    {"zintercard", -3, kRead, 0, 0, 0, "sorted_set", "7.0.0",
     "Returns the number of members of the intersect of multiple sorted sets.",
     "O(N*K) worst case with N being the smallest input sorted set, K being the number of input "
     "sorted sets.",
     zintercard_command, {}},
};

}  // namespace

std::span<const CommandSpec> sorted_set_algebra_commands() { return kSortedSetAlgebraCommands; }

}  // namespace cairn
