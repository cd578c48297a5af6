// RingGossip: one node's copy of the ring (cluster/ring.h) and the rules by which rings spread.
// Every membership message carries its sender's ring header (epoch, digest). A node that sees a
// header its own ring supersedes sends the peer its encoded ring; a node that receives a ring
// adopts it if it supersedes its own. Supersession is a total order (higher epoch, then higher
// digest), so all nodes end on the same ring however the transfers interleave.
//
// The encoding is kept beside the ring, made once per adopted ring, and the peers it was last
// pushed to are remembered so that a peer is not sent the same ring again before its answer
// (still showing the old header) could have arrived.
//
// Thread-safety: none; owned by one Membership.
// Invariants: encoded() == ring().encode(); header() is ring()'s epoch and digest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cluster/membership_message.h"
#include "cluster/ring.h"
#include "common/node_id.h"
#include "common/result.h"

namespace cairn {

// The order of Ring::supersedes, on headers: true if a node holding `b` should adopt `a`.
bool header_supersedes(const RingHeader& a, const RingHeader& b);

class RingGossip {
 public:
  // Starts with the empty ring (epoch 0). REQUIRES: 1 <= replica_count <= kReplicaCountMax.
  explicit RingGossip(size_t replica_count);

  const Ring& ring() const { return ring_; }
  RingHeader header() const { return RingHeader{ring_.epoch(), ring_.digest()}; }
  const std::string& encoded() const { return encoded_; }

  // True if a ring announced as `header` would replace ours: worth decoding.
  bool behind(const RingHeader& header) const { return header_supersedes(header, this->header()); }
  // True if `peer`, announcing `header`, should be sent our ring now: ours supersedes its, and we
  // did not send it this ring within the last `interval_ms`.
  bool should_push(NodeId peer, const RingHeader& header, uint64_t now_ms, uint64_t interval_ms);

  // Decodes a transferred ring and adopts it if it supersedes ours. Returns whether it did, or
  // the decoder's corruption status.
  Result<bool> offer(std::string_view bytes);
  // Adopts a ring made here (the claimant's change). REQUIRES: it supersedes ours.
  void adopt(Ring ring);

 private:
  Ring ring_;
  std::string encoded_;
  // Per peer: the digest last pushed and when. Cleared when it would pass kMemberCountMax peers.
  struct Push {
    uint64_t digest = 0;
    uint64_t at_ms = 0;
  };
  std::map<NodeId, Push> pushes_;
};

}  // namespace cairn
