#include "cluster/gossip_queue.h"

#include <algorithm>

#include "common/assert.h"

namespace cairn {

uint32_t retransmit_limit(uint32_t multiplier, size_t member_count) {
  // ceil(log10(n + 1)) is the number of decimal digits of n, computed without floating point.
  uint32_t digits = 0;
  for (size_t n = member_count; n > 0; n /= 10) digits++;
  return multiplier * std::max<uint32_t>(digits, 1);
}

void GossipQueue::push(MemberUpdate update) {
  const auto it = entries_.find(update.node);
  if (it != entries_.end()) {
    order_.erase(it->second.order());
    entries_.erase(it);
  }
  Entry entry{std::move(update), 0, next_sequence_++};
  order_.insert(entry.order());
  entries_.emplace(entry.update.node, std::move(entry));
}

void GossipQueue::take(size_t count_max, size_t bytes_max, uint32_t transmit_limit, NodeId skip,
                       std::vector<MemberUpdate>* out) {
  CAIRN_ASSERT(transmit_limit > 0);
  size_t bytes = 0;
  size_t taken = 0;
  std::vector<NodeId> sent;
  for (const Order& order : order_) {
    if (taken == count_max) break;
    const NodeId node = std::get<2>(order);
    if (node == skip) continue;
    const MemberUpdate& update = entries_.at(node).update;
    const size_t size = encoded_size(update);
    // A large update (long rack and address) may not fit where smaller ones still do.
    if (bytes + size > bytes_max) continue;
    bytes += size;
    taken++;
    out->push_back(update);
    sent.push_back(node);
  }
  // Re-ordered after the walk: changing an entry's order while walking the set would revisit it.
  for (const NodeId node : sent) {
    Entry& entry = entries_.at(node);
    order_.erase(entry.order());
    entry.sends++;
    if (entry.sends >= transmit_limit) {
      entries_.erase(node);
    } else {
      order_.insert(entry.order());
    }
  }
}

const MemberUpdate* GossipQueue::find(NodeId node) const {
  const auto it = entries_.find(node);
  return it == entries_.end() ? nullptr : &it->second.update;
}

}  // namespace cairn
