#include "cluster/ring.h"

#include <algorithm>

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

namespace {

// Version 2 added the transition; version 1 (none) is still read.
constexpr uint8_t kRingFormatVersion = 2;

// Steps from a to b either way round the ring of partitions, whichever is shorter.
uint32_t circular_distance(uint32_t a, uint32_t b) {
  const uint32_t forward = a > b ? a - b : b - a;
  return std::min(forward, kPartitionCount - forward);
}

}  // namespace

Ring::Ring(size_t replica_count) : replica_count_(replica_count) {
  CAIRN_ASSERT(replica_count >= 1 && replica_count <= kReplicaCountMax);
  digest_ = hash64(encode());
}

bool Ring::contains(NodeId id) const {
  return std::binary_search(members_.begin(), members_.end(), RingMember{id, {}},
                            [](const RingMember& a, const RingMember& b) { return a.id < b.id; });
}

size_t Ring::member_index(NodeId id) const {
  const auto it = std::lower_bound(members_.begin(), members_.end(), id,
                                   [](const RingMember& m, NodeId key) { return m.id < key; });
  CAIRN_ASSERT(it != members_.end() && it->id == id);
  return static_cast<size_t>(it - members_.begin());
}

NodeId Ring::owner(uint32_t partition) const {
  CAIRN_ASSERT(!empty() && partition < kPartitionCount);
  return owners_[partition];
}

std::span<const NodeId> Ring::preference_list(uint32_t partition) const {
  CAIRN_ASSERT(!empty() && partition < kPartitionCount);
  return {preference_lists_.data() + static_cast<size_t>(partition) * list_width_, list_width_};
}

std::vector<NodeId> Ring::members_clockwise(uint32_t partition) const {
  CAIRN_ASSERT(!empty() && partition < kPartitionCount);
  const std::span<const NodeId> list = preference_list(partition);
  std::vector<NodeId> walk(list.begin(), list.end());
  for (uint32_t step = 0; step < kPartitionCount && walk.size() < members_.size(); step++) {
    const NodeId node = owners_[(partition + step) % kPartitionCount];
    if (std::find(walk.begin(), walk.end(), node) == walk.end()) walk.push_back(node);
  }
  return walk;
}

Ring Ring::with_joined(const RingMember& member) const {
  CAIRN_ASSERT(transition_ == Transition::kNone);
  CAIRN_ASSERT(!contains(member.id));
  CAIRN_ASSERT(members_.size() < kRingMemberCountMax);
  CAIRN_ASSERT(member.rack.size() <= kRackNameBytesMax);
  Ring next = *this;
  next.epoch_ = epoch_ + 1;
  const auto at = std::lower_bound(next.members_.begin(), next.members_.end(), member.id,
                                   [](const RingMember& m, NodeId key) { return m.id < key; });
  next.members_.insert(at, member);
  std::erase(next.departed_, member.id);
  if (owners_.empty()) {
    next.owners_.assign(kPartitionCount, member.id);
    next.derive();
    return next;
  }

  std::vector<size_t> counts = next.owned_counts();
  const size_t joiner = next.member_index(member.id);
  // Circular distance from each partition to the nearest one the joiner has taken so far.
  std::vector<uint32_t> distance(kPartitionCount, kPartitionCount);
  const size_t take = kPartitionCount / next.members_.size();
  for (size_t taken = 0; taken < take; taken++) {
    size_t most = 0;
    for (size_t i = 0; i < counts.size(); i++) {
      if (i != joiner) most = std::max(most, counts[i]);
    }
    // Among the partitions of the members owning the most, the one whose change most reduces
    // the members repeated within a window, then the farthest from the joiner's others.
    uint32_t best = kPartitionCount;
    int best_gain = 0;
    for (uint32_t p = 0; p < kPartitionCount; p++) {
      const NodeId donor = next.owners_[p];
      if (donor == member.id || counts[next.member_index(donor)] != most) continue;
      const int gain = next.repeats_near(p, donor) - next.repeats_near(p, member.id);
      if (best == kPartitionCount || gain > best_gain ||
          (gain == best_gain && distance[p] > distance[best])) {
        best = p;
        best_gain = gain;
      }
    }
    CAIRN_ASSERT(best < kPartitionCount);
    counts[next.member_index(next.owners_[best])]--;
    counts[joiner]++;
    next.owners_[best] = member.id;
    for (uint32_t p = 0; p < kPartitionCount; p++) {
      distance[p] = std::min(distance[p], circular_distance(p, best));
    }
  }
  next.derive();
  return next;
}

Ring Ring::without(NodeId id) const {
  CAIRN_ASSERT(transition_ == Transition::kNone);
  CAIRN_ASSERT(contains(id) && members_.size() >= 2);
  Ring next = *this;
  next.epoch_ = epoch_ + 1;
  next.members_.erase(next.members_.begin() + static_cast<std::ptrdiff_t>(member_index(id)));
  if (!next.is_departed(id)) {
    next.departed_.insert(std::upper_bound(next.departed_.begin(), next.departed_.end(), id), id);
    // Bounded like the members: the lowest id gives way.
    if (next.departed_.size() > kRingMemberCountMax) next.departed_.erase(next.departed_.begin());
  }
  std::vector<size_t> counts(next.members_.size(), 0);
  for (const NodeId owner : owners_) {
    if (owner != id) counts[next.member_index(owner)]++;
  }
  for (uint32_t p = 0; p < kPartitionCount; p++) {
    if (owners_[p] != id) continue;
    // The member least repeated near p (a repeat within a window of replica_count partitions
    // lengthens preference lists), then the one owning the fewest.
    size_t chosen = 0;
    int chosen_repeats = next.repeats_near(p, next.members_[0].id);
    for (size_t i = 1; i < counts.size(); i++) {
      const int repeats = next.repeats_near(p, next.members_[i].id);
      if (repeats < chosen_repeats || (repeats == chosen_repeats && counts[i] < counts[chosen])) {
        chosen = i;
        chosen_repeats = repeats;
      }
    }
    next.owners_[p] = next.members_[chosen].id;
    counts[chosen]++;
  }
  next.derive();
  return next;
}

int Ring::repeats_near(uint32_t partition, NodeId node) const {
  int repeats = 0;
  for (uint32_t step = 1; step < replica_count_; step++) {
    repeats += owners_[(partition + step) % kPartitionCount] == node;
    repeats += owners_[(partition + kPartitionCount - step) % kPartitionCount] == node;
  }
  return repeats;
}

std::vector<size_t> Ring::owned_counts() const {
  std::vector<size_t> counts(members_.size(), 0);
  for (const NodeId owner : owners_) {
    if (contains(owner)) counts[member_index(owner)]++;
  }
  return counts;
}

std::vector<size_t> Ring::replica_loads() const {
  std::vector<size_t> loads(members_.size(), 0);
  for (const NodeId node : preference_lists_) loads[member_index(node)]++;
  return loads;
}

Ring Ring::with_next(const Ring& target) const {
  CAIRN_ASSERT(transition_ == Transition::kNone && target.transition_ == Transition::kNone);
  CAIRN_ASSERT(target.replica_count_ == replica_count_);
  Ring next = *this;
  next.epoch_ = std::max(epoch_, target.epoch_) + 1;
  next.transition_ = Transition::kNext;
  next.other_ = std::make_shared<const Ring>(target);
  next.digest_ = hash64(next.encode());
  return next;
}

Ring Ring::flipped() const {
  CAIRN_ASSERT(transition_ == Transition::kNext);
  Ring previous = *this;
  previous.transition_ = Transition::kNone;
  previous.other_.reset();
  previous.digest_ = hash64(previous.encode());
  Ring next = *other_;
  next.epoch_ = epoch_ + 1;
  next.transition_ = Transition::kPrevious;
  next.other_ = std::make_shared<const Ring>(std::move(previous));
  next.digest_ = hash64(next.encode());
  return next;
}

Ring Ring::settled() const {
  CAIRN_ASSERT(transition_ == Transition::kPrevious);
  Ring next = *this;
  next.epoch_ = epoch_ + 1;
  next.transition_ = Transition::kNone;
  next.other_.reset();
  next.digest_ = hash64(next.encode());
  return next;
}

bool Ring::is_departed(NodeId id) const {
  return std::binary_search(departed_.begin(), departed_.end(), id);
}

bool Ring::contains_anywhere(NodeId id) const {
  return contains(id) || (other_ != nullptr && other_->contains(id));
}

std::vector<NodeId> Ring::write_list(uint32_t partition) const {
  const std::span<const NodeId> list = preference_list(partition);
  std::vector<NodeId> out(list.begin(), list.end());
  if (other_ == nullptr || other_->empty()) return out;
  for (const NodeId node : other_->preference_list(partition)) {
    if (std::find(list.begin(), list.end(), node) == list.end()) out.push_back(node);
  }
  return out;
}

std::vector<NodeId> Ring::gaining(uint32_t partition) const {
  if (transition_ != Transition::kNext || other_->empty()) return {};
  std::vector<NodeId> out;
  const std::span<const NodeId> list =
      empty() ? std::span<const NodeId>() : preference_list(partition);
  for (const NodeId node : other_->preference_list(partition)) {
    if (std::find(list.begin(), list.end(), node) == list.end()) out.push_back(node);
  }
  return out;
}

bool Ring::supersedes(const Ring& other) const {
  if (epoch_ != other.epoch_) return epoch_ > other.epoch_;
  return digest_ > other.digest_;
}

bool Ring::operator==(const Ring& other) const {
  if (epoch_ != other.epoch_ || replica_count_ != other.replica_count_ ||
      members_ != other.members_ || owners_ != other.owners_ || departed_ != other.departed_ ||
      transition_ != other.transition_) {
    return false;
  }
  return other_ == nullptr ? other.other_ == nullptr
                           : other.other_ != nullptr && *other_ == *other.other_;
}

void Ring::derive() {
  list_width_ = std::min(replica_count_, members_.size());
  preference_lists_.clear();
  if (!owners_.empty()) {
    // Racks as small numbers; the owners as member indexes.
    std::vector<std::string_view> racks;
    std::vector<uint32_t> rack_of_member;
    for (const RingMember& m : members_) {
      auto it = std::find(racks.begin(), racks.end(), m.rack);
      if (it == racks.end()) it = racks.insert(racks.end(), m.rack);
      rack_of_member.push_back(static_cast<uint32_t>(it - racks.begin()));
    }
    const bool racks_set = !(racks.size() == 1 && racks.front().empty());
    const size_t rack_target = racks_set ? std::min(list_width_, racks.size()) : 0;
    std::vector<uint32_t> owner_members(kPartitionCount);
    for (uint32_t p = 0; p < kPartitionCount; p++) {
      owner_members[p] = static_cast<uint32_t>(member_index(owners_[p]));
    }
    preference_lists_.reserve(list_width_ * kPartitionCount);
    for (uint32_t p = 0; p < kPartitionCount; p++) {
      append_preference_list(p, owner_members, rack_of_member, rack_target);
    }
  }
  digest_ = hash64(encode());
}

void Ring::append_preference_list(uint32_t partition, const std::vector<uint32_t>& owner_members,
                                  const std::vector<uint32_t>& rack_of_member, size_t rack_target) {
  uint32_t list[kReplicaCountMax];
  size_t filled = 0;
  auto listed = [&](uint32_t member) {
    return std::find(list, list + filled, member) != list + filled;
  };
  auto rack_listed = [&](uint32_t member) {
    return std::any_of(list, list + filled, [&](uint32_t other) {
      return rack_of_member[other] == rack_of_member[member];
    });
  };
  // First members of racks not yet in the list, then any member not yet in it.
  for (uint32_t step = 0; step < kPartitionCount && filled < rack_target; step++) {
    const uint32_t member = owner_members[(partition + step) % kPartitionCount];
    if (!listed(member) && !rack_listed(member)) list[filled++] = member;
  }
  for (uint32_t step = 0; step < kPartitionCount && filled < list_width_; step++) {
    const uint32_t member = owner_members[(partition + step) % kPartitionCount];
    if (!listed(member)) list[filled++] = member;
  }
  CAIRN_ASSERT(filled == list_width_);
  for (size_t i = 0; i < filled; i++) preference_lists_.push_back(members_[list[i]].id);
}

// Format (docs/cluster-ring.md): version byte, varint64 epoch, varint32 replica count, varint32
// member count, per member fixed64 id and length-prefixed rack, then (when there are members)
// kPartitionCount varint32 owner indexes into the members, then u8 transition and, unless it is
// none, the other ring's encoding length-prefixed, then fixed32 checksum32 of all before.
std::string Ring::encode() const {
  std::string out;
  out.push_back(static_cast<char>(kRingFormatVersion));
  put_varint64(&out, epoch_);
  put_varint32(&out, static_cast<uint32_t>(replica_count_));
  put_varint32(&out, static_cast<uint32_t>(members_.size()));
  for (const RingMember& m : members_) {
    put_fixed64(&out, m.id.value);
    put_length_prefixed(&out, m.rack);
  }
  for (const NodeId owner : owners_) {
    put_varint32(&out, static_cast<uint32_t>(member_index(owner)));
  }
  put_varint32(&out, static_cast<uint32_t>(departed_.size()));
  for (const NodeId id : departed_) put_fixed64(&out, id.value);
  out.push_back(static_cast<char>(transition_));
  if (transition_ != Transition::kNone) put_length_prefixed(&out, other_->encode());
  put_fixed32(&out, checksum32(out));
  return out;
}

Result<Ring> Ring::decode(std::string_view bytes) {
  auto corrupt = [](const char* what) { return Status::corruption(std::string("ring: ") + what); };
  if (bytes.size() < 5) return corrupt("too short");
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  uint32_t stored_checksum = 0;
  std::string_view trailer = bytes.substr(bytes.size() - 4);
  if (!get_fixed32(&trailer, &stored_checksum) || stored_checksum != checksum32(body)) {
    return corrupt("checksum mismatch");
  }
  const uint8_t version = static_cast<uint8_t>(body.front());
  if (version != 1 && version != kRingFormatVersion) return corrupt("unknown version");
  body.remove_prefix(1);
  uint64_t epoch = 0;
  uint32_t replica_count = 0;
  uint32_t member_count = 0;
  if (!get_varint64(&body, &epoch) || !get_varint32(&body, &replica_count) ||
      !get_varint32(&body, &member_count)) {
    return corrupt("truncated header");
  }
  if (replica_count < 1 || replica_count > kReplicaCountMax) return corrupt("bad replica count");
  if (member_count > kRingMemberCountMax) return corrupt("too many members");
  Ring ring(replica_count);
  ring.epoch_ = epoch;
  for (uint32_t i = 0; i < member_count; i++) {
    RingMember member;
    std::string_view rack;
    if (!get_fixed64(&body, &member.id.value) || !get_length_prefixed(&body, &rack)) {
      return corrupt("truncated member");
    }
    if (rack.size() > kRackNameBytesMax) return corrupt("rack name too long");
    if (!ring.members_.empty() && ring.members_.back().id >= member.id) {
      return corrupt("members not ascending");
    }
    member.rack = std::string(rack);
    ring.members_.push_back(std::move(member));
  }
  if (member_count > 0) {
    std::vector<size_t> counts(member_count, 0);
    ring.owners_.reserve(kPartitionCount);
    for (uint32_t p = 0; p < kPartitionCount; p++) {
      uint32_t index = 0;
      if (!get_varint32(&body, &index)) return corrupt("truncated owners");
      if (index >= member_count) return corrupt("owner out of range");
      counts[index]++;
      ring.owners_.push_back(ring.members_[index].id);
    }
    if (std::find(counts.begin(), counts.end(), 0) != counts.end()) {
      return corrupt("a member owns no partition");
    }
  }
  if (version >= 2) {
    uint32_t departed_count = 0;
    if (!get_varint32(&body, &departed_count) || departed_count > kRingMemberCountMax) {
      return corrupt("bad departed count");
    }
    for (uint32_t i = 0; i < departed_count; i++) {
      NodeId id;
      if (!get_fixed64(&body, &id.value)) return corrupt("truncated departed");
      if (!ring.departed_.empty() && ring.departed_.back() >= id) {
        return corrupt("departed not ascending");
      }
      ring.departed_.push_back(id);
    }
    if (body.empty() || static_cast<uint8_t>(body.front()) > 2) return corrupt("bad transition");
    ring.transition_ = static_cast<Transition>(body.front());
    body.remove_prefix(1);
    if (ring.transition_ != Transition::kNone) {
      std::string_view other;
      if (!get_length_prefixed(&body, &other)) return corrupt("truncated transition");
      CAIRN_ASSIGN_OR_RETURN(Ring decoded, Ring::decode(other));
      if (decoded.transition_ != Transition::kNone || decoded.replica_count_ != replica_count) {
        return corrupt("bad transition ring");
      }
      ring.other_ = std::make_shared<const Ring>(std::move(decoded));
    }
  }
  if (!body.empty()) return corrupt("trailing bytes");
  ring.derive();
  return ring;
}

}  // namespace cairn
