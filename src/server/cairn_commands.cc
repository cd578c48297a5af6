// CAIRN: the container of Cairn's own administrative commands (as Dragonfly's DFLY), so that
// later ones fit beside the first: COMPACT, CONSISTENCY, FAULT and HELP.
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
#include "common/assert.h"
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

void cairn_help(CommandContext& context) {
  help_reply(context.reply, "CAIRN",
             {"COMPACT", "    Compact the whole database now, reclaiming the space of deleted and",
              "    overwritten data (deleted collections' elements, expired keys included).",
              "    Answers when done; other clients are served meanwhile.",
              "CONSISTENCY [ONE|QUORUM|ALL|SLOPPY-ONE|SLOPPY-QUORUM|SLOPPY-ALL]",
              "    In cluster mode: how many of a key's replicas must answer this",
              "    connection's commands (SLOPPY: down replicas' writes go to stand-ins as",
              "    hints). Without an argument, the current level.",
              "FAULT PARTITION <node-id> [<node-id> ...] | FAULT HEAL",
              "    Tests only (--enable-fault-commands): drop this node's cluster bus",
              "    messages to and from the nodes named, or stop dropping."});
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
