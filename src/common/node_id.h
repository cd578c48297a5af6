// NodeId: the identity of a cluster node, chosen once (kept in its data directory from the real
// cluster on) so that a restarted node is the same member. A strong type so that an id cannot be
// mixed up with a count, an index or a slot.
//
// Thread-safety: a value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace cairn {

struct NodeId {
  uint64_t value = 0;

  auto operator<=>(const NodeId&) const = default;
};

// "node-<16 hex digits>", for logs, traces and test messages.
std::string to_string(NodeId id);

}  // namespace cairn
