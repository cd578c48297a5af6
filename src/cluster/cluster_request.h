// ClusterRequest and ClusterReply: the single-key operations a coordinator runs across a key's
// replicas, the keyspace-wide ones (keyspace_coordinator.h) it runs across every slot, and their
// answers. The RESP front end maps commands onto them; the simulator's workload issues the
// single-key ones directly.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/slot_scan.h"
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
  // Keyspace-wide (no key): each slot read from one live replica.
  kCountKeys,  // the reply's integer: the live keys of every slot
  kListKeys,   // the reply's values: every live key matching query.pattern, in key order
  kScanKeys,   // one page from query.start (reply.values), and reply.next: where the next starts
  kRandomKey,  // the reply's value: a live key near slot number % 16384, or nil when none is
  kFlushAll,   // every ring member drops every version older than the flush's (reply.version)
};

const char* request_kind_name(RequestKind kind);
// Whether the request changes the key (and so gets a write version).
bool is_write(RequestKind kind);
// Whether the request is keyspace-wide (KeyspaceCoordinator runs it).
bool is_keyspace_wide(RequestKind kind);

// What a keyspace-wide request reads (kListKeys, kScanKeys, kRandomKey; kCountKeys reads all).
struct KeyspaceQuery {
  ScanPosition start;                // kScanKeys: where the page starts
  std::string pattern = "*";         // MATCH
  std::optional<KeyStateType> type;  // TYPE (kNone: a name no key has)
  uint64_t count = 10;               // kScanKeys: COUNT, records each node visits at most
};

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
  KeyspaceQuery query = {};  // the keyspace-wide kinds
};

struct ClusterReply {
  Status status;                     // an error names the level and how many replicas replied
  std::optional<std::string> value;  // kGet, kRandomKey
  int64_t integer = 0;               // kIncrBy, kCountKeys
  std::vector<std::string> values;   // kSetMembers, kHashGetAll, kListKeys, kScanKeys
  KeyState state;                    // kReadState
  // A write's own version; for a read, the newest version in the merge it answered from.
  WriteVersion version;
  // For reads (and SREM, of its read, even when the SREM failed after reading): every write the
  // merge reflects. Checkers use it.
  SeenWrites seen;
  // kScanKeys: where the next page starts; nullopt when the page reached the last slot.
  std::optional<ScanPosition> next;
};

}  // namespace cairn
