// Membership's failure detector: SWIM's probe rounds (ping, then ping-req through k others, then
// suspicion), the relays this node runs for others' ping-reqs, and Lifeguard's local health:
// a timely direct ack lowers the score by one; a failed probe raises it by the nacks that did
// not come back (or by one when nobody could be asked), since relays that answer nothing point
// at this node's own trouble rather than the target's.
#include <algorithm>

#include "cluster/membership.h"
#include "common/assert.h"

namespace cairn {

void Membership::step_probe(uint64_t now_ms) {
  if (probe_) {
    if (!probe_->indirect_sent && now_ms >= probe_->direct_deadline_ms) send_ping_reqs();
    if (now_ms >= probe_->round_end_ms) finish_failed_probe(now_ms);
  }
  if (!probe_ && now_ms >= next_probe_ms_) start_probe(now_ms);
}

void Membership::start_probe(uint64_t now_ms) {
  const std::optional<NodeId> target = next_probe_target();
  if (!target) {
    next_probe_ms_ = now_ms + config_.probe_interval_ms;
    return;
  }
  Probe probe;
  probe.target = *target;
  probe.seq = next_seq_++;
  probe.direct_deadline_ms = now_ms + health_.scale(config_.probe_timeout_ms);
  probe.round_end_ms = now_ms + health_.scale(config_.probe_interval_ms);
  probe_ = probe;
  next_probe_ms_ = probe.round_end_ms;
  stats_.probes++;
  MembershipMessage ping;
  ping.type = MembershipMessageType::kPing;
  ping.seq = probe.seq;
  ping.target = probe.target;
  send(probe.target, std::move(ping));
}

std::optional<NodeId> Membership::next_probe_target() {
  // At most one full pass over the order and one over a reshuffled one.
  for (size_t attempts = 0; attempts < 2 * (probe_order_.size() + 1); attempts++) {
    if (probe_index_ >= probe_order_.size()) {
      probe_order_.clear();
      probe_index_ = 0;
      for (const auto& [member, record] : table_.records()) {
        if (member != id_ && record.state != MemberState::kDead) probe_order_.push_back(member);
      }
      if (probe_order_.empty()) return std::nullopt;
      // Fisher-Yates with the node's own Random: a pass visits every member once, in an order
      // no other node shares.
      for (size_t i = probe_order_.size() - 1; i > 0; i--) {
        std::swap(probe_order_[i], probe_order_[random_.uniform(i + 1)]);
      }
    }
    const NodeId candidate = probe_order_[probe_index_++];
    const std::optional<MemberState> state = table_.state(candidate);
    if (state && *state != MemberState::kDead) return candidate;
  }
  return std::nullopt;
}

void Membership::add_to_probe_order(NodeId id) {
  // SWIM inserts a new member at a random place in the rest of the current pass, so that it is
  // probed within one pass and no sooner than chance says. A member that flaps between dead
  // and alive is inserted each time; the bound keeps a pass finite, and the next rebuild
  // includes whoever was left out.
  if (probe_order_.size() >= 2 * kMemberCountMax) return;
  const size_t rest = probe_order_.size() - std::min(probe_index_, probe_order_.size());
  const size_t at = probe_index_ + random_.uniform(rest + 1);
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(at), id);
}

void Membership::send_ping_reqs() {
  CAIRN_ASSERT(probe_.has_value());
  probe_->indirect_sent = true;
  std::vector<NodeId> relays = alive_members();
  std::erase_if(relays, [&](NodeId member) { return member == id_ || member == probe_->target; });
  const size_t count = std::min<size_t>(config_.indirect_probe_count, relays.size());
  // A partial Fisher-Yates: the first `count` become a uniform random choice.
  for (size_t i = 0; i < count; i++) {
    std::swap(relays[i], relays[i + random_.uniform(relays.size() - i)]);
    MembershipMessage request;
    request.type = MembershipMessageType::kPingReq;
    request.seq = probe_->seq;
    request.target = probe_->target;
    send(relays[i], std::move(request));
  }
  probe_->nacks_expected = static_cast<uint32_t>(count);
  stats_.ping_reqs_sent += count;
}

void Membership::finish_failed_probe(uint64_t now_ms) {
  CAIRN_ASSERT(probe_.has_value());
  const Probe probe = *probe_;
  probe_.reset();
  stats_.probes_failed++;
  const uint32_t missing =
      probe.nacks_expected - std::min(probe.nacks_received, probe.nacks_expected);
  health_.apply(probe.nacks_expected > 0 ? static_cast<int>(missing) : 1);
  const MemberRecord* record = table_.find(probe.target);
  if (record == nullptr || record->state == MemberState::kDead) return;
  stats_.suspicions_raised++;
  suspect(probe.target, record->incarnation, id_, now_ms);
}

void Membership::handle_ping(NodeId from, const MembershipMessage& message) {
  // A ping meant for another node (an old address reused) gets no ack.
  if (message.target != id_) return;
  MembershipMessage ack;
  ack.type = MembershipMessageType::kAck;
  ack.seq = message.seq;
  send(from, std::move(ack));
}

void Membership::handle_ack(NodeId from, uint64_t seq, uint64_t now_ms) {
  const auto relay = relays_.find(seq);
  if (relay != relays_.end()) {
    MembershipMessage forwarded;
    forwarded.type = MembershipMessageType::kAck;
    forwarded.seq = relay->second.requester_seq;
    send(relay->second.requester, std::move(forwarded));
    relays_.erase(relay);
    return;
  }
  if (!probe_ || probe_->seq != seq) return;  // late, or a reconnect ping's ack
  // Late acks (after the direct timeout, through a relay) still clear the target; only a timely
  // direct one is evidence that this node itself is healthy.
  if (from == probe_->target && now_ms <= probe_->direct_deadline_ms) health_.apply(-1);
  probe_.reset();
}

void Membership::handle_ping_req(NodeId from, const MembershipMessage& message, uint64_t now_ms) {
  if (message.target == id_ || message.target == from || relays_.size() >= kRelaysMax) return;
  const uint64_t seq = next_seq_++;
  relays_[seq] = Relay{from, message.seq, now_ms + config_.nack_timeout_ms,
                       now_ms + config_.probe_timeout_ms, false};
  MembershipMessage ping;
  ping.type = MembershipMessageType::kPing;
  ping.seq = seq;
  ping.target = message.target;
  send(message.target, std::move(ping));
}

void Membership::handle_nack(uint64_t seq) {
  if (!probe_ || probe_->seq != seq) return;
  probe_->nacks_received++;
  stats_.nacks_received++;
}

void Membership::step_relays(uint64_t now_ms) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    Relay& relay = it->second;
    if (!relay.nacked && now_ms >= relay.nack_at_ms) {
      relay.nacked = true;
      MembershipMessage nack;
      nack.type = MembershipMessageType::kNack;
      nack.seq = relay.requester_seq;
      send(relay.requester, std::move(nack));
      stats_.nacks_sent++;
    }
    it = now_ms >= relay.expire_ms ? relays_.erase(it) : std::next(it);
  }
}

void Membership::send_reconnect_ping(NodeId to, uint64_t now_ms) {
  const auto last = reconnect_pinged_ms_.find(to);
  if (last != reconnect_pinged_ms_.end() && now_ms < last->second + config_.reconnect_interval_ms) {
    return;
  }
  reconnect_pinged_ms_[to] = now_ms;
  stats_.reconnect_pings_sent++;
  // An ordinary ping whose piggyback starts with "you are dead" (piggyback_for): the member
  // refutes, and its ack carries the refutation back. Its seq matches no probe.
  MembershipMessage ping;
  ping.type = MembershipMessageType::kPing;
  ping.seq = next_seq_++;
  ping.target = to;
  send(to, std::move(ping));
}

}  // namespace cairn
