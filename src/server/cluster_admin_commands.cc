// Redis Cluster's commands, answered from the node's ClusterSnapshot so that cluster-aware
// clients (redis-cli -c, redis-py's RedisCluster, ioredis's Cluster, redis-benchmark --cluster)
// find their way: CLUSTER INFO, MYID, NODES, SLOTS, SHARDS, KEYSLOT, COUNTKEYSINSLOT, HELP, and
// ASKING, READONLY, READWRITE; and CLUSTER MEET, by which a new node joins (cairnctl add).
//
// Mapping (docs/cluster-operations.md): a slot range is a run of ring partitions with one
// preference list. Its first node is reported as the range's master and the others as its
// replicas; CLUSTER NODES, which gives each node one role, reports every node as a master of the
// ranges it heads. Any node serves any key (it coordinates the replicas), so clients that route
// by these tables reach a replica of the key first, and no node ever answers MOVED or ASK.
//
// Without cluster mode every command here answers Redis's "cluster support disabled" error.
#include <array>
#include <map>
#include <string>

#include "cluster/node_identity.h"
#include "model/slot.h"
#include "server/client.h"
#include "server/cluster_runtime.h"
#include "server/command_groups.h"
#include "server/command_helpers.h"
#include "server/command_support.h"
#include "server/server.h"

namespace cairn {
namespace {

struct SlotRange {
  uint16_t first = 0;
  uint16_t last = 0;
  std::vector<NodeId> nodes;  // the preference list
};

// The ring's slot ranges, ascending: consecutive partitions with one preference list merged.
std::vector<SlotRange> slot_ranges(const Ring& ring) {
  std::vector<SlotRange> ranges;
  if (ring.empty()) return ranges;
  for (uint32_t partition = 0; partition < kPartitionCount; partition++) {
    const std::span<const NodeId> list = ring.preference_list(partition);
    const auto first = static_cast<uint16_t>(partition * kSlotsPerPartition);
    const auto last = static_cast<uint16_t>(first + kSlotsPerPartition - 1);
    if (!ranges.empty() && std::equal(list.begin(), list.end(), ranges.back().nodes.begin(),
                                      ranges.back().nodes.end())) {
      ranges.back().last = last;
      continue;
    }
    ranges.push_back(SlotRange{first, last, std::vector<NodeId>(list.begin(), list.end())});
  }
  return ranges;
}

std::shared_ptr<const ClusterSnapshot> snapshot_or_reply(CommandContext& context) {
  ClusterRuntime* cluster = context.server.cluster();
  if (cluster == nullptr) {
    context.reply.error("ERR This instance has cluster support disabled");
    return nullptr;
  }
  return cluster->snapshot();
}

bool cluster_ok(const ClusterSnapshot& snapshot) {
  return snapshot.joined && !snapshot.ring.empty();
}

void cluster_info(CommandContext& context) {
  const auto snapshot = snapshot_or_reply(context);
  if (snapshot == nullptr) return;
  size_t known = 0;
  for (const ClusterMemberInfo& member : snapshot->members) {
    known += member.state != MemberState::kDead;
  }
  const bool ok = cluster_ok(*snapshot);
  const uint64_t assigned = snapshot->ring.empty() ? 0 : kSlotCount;
  std::string text;
  auto field = [&text](std::string_view name, const std::string& value) {
    text.append(name).append(":").append(value).append("\r\n");
  };
  field("cluster_state", ok ? "ok" : "fail");
  field("cluster_slots_assigned", std::to_string(assigned));
  field("cluster_slots_ok", std::to_string(ok ? assigned : 0));
  field("cluster_slots_pfail", "0");
  field("cluster_slots_fail", "0");
  field("cluster_known_nodes", std::to_string(known));
  field("cluster_size", std::to_string(snapshot->ring.members().size()));
  field("cluster_current_epoch", std::to_string(snapshot->ring.epoch()));
  field("cluster_my_epoch", std::to_string(snapshot->ring.epoch()));
  field("cluster_stats_messages_sent", std::to_string(snapshot->bus.messages_sent));
  field("cluster_stats_messages_received", std::to_string(snapshot->bus.messages_received));
  field("cairn_replicas", std::to_string(snapshot->ring.replica_count()));
  field("cairn_consistency", consistency_name(context.client.consistency));
  context.reply.verbatim("txt", text);
}

void cluster_myid(CommandContext& context) {
  const auto snapshot = snapshot_or_reply(context);
  if (snapshot == nullptr) return;
  context.reply.bulk_string(cluster_node_name(snapshot->self));
}

std::string node_flags(const ClusterSnapshot& snapshot, const ClusterMemberInfo& member) {
  std::string flags = member.id == snapshot.self ? "myself,master" : "master";
  if (member.state == MemberState::kSuspect) flags += ",fail?";
  if (member.state == MemberState::kDead) flags += ",fail";
  if (!snapshot.ring.contains(member.id)) flags += ",nofailover";
  return flags;
}

void cluster_nodes(CommandContext& context) {
  const auto snapshot = snapshot_or_reply(context);
  if (snapshot == nullptr) return;
  std::map<NodeId, std::string> slots;
  for (const SlotRange& range : slot_ranges(snapshot->ring)) {
    std::string& text = slots[range.nodes.front()];
    text += " " + std::to_string(range.first) + "-" + std::to_string(range.last);
  }
  std::string text;
  for (const ClusterMemberInfo& member : snapshot->members) {
    text += cluster_node_name(member.id) + " " +
            ClusterRuntime::member_address(member.ip, member.port, member.bus_port) + " " +
            node_flags(*snapshot, member) + " - 0 0 " + std::to_string(snapshot->ring.epoch()) +
            (member.state == MemberState::kDead ? " disconnected" : " connected") +
            slots[member.id] + "\n";
  }
  context.reply.verbatim("txt", text);
}

void reply_node(CommandContext& context, const ClusterSnapshot& snapshot, NodeId id) {
  const ClusterMemberInfo* member = snapshot.member(id);
  context.reply.array_header(3);
  context.reply.bulk_string(member != nullptr ? member->ip : "");
  context.reply.integer(member != nullptr ? member->port : 0);
  context.reply.bulk_string(cluster_node_name(id));
}

void cluster_slots(CommandContext& context) {
  const auto snapshot = snapshot_or_reply(context);
  if (snapshot == nullptr) return;
  const std::vector<SlotRange> ranges = slot_ranges(snapshot->ring);
  context.reply.array_header(ranges.size());
  for (const SlotRange& range : ranges) {
    context.reply.array_header(2 + range.nodes.size());
    context.reply.integer(range.first);
    context.reply.integer(range.last);
    for (const NodeId id : range.nodes) reply_node(context, *snapshot, id);
  }
}

// Redis 7's CLUSTER SHARDS: one shard per distinct preference list, with its slot ranges.
void cluster_shards(CommandContext& context) {
  const auto snapshot = snapshot_or_reply(context);
  if (snapshot == nullptr) return;
  std::map<std::vector<NodeId>, std::vector<std::pair<uint16_t, uint16_t>>> shards;
  for (const SlotRange& range : slot_ranges(snapshot->ring)) {
    shards[range.nodes].emplace_back(range.first, range.last);
  }
  context.reply.array_header(shards.size());
  for (const auto& [nodes, ranges] : shards) {
    context.reply.map_header(2);
    context.reply.bulk_string("slots");
    context.reply.array_header(ranges.size() * 2);
    for (const auto& [first, last] : ranges) {
      context.reply.integer(first);
      context.reply.integer(last);
    }
    context.reply.bulk_string("nodes");
    context.reply.array_header(nodes.size());
    for (size_t i = 0; i < nodes.size(); i++) {
      const ClusterMemberInfo* member = snapshot->member(nodes[i]);
      const bool failed = member == nullptr || member->state == MemberState::kDead;
      context.reply.map_header(7);
      context.reply.bulk_string("id");
      context.reply.bulk_string(cluster_node_name(nodes[i]));
      context.reply.bulk_string("port");
      context.reply.integer(member != nullptr ? member->port : 0);
      context.reply.bulk_string("ip");
      context.reply.bulk_string(member != nullptr ? member->ip : "");
      context.reply.bulk_string("endpoint");
      context.reply.bulk_string(member != nullptr ? member->ip : "");
      context.reply.bulk_string("role");
      context.reply.bulk_string(i == 0 ? "master" : "replica");
      context.reply.bulk_string("replication-offset");
      context.reply.integer(0);
      context.reply.bulk_string("health");
      context.reply.bulk_string(failed ? "failed" : "online");
    }
  }
}

void cluster_keyslot(CommandContext& context) {
  if (snapshot_or_reply(context) == nullptr) return;
  context.reply.integer(key_slot(context.argv[2]));
}

// The keys of the slot this node holds replicas of (Redis counts the master's; here any node
// that is a replica of the slot answers its own count).
void cluster_countkeysinslot(CommandContext& context) {
  if (snapshot_or_reply(context) == nullptr) return;
  const std::optional<int64_t> slot = parse_integer_argument(context.reply, context.argv[2]);
  if (!slot.has_value()) return;
  if (*slot < 0 || *slot >= kSlotCount) return context.reply.error("ERR Invalid slot");
  Result<uint64_t> count = count_replica_keys_in_slot(
      &context.server.keyspace().database(), static_cast<uint16_t>(*slot), Server::now_ms());
  if (!count.is_ok()) return reply_status(context.reply, count.status());
  context.reply.integer(static_cast<int64_t>(*count));
}

// CLUSTER MEET ip port: this node, alone in the cluster it founded and holding no keys, joins the
// cluster of the node at ip:port, its client port (the bus port is learned from it). As in
// Redis, OK comes before the join is made; CLUSTER INFO shows it.
void cluster_meet(CommandContext& context) {
  ClusterRuntime* cluster = context.server.cluster();
  if (cluster == nullptr)
    return context.reply.error("ERR This instance has cluster support disabled");
  const std::optional<int64_t> port = parse_integer_argument(context.reply, context.argv[3]);
  if (!port.has_value()) return;
  if (*port < 1 || *port > 65535 || context.argv[2].empty()) {
    return context.reply.error("ERR Invalid node address specified: " +
                               std::string(context.argv[2]) + ":" + std::string(context.argv[3]));
  }
  const Status status =
      cluster->meet(HostPort{std::string(context.argv[2]), static_cast<uint16_t>(*port)});
  if (!status.is_ok()) return reply_status(context.reply, status);
  context.reply.ok();
}

void cluster_help(CommandContext& context) {
  help_reply(context.reply, "CLUSTER",
             {"INFO", "    Return information about the cluster.", "MYID",
              "    Return the node id.", "NODES", "    Return cluster configuration seen by node.",
              "SLOTS", "    Return information about slots range mappings.", "SHARDS",
              "    Return information about slot range mappings and the nodes of each.",
              "KEYSLOT <key>", "    Return the hash slot for <key>.", "COUNTKEYSINSLOT <slot>",
              "    Return the number of keys in <slot> on this node.", "MEET <ip> <port>",
              "    Join the cluster of the node at <ip>:<port> (this node alone and empty)."});
}

// Clients send these when they follow redirections or read from replicas; Cairn never
// redirects, and any node serves any key at the connection's consistency level.
void cluster_no_op(CommandContext& context) {
  if (snapshot_or_reply(context) == nullptr) return;
  context.reply.ok();
}

constexpr uint32_t kInfoFlags = kCommandLoading | kCommandStale;

constexpr std::array kClusterSubcommands = {
    CommandSpec{.name = "info",
                .arity = 2,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Returns information about the state of a node.",
                .complexity = "O(1)",
                .handler = cluster_info,
                .subcommands = {}},
    CommandSpec{.name = "myid",
                .arity = 2,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Returns the ID of a node.",
                .complexity = "O(1)",
                .handler = cluster_myid,
                .subcommands = {}},
    CommandSpec{.name = "nodes",
                .arity = 2,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Returns the cluster configuration for a node.",
                .complexity = "O(N) where N is the total number of Cluster nodes",
                .handler = cluster_nodes,
                .subcommands = {}},
    CommandSpec{.name = "slots",
                .arity = 2,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Returns the mapping of cluster slots to nodes.",
                .complexity = "O(N) where N is the total number of Cluster nodes",
                .handler = cluster_slots,
                .subcommands = {}},
    CommandSpec{.name = "shards",
                .arity = 2,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "7.0.0",
                .summary = "Returns the mapping of cluster slots to shards.",
                .complexity = "O(N) where N is the total number of cluster nodes",
                .handler = cluster_shards,
                .subcommands = {}},
    CommandSpec{.name = "keyslot",
                .arity = 3,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Returns the hash slot for a key.",
                .complexity = "O(N) where N is the number of bytes in the key",
                .handler = cluster_keyslot,
                .subcommands = {}},
    CommandSpec{.name = "countkeysinslot",
                .arity = 3,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Returns the number of keys in a hash slot.",
                .complexity = "O(N) where N is the number of keys in the slot",
                .handler = cluster_countkeysinslot,
                .subcommands = {}},
    CommandSpec{.name = "meet",
                .arity = 4,
                .flags = kCommandAdmin,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Joins the cluster of another node (this node alone and empty).",
                .complexity = "O(N) where N is the number of keys this node holds",
                .handler = cluster_meet,
                .subcommands = {}},
    CommandSpec{.name = "help",
                .arity = 2,
                .flags = kInfoFlags,
                .group = "cluster",
                .since = "5.0.0",
                .summary = "Returns helpful text about the different subcommands.",
                .complexity = "O(1)",
                .handler = cluster_help,
                .subcommands = {}},
};

const std::array kClusterCommands = {
    CommandSpec{.name = "cluster",
                .arity = -2,
                .flags = 0,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "A container for Redis Cluster commands.",
                .complexity = "Depends on subcommand.",
                .handler = nullptr,
                .subcommands = kClusterSubcommands},
    CommandSpec{.name = "asking",
                .arity = 1,
                .flags = kCommandFast,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Signals that a cluster client is following an -ASK redirect.",
                .complexity = "O(1)",
                .handler = cluster_no_op,
                .subcommands = {}},
    CommandSpec{.name = "readonly",
                .arity = 1,
                .flags = kCommandFast | kCommandLoading | kCommandStale,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Enables read-only queries for a connection to a Redis Cluster "
                           "replica node.",
                .complexity = "O(1)",
                .handler = cluster_no_op,
                .subcommands = {}},
    CommandSpec{.name = "readwrite",
                .arity = 1,
                .flags = kCommandFast | kCommandLoading | kCommandStale,
                .group = "cluster",
                .since = "3.0.0",
                .summary = "Enables read-write queries for a connection to a Redis Cluster "
                           "replica node.",
                .complexity = "O(1)",
                .handler = cluster_no_op,
                .subcommands = {}},
};

}  // namespace

std::span<const CommandSpec> cluster_admin_commands() { return kClusterCommands; }

}  // namespace cairn
