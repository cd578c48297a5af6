#include "server/cluster_seeds.h"

#include <sstream>

#include "cluster/membership.h"
#include "cluster/node_identity.h"
#include "server/cluster_runtime.h"

namespace cairn {

Result<std::vector<HostPort>> parse_seeds(std::string_view text) {
  std::vector<HostPort> seeds;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (entry.empty()) continue;
    Result<HostPort> seed = parse_host_port(entry);
    if (!seed.is_ok()) return seed.status().with_context("seeds");
    seeds.push_back(std::move(seed).value());
  }
  if (seeds.size() > kSeedCountMax) {
    return Status::invalid_argument("seeds: at most " + std::to_string(kSeedCountMax) +
                                    " seed nodes");
  }
  return seeds;
}

Result<ResolvedSeed> parse_myself_line(std::string_view cluster_nodes) {
  std::istringstream lines{std::string(cluster_nodes)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name, address, flags;
    if (!(fields >> name >> address >> flags)) continue;
    if (("," + flags + ",").find(",myself,") == std::string::npos) continue;
    const std::optional<NodeId> id = parse_cluster_node_name(name);
    if (!id.has_value()) {
      return Status::invalid_argument("seed's node id '" + name + "' is not a Cairn node id");
    }
    const std::optional<ClusterMemberInfo> member =
        ClusterRuntime::parse_member_address(address.substr(0, address.find(',')));
    if (!member.has_value()) {
      return Status::invalid_argument("seed's address '" + address + "' does not parse");
    }
    return ResolvedSeed{*id, member->ip, member->port, member->bus_port};
  }
  return Status::invalid_argument("seed's CLUSTER NODES has no myself line");
}

Result<ResolvedSeed> resolve_seed(const HostPort& address, int64_t timeout_ms) {
  RespClientOptions options;
  options.connect_timeout_ms = timeout_ms;
  options.io_timeout_ms = timeout_ms;
  CAIRN_ASSIGN_OR_RETURN(RespClient client, RespClient::connect(address, options));
  CAIRN_ASSIGN_OR_RETURN(RespValue reply, client.call({"CLUSTER", "NODES"}));
  if (reply.is_error()) {
    return Status::invalid_argument("seed " + address.to_string() + " answered " + reply.text);
  }
  if (!reply.is_string()) {
    return Status::invalid_argument("seed " + address.to_string() +
                                    " answered CLUSTER NODES with " + reply.to_string());
  }
  Result<ResolvedSeed> seed = parse_myself_line(reply.text);
  if (!seed.is_ok()) return seed.status().with_context(address.to_string());
  return seed;
}

}  // namespace cairn
