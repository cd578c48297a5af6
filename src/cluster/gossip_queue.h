// GossipQueue: the news a node piggybacks on its protocol messages (SWIM's infection-style
// dissemination). Each update is sent a limited number of times, about lambda x log(n) for n
// members, after which enough nodes have it that it reaches the rest through them. Updates
// sent the fewest times go first, and among those the newest, so fresh news spreads fast and a
// burst of news (a large cluster forming) does not starve any of it.
//
// The queue holds at most one update per member: newer news about a member replaces the older,
// which no longer matters.
//
// Thread-safety: none; owned by one Membership.
// Invariants: at most one entry per member; every entry was sent fewer times than the limit it
// was last taken with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "cluster/membership_message.h"
#include "common/node_id.h"

namespace cairn {

// The retransmissions of one update in a cluster of `member_count` members:
// multiplier x ceil(log10(member_count + 1)), as memberlist does.
uint32_t retransmit_limit(uint32_t multiplier, size_t member_count);

class GossipQueue {
 public:
  // Queues `update` as never sent, replacing any queued update about the same member.
  void push(MemberUpdate update);
  // Appends to *out up to `count_max` updates of at most `bytes_max` encoded bytes in all, fewest
  // sends first, then newest first, and counts a send for each; an update sent `transmit_limit`
  // times leaves the queue. Updates about `skip` (the recipient, who knows best) are left.
  void take(size_t count_max, size_t bytes_max, uint32_t transmit_limit, NodeId skip,
            std::vector<MemberUpdate>* out);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // The queued update about `node`, if any.
  const MemberUpdate* find(NodeId node) const;

 private:
  // (sends, -sequence, node): begin() is the next to send. Negated as 0 - sequence in uint64_t.
  using Order = std::tuple<uint32_t, uint64_t, NodeId>;
  struct Entry {
    MemberUpdate update;
    uint32_t sends = 0;
    uint64_t sequence = 0;  // order of pushing; larger is newer
    Order order() const { return {sends, 0 - sequence, update.node}; }
  };

  std::map<NodeId, Entry> entries_;
  std::set<Order> order_;
  uint64_t next_sequence_ = 1;
};

}  // namespace cairn
