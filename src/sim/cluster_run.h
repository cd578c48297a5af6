// ClusterRun: one seed's whole simulated run, the unit cairn-sim and the simulation tests
// repeat over many seeds. The phases:
//   1. formation: node 1 founds the cluster, the others join; the run waits until all agree;
//   2. load: clients send the workload's requests (workload.h) to random live coordinators while
//      a nemesis injects faults: crashes with power loss and restarts, partitions of every shape,
//      clock jumps, slow disks, bursts of message loss; message loss, duplication and reordering
//      go on throughout. Meanwhile a node joins and (with four nodes or more) a member leaves,
//      each through a ring transition that streams data;
//   3. heal: the faults end, crashed nodes restart, the network becomes reliable, and the run
//      waits until membership agrees again and the hints are delivered;
//   4. a read of every key at ALL (read repair), then a QUORUM read of each, and the checkers
//      (checkers.h) over the history and the replicas' final states.
// Everything is drawn from the seed, so a run is replayed exactly; its trace hash proves it.
//
// Thread-safety: none; a run is single-threaded (runs of different seeds may go in parallel).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/checkers.h"

namespace cairn::sim {

struct ClusterRunOptions {
  uint64_t seed = 1;
  // 0: drawn from the seed, 3 to 9.
  size_t node_count = 0;
  size_t replica_count = 3;
  uint64_t load_seconds = 60;  // simulated
  size_t client_count = 6;
  bool faults = true;
  bool crashes = true;  // among the faults
  // The read of every key at ALL after healing. Without it, the replicas' final states are
  // taken before any final read, so they converged through hints and the workload's own reads.
  bool repair_pass = true;
  // Anti-entropy between replicas (repair_service.h) throughout the run.
  bool anti_entropy = true;
  // Nodes (of node_count) that join while the load runs, each through a ring transition that
  // streams what it gains (ring.h), in the first quarter of the load.
  size_t late_joiners = 1;
  // Whether a member leaves while the load runs (when the cluster has four nodes or more, so
  // that N = 3 distinct replicas remain): asked out at the claimant in the second quarter of the
  // load, it streams its share out and is stopped for good once the ring settles without it.
  bool leaver = true;
  // A bug kept out of the product: coordinators acknowledge writes one reply early. The
  // simulation test proves the checkers catch it. Set it through plant_early_ack_bug().
  bool plant_early_ack_bug = false;
  // When set, the run ends by printing to stderr every operation on this key with its reply, and
  // each replica's final state of it.
  std::string dump_key;
  // Receives the run's trace (one line per event) when set.
  std::function<void(std::string_view line)> trace;
};

struct ClusterRunResult {
  size_t node_count = 0;
  uint64_t trace_hash = 0;
  std::vector<Violation> violations;
  uint64_t operations = 0;
  uint64_t acknowledged = 0;
  uint64_t messages_delivered = 0;
  uint64_t faults_injected = 0;
  uint64_t concurrent_writes = 0;  // detected by replicas' version vectors
  uint64_t hints_delivered = 0;
  uint64_t read_repairs = 0;
};

ClusterRunResult run_cluster(const ClusterRunOptions& options);

// Plants the early-ack bug in `options`, and turns off what would hide it in some seeds:
// anti-entropy, by copying a write the bug left on too few replicas to the rest in time, and the
// joins and leaves, whose transitions make writes wait for a quorum of two preference lists.
void plant_early_ack_bug(ClusterRunOptions* options);

// The node count a run of `options` uses.
size_t cluster_node_count(const ClusterRunOptions& options);

}  // namespace cairn::sim
