// Membership's handling of news: SWIM's precedence (MemberTable), refutation with a higher
// incarnation, Lifeguard's suspicion timers, and what a sync may change. Gossiped news is
// authoritative; a sync (a whole list, possibly from a node that was cut off and believes
// everyone dead) only adds members this node has never seen, raises incarnations, and corrects
// this node about itself: suspicions come from probes and their gossip, never from stale lists.
#include "cluster/membership.h"
#include "common/assert.h"

namespace cairn {

MemberUpdate Membership::self_update() const {
  return MemberUpdate{id_, MemberState::kAlive, incarnation_, id_, rack_, address_};
}

uint32_t Membership::transmit_limit() const {
  return retransmit_limit(config_.retransmit_multiplier, table_.size());
}

size_t Membership::live_member_count() const {
  return table_.count(MemberState::kAlive) + table_.count(MemberState::kSuspect);
}

void Membership::apply_updates(const std::vector<MemberUpdate>& updates, bool from_sync,
                               uint64_t now_ms) {
  for (const MemberUpdate& update : updates) apply_update(update, from_sync, now_ms);
}

void Membership::apply_update(const MemberUpdate& update, bool from_sync, uint64_t now_ms) {
  if (update.node == id_) {
    apply_news_about_self(update, now_ms);
    return;
  }
  const MemberRecord* record = table_.find(update.node);
  if (record != nullptr) {
    if (from_sync && update.state != MemberState::kAlive) return;
    if (update.state == MemberState::kSuspect && record->state == MemberState::kSuspect &&
        update.incarnation == record->incarnation) {
      // Another accuser of a suspicion already running: Lifeguard shortens the timeout, and the
      // confirmation is news for others' timers too.
      const auto suspicion = suspicions_.find(update.node);
      if (suspicion != suspicions_.end() && suspicion->second.confirm(update.accuser)) {
        gossip_.push(update);
      }
      return;
    }
    if (update.state == MemberState::kAlive && record->state == MemberState::kDead &&
        update.incarnation == record->incarnation) {
      // Someone still has it alive at the incarnation this node saw it die: one of the two is
      // wrong, and only the member can tell. Asking it costs one ping (rate-limited).
      send_reconnect_ping(update.node, now_ms);
      return;
    }
  }
  const bool was_dead_or_unknown = record == nullptr || record->state == MemberState::kDead;
  if (!table_.apply(update, now_ms)) return;
  gossip_.push(update);
  if (update.state == MemberState::kSuspect) {
    start_suspicion(update, now_ms);
  } else {
    suspicions_.erase(update.node);
  }
  if (was_dead_or_unknown && update.state != MemberState::kDead) add_to_probe_order(update.node);
}

void Membership::apply_news_about_self(const MemberUpdate& update, uint64_t now_ms) {
  if (update.incarnation < incarnation_) return;  // old news
  if (update.state == MemberState::kAlive && update.incarnation == incarnation_) return;
  // Suspected or declared dead at this incarnation or later, or alive at a later one (the
  // cluster remembers an earlier life of this id): either way, answer above it. Being accused
  // hints that this node is slow, so Lifeguard counts it against its health.
  if (update.state != MemberState::kAlive) health_.apply(1);
  refute(update.incarnation, now_ms);
}

void Membership::refute(uint64_t above_incarnation, uint64_t now_ms) {
  incarnation_ = std::max(incarnation_, above_incarnation) + 1;
  stats_.refutations++;
  const MemberUpdate alive = self_update();
  table_.apply(alive, now_ms);
  gossip_.push(alive);
}

void Membership::suspect(NodeId id, uint64_t incarnation, NodeId accuser, uint64_t now_ms) {
  const MemberRecord* record = table_.find(id);
  CAIRN_ASSERT(record != nullptr);
  MemberUpdate update = record->as_update(accuser);
  update.state = MemberState::kSuspect;
  update.incarnation = incarnation;
  update.accuser = accuser;
  apply_update(update, /*from_sync=*/false, now_ms);
}

void Membership::start_suspicion(const MemberUpdate& update, uint64_t now_ms) {
  const size_t members = live_member_count();
  // Confirmations can only come from members other than the suspect and the first accuser.
  const uint32_t wanted =
      members >= config_.suspicion_confirmations + 2 ? config_.suspicion_confirmations : 0;
  const SuspicionTimeouts timeouts =
      suspicion_timeouts(config_.suspicion_multiplier, config_.suspicion_max_multiplier, members,
                         config_.probe_interval_ms);
  suspicions_.insert_or_assign(
      update.node, Suspicion(update.incarnation, update.accuser, now_ms, wanted, timeouts));
}

void Membership::expire_suspicions(uint64_t now_ms) {
  std::vector<NodeId> expired;
  for (const auto& [member, suspicion] : suspicions_) {
    if (now_ms >= suspicion.deadline_ms()) expired.push_back(member);
  }
  for (const NodeId member : expired) {
    const MemberRecord* record = table_.find(member);
    const uint64_t incarnation = suspicions_.at(member).incarnation();
    suspicions_.erase(member);
    if (record == nullptr || record->state != MemberState::kSuspect ||
        record->incarnation != incarnation) {
      continue;
    }
    stats_.deaths_declared++;
    MemberUpdate dead = record->as_update(id_);
    dead.state = MemberState::kDead;
    apply_update(dead, /*from_sync=*/false, now_ms);
  }
}

}  // namespace cairn
