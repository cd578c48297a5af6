// Ring: which nodes hold which slots. Dynamo's strategy 3 over Redis Cluster's slots: the 16384
// slots are grouped into kPartitionCount equal partitions (virtual nodes), each owned by one
// member. The preference list of a partition is the next replica_count distinct members walking
// the partitions clockwise from it, members of racks not yet in the list first (when racks are
// set); its first member is the partition's primary.
//
// Placement (with_joined, without) keeps two figures low, which tests/unit/cluster_ring_test.cc
// measures for 3 to 200 members:
// - balance: every member owns floor or ceil of kPartitionCount / members partitions, and a
//   joiner's partitions are spread as far apart as they can be, so that the replica_count
//   partitions after each of them belong to distinct members. Then each owned partition puts
//   its owner into exactly replica_count preference lists, and replica loads are as even as
//   ownership.
// - movement: a join takes whole partitions from the members owning the most; a leave gives each
//   of its partitions to the least-loaded member not near it. Either changes only the preference
//   lists that gain the joiner or lose the leaver, which is the ideal.
// Rack awareness lives in the preference lists only; placement ignores racks.
//
// A ring is a value: changes make a new ring with the next epoch. Membership gossips rings, and a
// node adopts a ring that supersedes its own (higher epoch; on a tie, a higher digest), so all
// nodes converge on one ring.
//
// Changes go through a transition (docs/cluster-ring.md, "Transitions"), in three rings:
// - with_next(target): reads still go to this ring's preference lists, every write also to the
//   target's (a write needs a quorum in both), and the members gaining a partition in the target
//   stream it from its current replicas (RepairService).
// - flipped(): once they all have, reads go to the target's lists; writes still go to both, so a
//   node still reading the old lists (it has not heard of the flip) finds every write there.
// - settled(): once the flip has spread, the target alone.
// preference_list() is where reads go; write_list() adds the other ring's members.
//
// Thread-safety: immutable after construction; share freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/node_id.h"
#include "common/result.h"
#include "model/slot.h"

namespace cairn {

constexpr uint32_t kPartitionCount = 2048;
constexpr uint32_t kSlotsPerPartition = kSlotCount / kPartitionCount;
static_assert(kSlotsPerPartition * kPartitionCount == kSlotCount);
// Members of one ring: each must own at least one partition.
constexpr size_t kRingMemberCountMax = 1024;
static_assert(kRingMemberCountMax <= kPartitionCount);
constexpr size_t kReplicaCountMax = 7;
constexpr size_t kRackNameBytesMax = 255;

inline uint32_t partition_of_slot(uint16_t slot) { return slot / kSlotsPerPartition; }

struct RingMember {
  NodeId id;
  std::string rack;  // empty: no rack

  bool operator==(const RingMember&) const = default;
};

class Ring {
 public:
  // What the ring named by other() is to this one.
  enum class Transition : uint8_t { kNone = 0, kNext = 1, kPrevious = 2 };

  // An empty ring (epoch 0, no members) whose preference lists will hold `replica_count` members.
  // REQUIRES: 1 <= replica_count <= kReplicaCountMax.
  explicit Ring(size_t replica_count);

  uint64_t epoch() const { return epoch_; }
  Transition transition() const { return transition_; }
  // The ring this one moves to (kNext) or left (kPrevious); nullptr without a transition.
  const Ring* other() const { return other_.get(); }
  size_t replica_count() const { return replica_count_; }
  // Ascending by id.
  const std::vector<RingMember>& members() const { return members_; }
  bool contains(NodeId id) const;
  bool empty() const { return members_.empty(); }

  // REQUIRES: !empty(); partition < kPartitionCount.
  NodeId owner(uint32_t partition) const;
  // min(replica_count, members) distinct members, primary first. REQUIRES: as owner().
  std::span<const NodeId> preference_list(uint32_t partition) const;
  std::span<const NodeId> preference_list_of_slot(uint16_t slot) const {
    return preference_list(partition_of_slot(slot));
  }

  // Every member, in the order a clockwise walk from `partition` first meets them: the
  // preference list, then the stand-ins a sloppy write takes for members that are down.
  // REQUIRES: as owner().
  std::vector<NodeId> members_clockwise(uint32_t partition) const;

  // The next ring, with `member` joined: it takes floor(kPartitionCount / members) partitions
  // (all of them in an empty ring). REQUIRES: !contains(member.id); members < kRingMemberCountMax;
  // member.rack.size() <= kRackNameBytesMax; no transition.
  Ring with_joined(const RingMember& member) const;
  // The next ring, without `id`: its partitions go to the remaining members, and `id` is listed
  // as departed, so that the claimant does not add it back while it stays up.
  // REQUIRES: contains(id); it is not the only member; no transition.
  Ring without(NodeId id) const;
  // Members taken out (without), ascending; with_joined(id) takes id off the list.
  const std::vector<NodeId>& departed() const { return departed_; }
  bool is_departed(NodeId id) const;

  // ---- Transitions (above). Each step is the next epoch.
  // This ring, moving to `target` (with_joined or without of it). REQUIRES: neither is in a
  // transition; target.replica_count() == replica_count().
  Ring with_next(const Ring& target) const;
  // The target, with this ring as the previous. REQUIRES: transition() == kNext.
  Ring flipped() const;
  // This ring without the previous. REQUIRES: transition() == kPrevious.
  Ring settled() const;
  // Whether `id` is a member of this ring or of the other.
  bool contains_anywhere(NodeId id) const;
  // The members a write of `partition` goes to: the preference list, then the other ring's
  // members that are not in it.
  std::vector<NodeId> write_list(uint32_t partition) const;
  // kNext: the members of the target's list of `partition` not in this one's, who must stream it
  // before the flip. Empty otherwise.
  std::vector<NodeId> gaining(uint32_t partition) const;

  // Per member (in members() order): partitions owned, and preference lists it is in.
  std::vector<size_t> owned_counts() const;
  std::vector<size_t> replica_loads() const;

  // True if a node holding `other` should adopt this ring instead.
  bool supersedes(const Ring& other) const;
  uint64_t digest() const { return digest_; }

  // A self-checking encoding for gossip and for the data directory (docs/cluster-ring.md).
  std::string encode() const;
  // Rejects anything encode() would not produce: bad checksum, bounds, unsorted members.
  static Result<Ring> decode(std::string_view bytes);

  bool operator==(const Ring& other) const;

 private:
  // Recomputes the preference lists and the digest from members_ and owners_.
  void derive();
  size_t member_index(NodeId id) const;
  // How many of the partitions within replica_count - 1 steps of `partition`, either way, `node`
  // owns: each is a window of replica_count partitions in which it would appear twice.
  int repeats_near(uint32_t partition, NodeId node) const;
  // Appends the preference list of `partition` to preference_lists_. owner_members holds each
  // partition's owner as an index into members_; rack_target is how many distinct racks the list
  // takes first (0 when no rack is set).
  void append_preference_list(uint32_t partition, const std::vector<uint32_t>& owner_members,
                              const std::vector<uint32_t>& rack_of_member, size_t rack_target);

  uint64_t epoch_ = 0;
  Transition transition_ = Transition::kNone;
  std::shared_ptr<const Ring> other_;  // immutable, so shared between copies
  size_t replica_count_;
  std::vector<RingMember> members_;
  std::vector<NodeId> departed_;  // ascending, at most kRingMemberCountMax
  std::vector<NodeId> owners_;    // per partition; empty while the ring is
  // kPartitionCount rows of list_width_ members each.
  std::vector<NodeId> preference_lists_;
  size_t list_width_ = 0;  // min(replica_count_, members)
  uint64_t digest_ = 0;
};

}  // namespace cairn
