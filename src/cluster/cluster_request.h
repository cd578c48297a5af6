// ClusterRequest and ClusterReply: the single-key operations a coordinator runs across a key's
// replicas, and their answers. The RESP front end (a later issue) maps commands onto them; the
// simulator's workload issues them directly.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/key_state.h"

namespace cairn {

enum class RequestKind : uint8_t {
  kGet,         // the string value (a counter's decimal), or nil
  kSet,         // arguments[0] = value; number = expiry, unix ms (0: none)
  kDelete,      //
  kIncrBy,      // number = delta; the reply's integer is the value after
  kSetAdd,      // arguments = members
  kSetRemove,   // arguments = members (removes the additions the coordinator's read saw)
  kSetMembers,  // the reply's values: the members, ascending
  kHashSet,     // arguments = field, value, field, value, ...
  kHashDelete,  // arguments = fields
  kHashGetAll,  // the reply's values: field, value, ... by field
  kExpireAt,    // number = expiry, unix ms (0: remove the expiry)
  kReadState,   // the reply's state: the merge of R replicas' states (a front end computes on it)
  kWriteState,  // write_delta(version) is the delta: a front end's change, computed on a read
};

const char* request_kind_name(RequestKind kind);
// Whether the request changes the key (and so gets a write version).
bool is_write(RequestKind kind);

struct ClusterRequest {
  RequestKind kind = RequestKind::kGet;
  std::string key;
  std::vector<std::string> arguments;
  int64_t number = 0;
  // kWriteState: the delta, given the version the coordinator assigned the write (newer than
  // every state this node has seen, so newer than what the front end read). A delta built on a
  // read takes that read as its causal context (KeyState::with_context).
  std::function<KeyState(WriteVersion version)> write_delta = nullptr;
  // The client's command, for error messages ("NOQUORUM QUORUM write of LPUSH ..."); empty:
  // request_kind_name(kind).
  std::string command_name = {};
};

struct ClusterReply {
  Status status;                     // an error names the level and how many replicas replied
  std::optional<std::string> value;  // kGet
  int64_t integer = 0;               // kIncrBy
  std::vector<std::string> values;   // kSetMembers, kHashGetAll
  KeyState state;                    // kReadState
  // A write's own version; for a read, the newest version in the merge it answered from.
  WriteVersion version;
  // For reads (and SREM, of its read, even when the SREM failed after reading): the merge's
  // version vector, which names every write the answer reflects (a write (t, n) is reflected
  // when seen[n] >= t). Checkers use it.
  std::map<NodeId, HlcTimestamp> seen;
};

}  // namespace cairn
