// Membership's entry points, joins and syncs, the ring, and sending. The failure detector is in
// membership_probe.cc, the handling of news in membership_news.cc.
#include "cluster/membership.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"

namespace cairn {

Membership::Membership(NodeId id, std::string rack, MembershipConfig config, Network* network,
                       uint64_t seed, std::string address)
    : id_(id),
      rack_(std::move(rack)),
      address_(std::move(address)),
      config_(config),
      network_(network),
      random_(seed),
      health_(config.health_multiplier_max),
      ring_(config.replica_count) {
  CAIRN_ASSERT(network != nullptr);
  CAIRN_ASSERT(rack_.size() <= kRackNameBytesMax && address_.size() <= kAddressBytesMax);
  CAIRN_ASSERT(config.probe_interval_ms > 0 && config.probe_timeout_ms > 0);
  CAIRN_ASSERT(config.probe_timeout_ms < config.probe_interval_ms);
  CAIRN_ASSERT(config.nack_timeout_ms <= config.probe_timeout_ms);
  CAIRN_ASSERT(config.piggyback_updates_max <= kPiggybackUpdatesMax);
  CAIRN_ASSERT(config.retransmit_multiplier >= 1 && config.health_multiplier_max >= 1);
  CAIRN_ASSERT(config.ring_joins_per_change_max >= 1);
  CAIRN_ASSERT(config.join_retry_interval_ms > 0 && config.sync_interval_ms > 0);
  CAIRN_ASSERT(config.reconnect_interval_ms > 0);
  table_.set_listener(
      [this](NodeId member, std::optional<MemberState> previous, MemberState current) {
        if (member != id_ && listener_) listener_(member, previous, current);
      });
}

void Membership::start(uint64_t now_ms) {
  now_ms_ = now_ms;
  table_.apply(self_update(), now_ms);
  // News of this node, for whoever it talks to first.
  gossip_.push(self_update());
  // Random phases, so that nodes started together do not probe and sync in lockstep.
  next_probe_ms_ = now_ms + random_.uniform(config_.probe_interval_ms);
  next_sync_ms_ = now_ms + random_.uniform(config_.sync_interval_ms) + 1;
  next_reconnect_ms_ = now_ms + random_.uniform(config_.reconnect_interval_ms) + 1;
  next_ring_change_ms_ = now_ms;
}

void Membership::found(uint64_t now_ms) {
  CAIRN_ASSERT(phase_ == Phase::kIdle);
  phase_ = Phase::kJoined;
  start(now_ms);
  ring_.adopt(Ring(config_.replica_count).with_joined(RingMember{id_, rack_}));
  note_ring_change();
}

void Membership::join(std::vector<NodeId> seeds, uint64_t now_ms) {
  CAIRN_ASSERT(phase_ == Phase::kIdle);
  std::erase(seeds, id_);
  CAIRN_ASSERT(!seeds.empty() && seeds.size() <= kSeedCountMax);
  seeds_ = std::move(seeds);
  phase_ = Phase::kJoining;
  start(now_ms);
  send_join(now_ms);
}

void Membership::resume(const Ring& ring, uint64_t now_ms) {
  CAIRN_ASSERT(phase_ == Phase::kIdle && ring.contains(id_));
  phase_ = Phase::kJoined;
  start(now_ms);
  ring_.adopt(ring);
  note_ring_change();
  for (const RingMember& member : ring.members()) {
    if (member.id == id_) continue;
    // Its lowest claim: any news the cluster has of the member outranks it.
    apply_update(MemberUpdate{member.id, MemberState::kAlive, 0, member.id, member.rack, {}},
                 /*from_sync=*/false, now_ms);
  }
}

bool Membership::alone() const {
  return phase_ == Phase::kJoined && table_.size() == 1 && ring().members().size() == 1 &&
         ring().contains(id_) && ring().transition() == Ring::Transition::kNone;
}

void Membership::rejoin(std::vector<NodeId> seeds, uint64_t now_ms) {
  CAIRN_ASSERT(alone());
  std::erase(seeds, id_);
  CAIRN_ASSERT(!seeds.empty() && seeds.size() <= kSeedCountMax);
  seeds_ = std::move(seeds);
  ring_ = RingGossip(config_.replica_count);
  if (ring_listener_) ring_listener_(ring_.ring());
  phase_ = Phase::kJoining;
  send_join(now_ms);
}

void Membership::send_join(uint64_t now_ms) {
  // A sync wanting a reply: the seed learns this node from it and answers with its members.
  for (const NodeId seed : seeds_) send_sync(seed, /*reply_wanted=*/true);
  for (const NodeId inviter : join_invites_) {
    if (std::find(seeds_.begin(), seeds_.end(), inviter) == seeds_.end()) {
      send_sync(inviter, /*reply_wanted=*/true);
    }
  }
  join_invites_.clear();
  // Members heard of while joining (a restarted node is pinged by those who remember it) are
  // asked too: the seeds may be down, or joining themselves.
  std::vector<NodeId> others = alive_members();
  std::erase_if(others, [&](NodeId member) {
    return member == id_ || std::find(seeds_.begin(), seeds_.end(), member) != seeds_.end();
  });
  for (size_t i = 0; i < kJoinExtraTargets && !others.empty(); i++) {
    const size_t pick = random_.uniform(others.size());
    send_sync(others[pick], /*reply_wanted=*/true);
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  next_join_ms_ = now_ms + config_.join_retry_interval_ms;
}

void Membership::on_message(NodeId from, std::string_view bytes, uint64_t now_ms) {
  CAIRN_ASSERT(now_ms >= now_ms_);
  now_ms_ = now_ms;
  if (phase_ == Phase::kIdle || from == id_) return;
  Result<MembershipMessage> message = decode_membership_message(bytes);
  if (!message.is_ok()) {
    stats_.malformed_messages++;
    return;
  }
  handle(from, *message, now_ms);
  // An empty ring (a node still joining) is never worth sending.
  if (!ring_.ring().empty() &&
      ring_.should_push(from, message->ring, now_ms, config_.ring_push_interval_ms)) {
    MembershipMessage transfer;
    transfer.type = MembershipMessageType::kRing;
    transfer.ring_bytes = ring_.encoded();
    send(from, std::move(transfer));
    stats_.ring_transfers_sent++;
  }
}

void Membership::handle(NodeId from, const MembershipMessage& message, uint64_t now_ms) {
  switch (message.type) {
    case MembershipMessageType::kPing:
      apply_updates(message.updates, /*from_sync=*/false, now_ms);
      handle_ping(from, message);
      return;
    case MembershipMessageType::kAck:
      apply_updates(message.updates, /*from_sync=*/false, now_ms);
      handle_ack(from, message.seq, now_ms);
      return;
    case MembershipMessageType::kPingReq:
      apply_updates(message.updates, /*from_sync=*/false, now_ms);
      handle_ping_req(from, message, now_ms);
      return;
    case MembershipMessageType::kNack:
      handle_nack(message.seq);
      return;
    case MembershipMessageType::kSync:
      handle_sync(from, message, now_ms);
      return;
    case MembershipMessageType::kRing:
      handle_ring(message);
      return;
  }
}

void Membership::tick(uint64_t now_ms) {
  CAIRN_ASSERT(now_ms >= now_ms_);
  now_ms_ = now_ms;
  if (phase_ == Phase::kIdle) return;
  // A joining node already relays: those who remember it may ask it to.
  step_relays(now_ms);
  if (phase_ == Phase::kJoining && now_ms >= next_join_ms_) send_join(now_ms);
  if (phase_ != Phase::kJoined) return;
  step_probe(now_ms);
  expire_suspicions(now_ms);
  maybe_sync(now_ms);
  maybe_reconnect(now_ms);
  maybe_change_ring(now_ms);
}

void Membership::handle_sync(NodeId from, const MembershipMessage& message, uint64_t now_ms) {
  const bool reply_wanted = (message.sync_flags & kSyncReplyWanted) != 0;
  if (phase_ == Phase::kJoining) {
    // Only an answer admits a joining node. A request it cannot answer yet, but its sender may
    // be a member that remembers this node (its reconnect sync): asking it in return is a join
    // through a member that is up, when the seeds are not.
    if (reply_wanted) {
      // At the next retry, not now: two joining nodes answering each other at once would
      // never stop.
      if (join_invites_.size() < kSeedCountMax &&
          std::find(join_invites_.begin(), join_invites_.end(), from) == join_invites_.end()) {
        join_invites_.push_back(from);
      }
      return;
    }
    phase_ = Phase::kJoined;
  }
  apply_updates(message.updates, /*from_sync=*/true, now_ms);
  if (reply_wanted) send_sync(from, /*reply_wanted=*/false);
}

void Membership::send_sync(NodeId to, bool reply_wanted) {
  MembershipMessage message;
  message.type = MembershipMessageType::kSync;
  message.sync_flags = reply_wanted ? kSyncReplyWanted : 0;
  message.updates.reserve(table_.size());
  for (const auto& [member, record] : table_.records()) {
    message.updates.push_back(record.as_update(id_));
  }
  send(to, std::move(message));
  stats_.syncs_sent++;
}

void Membership::maybe_sync(uint64_t now_ms) {
  if (now_ms < next_sync_ms_) return;
  next_sync_ms_ = now_ms + config_.sync_interval_ms;
  std::vector<NodeId> alive = alive_members();
  std::erase(alive, id_);
  if (!alive.empty()) send_sync(alive[random_.uniform(alive.size())], /*reply_wanted=*/true);
}

void Membership::maybe_reconnect(uint64_t now_ms) {
  if (now_ms < next_reconnect_ms_) return;
  next_reconnect_ms_ = now_ms + config_.reconnect_interval_ms;
  const std::vector<NodeId> dead = table_.with_state(MemberState::kDead);
  if (dead.empty()) return;
  const NodeId chosen = dead[random_.uniform(dead.size())];
  send_sync(chosen, /*reply_wanted=*/true);
  reconnect_pinged_ms_[chosen] = now_ms;
}

void Membership::handle_ring(const MembershipMessage& message) {
  if (!ring_.behind(message.ring)) return;  // not news: skip decoding it
  const Result<bool> adopted = ring_.offer(message.ring_bytes);
  if (!adopted.is_ok()) {
    stats_.malformed_messages++;
    return;
  }
  if (*adopted) {
    stats_.rings_adopted++;
    note_ring_change();
  }
}

std::optional<NodeId> Membership::claimant() const {
  for (const RingMember& member : ring_.ring().members()) {
    if (member.id == id_) return id_;
    // A ring member this node has not heard of yet may well be alive: a node still learning
    // the cluster (a joiner) must not take the claim from it.
    const std::optional<MemberState> state = table_.state(member.id);
    if (!state || *state == MemberState::kAlive) return member.id;
  }
  return std::nullopt;
}

bool Membership::is_claimant() const { return claimant() == id_; }

void Membership::maybe_change_ring(uint64_t now_ms) {
  if (now_ms < next_ring_change_ms_ || ring_.ring().empty()) return;
  next_ring_change_ms_ = now_ms + config_.ring_change_interval_ms;
  if (!is_claimant()) return;
  const Ring& current = ring_.ring();
  // A change goes through its transition (ring.h) before the next one starts.
  switch (current.transition()) {
    case Ring::Transition::kNext:
      if (!transition_check_ || transition_check_()) adopt_change(current.flipped());
      return;
    case Ring::Transition::kPrevious:
      if (previous_epoch_ != current.epoch()) {
        previous_epoch_ = current.epoch();
        previous_since_ms_ = now_ms;
      }
      if (now_ms >= previous_since_ms_ + config_.ring_settle_ms) adopt_change(current.settled());
      return;
    case Ring::Transition::kNone:
      break;
  }
  while (!removals_.empty()) {
    const NodeId leaving = removals_.front();
    removals_.erase(removals_.begin());
    if (!current.contains(leaving) || current.members().size() < 2) continue;
    adopt_change(current.with_next(current.without(leaving)));
    return;
  }
  const size_t room = kRingMemberCountMax - current.members().size();
  const size_t joins_max = std::min(config_.ring_joins_per_change_max, room);
  std::optional<Ring> next;
  size_t joins = 0;
  for (const auto& [member, record] : table_.records()) {
    if (joins == joins_max) break;
    if (record.state != MemberState::kAlive || current.contains(member)) continue;
    if (current.is_departed(member)) continue;
    next = (next ? *next : current).with_joined(RingMember{member, record.rack});
    joins++;
  }
  if (!next) return;
  adopt_change(current.with_next(*next));
}

Status Membership::request_removal(NodeId id) {
  const Ring& ring = ring_.ring();
  if (!is_claimant()) return Status::invalid_argument("not the claimant");
  if (!ring.contains(id) || ring.members().size() < 2) {
    return Status::invalid_argument("not a member of a ring of two or more");
  }
  if (std::find(removals_.begin(), removals_.end(), id) == removals_.end()) removals_.push_back(id);
  return Status::ok();
}

void Membership::adopt_change(Ring ring) {
  ring_.adopt(std::move(ring));
  stats_.ring_changes_made++;
  note_ring_change();
}

void Membership::note_ring_change() {
  if (ring_listener_) ring_listener_(ring_.ring());
}

std::vector<MemberUpdate> Membership::piggyback_for(NodeId to) {
  std::vector<MemberUpdate> updates;
  size_t bytes = 0;
  // A peer this node believes suspect or dead hears so first, so that it can refute at once
  // (Lifeguard's buddy system, and how a healed partition learns who it must answer).
  const MemberRecord* record = table_.find(to);
  if (record != nullptr && record->state != MemberState::kAlive) {
    updates.push_back(record->as_update(id_));
    bytes = encoded_size(updates.back());
  }
  if (config_.piggyback_updates_max > updates.size() && config_.piggyback_bytes_max > bytes) {
    gossip_.take(config_.piggyback_updates_max - updates.size(),
                 config_.piggyback_bytes_max - bytes, transmit_limit(), to, &updates);
  }
  return updates;
}

void Membership::send(NodeId to, MembershipMessage message) {
  message.ring = ring_.header();
  if (updates_max(message.type) > 0 && message.type != MembershipMessageType::kSync) {
    message.updates = piggyback_for(to);
  }
  network_->send(to, encode_membership_message(message));
}

}  // namespace cairn
