// The replies an admin tool reads from a cluster, parsed into plain structs: CLUSTER NODES (the
// members, their flags and slot ranges), CLUSTER SLOTS (each slot range's preference list) and
// the INFO fields cairnctl shows. The formats are Redis Cluster's, which Cairn nodes answer too
// (docs/cairnctl.md). The replies come from the network: anything malformed is a Corruption
// status, never an assert; fields an older or foreign server lacks are absent, not errors.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/resp_client.h"
#include "net/resp_value.h"

namespace cairn {

// A node's health as the answering node sees it: CLUSTER NODES flag `fail` -> kDead, `fail?`
// (Redis's PFAIL; `pfail` accepted too) -> kSuspect, else kAlive.
enum class NodeState : uint8_t { kAlive, kSuspect, kDead };
std::string_view node_state_name(NodeState state);

// Slots start..end, both included.
struct SlotSpan {
  uint16_t start = 0;
  uint16_t end = 0;
  uint32_t count() const { return uint32_t{end} - start + 1; }
  friend bool operator==(const SlotSpan&, const SlotSpan&) = default;
};

// One line of CLUSTER NODES:
// `<id> <ip:port@busport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slots>...`.
struct ClusterNodesLine {
  std::string id;
  HostPort address;  // host empty when the node does not know its address (`:0@0`, noaddr)
  std::vector<std::string> flags;
  bool myself = false;
  NodeState state = NodeState::kAlive;
  std::vector<SlotSpan> slots;  // as listed; importing/migrating entries ("[...]") skipped

  uint32_t slot_count() const;
};

// The lines of a CLUSTER NODES reply (a bulk or verbatim string).
Result<std::vector<ClusterNodesLine>> parse_cluster_nodes(std::string_view text);

// One entry of a preference list.
struct Replica {
  HostPort address;
  std::string id;  // empty when the server does not send ids (Redis before 4.0)
  friend bool operator==(const Replica&, const Replica&) = default;
};

// A slot range and its preference list: the first replica (Redis's master), then the others.
struct SlotRange {
  SlotSpan span;
  std::vector<Replica> replicas;
  friend bool operator==(const SlotRange&, const SlotRange&) = default;
};

// A CLUSTER SLOTS reply: `[[start, end, [ip, port, id, ...], ...], ...]`, extra fields of an
// entry (Redis 7's metadata map) ignored. Sorted by start slot, adjacent ranges with the same
// preference list merged; overlapping ranges are a Corruption.
Result<std::vector<SlotRange>> parse_cluster_slots(const RespValue& reply);

// The range holding `slot`, or nullptr when no range does. REQUIRES: `ranges` sorted by start.
const SlotRange* find_slot_range(const std::vector<SlotRange>& ranges, uint16_t slot);

// The slot spans no range covers, in order.
std::vector<SlotSpan> unassigned_spans(const std::vector<SlotRange>& ranges);

// The value of `field` in a map-shaped reply (a RESP3 map, or a RESP2 flat array of names and
// values, as Cairn's CAIRN ... STATUS commands answer); nullptr when absent.
const RespValue* map_field(const RespValue& reply, std::string_view field);
// The non-negative integer `field` of such a reply; Corruption naming `what` (the command)
// when it is absent or anything else.
Result<uint64_t> map_count(const RespValue& reply, std::string_view field, std::string_view what);

// What cairnctl status shows from INFO; each absent when the server does not report it.
struct NodeStats {
  std::optional<std::string> rack;      // cairn_rack
  std::optional<uint64_t> keys;         // db0:keys=N (0 when the keyspace section lacks db0)
  std::optional<uint64_t> ops_per_sec;  // instantaneous_ops_per_sec
  std::optional<uint64_t> disk_bytes;   // cairn_disk_bytes
};

// Reads the fields of an INFO reply's text ("# Section" headers, "field:value" lines, CRLF or LF).
NodeStats parse_info(std::string_view text);

// "512 B", "1.5 KiB", "20.0 GiB": binary units, one decimal past bytes.
std::string human_bytes(uint64_t bytes);

}  // namespace cairn
