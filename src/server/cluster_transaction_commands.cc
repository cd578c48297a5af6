#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/assert.h"
#include "model/slot.h"
#include "server/client.h"
#include "server/cluster_call.h"
#include "server/cluster_commands.h"
#include "server/cluster_read_run_write.h"
#include "server/cluster_transaction.h"
#include "server/command_keys.h"
#include "server/command_support.h"
#include "server/server.h"
#include "server/session.h"

namespace cairn {
namespace {

ClusterTransaction& transaction_of(Client& client) {
  if (client.cluster_transaction == nullptr) {
    client.cluster_transaction = std::make_shared<ClusterTransaction>();
  }
  return *client.cluster_transaction;
}

// Whether `keys` all lie in `*slot`, which the first key fixes when it is unset.
bool in_one_slot(std::span<const std::string_view> keys, std::optional<uint16_t>* slot) {
  if (keys.empty()) return true;
  const uint16_t wanted = slot->has_value() ? slot->value() : key_slot(keys.front());
  for (const std::string_view key : keys) {
    if (key_slot(key) != wanted) return false;
  }
  *slot = wanted;
  return true;
}

// EXEC, DISCARD and RESET end a transaction, as on a single node: the queue and the watches go.
void end_transaction(CommandContext& context) {
  context.client.end_multi();
  context.server.watches().unwatch_all(context.client);
}

bool runs_on_keys(const CommandEntry& entry) {
  return cluster_route(entry.full_name, *entry.spec) == ClusterRoute::kKeys;
}

// Whether a watched key changed since WATCH read it: a write reached it (its version vector
// grew), or it expired (as Redis 7 counts a watched key that expires).
bool watched_key_changed(const ClusterTransaction::WatchedKey& watched, const KeyState& now,
                         int64_t now_ms) {
  if (watched.state.version_vector() != now.version_vector()) return true;
  return watched.state.type(watched.read_at_ms) != KeyStateType::kNone &&
         now.type(now_ms) == KeyStateType::kNone;
}

// The queued commands, one after the other, into EXEC's array: a data command runs in the
// scratch on the loaded keys, any other one on this node (PING, CLIENT SETNAME, HELLO; a command
// that cannot run inside MULTI answers its error), as the single node's EXEC runs each.
void run_queue(CommandContext& context, ClusterScratch::Run& run,
               const std::vector<QueuedCommand>& queued, ReplyWriter& reply) {
  reply.array_header(queued.size());
  std::vector<std::string_view> argv;
  for (const QueuedCommand& command : queued) {
    argv.assign(command.argv.begin(), command.argv.end());
    // Each command replies in the protocol the client has when it runs (HELLO inside a
    // transaction switches it for the rest, as in Redis).
    ReplyWriter writer(&reply.buffer(), context.client.resp());
    if (runs_on_keys(*command.entry)) {
      run.execute(*command.entry, argv, writer);
      continue;
    }
    CommandContext inner{context.server, context.client, argv,  writer, nullptr,
                         nullptr,        false,          false, false,  {}};
    run_command(context.server, context.client, *command.entry, inner);
    // Only a data command's value streams (a large GET), and none of them runs here.
    CAIRN_ASSERT(inner.reply_body == nullptr && !inner.block.requested);
    if (inner.close_connection) context.close_connection = true;
  }
}

// EXEC's step 1: the keys' states are in. Ends the transaction, and unless a watched key
// changed, runs it and writes what it changed.
void run_transaction(CommandContext& context, ClusterCall& call) {
  Client& client = context.client;
  const std::vector<QueuedCommand> queued = client.take_queue();
  const std::shared_ptr<ClusterTransaction> transaction = client.cluster_transaction;
  end_transaction(context);
  if (reply_failure(context, call.replies)) return;
  if (transaction != nullptr) {
    const int64_t now_ms = Server::now_ms();
    CAIRN_ASSERT(call.replies.size() >= transaction->watched.size());
    for (size_t i = 0; i < transaction->watched.size(); i++) {
      if (watched_key_changed(transaction->watched[i], call.replies[i].state, now_ms)) {
        return context.reply.null_array();
      }
    }
  }
  Result<ScratchOutcome> outcome =
      run_on_keys(context, call, "EXEC", [&](ClusterScratch::Run& run, ReplyWriter& reply) {
        run_queue(context, run, queued, reply);
      });
  if (!outcome.is_ok()) return reply_status(context.reply, outcome.status());
  write_changes(context, call, std::move(outcome).value());
}

// EXEC's step 0: the transaction's keys, the watched ones first (in their order), then read.
void read_transaction_keys(CommandContext& context, ClusterCall& call) {
  if (const ClusterTransaction* transaction = context.client.cluster_transaction.get();
      transaction != nullptr) {
    for (const ClusterTransaction::WatchedKey& watched : transaction->watched) {
      call.keys.push_back(watched.key);
    }
  }
  for (const QueuedCommand& command : context.client.queued()) {
    if (!runs_on_keys(*command.entry)) continue;
    const std::vector<std::string_view> argv(command.argv.begin(), command.argv.end());
    // Queuing checked the slot (cluster_admits_queued).
    (void)add_command_keys(context, call, *command.entry, argv, true);
  }
  if (read_keys(context, call, "EXEC")) return;
  run_transaction(context, call);  // nothing to read: on to step 1
}

}  // namespace

bool cluster_admits_queued(Client& client, const CommandEntry& entry,
                           std::span<const std::string_view> argv, ReplyWriter& reply) {
  if (!runs_on_keys(entry)) return true;
  const std::vector<std::string_view> keys = command_keys(entry, argv);
  if (keys.empty()) return true;
  ClusterTransaction& transaction = transaction_of(client);
  std::optional<uint16_t> slot = transaction.slot;
  if (!in_one_slot(keys, &slot)) {
    reply.error(kCrossSlotError);
    return false;
  }
  transaction.slot = slot;
  return true;
}

void cluster_watch_command(CommandContext& context) {
  Client& client = context.client;
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) {
    if (client.in_multi()) return context.reply.error("ERR WATCH inside MULTI is not allowed");
    const ClusterTransaction* transaction = client.cluster_transaction.get();
    std::optional<uint16_t> slot;
    if (transaction != nullptr) slot = transaction->slot;
    const std::span<const std::string_view> keys = context.argv.subspan(1);
    if (!in_one_slot(keys, &slot)) return context.reply.error(kCrossSlotError);
    for (const std::string_view key : keys) {
      const bool watched =
          transaction != nullptr &&
          std::any_of(transaction->watched.begin(), transaction->watched.end(),
                      [&](const ClusterTransaction::WatchedKey& w) { return w.key == key; });
      // A key watched already keeps the state its first WATCH read, as in Redis.
      if (watched || std::find(call.keys.begin(), call.keys.end(), key) != call.keys.end()) {
        continue;
      }
      call.keys.emplace_back(key);
    }
    if (client.watched_count() + call.keys.size() > Client::kWatchedKeysMax) {
      return context.reply.error("ERR too many watched keys");
    }
    if (read_keys(context, call, "WATCH")) return;
  }
  if (reply_failure(context, call.replies)) return;
  ClusterTransaction& transaction = transaction_of(client);
  transaction.slot = key_slot(context.argv[1]);
  const int64_t now_ms = Server::now_ms();
  for (size_t i = 0; i < call.keys.size(); i++) {
    transaction.watched.push_back({call.keys[i], std::move(call.replies[i].state), now_ms});
  }
  client.set_watched_count(transaction.watched.size());
  context.reply.ok();
}

void cluster_exec_command(CommandContext& context) {
  Client& client = context.client;
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) {
    if (!client.in_multi()) return context.reply.error("ERR EXEC without MULTI");
    if (client.multi_error()) {
      end_transaction(context);
      return context.reply.error("EXECABORT Transaction discarded because of previous errors.");
    }
    return read_transaction_keys(context, call);
  }
  if (call.step == 1) return run_transaction(context, call);
  finish_writes(context, call);
}

}  // namespace cairn
