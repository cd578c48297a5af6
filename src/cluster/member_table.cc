#include "cluster/member_table.h"

#include "common/assert.h"

namespace cairn {

MemberUpdate MemberRecord::as_update(NodeId accuser) const {
  return MemberUpdate{id,   state,  incarnation, state == MemberState::kAlive ? id : accuser,
                      rack, address};
}

bool supersedes(const MemberUpdate& update, const MemberRecord& record) {
  if (update.incarnation != record.incarnation) return update.incarnation > record.incarnation;
  return update.state > record.state;
}

bool MemberTable::apply(const MemberUpdate& update, uint64_t now_ms) {
  const auto it = records_.find(update.node);
  const bool known = it != records_.end();
  std::optional<MemberState> previous;
  if (!known) {
    if (records_.size() >= kMemberCountMax) return false;
  } else {
    if (!supersedes(update, it->second)) {
      learn_address(it->second, update);
      return false;
    }
    previous = it->second.state;
    counts_[index(it->second.state)]--;
  }
  MemberRecord& record = records_[update.node];
  record.id = update.node;
  record.incarnation = update.incarnation;
  record.rack = update.rack;
  // News without an address (a member resumed from a saved ring, Membership::resume) keeps the
  // one known.
  if (!update.address.empty() || !known) record.address = update.address;
  if (previous != update.state) record.state_changed_ms = now_ms;
  record.state = update.state;
  counts_[index(update.state)]++;
  if (listener_ && previous != update.state) listener_(update.node, previous, update.state);
  return true;
}

void MemberTable::learn_address(MemberRecord& record, const MemberUpdate& update) {
  if (!record.address.empty() || update.address.empty()) return;
  record.address = update.address;
  if (listener_) listener_(record.id, record.state, record.state);
}

const MemberRecord* MemberTable::find(NodeId id) const {
  const auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

std::optional<MemberState> MemberTable::state(NodeId id) const {
  const MemberRecord* record = find(id);
  if (record == nullptr) return std::nullopt;
  return record->state;
}

size_t MemberTable::count(MemberState state) const { return counts_[index(state)]; }

std::vector<NodeId> MemberTable::with_state(MemberState state) const {
  std::vector<NodeId> ids;
  ids.reserve(count(state));
  for (const auto& [id, record] : records_) {
    if (record.state == state) ids.push_back(id);
  }
  return ids;
}

}  // namespace cairn
