#include "cluster/ring_store.h"

#include "cluster/membership_message.h"
#include "common/coding.h"

namespace cairn {

namespace {

constexpr std::string_view kRingKey = "\xFFRring";
constexpr std::string_view kAddressesKey = "\xFFRaddresses";

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

Status save_member_addresses(Database* database, const std::map<NodeId, std::string>& addresses) {
  std::string record;
  put_varint64(&record, addresses.size());
  for (const auto& [id, address] : addresses) {
    put_fixed64(&record, id.value);
    put_length_prefixed(&record, address);
  }
  return database->put(kAddressesKey, record);
}

Result<std::map<NodeId, std::string>> load_member_addresses(Database* database) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database->get(ReadOptions{}, kAddressesKey));
  std::map<NodeId, std::string> addresses;
  if (!stored.has_value()) return addresses;
  std::string_view input = *stored;
  uint64_t count = 0;
  if (!get_varint64(&input, &count) || count > kMemberCountMax) {
    return Status::corruption("ring store: bad member address count");
  }
  for (uint64_t i = 0; i < count; i++) {
    uint64_t id = 0;
    std::string_view address;
    if (!get_fixed64(&input, &id) || !get_length_prefixed(&input, &address) ||
        address.size() > kAddressBytesMax) {
      return Status::corruption("ring store: bad member address");
    }
    addresses[NodeId{id}] = std::string(address);
  }
  if (!input.empty()) return Status::corruption("ring store: trailing bytes after addresses");
  return addresses;
}

}  // namespace cairn
