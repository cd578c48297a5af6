// RingPlan: what a ring change would move, before anything moves (cairnctl plan): per member the
// replicas (partition, member) its preference lists gain and lose, the replicas moved in all,
// and the least any change with the same members could move.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <vector>

#include "cluster/ring.h"

namespace cairn {

struct MemberMoves {
  NodeId id;
  uint64_t replicas_before = 0;  // preference lists it is in
  uint64_t replicas_after = 0;
  uint64_t gained = 0;  // lists it enters: what streams to it
  uint64_t lost = 0;
};

struct RingPlan {
  std::vector<MemberMoves> members;  // of either ring, ascending by id
  uint64_t replicas_moved = 0;       // the sum of `gained`
  // The sum over members of what they must gain at least (replicas_after - replicas_before when
  // positive): the ideal, as a join's joiner or a leaver's heirs take exactly their new share.
  uint64_t replicas_ideal = 0;
  uint64_t replicas_total = 0;  // in `after`: kPartitionCount times the list width
};

// REQUIRES: neither ring is empty or in a transition.
RingPlan plan_change(const Ring& before, const Ring& after);

}  // namespace cairn
