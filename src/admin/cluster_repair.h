// `cairnctl repair`: starts an on-demand repair pass (CAIRN REPAIR START) on every node of the
// cluster over a run of slots, polls each node (CAIRN REPAIR STATUS) until every pass is done,
// and reports progress on the way and the totals at the end. Each node compares the partitions
// of the run with the replicas it starts exchanges with, so the passes of all nodes together
// compare every pair of replicas of every partition of the run once (docs/cluster-repair.md).
//
// Thread-safety: run_repair blocks its caller, and calls `progress` on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/cluster_replies.h"
#include "admin/cluster_reports.h"
#include "common/result.h"
#include "net/resp_value.h"

namespace cairn {

// One node's CAIRN REPAIR STATUS: its latest pass.
struct RepairPassReply {
  uint64_t id = 0;
  std::string state;  // "idle" (no pass yet), "running" or "done"
  uint64_t first_slot = 0;
  uint64_t last_slot = 0;
  uint64_t partitions_total = 0;
  uint64_t partitions_done = 0;
  uint64_t exchanges_completed = 0;
  uint64_t exchanges_failed = 0;
  uint64_t peers_skipped = 0;
  uint64_t slots_differing = 0;
  uint64_t keys_fetched = 0;
  uint64_t keys_pushed = 0;
  uint64_t bytes = 0;
  uint64_t elapsed_ms = 0;
};

// A map (RESP3) or flat array of field names and values (RESP2). Corruption when a field is
// missing, not a non-negative integer (state: a string), or the reply is of another shape.
Result<RepairPassReply> parse_repair_status(const RespValue& reply);

struct NodeRepair {
  ClusterNodesLine node;
  HostPort address;
  uint64_t pass_id = 0;      // what START answered; 0 when the node was not reached
  std::string error;         // why the node's pass failed or was not started; empty while fine
  RepairPassReply pass;      // as last polled
  uint32_t stale_polls = 0;  // polls that still showed an older pass

  bool done() const { return !error.empty() || (pass.id == pass_id && pass.state == "done"); }
};

struct RepairReport {
  HostPort asked;  // the seed that answered CLUSTER NODES
  SlotSpan slots;  // as asked; the passes cover the whole partitions (8 slots) holding them
  std::vector<NodeRepair> nodes;
  uint64_t elapsed_ms = 0;
};

// The passes' counts summed over the nodes.
struct RepairTotals {
  uint64_t partitions_total = 0;
  uint64_t partitions_done = 0;
  uint64_t exchanges_completed = 0;
  uint64_t exchanges_failed = 0;
  uint64_t peers_skipped = 0;
  uint64_t slots_differing = 0;
  uint64_t keys_fetched = 0;
  uint64_t keys_pushed = 0;
  uint64_t bytes = 0;
  uint64_t nodes_failed = 0;  // not reached, or lost during the pass
};
RepairTotals repair_totals(const RepairReport& report);
// Every node ran its pass to the end, with no exchange failed and no replica skipped: every
// pair of replicas of the run was compared.
bool repair_complete(const RepairReport& report);

// "N" or "FIRST-LAST", slots 0..16383, FIRST <= LAST; InvalidArgument otherwise.
Result<SlotSpan> parse_slot_span(std::string_view text);

struct RepairOptions {
  SlotSpan slots{0, 16383};
  uint64_t poll_interval_ms = 200;
};

// Errors only when no seed answers CLUSTER NODES; a node that cannot be reached, or is lost
// during the pass, is a NodeRepair with an error (repair_complete is then false).
Result<RepairReport> run_repair(const ClusterTarget& target, const RepairOptions& options,
                                const std::function<void(const RepairReport&)>& progress);

}  // namespace cairn
