// The blocking pops in cluster mode: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX
// and BZMPOP. A pop polls. Each poll runs the command as any data command runs
// (cluster_read_run_write.h): it reads the keys' merged states, runs the single node's handler
// on them in the scratch keyspace — where nothing may block, so it pops from the first key that
// holds something, or answers as if it had timed out — and writes what it popped. When every key
// was empty, the client waits kPollIntervalMs and polls again, until it pops or its timeout
// passes (0: never), and then replies a null array, as the single node does. No replica tells a
// coordinator that a key changed: polling is how a pop through one node sees a push through
// another. The wait is the connection's timer (Session::Outcome::retry_after_ms): no thread
// sleeps and the event loop never spins.
//
// From its first poll until it pops, the client is in the BlockingRegistry, as a blocked client
// of a single node is: CLIENT UNBLOCK ends it, INFO counts it. It leaves the registry before it
// writes what it popped, so nothing can end it then (ServerSession::end_block): an element taken
// is always replied.
//
// Costs: a waiting pop reads each of its keys once per poll at the client's level, so a client
// blocked on k keys makes k * 1000 / kPollIntervalMs reads a second; and an element pushed is
// seen after kPollIntervalMs / 2 on average.
//
// Thread-safety: handlers, on the client's loop thread.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "io/clock.h"
#include "server/blocking_registry.h"
#include "server/client.h"
#include "server/cluster_call.h"
#include "server/cluster_commands.h"
#include "server/cluster_read_run_write.h"
#include "server/command_support.h"
#include "server/server.h"

namespace cairn {
namespace {

// How long a pop that found every key empty waits before it polls again: half the resolution of
// Redis's own timeouts (its 100 ms cron), and few enough reads to keep many waiting clients cheap.
constexpr uint64_t kPollIntervalMs = 50;

// The timeout argument: the first for BLMPOP and BZMPOP, the last for the others.
std::string_view timeout_argument(const CommandEntry& entry,
                                  std::span<const std::string_view> argv) {
  const std::string_view name = entry.spec->name;
  return name == "blmpop" || name == "bzmpop" ? argv[1] : argv.back();
}

// Whether `reply` is what the command answers at once when it finds nothing to pop: a null
// array, or a null for BLMOVE and BRPOPLPUSH.
bool is_empty_reply(std::string_view reply, RespVersion resp) {
  std::string null_bulk;
  ReplyWriter(&null_bulk, resp).null();
  std::string null_array;
  ReplyWriter(&null_array, resp).null_array();
  return reply == null_bulk || reply == null_array;
}

// Nothing to pop: waits for the next poll, or replies a null array once the timeout passed (as
// Redis 7.0 times out every blocking pop, BLMOVE's too).
void wait_or_time_out(CommandContext& context, ClusterCall& call, const CommandEntry& entry) {
  const uint64_t now_ms = Clock::real()->now_micros() / 1000;
  if (!call.poll_deadline_ms.has_value()) {
    // The scratch accepted the timeout already; it fails here only if the clock moved it out of
    // range meanwhile (then it replied the error).
    const std::optional<uint64_t> timeout_ms =
        parse_block_timeout(context, timeout_argument(entry, context.argv));
    if (!timeout_ms.has_value()) return;
    call.poll_deadline_ms = *timeout_ms == 0 ? 0 : now_ms + *timeout_ms;
  }
  const uint64_t deadline_ms = *call.poll_deadline_ms;
  if (deadline_ms != 0 && now_ms >= deadline_ms) return context.reply.null_array();
  call.step = 0;  // the next run polls again
  context.block.requested = true;
  context.block.retry_after_ms =
      deadline_ms == 0 ? kPollIntervalMs : std::min(kPollIntervalMs, deadline_ms - now_ms);
}

// A poll's end: the keys' states are in. Writes what the command popped, replies an error, or
// waits for the next poll.
void end_poll(CommandContext& context, ClusterCall& call, const CommandEntry& entry) {
  if (reply_failure(context, call.replies)) return;
  Result<ScratchOutcome> outcome = run_on_keys(context, call, upper_name(entry),
                                               [&](ClusterScratch::Run& run, ReplyWriter& reply) {
                                                 run.execute(entry, context.argv, reply);
                                               });
  if (!outcome.is_ok()) return reply_status(context.reply, outcome.status());
  if (!outcome->writes.empty()) {
    // Popped: from here on the command must reply what it took, so nothing may end it.
    context.server.blocking().unblock(context.client);
    return write_changes(context, call, std::move(outcome).value());
  }
  // An error (WRONGTYPE, a bad argument), or a pop that changed nothing (BLMOVE of a one-element
  // list onto itself), is the answer.
  if (!is_empty_reply(outcome->reply, context.client.resp())) {
    return context.reply.raw(outcome->reply);
  }
  wait_or_time_out(context, call, entry);
}

// A poll's start: reads the keys, as a blocked client.
void start_poll(CommandContext& context, ClusterCall& call, const CommandEntry& entry) {
  call.keys.clear();
  if (!add_command_keys(context, call, entry, context.argv, false)) return;
  if (!call.keys.empty()) {
    // No local write wakes it (the keys live on their replicas): the registry shows it blocked.
    const std::vector<std::string_view> keys(call.keys.begin(), call.keys.end());
    context.server.blocking().block(context.client, keys);
  }
  if (read_keys(context, call, upper_name(entry))) return;
  end_poll(context, call, entry);  // no key (a malformed count): the handler answers the error
}

}  // namespace

void cluster_blocking_command(CommandContext& context) {
  ClusterCall& call = cluster_call(context);
  const CommandEntry& entry = entry_of(context);
  if (call.step == 0) return start_poll(context, call, entry);
  if (call.step == 1) return end_poll(context, call, entry);
  finish_writes(context, call);
}

}  // namespace cairn
