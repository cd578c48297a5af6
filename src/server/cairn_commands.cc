// CAIRN: the container of Cairn's own administrative commands (as Dragonfly's DFLY), so that
// later ones fit beside the first: COMPACT, CONSISTENCY, FAULT, REPAIR, RING and HELP.
//
// CAIRN COMPACT runs a full manual compaction on the CompactionRunner's thread
// (compaction_runner.h): its client blocks, as BLPOP's does (the connection runs none of its
// later commands), while the event loop goes on serving every other client; the runner wakes the
// client's connection when the compaction is done, and the retried command answers.
#include <array>
#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "cluster/node_identity.h"
#include "cluster/repair_service.h"
#include "cluster/ring.h"
#include "common/assert.h"
#include "server/cairn_ring_command.h"
#include "server/client.h"
#include "server/command_groups.h"
#include "server/command_helpers.h"
#include "server/command_support.h"
#include "server/compaction_runner.h"
#include "server/server.h"

namespace cairn {

// What a client blocked on CAIRN COMPACT learns from the runner's thread.
struct CompactionWait {
  std::atomic<bool> done{false};
  Status status;  // written before `done` is set (release), read after it is seen (acquire)
};

namespace {

void cairn_compact(CommandContext& context) {
  Client& client = context.client;
  if (!context.may_block) {  // the no-multi flag keeps it out of MULTI; this is a backstop
    context.reply.error("ERR Command not allowed inside a transaction");
    return;
  }
  if (!context.retrying_block) {
    auto wait = std::make_shared<CompactionWait>();
    client.compaction_wait = wait;
    // The wake-up is posted to the client's loop, so it arrives after this command has blocked.
    context.server.compactions().request(
        [wait, control = client.shared_control()](const Status& status) {
          wait->status = status;
          wait->done.store(true, std::memory_order_release);
          control->wake_blocked();
        });
  }
  CAIRN_ASSERT(client.compaction_wait != nullptr);
  if (!client.compaction_wait->done.load(std::memory_order_acquire)) {
    context.block.requested = true;  // no timeout
    return;
  }
  const Status status = client.compaction_wait->status;
  client.compaction_wait.reset();
  if (!status.is_ok()) {
    context.reply.error("ERR " + std::string(status.message()));
    return;
  }
  context.reply.ok();
}

// CAIRN CONSISTENCY [level]: the connection's consistency level in cluster mode, read or set.
void cairn_consistency(CommandContext& context) {
  if (context.server.cluster() == nullptr) {
    context.reply.error("ERR This instance has cluster support disabled");
    return;
  }
  if (context.argv.size() > 3) return reply_wrong_arity(context, "cairn|consistency");
  if (context.argv.size() == 2) {
    context.reply.bulk_string(consistency_name(context.client.consistency));
    return;
  }
  const std::optional<Consistency> consistency = parse_consistency(context.argv[2]);
  if (!consistency.has_value()) {
    context.reply.error(
        "ERR consistency must be ONE, QUORUM, ALL, SLOPPY-ONE, SLOPPY-QUORUM or SLOPPY-ALL");
    return;
  }
  context.client.consistency = *consistency;
  context.reply.ok();
}

// CAIRN FAULT PARTITION <node-id> [<node-id> ...] | CAIRN FAULT HEAL: drops this node's bus
// messages to and from the nodes named (tests of partitions between real processes), or stops.
void cairn_fault(CommandContext& context) {
  if (!context.server.config().enable_fault_commands) {
    context.reply.error(
        "ERR CAIRN FAULT is off: start cairnd with --enable-fault-commands to allow it");
    return;
  }
  ClusterRuntime* cluster = context.server.cluster();
  if (cluster == nullptr) {
    context.reply.error("ERR This instance has cluster support disabled");
    return;
  }
  const std::string_view what = context.argv[2];
  std::set<NodeId> peers;
  if (equals_ignore_case(what, "partition") && context.argv.size() > 3) {
    for (const std::string_view name : context.argv.subspan(3)) {
      const std::optional<NodeId> id = parse_cluster_node_name(name);
      if (!id.has_value()) {
        context.reply.error("ERR not a node id: " + std::string(name));
        return;
      }
      peers.insert(*id);
    }
  } else if (!equals_ignore_case(what, "heal") || context.argv.size() != 3) {
    context.reply.error("ERR syntax: CAIRN FAULT PARTITION <node-id> [<node-id> ...] | HEAL");
    return;
  }
  cluster->set_partitioned(std::move(peers));
  context.reply.ok();
}

// CAIRN REPAIR START [<first-slot> <last-slot>]: starts an on-demand repair pass on this node
// over the partitions of those slots (all by default) and answers its id. CAIRN REPAIR STATUS:
// the latest pass, as a map. cairnctl repair starts one on every node (docs/cluster-repair.md).
void reply_repair_status(ReplyWriter& reply, const RepairPassStatus& pass) {
  const std::string_view state = pass.id == 0 ? "idle" : pass.running ? "running" : "done";
  const auto count = [](uint64_t value) { return static_cast<int64_t>(value); };
  reply.map_header(14);
  reply.bulk_string("id");
  reply.integer(count(pass.id));
  reply.bulk_string("state");
  reply.bulk_string(state);
  reply.bulk_string("first_slot");
  reply.integer(count(pass.first_partition * kSlotsPerPartition));
  reply.bulk_string("last_slot");
  reply.integer(count((pass.last_partition + 1) * kSlotsPerPartition - 1));
  reply.bulk_string("partitions_total");
  reply.integer(pass.id == 0 ? 0 : count(pass.last_partition - pass.first_partition + 1));
  reply.bulk_string("partitions_done");
  reply.integer(count(pass.partitions_done));
  reply.bulk_string("exchanges_completed");
  reply.integer(count(pass.exchanges_completed));
  reply.bulk_string("exchanges_failed");
  reply.integer(count(pass.exchanges_failed));
  reply.bulk_string("peers_skipped");
  reply.integer(count(pass.peers_skipped));
  reply.bulk_string("slots_differing");
  reply.integer(count(pass.slots_differing));
  reply.bulk_string("keys_fetched");
  reply.integer(count(pass.keys_fetched));
  reply.bulk_string("keys_pushed");
  reply.integer(count(pass.keys_pushed));
  reply.bulk_string("bytes");
  reply.integer(count(pass.bytes));
  reply.bulk_string("elapsed_ms");
  reply.integer(count(pass.elapsed_ms));
}

void cairn_repair(CommandContext& context) {
  ClusterRuntime* cluster = context.server.cluster();
  if (cluster == nullptr) {
    context.reply.error("ERR This instance has cluster support disabled");
    return;
  }
  const std::string_view what = context.argv[2];
  if (equals_ignore_case(what, "status") && context.argv.size() == 3) {
    return reply_repair_status(context.reply, cluster->snapshot()->repair_pass);
  }
  if (!equals_ignore_case(what, "start") ||
      (context.argv.size() != 3 && context.argv.size() != 5)) {
    context.reply.error("ERR syntax: CAIRN REPAIR START [<first-slot> <last-slot>] | STATUS");
    return;
  }
  int64_t first_slot = 0;
  int64_t last_slot = kSlotCount - 1;
  if (context.argv.size() == 5) {
    const std::optional<int64_t> first = parse_integer_argument(context.reply, context.argv[3]);
    if (!first.has_value()) return;
    const std::optional<int64_t> last = parse_integer_argument(context.reply, context.argv[4]);
    if (!last.has_value()) return;
    first_slot = *first;
    last_slot = *last;
  }
  if (first_slot < 0 || last_slot >= kSlotCount || first_slot > last_slot) {
    context.reply.error("ERR slots must satisfy 0 <= first <= last <= 16383");
    return;
  }
  context.reply.integer(static_cast<int64_t>(
      cluster->start_repair(static_cast<uint16_t>(first_slot), static_cast<uint16_t>(last_slot))));
}

void cairn_help(CommandContext& context) {
  help_reply(context.reply, "CAIRN",
             {"COMPACT",
              "    Compact the whole database now, reclaiming the space of deleted and",
              "    overwritten data (deleted collections' elements, expired keys included).",
              "    Answers when done; other clients are served meanwhile.",
              "CONSISTENCY [ONE|QUORUM|ALL|SLOPPY-ONE|SLOPPY-QUORUM|SLOPPY-ALL]",
              "    In cluster mode: how many of a key's replicas must answer this",
              "    connection's commands (SLOPPY: down replicas' writes go to stand-ins as",
              "    hints). Without an argument, the current level.",
              "FAULT PARTITION <node-id> [<node-id> ...] | FAULT HEAL",
              "    Tests only (--enable-fault-commands): drop this node's cluster bus",
              "    messages to and from the nodes named, or stop dropping.",
              "REPAIR START [<first-slot> <last-slot>]",
              "    In cluster mode: compare this node's replicas of those slots (all by",
              "    default) with the other replicas now, and answer the pass's id.",
              "REPAIR STATUS",
              "    The latest repair pass: state, progress, keys exchanged, bytes.",
              "RING STATUS",
              "    In cluster mode: the ring's epoch, transition, members and claimant.",
              "RING REMOVE <node-id>",
              "    On the claimant: take the member out of the ring; its share streams to",
              "    the members that gain it first.",
              "RING PLAN ADD | RING PLAN REMOVE <node-id>",
              "    What adding a node, or removing the member, would move."});
}

constexpr std::array kCairnSubcommands = {
    CommandSpec{.name = "compact",
                .arity = 2,
                .flags = kCommandAdmin | kCommandNoScript | kCommandNoMulti | kCommandBlocking,
                .group = "server",
                .since = kCairnVersion,
                .summary = "Compacts the whole database now and answers when done "
                           "(Cairn-specific).",
                .complexity = "O(N) where N is the size of the data on disk",
                .handler = cairn_compact,
                .subcommands = {}},
    CommandSpec{.name = "consistency",
                .arity = -2,
                .flags = kCommandFast | kCommandLoading | kCommandStale,
                .group = "server",
                .since = kCairnVersion,
                .summary = "Reads or sets the connection's consistency level in cluster mode "
                           "(Cairn-specific).",
                .complexity = "O(1)",
                .handler = cairn_consistency,
                .subcommands = {}},
    CommandSpec{.name = "fault",
                .arity = -3,
                .flags = kCommandAdmin | kCommandNoScript,
                .group = "server",
                .since = kCairnVersion,
                .summary = "Injects a test-only fault, such as a cluster bus partition "
                           "(Cairn-specific; needs --enable-fault-commands).",
                .complexity = "O(N) where N is the number of nodes named",
                .handler = cairn_fault,
                .subcommands = {}},
    CommandSpec{.name = "repair",
                .arity = -3,
                .flags = kCommandAdmin | kCommandNoScript,
                .group = "server",
                .since = kCairnVersion,
                .summary = "Starts an on-demand anti-entropy pass on this node, or reports the "
                           "latest (Cairn-specific).",
                .complexity = "O(1); the pass runs in the background",
                .handler = cairn_repair,
                .subcommands = {}},
    CommandSpec{.name = "ring",
                .arity = -3,
                .flags = kCommandAdmin | kCommandNoScript,
                .group = "server",
                .since = kCairnVersion,
                .summary = "Shows the cluster ring's state, plans a change, or takes a member out "
                           "(Cairn-specific).",
                .complexity = "O(N) where N is the number of partitions",
                .handler = cairn_ring,
                .subcommands = {}},
    CommandSpec{.name = "help",
                .arity = 2,
                .flags = kCommandLoading | kCommandStale,
                .group = "server",
                .since = kCairnVersion,
                .summary = "Returns helpful text about the different subcommands.",
                .complexity = "O(1)",
                .handler = cairn_help,
                .subcommands = {}},
};

const std::array kCairnCommands = {
    CommandSpec{.name = "cairn",
                .arity = -2,
                .flags = 0,
                .group = "server",
                .since = kCairnVersion,
                .summary = "A container for Cairn's administrative commands (Cairn-specific).",
                .complexity = "Depends on subcommand.",
                .handler = nullptr,
                .subcommands = kCairnSubcommands},
};

}  // namespace

std::span<const CommandSpec> cairn_commands() { return kCairnCommands; }

}  // namespace cairn
