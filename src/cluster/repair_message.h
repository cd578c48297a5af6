// Repair messages: what two replicas of the same slots say to each other during anti-entropy
// (repair_service.h, docs/cluster-repair.md). The initiator sends the Merkle root of its slot
// digests over a run of slots; the peer answers whether its root is equal, and its slot digests
// when not. For each slot that differs, the initiator asks for the peer's key digests (a page at a
// time), then for the peer's states of the keys that differ. It merges them, and sends back its
// merged states as replication writes (replication_message.h).
//
// Wire form: the MessageChannel::kRepair byte, a format version byte, a type byte, varint64
// request id, the fields of the type, then a fixed32 checksum32 of every byte before it. Every
// count is bounded here, so a message costs a bounded amount of memory and work to decode.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/repair_horizons.h"
#include "cluster/replica_store.h"
#include "common/result.h"
#include "model/key_state.h"

namespace cairn {

// The format this node writes and reads; a message of another version is refused.
constexpr uint8_t kRepairMessageVersion = 2;
// A run of slots compared at once: its slot digests fill at most 8 KiB.
constexpr uint32_t kRepairSlotRunMax = 1024;
// Key digests in one page, and keys whose states one message asks for or carries.
constexpr size_t kRepairKeyDigestsMax = 1024;
constexpr size_t kRepairStatesMax = 64;

enum class RepairMessageType : uint8_t {
  kRangeDigest = 1,       // my root over slots [first_slot, last_slot]: is yours equal?
  kRangeDigestReply = 2,  // `equal`, or `slot_digests` (one per slot of the run), or `error`
  // Both also carry the sender's `exchanges` of the run's partition (repair_horizons.h).
  kKeyDigests = 3,       // your key digests of `first_slot`, keys after `after` (empty: all)
  kKeyDigestsReply = 4,  // `key_digests` ascending, `more` if the page ended early, or `error`
  kStates = 5,           // your states of `keys`
  // `states` of the first keys asked, in order, as many as RepairConfig::states_reply_bytes_max
  // lets (at least one; empty for a key not held), or `error`.
  kStatesReply = 6,
  // Ring transitions (ring.h): have you streamed every partition you gain in the ring of
  // `ring_epoch`? The reply says `ready`.
  kStreamStatus = 7,
  kStreamStatusReply = 8,
};

struct RepairMessage {
  RepairMessageType type = RepairMessageType::kRangeDigest;
  uint64_t request_id = 0;
  uint16_t first_slot = 0;  // kRangeDigest, kKeyDigests
  uint16_t last_slot = 0;   // kRangeDigest: first_slot <= last_slot, at most kRepairSlotRunMax
  uint64_t root = 0;        // kRangeDigest
  bool equal = false;       // kRangeDigestReply
  std::vector<uint64_t> slot_digests;                    // kRangeDigestReply, when not equal
  std::vector<ExchangeRecord> exchanges;                 // kRangeDigest and its reply
  std::string after;                                     // kKeyDigests
  std::vector<KeyDigest> key_digests;                    // kKeyDigestsReply
  bool more = false;                                     // kKeyDigestsReply
  std::vector<std::string> keys;                         // kStates
  std::vector<std::pair<std::string, KeyState>> states;  // kStatesReply
  uint64_t ring_epoch = 0;                               // kStreamStatus and its reply
  bool ready = false;                                    // kStreamStatusReply
  std::string error;  // replies: empty on success, else the replica's error

  bool operator==(const RepairMessage&) const = default;
};

// REQUIRES: the message is one decode_repair_message accepts (counts within the bounds above).
std::string encode_repair_message(const RepairMessage& message);
// Corruption for anything encode_repair_message would not produce.
Result<RepairMessage> decode_repair_message(std::string_view bytes);

}  // namespace cairn
