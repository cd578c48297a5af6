// MembershipView: the ClusterView a node's replication runs on, read from its Membership: the
// ring membership gossips, and liveness as the coordinator needs it. A suspect may still be alive
// (SWIM suspects before it convicts, and a suspect usually refutes), so only a member declared
// dead counts as down: the coordinator then picks another counter leader, sends sloppy writes to
// a stand-in, and holds hints for it.
//
// Thread-safety: as Membership (one thread).
#pragma once

#include "cluster/cluster_view.h"
#include "cluster/membership.h"

namespace cairn {

class MembershipView final : public ClusterView {
 public:
  // REQUIRES: membership outlives the view.
  explicit MembershipView(const Membership* membership) : membership_(membership) {}

  const Ring& ring() const override { return membership_->ring(); }
  bool is_alive(NodeId node) const override {
    const std::optional<MemberState> state = membership_->state(node);
    return state.has_value() && *state != MemberState::kDead;
  }

 private:
  const Membership* membership_;
};

}  // namespace cairn
