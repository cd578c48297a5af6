// The ring a node last held, kept in its database (engine key [0xFF]['R']"ring" -> Ring::encode())
// so that a restarted node resumes membership from it (Membership::resume) rather than joining
// through seeds: when every node restarts at once, no seed is up to join through. The record is
// written on every ring change and not synced: a ring lost to a power loss is an older ring,
// which gossip replaces, or none, and the node joins through its seeds.
//
// Thread-safety: as the Database.
#pragma once

#include <optional>

#include "cluster/ring.h"
#include "common/result.h"
#include "storage/database.h"

namespace cairn {

Status save_ring(Database* database, const Ring& ring);
// The saved ring, nullopt if none; Corruption if the record does not decode.
Result<std::optional<Ring>> load_ring(Database* database);

}  // namespace cairn
