#include "sim/checkers.h"

#include <algorithm>
#include <map>
#include <set>

namespace cairn::sim {

std::string describe(const OperationRecord& op) {
  std::string text = "op " + std::to_string(op.id) + " " + request_kind_name(op.request.kind) +
                     " " + op.request.key;
  for (const std::string& argument : op.request.arguments) text += " " + argument;
  if (op.request.kind == RequestKind::kIncrBy) text += " " + std::to_string(op.request.number);
  text += " via " + to_string(op.coordinator) + " at " + std::to_string(op.invoked_us) + "us";
  if (op.reply.version.node.value != 0) {
    text += " version " + to_string(op.reply.version.timestamp) + "@" +
            to_string(op.reply.version.node);
  }
  return text;
}

namespace {

std::map<std::string, const FinalKey*> by_key(const std::vector<FinalKey>& keys) {
  std::map<std::string, const FinalKey*> index;
  for (const FinalKey& key : keys) index[key.key] = &key;
  return index;
}

// Whether SREM `rem` may have removed what SADD `add` added: it saw the SADD (its read's
// version vector covers it, which a failed SREM's reply also reports once it read), or, when it
// never said what it saw (no reply, or it failed before reading), it was still running after
// the SADD began.
bool may_have_removed(const OperationRecord& rem, const OperationRecord& add) {
  if (!rem.reply.seen.vector.empty()) return rem.reply.seen.reflects(add.reply.version);
  if (rem.acknowledged()) return false;
  return !rem.completed_us.has_value() || *rem.completed_us > add.invoked_us;
}

bool strict_quorum(const Consistency& consistency) {
  return !consistency.sloppy && consistency.level != ConsistencyLevel::kOne;
}

}  // namespace

std::vector<Violation> check_durability(const History& history, const std::vector<FinalKey>& keys) {
  std::vector<Violation> violations;
  const auto index = by_key(keys);
  for (const OperationRecord& op : history.records()) {
    if (!is_write(op.request.kind) || !op.acknowledged() || !strict_quorum(op.consistency)) {
      continue;
    }
    const auto it = index.find(op.request.key);
    if (it == index.end()) {
      violations.push_back({"durability", "no final read of " + op.request.key});
      continue;
    }
    if (!it->second->quorum_read.seen.reflects(op.reply.version)) {
      violations.push_back(
          {"durability", "final read of " + op.request.key + " lost acknowledged " + describe(op)});
    }
  }
  return violations;
}

std::vector<Violation> check_convergence(const std::vector<FinalKey>& keys) {
  std::vector<Violation> violations;
  for (const FinalKey& key : keys) {
    if (key.replica_states.empty()) continue;
    const std::string first = key.replica_states.front().second.encode();
    for (const auto& [node, state] : key.replica_states) {
      if (state.encode() != first) {
        violations.push_back({"convergence", key.key + ": " + to_string(node) + " differs from " +
                                                 to_string(key.replica_states.front().first)});
      }
    }
  }
  return violations;
}

std::vector<Violation> check_read_your_writes(const History& history, size_t replica_count) {
  std::vector<Violation> violations;
  std::map<std::string, std::vector<const OperationRecord*>> writes;
  for (const OperationRecord& op : history.records()) {
    if (is_write(op.request.kind) && op.acknowledged() && !op.consistency.sloppy) {
      writes[op.request.key].push_back(&op);
    }
  }
  for (const OperationRecord& read : history.records()) {
    if (is_write(read.request.kind) || !read.acknowledged() || read.consistency.sloppy) continue;
    const size_t r = required_replies(read.consistency.level, replica_count);
    for (const OperationRecord* write : writes[read.request.key]) {
      const size_t w = required_replies(write->consistency.level, replica_count);
      if (r + w <= replica_count || *write->completed_us >= read.invoked_us) continue;
      if (!read.reply.seen.reflects(write->reply.version)) {
        violations.push_back({"read-your-writes",
                              describe(read) + " missed earlier acknowledged " + describe(*write)});
      }
    }
  }
  return violations;
}

std::vector<Violation> check_counters(const History& history, const std::vector<FinalKey>& keys) {
  std::vector<Violation> violations;
  std::map<std::string, std::pair<int64_t, int64_t>> sums;  // key -> (acknowledged, other)
  for (const OperationRecord& op : history.records()) {
    if (op.request.kind != RequestKind::kIncrBy) continue;
    auto& [acknowledged, other] = sums[op.request.key];
    (op.acknowledged() ? acknowledged : other) += op.request.number;
  }
  const auto index = by_key(keys);
  for (const auto& [key, sum] : sums) {
    const auto it = index.find(key);
    if (it == index.end()) continue;
    const std::optional<std::string>& value = it->second->quorum_read.value;
    const int64_t final_value = value ? std::stoll(*value) : 0;
    if (final_value < sum.first || final_value > sum.first + sum.second) {
      violations.push_back({"counters", key + " is " + std::to_string(final_value) +
                                            ": acknowledged increments sum to " +
                                            std::to_string(sum.first) + ", others to " +
                                            std::to_string(sum.second)});
    }
  }
  return violations;
}

std::vector<Violation> check_sets(const History& history, const std::vector<FinalKey>& keys) {
  std::vector<Violation> violations;
  const auto index = by_key(keys);
  std::map<std::string, std::set<std::string>> ever_added;
  for (const OperationRecord& op : history.records()) {
    if (op.request.kind == RequestKind::kSetAdd) {
      ever_added[op.request.key].insert(op.request.arguments.begin(), op.request.arguments.end());
    }
  }
  for (const OperationRecord& add : history.records()) {
    if (add.request.kind != RequestKind::kSetAdd || !add.acknowledged()) continue;
    const auto it = index.find(add.request.key);
    if (it == index.end()) continue;
    const std::vector<std::string>& members = it->second->quorum_read.values;
    for (const std::string& member : add.request.arguments) {
      if (std::binary_search(members.begin(), members.end(), member)) continue;
      const bool removed = std::any_of(
          history.records().begin(), history.records().end(), [&](const OperationRecord& rem) {
            return rem.request.kind == RequestKind::kSetRemove &&
                   rem.request.key == add.request.key &&
                   std::find(rem.request.arguments.begin(), rem.request.arguments.end(), member) !=
                       rem.request.arguments.end() &&
                   may_have_removed(rem, add);
          });
      if (!removed) {
        violations.push_back(
            {"sets", add.request.key + " lost " + member + " of " + describe(add)});
      }
    }
  }
  for (const FinalKey& key : keys) {
    const auto added = ever_added.find(key.key);
    if (added == ever_added.end()) continue;
    for (const std::string& member : key.quorum_read.values) {
      if (!added->second.contains(member)) {
        violations.push_back({"sets", key.key + " holds " + member + ", never added"});
      }
    }
  }
  return violations;
}

std::vector<Violation> check_run(const History& history, const std::vector<FinalKey>& keys,
                                 size_t replica_count) {
  std::vector<Violation> all;
  for (auto found : {check_durability(history, keys), check_convergence(keys),
                     check_read_your_writes(history, replica_count), check_counters(history, keys),
                     check_sets(history, keys)}) {
    all.insert(all.end(), found.begin(), found.end());
  }
  return all;
}

}  // namespace cairn::sim
