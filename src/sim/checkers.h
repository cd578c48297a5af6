// Checkers: what must hold at the end of a simulated run, after the faults healed, the cluster
// quiesced and every written key was read once at ALL (which repairs its replicas). Each takes
// the run's history and the final state of every key and returns the violations it found, each
// naming the key and the operation, so a failing seed reads as a bug report.
//
// 1. durability: every write acknowledged at QUORUM or ALL is reflected (it or a later write of
//    its coordinator) in the final QUORUM read of its key;
// 2. convergence: all replicas of every key hold identical states;
// 3. read-your-writes: with R + W > N, a read sees every write acknowledged before the read began
//    (sloppy writes excepted: their acks may come from stand-ins);
// 4. counters: the final value is at least the sum of acknowledged increments and at most that
//    plus the unacknowledged ones (the workload's increments are positive);
// 5. sets: a set holds every member of an acknowledged SADD unless an SREM of that member saw
//    the SADD (a failed SREM may have removed it too: its writes may have landed), and holds no
//    member that was never added.
// Determinism (the sixth) is the simulator's: two runs of one seed end with equal trace hashes.
//
// "Reflected" uses version vectors: a reply's `seen` names the newest write of each coordinator
// in the merge it answered from, and write (t, n) is reflected when seen[n] >= t.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cluster/cluster_request.h"
#include "model/key_state.h"
#include "sim/history.h"

namespace cairn::sim {

struct FinalKey {
  std::string key;
  ClusterReply quorum_read;  // of the kind the key's type takes: GET, SMEMBERS or HGETALL
  std::vector<std::pair<NodeId, KeyState>> replica_states;
};

struct Violation {
  std::string checker;  // "durability", "convergence", ...
  std::string detail;
};

// One line naming an operation: id, command, arguments, coordinator, time, and the version its
// reply carried.
std::string describe(const OperationRecord& op);

std::vector<Violation> check_durability(const History& history, const std::vector<FinalKey>& keys);
std::vector<Violation> check_convergence(const std::vector<FinalKey>& keys);
std::vector<Violation> check_read_your_writes(const History& history, size_t replica_count);
std::vector<Violation> check_counters(const History& history, const std::vector<FinalKey>& keys);
std::vector<Violation> check_sets(const History& history, const std::vector<FinalKey>& keys);

// All of the above, in order.
std::vector<Violation> check_run(const History& history, const std::vector<FinalKey>& keys,
                                 size_t replica_count);

}  // namespace cairn::sim
