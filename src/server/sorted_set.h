// Sorted sets on the keyspace, as the Z* commands use them: a member's score read with one
// lookup, members written and removed together with their score-index entries, and walks in
// score or member order, either way.
//
// A sorted set is a collection (collection.h) holding, per member, two element records: the
// member under kElementTag with its encoded score as value, and (score, member) under kScoreTag
// with an empty value (model/sorted_set_score.h), so a score look-up is one read and a score
// range is one seek. Ranks have no index: a rank is found by walking from the nearer end it is
// given from (O(rank)).
//
// Thread-safety: as collection.h. Writers hold the key's lock; multi-step readers read at a
// KeyspaceSnapshot.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/sorted_set_score.h"
#include "server/collection.h"
#include "server/keyspace.h"

namespace cairn {

constexpr RecordType kSortedSet = RecordType::kSortedSet;

struct ScoredMember {
  std::string member;
  double score = 0;
};

// The score of `member`, or nullopt when it is not a member. `snapshot` null reads now;
// `before_write` as Keyspace::read_element.
Result<std::optional<double>> read_score(Keyspace& keyspace, const Collection& zset,
                                         std::string_view member, const Snapshot* snapshot,
                                         bool before_write = false);

// Writes `member` with `score` into `batch`: `old_score` is its score now (nullopt when it is not
// a member). Keeps the count and the index bounds of zset.meta() true; the caller writes the
// record. REQUIRES: !isnan(score).
void put_member(KeyspaceWrite& batch, Collection& zset, std::string_view member,
                std::optional<double> old_score, double score);
// Removes `member`, whose score is `score`, as put_member.
void remove_member(KeyspaceWrite& batch, Collection& zset, std::string_view member, double score);

// Removes up to `count` members from the low end (or the high end with `max`) of `zset` into
// `batch` and returns them in pop order (ZPOPMIN, ZPOPMAX). Leaves the index floor (ceiling) at
// the last one popped, so that the next pop seeks past these deletions instead of stepping over
// them. Takes the members from the key's pop-ahead run when it holds `count` of them, and
// otherwise reads them with the run's next ones; the batch keeps the run (pop_ahead.h). The
// caller writes the record and commits.
Result<std::vector<ScoredMember>> pop_members(Keyspace& keyspace, KeyspaceWrite& batch,
                                              Collection& zset, uint64_t count, bool max);

// Walks a sorted set's members in score order (the index: by score, then member bytes) or in
// member order (as ZRANGEBYLEX), forward or in reverse. REQUIRES: the keyspace and the collection
// outlive it.
class SortedSetWalk {
 public:
  enum class Order { kScore, kMember };

  SortedSetWalk(Keyspace& keyspace, const Collection& zset, const KeyspaceSnapshot* snapshot,
                Order order, bool reverse);

  // The first member in walking order.
  void seek_to_start();
  // Order::kScore: the first member, in walking order, whose score is not before `score` (with
  // `exclusive`, strictly after it): >= going forward, <= in reverse.
  void seek_score(double score, bool exclusive);
  // Order::kMember: the first member, in walking order, within `bound` taken as the walk's
  // starting bound (the minimum going forward, the maximum in reverse).
  void seek_member(const LexBound& bound);

  bool valid() const { return valid_; }
  // REQUIRES: valid(). One step in walking order.
  void next();
  std::string_view member() const { return member_; }
  double score() const { return score_; }
  // The index element of the current member (score order only).
  std::string_view index_element() const;
  // An engine error, or Corruption for an entry that does not decode.
  Status status() const;

 private:
  // Positions at the first element >= target (forward) or the last element < target (reverse).
  void seek_forward(std::string_view target);
  void seek_before(std::string_view target);
  void settle();

  const Collection& zset_;
  ElementIterator it_;
  Order order_;
  bool reverse_;
  bool valid_ = false;
  std::string_view member_;
  double score_ = 0;
  Status corrupt_;
};

// Collects up to `limit` (nullopt: no limit) members from the walk's position onward while
// `in_range` holds for them, after skipping `offset` of them.
template <typename InRange>
Result<std::vector<ScoredMember>> collect_members(SortedSetWalk& walk, uint64_t offset,
                                                  std::optional<uint64_t> limit,
                                                  InRange in_range) {
  std::vector<ScoredMember> out;
  if (limit.has_value() && *limit == 0) return out;
  // Never steps past the last member it needs: pops leave deletions behind it.
  for (; walk.valid() && in_range(walk); walk.next()) {
    if (offset > 0) {
      offset--;
      continue;
    }
    out.push_back(ScoredMember{std::string(walk.member()), walk.score()});
    if (limit.has_value() && out.size() == *limit) break;
  }
  CAIRN_RETURN_IF_ERROR(walk.status());
  return out;
}

}  // namespace cairn
