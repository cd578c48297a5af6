// Commands in cluster mode. A command that reads or writes keys runs through the cluster: its
// node coordinates it across the replicas of each key (cluster_call.h), whichever node the client
// is connected to. The table entry of every command carries the handler it runs with in cluster
// mode (CommandEntry::cluster_handler), chosen here once when the table is built.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "cluster/cluster_request.h"
#include "server/command.h"

namespace cairn {

// The cluster version of the command named `full_name` ("get", "cluster|slots"); for a command
// without one: the spec's handler when the command touches no key and no keyspace-wide state,
// else a handler that answers that the command is not available in cluster mode yet.
CommandHandler cluster_handler_for(std::string_view full_name, const CommandSpec& spec);
// The cluster-wide version of a keyspace-wide command (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL,
// FLUSHDB: cluster_keyspace_commands.cc); null for any other command.
CommandHandler cluster_keyspace_handler(std::string_view full_name);

// What GET `key` and a SET of `key` to `value` without options submit first: the same requests
// their handlers make, for a pipeline to submit ahead of their turn (cluster_pipeline.h).
ClusterRequest cluster_get_request(std::string_view key);
ClusterRequest cluster_set_request(std::string_view key, std::string_view value);

}  // namespace cairn
