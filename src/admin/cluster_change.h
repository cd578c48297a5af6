// cairnctl's ring changes: `plan add|leave NODE` (CAIRN RING PLAN: what would move, before
// anything moves), `add HOST:PORT` (CLUSTER MEET to the new node, then CAIRN RING STATUS until the
// ring has settled with it) and `leave NODE` / `remove NODE` (CAIRN RING REMOVE on the claimant,
// then CAIRN RING STATUS until the ring has settled without the node; a leaver is then shut
// down). NODE is a node id or the HOST:PORT CLUSTER NODES lists for it. docs/cairnctl.md.
//
// Thread-safety: each call blocks its caller and calls `progress` on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "admin/cluster_replies.h"
#include "admin/cluster_reports.h"
#include "common/result.h"

namespace cairn {

struct PlanMember {
  std::string id;  // "(new node)" for the node an add plan adds
  HostPort address;
  uint64_t replicas_before = 0;
  uint64_t replicas_after = 0;
  uint64_t gained = 0;
  uint64_t lost = 0;
};

struct PlanReport {
  HostPort asked;
  std::string change;  // "add" or "leave <id>"
  uint64_t replicas_moved = 0;
  uint64_t replicas_ideal = 0;
  uint64_t replicas_total = 0;
  std::vector<PlanMember> members;
};

// `node` empty: a node added.
Result<PlanReport> plan_change(const ClusterTarget& target, const std::string& node);

struct RingStatus {
  uint64_t epoch = 0;
  std::string transition;  // "none", "moving", "flipped"
  uint64_t members = 0;
  uint64_t target_members = 0;
  std::string claimant;  // empty when none is known
  // The node's own stream in the transition: the partitions it gains, and those streamed.
  uint64_t stream_partitions = 0;
  uint64_t stream_partitions_done = 0;
};

// What a change's progress callback sees at each poll: the ring as the node watched sees it, and
// the streams of every node that answered, summed.
struct RingProgress {
  RingStatus status;
  uint64_t stream_partitions = 0;
  uint64_t stream_partitions_done = 0;
  uint64_t elapsed_ms = 0;
};
using RingProgressCallback = std::function<void(const RingProgress&)>;

struct AddReport {
  std::string id;
  HostPort address;
  RingStatus final_status;
  uint64_t elapsed_ms = 0;
};

// Adds the node at `address`: a cairnd started with --cluster-enabled and no seeds, alone in the
// cluster it founded and holding no keys. Sends it CLUSTER MEET with the address of the node
// cairnctl asked, then waits at most `wait_ms` for the ring to settle with it.
Result<AddReport> add_node(const ClusterTarget& target, const HostPort& address, uint64_t wait_ms,
                           const RingProgressCallback& progress);

struct LeaveReport {
  std::string id;
  HostPort address;
  bool was_alive = false;  // leave (streamed from it too) rather than remove
  RingStatus final_status;
  uint64_t elapsed_ms = 0;
  std::string shutdown_error;  // a leaver that did not shut down when asked
};

// Leave (`dead_expected` false: the node must be alive) or remove (true: it must be dead).
// Waits at most `wait_ms` for the ring to settle without it.
Result<LeaveReport> take_out(const ClusterTarget& target, const std::string& node,
                             bool dead_expected, uint64_t wait_ms,
                             const RingProgressCallback& progress);

}  // namespace cairn
