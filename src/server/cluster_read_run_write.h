// Read, run, write: how a cluster-mode command runs the single node's own handlers. The node reads
// the merged states of the command's keys at the client's level (one kReadState per key), loads
// their images into the scratch keyspace (cluster_scratch.h), runs the command there — or, for
// EXEC, every queued command — and writes each key whose image changed as a CRDT delta
// (model/key_image.h). The generic data commands, the blocking pops and EXEC share these steps;
// each handler keeps its own control flow between them:
//
//   step 0: add_command_keys(...) for each command; if (read_keys(...)) return;   // waits
//   step 1: Result<ScratchOutcome> outcome = run_on_keys(...);  write_changes(...) // may wait
//   step 2: finish_writes(...)
//
// Thread-safety: functions of the client's loop thread, on its ClusterCall (cluster_call.h).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_request.h"
#include "common/result.h"
#include "server/cluster_call.h"
#include "server/cluster_scratch.h"
#include "server/command.h"
#include "server/command_table.h"

namespace cairn {

// A request on one key; `command` names it in errors ("NOQUORUM QUORUM write of LPUSH ...").
ClusterRequest key_request(RequestKind kind, std::string_view key, std::string_view command);
// Replies the first failed reply's error and returns true; false when every reply succeeded.
bool reply_failure(CommandContext& context, const std::vector<ClusterReply>& replies);
// The table entry argv runs (a subcommand's for a container). REQUIRES: argv resolved to it.
const CommandEntry& entry_of(CommandContext& context);
// A command's name as errors show it: "LPUSH", "OBJECT ENCODING".
std::string upper_name(const CommandEntry& entry);

// Redis Cluster's answer to keys of one request (or one transaction) in several slots.
inline constexpr std::string_view kCrossSlotError =
    "CROSSSLOT Keys in request don't hash to the same slot";

// Adds argv's keys (entry's, command_keys.h) to call.keys, each key once, in order. Unless
// `any_slot`, every key of call.keys must then share a slot: otherwise replies kCrossSlotError
// and returns false.
bool add_command_keys(CommandContext& context, ClusterCall& call, const CommandEntry& entry,
                      std::span<const std::string_view> argv, bool any_slot);

// Step 0: submits one kReadState per key of call.keys and waits (returns true). With no key to
// read, moves to step 1 at once and returns false: the handler goes on.
bool read_keys(CommandContext& context, ClusterCall& call, std::string_view command_name);

// What commands run on the keys' images produced.
struct ScratchOutcome {
  std::string reply;                   // the bytes to send the client, in its protocol
  std::vector<ClusterRequest> writes;  // one delta per key whose image changed
};
// `body` runs commands on the loaded scratch, appending their replies to the writer.
using ScratchBody = std::function<void(ClusterScratch::Run& run, ReplyWriter& reply)>;

// Step 1: loads the states the reads answered (call.replies, in call.keys' order, which it
// consumes) into the scratch, runs `body`, reads the keys back and makes the write of each
// one that changed, named `command_name` in errors. REQUIRES: the reads succeeded.
Result<ScratchOutcome> run_on_keys(CommandContext& context, ClusterCall& call,
                                   std::string_view command_name, const ScratchBody& body);
// Replies outcome.reply at once when nothing changed; otherwise submits the writes and waits,
// keeping the reply for finish_writes.
void write_changes(CommandContext& context, ClusterCall& call, ScratchOutcome outcome);
// Step 2: once the writes answered, their first error, or the reply kept.
void finish_writes(CommandContext& context, ClusterCall& call);

}  // namespace cairn
