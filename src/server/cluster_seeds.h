// Seeds: the nodes a new cluster node joins through, named by their client addresses as users
// know them (`--seeds 127.0.0.1:7379,10.0.0.2:7379`). The bus needs their ids and bus ports,
// which a seed tells over RESP: the `myself` line of its CLUSTER NODES.
//
// Thread-safety: pure functions; resolve_seed blocks on the network (the resolver thread's).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/node_id.h"
#include "common/result.h"
#include "net/resp_client.h"

namespace cairn {

// "host:port[,host:port...]", at most kSeedCountMax; InvalidArgument naming the bad entry.
Result<std::vector<HostPort>> parse_seeds(std::string_view text);

struct ResolvedSeed {
  NodeId id;
  std::string ip;
  uint16_t port = 0;
  uint16_t bus_port = 0;
};

// Who the node at `address` is. IOError when it does not answer, InvalidArgument when it is not
// a cluster node or its reply does not parse.
Result<ResolvedSeed> resolve_seed(const HostPort& address, int64_t timeout_ms);

// The `myself` line of a CLUSTER NODES reply, parsed; InvalidArgument if there is none or it is
// malformed.
Result<ResolvedSeed> parse_myself_line(std::string_view cluster_nodes);

}  // namespace cairn
