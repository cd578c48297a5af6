// Lifeguard (Dadgar et al., "Lifeguard: Local Health Awareness for More Accurate Failure
// Detection", 2018): the two pieces of SWIM's failure detector that keep a slow or overloaded
// node from accusing healthy ones.
//
// - LocalHealth: a node's own health score (the "local health multiplier"). Missing acks and
//   nacks it should have received, and having to refute a suspicion of itself, suggest that the
//   problem is local; every probe timeout and interval it uses is multiplied by score + 1, so a
//   struggling node waits longer before it accuses anyone. A timely ack brings the score back.
// - Suspicion: how long a suspect has to refute before it is declared dead. The timeout starts
//   at its maximum and shrinks towards its minimum, log-scaled, as other members independently
//   suspect the same member: one confused node alone waits long, many agreeing nodes act fast.
//   Both bounds grow with log10 of the cluster size, since gossip needs longer to reach the
//   suspect (so that it can refute) in a larger cluster.
//
// Thread-safety: values; owned by one Membership.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/node_id.h"

namespace cairn {

class LocalHealth {
 public:
  // The score stays in [0, multiplier_max - 1]. REQUIRES: multiplier_max >= 1.
  explicit LocalHealth(uint32_t multiplier_max);

  void apply(int delta);
  uint32_t score() const { return score_; }
  // `timeout_ms` stretched by the score: timeout_ms x (score + 1).
  uint64_t scale(uint64_t timeout_ms) const { return timeout_ms * (score_ + 1); }

 private:
  uint32_t score_max_;
  uint32_t score_ = 0;
};

struct SuspicionTimeouts {
  uint64_t min_ms = 0;
  uint64_t max_ms = 0;
};

// min = multiplier x max(1, log10(member_count)) x probe_interval_ms; max = max_multiplier x min.
// REQUIRES: max_multiplier >= 1.
SuspicionTimeouts suspicion_timeouts(uint32_t multiplier, uint32_t max_multiplier,
                                     size_t member_count, uint64_t probe_interval_ms);

class Suspicion {
 public:
  // A suspicion of a member at `incarnation`, first raised by `accuser` at start_ms. It reaches
  // its minimum timeout after `confirmations_wanted` further independent accusers (0: at once).
  Suspicion(uint64_t incarnation, NodeId accuser, uint64_t start_ms, uint32_t confirmations_wanted,
            SuspicionTimeouts timeouts);

  // Counts `accuser` if it has not accused before and more confirmations are wanted. Returns
  // whether it was counted (news worth passing on).
  bool confirm(NodeId accuser);

  uint64_t incarnation() const { return incarnation_; }
  uint32_t confirmations() const { return static_cast<uint32_t>(accusers_.size() - 1); }
  // max - (max - min) x log(c + 1) / log(k + 1), at least min, after start.
  uint64_t deadline_ms() const;

 private:
  uint64_t incarnation_;
  uint64_t start_ms_;
  uint32_t confirmations_wanted_;
  SuspicionTimeouts timeouts_;
  std::vector<NodeId> accusers_;  // at most confirmations_wanted_ + 1
};

}  // namespace cairn
