// Workload: the requests the simulated clients send. Keys come in groups by type, so that the
// checkers know what each key holds: "s:<i>" strings (SET, GET, DEL), "c:<i>" counters (INCRBY
// with positive deltas, GET), "t:<i>" sets (SADD, SREM, SMEMBERS), "h:<i>" hashes (HSET, HDEL,
// HGETALL) and "e:<i>" strings with expiries (SET with an expiry, PEXPIREAT, GET). Each request
// picks its consistency level at random, and some writes ask for a sloppy quorum. Values name
// the request that wrote them, so a value read back identifies its write.
//
// Thread-safety: none; one per simulation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/cluster_request.h"
#include "cluster/consistency.h"
#include "io/random.h"

namespace cairn::sim {

struct WorkloadOptions {
  size_t keys_per_type = 6;
  size_t members_per_set = 6;  // set members and hash fields come from this many names
  // Out of 100 requests; a level is ONE, QUORUM or ALL with these weights.
  uint64_t one_percent = 15;
  uint64_t all_percent = 15;
  uint64_t sloppy_write_percent = 10;
};

class Workload {
 public:
  Workload(uint64_t seed, WorkloadOptions options);

  // The next request and its consistency; `now_unix_ms` dates expiries.
  std::pair<ClusterRequest, Consistency> next(int64_t now_unix_ms);

  // Every key the workload may write, and the read that shows its final state.
  std::vector<std::string> keys() const;
  static RequestKind final_read_kind(std::string_view key);

 private:
  ClusterRequest next_request(char group, const std::string& key, int64_t now_unix_ms);
  std::string member();

  Random random_;
  WorkloadOptions options_;
  uint64_t written_ = 0;
};

}  // namespace cairn::sim
