// The messages of the membership protocol (SWIM with Lifeguard, cluster/membership.h) and their
// codec. The format is documented in docs/cluster-membership.md: a channel byte
// (MessageChannel::kMembership), a version, the type, the sender's ring header, then the body.
//
// decode_membership_message() takes untrusted bytes: any malformation (truncation, an unknown
// version, type, state or flag, a count or length over its bound, trailing bytes) is
// Status::corruption, never an assertion. encode_membership_message() asserts the bounds instead:
// breaking them is a bug of the sender.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/ring.h"
#include "common/node_id.h"
#include "common/result.h"

namespace cairn {

constexpr uint8_t kMembershipMessageVersion = 1;
// Members one node tracks, dead ones included; also the most updates one sync may carry.
constexpr size_t kMemberCountMax = kRingMemberCountMax;
// The most updates piggybacked on one ping, ack or ping-req.
constexpr size_t kPiggybackUpdatesMax = 64;
constexpr size_t kAddressBytesMax = 255;
// An encoded ring of kRingMemberCountMax members with the longest racks is under 300 KiB.
constexpr size_t kRingTransferBytesMax = 512 * 1024;
// The largest message: a full sync (each update at most 530 bytes) or a ring transfer.
constexpr size_t kMembershipMessageBytesMax = 1024 * 1024;
static_assert(kMemberCountMax * (1 + 8 + 10 + 8 + 2 + kRackNameBytesMax + 2 + kAddressBytesMax) +
                  64 <=
              kMembershipMessageBytesMax);
static_assert(kRingTransferBytesMax + 64 <= kMembershipMessageBytesMax);

// Precedence at one incarnation: dead over suspect over alive (docs/cluster-membership.md).
enum class MemberState : uint8_t {
  kAlive = 1,
  kSuspect = 2,
  kDead = 3,
};

const char* to_string(MemberState state);

// What one node says about a member: gossiped on pings and acks, and the rows of a sync.
struct MemberUpdate {
  NodeId node;
  MemberState state = MemberState::kAlive;
  uint64_t incarnation = 0;
  // Who suspected or declared it dead (Lifeguard counts independent suspicions); the member
  // itself for kAlive.
  NodeId accuser;
  std::string rack;     // at most kRackNameBytesMax
  std::string address;  // at most kAddressBytesMax; empty in the simulator

  bool operator==(const MemberUpdate&) const = default;
};

// Bytes `update` takes in a message, for piggyback budgets.
size_t encoded_size(const MemberUpdate& update);

// A ring's identity, on every message: a peer whose ring it supersedes is sent the ring.
struct RingHeader {
  uint64_t epoch = 0;
  uint64_t digest = 0;

  bool operator==(const RingHeader&) const = default;
};

enum class MembershipMessageType : uint8_t {
  kPing = 1,     // are you alive? (seq, target, updates)
  kAck = 2,      // yes (seq, updates)
  kPingReq = 3,  // please ping target for me (seq, target, updates)
  kNack = 4,     // I pinged your target and heard nothing in time (seq)
  kSync = 5,     // my whole member list (flags, updates): a join, or anti-entropy
  kRing = 6,     // my ring, encoded (ring_bytes)
};

// kSync flags.
constexpr uint8_t kSyncReplyWanted = 1;
constexpr uint8_t kSyncFlagsKnown = kSyncReplyWanted;

struct MembershipMessage {
  MembershipMessageType type = MembershipMessageType::kPing;
  RingHeader ring;
  uint64_t seq = 0;                   // kPing, kAck, kPingReq, kNack
  NodeId target;                      // kPing, kPingReq
  uint8_t sync_flags = 0;             // kSync
  std::string ring_bytes;             // kRing: Ring::encode(), at most kRingTransferBytesMax
  std::vector<MemberUpdate> updates;  // kPing, kAck, kPingReq, kSync

  bool operator==(const MembershipMessage&) const = default;
};

// The most updates a message of `type` may carry.
size_t updates_max(MembershipMessageType type);

// REQUIRES: every field within its bound for the type; fields the type does not carry are
// default (they would not survive a round trip).
std::string encode_membership_message(const MembershipMessage& message);
Result<MembershipMessage> decode_membership_message(std::string_view bytes);

}  // namespace cairn
