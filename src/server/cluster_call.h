// ClusterCall: a cluster-mode command waiting on the cluster. A command handler submits its
// requests to the ClusterRuntime and blocks its client, as BLPOP or CAIRN COMPACT do (the
// connection runs none of the client's later commands; the event loop serves the others); the
// last reply, arriving on the cluster thread, wakes the connection and the handler runs again
// (context.retrying_block) to take the replies, and to reply or submit its next step.
//
// A handler's steps:
//   ClusterCall& call = cluster_call(context);       // fresh on the first run
//   if (call.step == 0) return submit_and_wait(context, {request, ...});
//   const std::vector<ClusterReply>& replies = call.replies;   // in submission order
// Each submit_and_wait() advances call.step; what a step learned and a later one needs goes in
// call.states.
//
// A pipelined GET or SET may have its call submitted before its turn (cluster_pipeline.h): the
// handler then starts at step 1, and the session runs it only once the replies are in.
//
// Thread-safety: the client's thread owns the call between steps; while a step is out, only the
// cluster thread's completions touch it (under the mutex), and the wake-up orders the two.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

#include "cluster/cluster_request.h"
#include "server/command.h"

namespace cairn {

struct ClusterCall {
  int step = 0;
  std::vector<ClusterReply> replies;  // of the last step, in submission order
  std::vector<KeyState> states;       // what earlier steps learned, for later ones
  std::vector<std::string> keys;      // the keys the command reads and writes
  std::string reply;                  // a reply computed before the writes it waits on
  // A blocking pop between polls (cluster_commands.h): when it stops waiting, in ms of the
  // steady clock (0: never); known once a poll found every key empty.
  std::optional<uint64_t> poll_deadline_ms;

  std::mutex mutex;
  size_t outstanding = 0;  // guarded by mutex while a step is out
  // Guarded by mutex: the client waits on the step, so its last reply wakes the connection.
  bool waited = false;
};

// The client's call: a fresh one when the command starts (not a retry).
ClusterCall& cluster_call(CommandContext& context);
// Submits `requests` (at the client's consistency level) and blocks the client until all have
// answered. Inside MULTI, where nothing may block, replies an error instead.
void submit_and_wait(CommandContext& context, std::vector<ClusterRequest> requests);
// Submits `requests` ahead of the command's turn, waited on by no one yet: the call is at step
// 1 when the command runs (see replies_ready).
std::shared_ptr<ClusterCall> submit_ahead(Server& server, Client& client,
                                          std::vector<ClusterRequest> requests);
// Whether every reply of the call's step is in; if not, the call's last reply will wake the
// client's connection (which must then be blocked, or block before its loop runs again).
bool replies_ready(ClusterCall& call);
// A request's error as the client sees it: Redis-style, its first word the error code
// ("NOQUORUM ...", "WRONGTYPE ...", "ERR ...").
void reply_cluster_error(CommandContext& context, const Status& status);

}  // namespace cairn
