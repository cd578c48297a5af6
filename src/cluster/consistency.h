// Consistency levels: how many of a key's N replicas must answer before the coordinator answers
// the client. R + W > N (QUORUM with QUORUM, or ALL with ONE) gives read-your-writes.
//
// A sloppy request lets a write for a replica that membership sees down go to the next healthy
// node clockwise, as a hint, and count toward W (Dynamo's sloppy quorum). Without it (the
// default), only the key's own replicas count: a node that cannot reach enough of them answers
// an error naming the level and how many replied, rather than guess (CP by default).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

enum class ConsistencyLevel : uint8_t { kOne, kQuorum, kAll };

struct Consistency {
  ConsistencyLevel level = ConsistencyLevel::kQuorum;
  bool sloppy = false;
};

// Replies needed from `replica_count` replicas: 1, a majority, or all. REQUIRES: replica_count > 0.
inline size_t required_replies(ConsistencyLevel level, size_t replica_count) {
  switch (level) {
    case ConsistencyLevel::kOne:
      return 1;
    case ConsistencyLevel::kQuorum:
      return replica_count / 2 + 1;
    case ConsistencyLevel::kAll:
      return replica_count;
  }
  return replica_count;
}

inline std::string_view level_name(ConsistencyLevel level) {
  switch (level) {
    case ConsistencyLevel::kOne:
      return "ONE";
    case ConsistencyLevel::kQuorum:
      return "QUORUM";
    case ConsistencyLevel::kAll:
      return "ALL";
  }
  return "?";
}

// "ONE", "QUORUM", "ALL", or one of them prefixed "SLOPPY-" for a sloppy request (any case);
// nullopt for anything else. Clients choose with CAIRN CONSISTENCY, the config with
// `consistency`.
std::optional<Consistency> parse_consistency(std::string_view name);
// The name parse_consistency reads: "QUORUM", "SLOPPY-QUORUM".
std::string consistency_name(Consistency consistency);

}  // namespace cairn
