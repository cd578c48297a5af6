// A node's identity in the real cluster: its NodeId, chosen at random the first time a data
// directory is used and kept in it (engine key [0xFF]['N']"node-id" -> fixed64, synced), so that a
// restarted node rejoins as the same member. And the name Redis Cluster clients see for it:
// CLUSTER NODES, MYID and SLOTS name nodes by 40 hex digits, so a NodeId is shown as its 16 hex
// digits after 24 zeros.
//
// Thread-safety: as the Database; the name functions are pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/node_id.h"
#include "common/result.h"
#include "storage/database.h"

namespace cairn {

constexpr size_t kClusterNodeNameLength = 40;

// The id kept in `database`, or `fresh` (REQUIRES: fresh.value != 0) stored and synced when
// there is none. Corruption if the record is damaged.
Result<NodeId> load_or_create_node_id(Database* database, NodeId fresh);

std::string cluster_node_name(NodeId id);
// The id a cluster_node_name() names (hex digits of either case); nullopt for anything else.
std::optional<NodeId> parse_cluster_node_name(std::string_view name);

}  // namespace cairn
