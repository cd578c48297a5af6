#include "cluster/node_identity.h"

#include <cstdio>

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {

namespace {

constexpr std::string_view kNodeIdKey = "\xFFNnode-id";
constexpr size_t kLeadingZeros = kClusterNodeNameLength - 16;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<NodeId> load_or_create_node_id(Database* database, NodeId fresh) {
  CAIRN_ASSERT(fresh.value != 0);
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database->get(ReadOptions{}, kNodeIdKey));
  if (stored.has_value()) {
    if (stored->size() != 8) return Status::corruption("node id record has a bad size");
    const NodeId id{decode_fixed64(stored->data())};
    if (id.value == 0) return Status::corruption("node id record holds 0");
    return id;
  }
  std::string record;
  put_fixed64(&record, fresh.value);
  CAIRN_RETURN_IF_ERROR(database->put(kNodeIdKey, record));
  CAIRN_RETURN_IF_ERROR(database->sync_wal());
  return fresh;
}

std::string cluster_node_name(NodeId id) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(id.value));
  return std::string(kLeadingZeros, '0') + hex;
}

std::optional<NodeId> parse_cluster_node_name(std::string_view name) {
  if (name.size() != kClusterNodeNameLength) return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 0; i < name.size(); i++) {
    const int digit = hex_digit(name[i]);
    if (digit < 0 || (i < kLeadingZeros && digit != 0)) return std::nullopt;
    if (i >= kLeadingZeros) value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return NodeId{value};
}

}  // namespace cairn
