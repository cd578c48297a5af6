// MemberTable: one node's view of the cluster's members (itself included), and SWIM's rule for
// which news about a member wins. An update supersedes a record when its (incarnation, state)
// is greater, comparing incarnations first and then dead > suspect > alive. Only the member
// itself raises its incarnation (to refute a suspicion), so "alive at a higher incarnation"
// means it answered after the accusation, while at one incarnation a suspicion beats the alive
// it doubts and a death beats both. The order is total, so every node that hears the same news
// in any order ends with the same record: the views converge.
//
// Dead members are remembered (with their rack and address) so that old news about them stays
// old, and a restarted member learns how high to refute. A record without an address (a member
// taken from a saved ring) takes the first one any news of the member carries, stale or not: an
// address names the member, it is not news about its state.
//
// Thread-safety: none; owned by one Membership.
// Invariants: at most kMemberCountMax records; a record's (incarnation, state) never decreases.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/membership_message.h"
#include "common/node_id.h"

namespace cairn {

struct MemberRecord {
  NodeId id;
  MemberState state = MemberState::kAlive;
  uint64_t incarnation = 0;
  std::string rack;
  std::string address;
  uint64_t state_changed_ms = 0;  // the owner's monotonic time of the last state change

  // This record as news; `accuser` is kept for a suspect or dead record, the member for alive.
  MemberUpdate as_update(NodeId accuser) const;
};

// True if `update` is newer news than `record` (the order above).
bool supersedes(const MemberUpdate& update, const MemberRecord& record);

class MemberTable {
 public:
  // Called with the member, its previous state (none for a member just learned) and its new
  // state, whenever a member is added or its state changes, and (previous == current) when its
  // unknown address becomes known; not for a higher incarnation in the same state. It must not
  // call back into the table.
  using Listener =
      std::function<void(NodeId id, std::optional<MemberState> previous, MemberState current)>;

  void set_listener(Listener listener) { listener_ = std::move(listener); }

  // Adds a member never seen, or replaces a record that `update` supersedes. Returns whether it
  // did: false for stale news, and for a new member while the table is full.
  bool apply(const MemberUpdate& update, uint64_t now_ms);

  const MemberRecord* find(NodeId id) const;
  std::optional<MemberState> state(NodeId id) const;
  // Ascending by id.
  const std::map<NodeId, MemberRecord>& records() const { return records_; }
  size_t size() const { return records_.size(); }
  size_t count(MemberState state) const;
  // Members in `state`, ascending by id.
  std::vector<NodeId> with_state(MemberState state) const;

 private:
  static size_t index(MemberState state) { return static_cast<size_t>(state) - 1; }
  // Takes the address `update` carries when `record` has none.
  void learn_address(MemberRecord& record, const MemberUpdate& update);

  std::map<NodeId, MemberRecord> records_;
  std::array<size_t, 3> counts_{};  // per state
  Listener listener_;
};

}  // namespace cairn
