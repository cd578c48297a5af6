#include "server/sorted_set.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/assert.h"

namespace cairn {
namespace {

// The smallest string after every string that begins with `bytes` (REQUIRES: some byte of it is
// below 0xFF, as in every encoded score but +inf's successor, which no score reaches).
std::string successor(std::string bytes) {
  while (!bytes.empty() && static_cast<uint8_t>(bytes.back()) == 0xFF) bytes.pop_back();
  CAIRN_ASSERT(!bytes.empty());
  bytes.back() = static_cast<char>(static_cast<uint8_t>(bytes.back()) + 1);
  return bytes;
}

}  // namespace

Result<std::optional<double>> read_score(Keyspace& keyspace, const Collection& zset,
                                         std::string_view member, const Snapshot* snapshot,
                                         bool before_write) {
  CAIRN_ASSIGN_OR_RETURN(const std::optional<std::string> value,
                         keyspace.read_element(zset.element_key(member), snapshot, before_write));
  if (!value.has_value()) return std::optional<double>();
  double score = 0;
  if (!decode_score(*value, &score)) return Status::corruption("sorted-set score does not decode");
  return std::optional<double>(score);
}

void put_member(KeyspaceWrite& batch, Collection& zset, std::string_view member,
                std::optional<double> old_score, double score) {
  CAIRN_ASSERT(!std::isnan(score));
  CollectionMeta& meta = zset.meta();
  const std::string index = score_index_element(score, member);
  const std::string_view encoded = std::string_view(index).substr(0, kScoreBytes);
  if (old_score.has_value()) {
    if (*old_score == score) return;
    zset.remove_element(batch, score_index_element(*old_score, member), kScoreTag);
    zset.overwrite_element(batch, member, encoded);
  } else {
    meta.count++;
    zset.put_element(batch, member, encoded);
  }
  zset.put_element(batch, index, "", kScoreTag);
  if (!meta.index_floor.empty() && index <= meta.index_floor) meta.index_floor.clear();
  if (!meta.index_ceiling.empty() && index >= meta.index_ceiling) meta.index_ceiling.clear();
}

void remove_member(KeyspaceWrite& batch, Collection& zset, std::string_view member,
                   double score) {
  CAIRN_ASSERT(zset.meta().count > 0);
  zset.remove_element(batch, member);
  zset.remove_element(batch, score_index_element(score, member), kScoreTag);
  zset.meta().count--;
}

namespace {

// Reads `count` members from the low end (high end with `max`) of `zset` into *popped, and as
// many index elements after them as `run` reads ahead into it.
Status read_pops(Keyspace& keyspace, const Collection& zset, uint64_t count, bool max,
                 PopRun& run, std::vector<ScoredMember>* popped) {
  SortedSetWalk walk(keyspace, zset, nullptr, SortedSetWalk::Order::kScore, max);
  walk.seek_to_start();
  CAIRN_ASSIGN_OR_RETURN(*popped,
                         collect_members(walk, 0, count, [](const SortedSetWalk&) { return true; }));
  std::vector<std::string> ahead;
  size_t ahead_bytes = 0;
  if (popped->size() == count && walk.valid()) {
    for (walk.next(); walk.valid() && !run.full(ahead.size(), ahead_bytes); walk.next()) {
      ahead.emplace_back(walk.index_element());
      ahead_bytes += ahead.back().size();
    }
    CAIRN_RETURN_IF_ERROR(walk.status());
  }
  run.refill(std::move(ahead));
  return Status::ok();
}

}  // namespace

Result<std::vector<ScoredMember>> pop_members(Keyspace& keyspace, KeyspaceWrite& batch,
                                              Collection& zset, uint64_t count, bool max) {
  const PopKind kind = max ? PopKind::kMax : PopKind::kMin;
  std::optional<PopRun> kept = keyspace.pop_ahead().take(zset.key(), kind, zset.meta());
  PopRun run = kept.has_value() ? std::move(*kept) : PopRun(kind, zset.meta().generation);
  std::vector<ScoredMember> popped;
  std::string last;  // the index element of the last member popped
  if (run.size() >= count) {
    popped.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; i++) {
      last = run.take();
      ScoredMember& scored = popped.emplace_back();
      std::string_view member;
      if (!parse_score_index_element(last, &scored.score, &member)) {
        return Status::corruption("sorted-set entry does not decode");
      }
      scored.member = member;
    }
  } else {
    CAIRN_RETURN_IF_ERROR(read_pops(keyspace, zset, count, max, run, &popped));
    if (!popped.empty()) last = score_index_element(popped.back().score, popped.back().member);
  }
  for (const ScoredMember& scored : popped) remove_member(batch, zset, scored.member, scored.score);
  if (!popped.empty() && last.size() <= kIndexBoundBytesMax) {
    (max ? zset.meta().index_ceiling : zset.meta().index_floor) = last;
  }
  run.set_count(zset.meta().count);
  if (zset.meta().count > 0) batch.keep_pop_run(zset.key(), std::move(run));
  return popped;
}

SortedSetWalk::SortedSetWalk(Keyspace& keyspace, const Collection& zset,
                             const KeyspaceSnapshot* snapshot, Order order, bool reverse)
    : zset_(zset),
      it_(keyspace, zset, snapshot, order == Order::kScore ? kScoreTag : kElementTag),
      order_(order),
      reverse_(reverse) {}

void SortedSetWalk::seek_to_start() {
  if (reverse_) {
    const std::string& ceiling = zset_.meta().index_ceiling;
    if (order_ == Order::kScore && !ceiling.empty()) return seek_before(ceiling);
    it_.seek_to_last();
  } else {
    it_.seek(order_ == Order::kScore ? zset_.meta().index_floor : "");
  }
  settle();
}

void SortedSetWalk::seek_score(double score, bool exclusive) {
  CAIRN_ASSERT(order_ == Order::kScore && !std::isnan(score));
  const std::string encoded = encode_score(score);
  // Every index element of `score` begins with `encoded`; none of another score does.
  if (reverse_) {
    seek_before(exclusive ? encoded : successor(encoded));
  } else {
    seek_forward(exclusive ? successor(encoded) : encoded);
  }
}

void SortedSetWalk::seek_member(const LexBound& bound) {
  CAIRN_ASSERT(order_ == Order::kMember);
  using Kind = LexBound::Kind;
  // The smallest member after `bound.member` is it with a NUL byte appended.
  const std::string after = bound.member + std::string(1, '\0');
  if (reverse_) {
    switch (bound.kind) {
      case Kind::kPlusInfinity: return seek_to_start();
      case Kind::kInclusive: return seek_before(after);
      case Kind::kExclusive: return seek_before(bound.member);
      case Kind::kMinusInfinity: valid_ = false; return;
    }
  } else {
    switch (bound.kind) {
      case Kind::kMinusInfinity: return seek_to_start();
      case Kind::kInclusive: return seek_forward(bound.member);
      case Kind::kExclusive: return seek_forward(after);
      case Kind::kPlusInfinity: valid_ = false; return;
    }
  }
}

void SortedSetWalk::seek_forward(std::string_view target) {
  const std::string& floor = zset_.meta().index_floor;
  if (order_ == Order::kScore && target < std::string_view(floor)) target = floor;
  it_.seek(target);
  settle();
}

void SortedSetWalk::seek_before(std::string_view target) {
  const std::string& ceiling = zset_.meta().index_ceiling;
  if (order_ == Order::kScore && !ceiling.empty() && target > std::string_view(ceiling)) {
    target = ceiling;
  }
  it_.seek_for_prev(target);
  if (it_.valid() && it_.element() == target) it_.prev();
  settle();
}

void SortedSetWalk::next() {
  CAIRN_ASSERT(valid_);
  if (reverse_) {
    it_.prev();
  } else {
    it_.next();
  }
  settle();
}

void SortedSetWalk::settle() {
  valid_ = it_.valid();
  if (!valid_) return;
  const bool decoded =
      order_ == Order::kScore
          ? parse_score_index_element(it_.element(), &score_, &member_)
          : (member_ = it_.element(), decode_score(it_.value(), &score_));
  if (!decoded) {
    corrupt_ = Status::corruption("sorted-set entry does not decode");
    valid_ = false;
  }
}

std::string_view SortedSetWalk::index_element() const {
  CAIRN_ASSERT(valid_ && order_ == Order::kScore);
  return it_.element();
}

Status SortedSetWalk::status() const {
  CAIRN_RETURN_IF_ERROR(it_.status());
  return corrupt_;
}

}  // namespace cairn
