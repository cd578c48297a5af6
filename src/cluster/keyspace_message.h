// Keyspace messages: what a coordinator of a keyspace-wide command (keyspace_coordinator.h) and
// the nodes it asks say to each other (docs/cluster-replication.md, "Keyspace messages"). A
// coordinator asks a node for the keys (or the count) of a run of slots from its replicas
// (slot_scan.h), or tells every node to flush: drop every version older than the flush's from
// its replicas and hints. Nodes answer with the result, or an ack.
//
// Wire form: the MessageChannel::kKeyspace byte, a format version byte, a type byte, the fields,
// then a fixed32 checksum32 of every byte before it. Every message names the coordinator's
// request id, so a late or duplicated reply is recognized and ignored.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/slot_scan.h"
#include "common/result.h"
#include "model/key_state.h"

namespace cairn {

// The format this node writes and reads; a message of another version is refused.
constexpr uint8_t kKeyspaceMessageVersion = 1;

enum class KeyspaceMessageType : uint8_t {
  kSlotScan = 1,       // list or count the live keys of `scan` from your replicas
  kSlotScanReply = 2,  // `result`, or `error`
  kFlush = 3,          // drop every version older than `flush_version` (replicas and hints)
  kFlushAck = 4,       // the flush is applied and durable, or `error`
};

struct KeyspaceMessage {
  KeyspaceMessageType type = KeyspaceMessageType::kSlotScan;
  uint64_t request_id = 0;
  SlotScan scan;               // kSlotScan
  SlotScanResult result;       // kSlotScanReply
  WriteVersion flush_version;  // kFlush
  std::string error;           // replies: empty on success, else the node's error

  bool operator==(const KeyspaceMessage&) const = default;
};

// REQUIRES: the message is one decode_keyspace_message accepts (a valid scan, bounded fields).
std::string encode_keyspace_message(const KeyspaceMessage& message);
// Corruption for anything encode_keyspace_message would not produce.
Result<KeyspaceMessage> decode_keyspace_message(std::string_view bytes);

}  // namespace cairn
