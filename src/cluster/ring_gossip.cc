#include "cluster/ring_gossip.h"

#include <utility>

#include "common/assert.h"

namespace cairn {

bool header_supersedes(const RingHeader& a, const RingHeader& b) {
  if (a.epoch != b.epoch) return a.epoch > b.epoch;
  return a.digest > b.digest;
}

RingGossip::RingGossip(size_t replica_count) : ring_(replica_count), encoded_(ring_.encode()) {}

bool RingGossip::should_push(NodeId peer, const RingHeader& header, uint64_t now_ms,
                             uint64_t interval_ms) {
  if (!header_supersedes(this->header(), header)) return false;
  const auto it = pushes_.find(peer);
  if (it != pushes_.end() && it->second.digest == ring_.digest() &&
      now_ms < it->second.at_ms + interval_ms) {
    return false;
  }
  if (it == pushes_.end() && pushes_.size() >= kMemberCountMax) pushes_.clear();
  pushes_[peer] = Push{ring_.digest(), now_ms};
  return true;
}

Result<bool> RingGossip::offer(std::string_view bytes) {
  Result<Ring> decoded = Ring::decode(bytes);
  if (!decoded.is_ok()) return decoded.status();
  if (!decoded->supersedes(ring_)) return false;
  ring_ = std::move(decoded).value();
  // Re-encoded rather than kept: a varint may be spelled longer than encode() spells it.
  encoded_ = ring_.encode();
  return true;
}

void RingGossip::adopt(Ring ring) {
  CAIRN_ASSERT(ring.supersedes(ring_));
  ring_ = std::move(ring);
  encoded_ = ring_.encode();
}

}  // namespace cairn
