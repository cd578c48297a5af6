// What cairnctl asks a cluster, gathered into reports: `status` (CLUSTER NODES from the first
// seed that answers, then INFO from every node listed, on its own address), `ring` (CLUSTER
// SLOTS) and `slot KEY` (the key's slot and its preference list). Rendering is report_format.h.
//
// Seeds are tried in order; one that cannot be reached or answers an error is skipped, and when
// none answers the error names each seed with its reason. A node that does not answer INFO is a
// row marked unreachable, not a failure of the report.
//
// Thread-safety: each call is independent; gather_status runs its INFO queries on up to
// info_parallel_max threads of its own and joins them before it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "admin/cluster_replies.h"
#include "common/result.h"
#include "net/resp_client.h"

namespace cairn {

struct ClusterTarget {
  std::vector<HostPort> seeds;  // asked in order until one answers; REQUIRES: not empty
  RespClientOptions client;
  size_t info_parallel_max = 8;  // nodes asked for INFO at once
};

struct NodeStatus {
  ClusterNodesLine node;
  HostPort address;  // where INFO was asked: the node's address, or the seed for `myself`
  bool reachable = false;
  std::string error;  // why INFO gave nothing, when !reachable
  NodeStats stats;
};

struct StatusReport {
  HostPort asked;                 // the seed that answered CLUSTER NODES
  std::vector<NodeStatus> nodes;  // sorted by address
};

struct RingReport {
  HostPort asked;                 // the seed that answered CLUSTER SLOTS
  std::vector<SlotRange> ranges;  // sorted by start slot, adjacent equal lists merged
};

struct SlotReport {
  HostPort asked;
  std::string key;
  uint16_t slot = 0;
  std::vector<Replica> replicas;  // empty when no range holds the slot
};

// The members CLUSTER NODES lists, from the first seed that answers, each with the address to
// reach it at: its own, or the seed for the node that answered (it may not know its address).
struct NodeList {
  HostPort asked;
  std::vector<ClusterNodesLine> nodes;
  std::vector<HostPort> addresses;  // one per node
};
Result<NodeList> list_nodes(const ClusterTarget& target);

Result<StatusReport> gather_status(const ClusterTarget& target);
Result<RingReport> gather_ring(const ClusterTarget& target);
Result<SlotReport> gather_slot(const ClusterTarget& target, const std::string& key);

}  // namespace cairn
