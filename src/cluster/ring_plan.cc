#include "cluster/ring_plan.h"

#include <algorithm>
#include <map>

#include "common/assert.h"

namespace cairn {

RingPlan plan_change(const Ring& before, const Ring& after) {
  CAIRN_ASSERT(!before.empty() && !after.empty());
  CAIRN_ASSERT(before.transition() == Ring::Transition::kNone &&
               after.transition() == Ring::Transition::kNone);
  std::map<NodeId, MemberMoves> moves;
  for (uint32_t p = 0; p < kPartitionCount; p++) {
    const std::span<const NodeId> old_list = before.preference_list(p);
    const std::span<const NodeId> new_list = after.preference_list(p);
    for (const NodeId node : old_list) {
      moves[node].replicas_before++;
      if (std::find(new_list.begin(), new_list.end(), node) == new_list.end()) moves[node].lost++;
    }
    for (const NodeId node : new_list) {
      moves[node].replicas_after++;
      if (std::find(old_list.begin(), old_list.end(), node) == old_list.end()) moves[node].gained++;
    }
  }
  RingPlan plan;
  for (auto& [id, member] : moves) {
    member.id = id;
    plan.replicas_moved += member.gained;
    if (member.replicas_after > member.replicas_before) {
      plan.replicas_ideal += member.replicas_after - member.replicas_before;
    }
    plan.replicas_total += member.replicas_after;
    plan.members.push_back(member);
  }
  return plan;
}

}  // namespace cairn
