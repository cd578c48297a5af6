// Replication messages: what a coordinator and the replicas of a key say to each other
// (docs/cluster-replication.md). A coordinator sends a write's delta, a read, or an increment for
// the key's counter leader to apply; replicas answer with an ack, their state, or the leader's
// delta. Hint delivery reuses kWrite.
//
// Wire form: the MessageChannel::kReplication byte, a type byte, the fields, then a fixed32
// checksum32 of every byte before it. Every message names the coordinator's request id, so a
// reply that arrives late, twice, or for a request already answered is recognized and ignored.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/consistency.h"
#include "common/node_id.h"
#include "common/result.h"
#include "model/key_state.h"

namespace cairn {

enum class ReplicationMessageType : uint8_t {
  kWrite = 1,            // merge `state` into the key's replica (or hold it as a hint)
  kWriteAck = 2,         // the write is applied; `error` set if the replica failed it
  kRead = 3,             // send the key's replica state
  kReadReply = 4,        // `state` is the replica's
  kCounterAdd = 5,       // leader: add `delta` to your shard of the key and replicate it
  kCounterAddReply = 6,  // `state` is the leader's delta, `value` the counter after it
};

// The largest key a replication message carries (the server's key limit).
constexpr size_t kReplicationKeyBytesMax = 64 * 1024;

struct ReplicationMessage {
  ReplicationMessageType type = ReplicationMessageType::kWrite;
  uint64_t request_id = 0;  // 0 on a write that wants no ack (read repair)
  std::string key;
  KeyState state;                  // kWrite, kReadReply, kCounterAddReply
  std::optional<NodeId> hint_for;  // kWrite: hold `state` as a hint for this node
  WriteVersion version;            // kCounterAdd
  int64_t delta = 0;               // kCounterAdd
  // kCounterAdd: the coordinator's incarnation; with request_id it names the increment once
  // across the coordinator's restarts, so the leader applies it at most once.
  uint64_t incarnation = 0;
  // kCounterAdd: the level the leader replicates the increment at before it answers.
  ConsistencyLevel level = ConsistencyLevel::kQuorum;
  int64_t value = 0;        // kCounterAddReply
  int64_t now_unix_ms = 0;  // kCounterAdd: the coordinator's clock, for expiry
  std::string error;        // replies: empty on success, else the replica's error

  bool operator==(const ReplicationMessage&) const = default;
};

std::string encode_replication_message(const ReplicationMessage& message);
// Corruption for anything encode_replication_message would not produce.
Result<ReplicationMessage> decode_replication_message(std::string_view bytes);
// The key of a kRead message, read without checking the rest of it (nullopt for any other
// message, or one too short to hold a key): a hint for a prefetch ahead of the decode, which
// checks everything.
std::optional<std::string_view> replication_read_key(std::string_view bytes);

}  // namespace cairn
