#include "cluster/ring_store.h"

namespace cairn {

namespace {

constexpr std::string_view kRingKey = "\xFFRring";

}  // namespace

Status save_ring(Database* database, const Ring& ring) {
  return database->put(kRingKey, ring.encode());
}

Result<std::optional<Ring>> load_ring(Database* database) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored, database->get(ReadOptions{}, kRingKey));
  if (!stored.has_value()) return std::optional<Ring>();
  Result<Ring> ring = Ring::decode(*stored);
  if (!ring.is_ok()) return ring.status().with_context("ring store");
  return std::optional<Ring>(std::move(ring).value());
}

}  // namespace cairn
