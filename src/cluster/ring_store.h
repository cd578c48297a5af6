// The ring a node last held, kept in its database (engine key [0xFF]['R']"ring" -> Ring::encode())
// so that a restarted node resumes membership from it (Membership::resume) rather than joining
// through seeds: when every node restarts at once, no seed is up to join through. Beside it, the
// bus addresses of the members it knew ([0xFF]['R']"addresses" -> varint count, then per member
// fixed64 id and a length-prefixed address), without which a resumed node could reach no one.
// The records are written on every change and not synced: a ring lost to a power loss is an
// older ring, which gossip replaces, or none, and the node joins through its seeds.
//
// Thread-safety: as the Database.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "cluster/ring.h"
#include "common/result.h"
#include "storage/database.h"

namespace cairn {

Status save_ring(Database* database, const Ring& ring);
// The saved ring, nullopt if none; Corruption if the record does not decode.
Result<std::optional<Ring>> load_ring(Database* database);

Status save_member_addresses(Database* database, const std::map<NodeId, std::string>& addresses);
// The saved addresses (empty if none); Corruption if the record does not decode.
Result<std::map<NodeId, std::string>> load_member_addresses(Database* database);

}  // namespace cairn
