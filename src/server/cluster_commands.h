// Commands in cluster mode. A command that reads or writes keys runs through the cluster: its
// node coordinates it across the replicas of each key (cluster_call.h), whichever node the client
// is connected to. The table entry of every command carries the handler it runs with in cluster
// mode (CommandEntry::cluster_handler), chosen here once when the table is built.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "cluster/cluster_request.h"
#include "server/command.h"

namespace cairn {

// How the command named `full_name` ("get", "cluster|slots") runs in cluster mode.
enum class ClusterRoute : uint8_t {
  kNode,         // on this node alone, as on a single node: it touches no key (PING, CLIENT,
                 // MULTI, DISCARD, UNWATCH)
  kKeys,         // through its keys' replicas: a fast path, a blocking pop, or the generic
                 // read-run-write of the single node's handler (cluster_read_run_write.h)
  kTransaction,  // WATCH and EXEC (cluster_transaction.h)
  kKeyspace,     // across every node: DBSIZE, KEYS, SCAN, ... (cluster_keyspace_commands.cc)
};
ClusterRoute cluster_route(std::string_view full_name, const CommandSpec& spec);

// The handler the command named `full_name` runs with in cluster mode: its cluster version, or
// the spec's handler for a kNode command.
CommandHandler cluster_handler_for(std::string_view full_name, const CommandSpec& spec);
// The cluster-wide version of a keyspace-wide command (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL,
// FLUSHDB: cluster_keyspace_commands.cc); null for any other command.
CommandHandler cluster_keyspace_handler(std::string_view full_name);

// The blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP) in
// cluster mode: cluster_blocking_commands.cc.
void cluster_blocking_command(CommandContext& context);

// What GET `key` and a SET of `key` to `value` without options submit first: the same requests
// their handlers make, for a pipeline to submit ahead of their turn (cluster_pipeline.h).
ClusterRequest cluster_get_request(std::string_view key);
ClusterRequest cluster_set_request(std::string_view key, std::string_view value);

}  // namespace cairn
