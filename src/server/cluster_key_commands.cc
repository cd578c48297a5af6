// Data commands in cluster mode, each run by this node as the coordinator of its keys' replicas
// (cluster_call.h). Fast paths of their own: GET, SET (and its NX, XX, GET and KEEPTTL forms,
// which read first), SETNX, DEL, UNLINK, EXISTS, MGET, MSET, and the INCR family as PN-counters
// through the key's counter leader, so that increments on different nodes are never lost
// (docs/cluster-versions.md); their multi-key forms split into one request per key. Every other
// data command reads its keys, runs the single node's handler on them in the scratch keyspace
// and writes what changed (generic_command). Replies are Redis's; a request the replicas could
// not serve answers its error (NOQUORUM ...).
#include <algorithm>
#include <limits>
#include <string>

#include "common/assert.h"
#include "server/client.h"
#include "server/cluster_call.h"
#include "server/cluster_commands.h"
#include "server/cluster_read_run_write.h"
#include "server/cluster_transaction.h"
#include "server/command_helpers.h"
#include "server/command_support.h"
#include "server/server.h"

namespace cairn {
namespace {

void get_command(CommandContext& context) {
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) return submit_and_wait(context, {cluster_get_request(context.argv[1])});
  if (reply_failure(context, call.replies)) return;
  const std::optional<std::string>& value = call.replies[0].value;
  if (value.has_value()) {
    context.reply.bulk_string(*value);
  } else {
    context.reply.null();
  }
}

// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]. A plain SET is one
// blind write; the other forms read the key first, and write (or not) what Redis would.
void set_command(CommandContext& context) {
  const std::optional<StringOptions> options =
      parse_string_options(context, 3, StringCommandKind::kSet);
  if (!options.has_value()) return;
  ClusterCall& call = cluster_call(context);
  const std::string_view key = context.argv[1];
  const bool plain = !options->nx && !options->xx && !options->get && !options->keepttl;
  if (call.step == 0) {
    const std::optional<uint64_t> expiry = resolve_expiry(context, *options, "set");
    if (!expiry.has_value()) return;
    if (plain) {
      ClusterRequest write = cluster_set_request(key, context.argv[2]);
      write.number = static_cast<int64_t>(*expiry);
      return submit_and_wait(context, {std::move(write)});
    }
    return submit_and_wait(context, {key_request(RequestKind::kReadState, key, "SET")});
  }
  if (reply_failure(context, call.replies)) return;
  if (plain) return context.reply.ok();
  const int64_t now_ms = Server::now_ms();
  if (call.step == 1) {
    call.states = {call.replies[0].state};
    const KeyState& old = call.states[0];
    const KeyStateType type = old.type(now_ms);
    if (options->get && type != KeyStateType::kNone && type != KeyStateType::kString) {
      return context.reply.error(kWrongTypeError);
    }
    const bool exists = type != KeyStateType::kNone;
    if ((options->nx && exists) || (options->xx && !exists)) {
      if (options->get && exists) return context.reply.bulk_string(*old.string_value(now_ms));
      return context.reply.null();
    }
    // The expiry counts from when the write is made, as Redis counts from when SET runs.
    const std::optional<uint64_t> requested = resolve_expiry(context, *options, "set");
    if (!requested.has_value()) return;
    const int64_t expiry =
        options->keepttl && exists ? old.expires_at_unix_ms() : static_cast<int64_t>(*requested);
    ClusterRequest write = key_request(RequestKind::kWriteState, key, "SET");
    write.write_delta = [old, value = std::string(context.argv[2]), expiry](WriteVersion version) {
      KeyState delta = KeyState::string_set(version, value, expiry);
      delta.with_context(old);
      return delta;
    };
    return submit_and_wait(context, {std::move(write)});
  }
  const std::optional<std::string> old_value = call.states[0].string_value(now_ms);
  if (!options->get) return context.reply.ok();
  if (old_value.has_value()) return context.reply.bulk_string(*old_value);
  context.reply.null();
}

void setnx_command(CommandContext& context) {
  ClusterCall& call = cluster_call(context);
  const std::string_view key = context.argv[1];
  if (call.step == 0) {
    return submit_and_wait(context, {key_request(RequestKind::kReadState, key, "SETNX")});
  }
  if (reply_failure(context, call.replies)) return;
  if (call.step == 1) {
    const KeyState old = call.replies[0].state;
    if (old.type(Server::now_ms()) != KeyStateType::kNone) return context.reply.integer(0);
    ClusterRequest write = key_request(RequestKind::kWriteState, key, "SETNX");
    write.write_delta = [old, value = std::string(context.argv[2])](WriteVersion version) {
      KeyState delta = KeyState::string_set(version, value, 0);
      delta.with_context(old);
      return delta;
    };
    return submit_and_wait(context, {std::move(write)});
  }
  context.reply.integer(1);
}

// DEL and UNLINK: reads every key, deletes those that exist, replies how many did.
void delete_keys(CommandContext& context, std::string_view name) {
  ClusterCall& call = cluster_call(context);
  const std::span<const std::string_view> keys = context.argv.subspan(1);
  if (call.step == 0) {
    std::vector<ClusterRequest> reads;
    for (const std::string_view key : keys) {
      reads.push_back(key_request(RequestKind::kReadState, key, name));
    }
    return submit_and_wait(context, std::move(reads));
  }
  if (reply_failure(context, call.replies)) return;
  if (call.step == 1) {
    const int64_t now_ms = Server::now_ms();
    std::vector<ClusterRequest> deletes;
    for (size_t i = 0; i < keys.size(); i++) {
      const KeyState& state = call.replies[i].state;
      if (state.type(now_ms) == KeyStateType::kNone) continue;
      // A key named twice is deleted once, and counted once.
      if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) !=
          keys.begin() + static_cast<std::ptrdiff_t>(i)) {
        continue;
      }
      ClusterRequest remove = key_request(RequestKind::kWriteState, keys[i], name);
      remove.write_delta = [state](WriteVersion version) {
        KeyState delta = KeyState::deleted(version);
        delta.with_context(state);
        return delta;
      };
      deletes.push_back(std::move(remove));
    }
    if (deletes.empty()) return context.reply.integer(0);
    return submit_and_wait(context, std::move(deletes));
  }
  context.reply.integer(static_cast<int64_t>(call.replies.size()));
}

void del_command(CommandContext& context) { delete_keys(context, "DEL"); }
void unlink_command(CommandContext& context) { delete_keys(context, "UNLINK"); }

void exists_command(CommandContext& context) {
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) {
    std::vector<ClusterRequest> reads;
    for (const std::string_view key : context.argv.subspan(1)) {
      reads.push_back(key_request(RequestKind::kReadState, key, "EXISTS"));
    }
    return submit_and_wait(context, std::move(reads));
  }
  if (reply_failure(context, call.replies)) return;
  const int64_t now_ms = Server::now_ms();
  int64_t count = 0;
  for (const ClusterReply& reply : call.replies) {
    count += reply.state.type(now_ms) != KeyStateType::kNone;
  }
  context.reply.integer(count);
}

void mget_command(CommandContext& context) {
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) {
    std::vector<ClusterRequest> reads;
    for (const std::string_view key : context.argv.subspan(1)) {
      reads.push_back(key_request(RequestKind::kReadState, key, "MGET"));
    }
    return submit_and_wait(context, std::move(reads));
  }
  if (reply_failure(context, call.replies)) return;
  const int64_t now_ms = Server::now_ms();
  context.reply.array_header(call.replies.size());
  for (const ClusterReply& reply : call.replies) {
    // MGET answers nil for a key of another type, as Redis does.
    const std::optional<std::string> value = reply.state.string_value(now_ms);
    if (value.has_value()) {
      context.reply.bulk_string(*value);
    } else {
      context.reply.null();
    }
  }
}

void mset_command(CommandContext& context) {
  if (context.argv.size() % 2 == 0) return reply_wrong_arity(context, "mset");
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) {
    std::vector<ClusterRequest> writes;
    for (size_t i = 1; i + 1 < context.argv.size(); i += 2) {
      ClusterRequest write = key_request(RequestKind::kSet, context.argv[i], "MSET");
      write.arguments = {std::string(context.argv[i + 1])};
      writes.push_back(std::move(write));
    }
    return submit_and_wait(context, std::move(writes));
  }
  if (reply_failure(context, call.replies)) return;
  context.reply.ok();
}

void increment(CommandContext& context, std::optional<int64_t> delta, std::string_view name) {
  ClusterCall& call = cluster_call(context);
  if (call.step == 0) {
    if (!delta.has_value()) {
      delta = parse_integer_argument(context.reply, context.argv[2]);
      if (!delta.has_value()) return;
      if (name == "DECRBY") {
        if (*delta == std::numeric_limits<int64_t>::min()) {
          return context.reply.error("ERR decrement would overflow");
        }
        *delta = -*delta;
      }
    }
    ClusterRequest add = key_request(RequestKind::kIncrBy, context.argv[1], name);
    add.number = *delta;
    return submit_and_wait(context, {std::move(add)});
  }
  if (reply_failure(context, call.replies)) return;
  context.reply.integer(call.replies[0].integer);
}

void incr_command(CommandContext& context) { increment(context, 1, "INCR"); }
void decr_command(CommandContext& context) { increment(context, -1, "DECR"); }
void incrby_command(CommandContext& context) { increment(context, std::nullopt, "INCRBY"); }
void decrby_command(CommandContext& context) { increment(context, std::nullopt, "DECRBY"); }

// Multi-key commands that need no atomicity across their keys, whose keys may lie in any slots.
constexpr std::string_view kSplittableCommands[] = {"touch"};

// Any other data command: reads its keys' merged states, runs the single node's handler on them
// in the scratch keyspace, writes each key it changed as a delta, and replies what the handler
// replied once the writes succeeded (cluster_read_run_write.h). Keys of one command must share a
// slot, as in Redis Cluster, unless the command is splittable.
void generic_command(CommandContext& context) {
  ClusterCall& call = cluster_call(context);
  const CommandEntry& entry = entry_of(context);
  if (call.step == 0) {
    const bool splittable =
        std::find(std::begin(kSplittableCommands), std::end(kSplittableCommands),
                  entry.full_name) != std::end(kSplittableCommands);
    if (!add_command_keys(context, call, entry, context.argv, splittable)) return;
    // With nothing to read (a malformed key count), the handler answers the error.
    if (read_keys(context, call, upper_name(entry))) return;
  }
  if (call.step == 1) {
    if (reply_failure(context, call.replies)) return;
    Result<ScratchOutcome> outcome = run_on_keys(context, call, upper_name(entry),
                                                 [&](ClusterScratch::Run& run, ReplyWriter& reply) {
                                                   run.execute(entry, context.argv, reply);
                                                 });
    if (!outcome.is_ok()) return reply_status(context.reply, outcome.status());
    return write_changes(context, call, std::move(outcome).value());
  }
  finish_writes(context, call);
}

struct NamedHandler {
  std::string_view name;
  CommandHandler handler;
};

constexpr NamedHandler kClusterKeyCommands[] = {
    {"get", get_command},   {"set", set_command},       {"setnx", setnx_command},
    {"del", del_command},   {"unlink", unlink_command}, {"exists", exists_command},
    {"mget", mget_command}, {"mset", mset_command},     {"incr", incr_command},
    {"decr", decr_command}, {"incrby", incrby_command}, {"decrby", decrby_command},
};

// The transaction commands with cluster versions; MULTI, DISCARD and UNWATCH change only the
// client's state, and run as on a single node.
constexpr NamedHandler kTransactionCommands[] = {
    {"watch", cluster_watch_command},
    {"exec", cluster_exec_command},
};

// The groups of the data commands: each runs through the cluster, or is not available.
constexpr std::string_view kDataGroups[] = {"string", "generic", "hash",
                                            "set",    "list",    "sorted_set"};

// The handler named `name` in `handlers`; null when there is none.
template <size_t kCount>
CommandHandler find_handler(const NamedHandler (&handlers)[kCount], std::string_view name) {
  for (const NamedHandler& named : handlers) {
    if (named.name == name) return named.handler;
  }
  return nullptr;
}

}  // namespace

ClusterRoute cluster_route(std::string_view full_name, const CommandSpec& spec) {
  if (find_handler(kClusterKeyCommands, full_name) != nullptr) return ClusterRoute::kKeys;
  if (find_handler(kTransactionCommands, full_name) != nullptr) return ClusterRoute::kTransaction;
  if (cluster_keyspace_handler(full_name) != nullptr) return ClusterRoute::kKeyspace;
  const bool data_command =
      spec.first_key > 0 || std::find(std::begin(kDataGroups), std::end(kDataGroups), spec.group) !=
                                std::end(kDataGroups);
  return data_command ? ClusterRoute::kKeys : ClusterRoute::kNode;
}

CommandHandler cluster_handler_for(std::string_view full_name, const CommandSpec& spec) {
  switch (cluster_route(full_name, spec)) {
    case ClusterRoute::kNode:
      return spec.handler;
    case ClusterRoute::kTransaction:
      return find_handler(kTransactionCommands, full_name);
    case ClusterRoute::kKeyspace:
      return cluster_keyspace_handler(full_name);
    case ClusterRoute::kKeys:
      break;
  }
  if (const CommandHandler handler = find_handler(kClusterKeyCommands, full_name);
      handler != nullptr) {
    return handler;
  }
  // A blocking pop polls its keys: the scratch, which no other client writes, never wakes it.
  if ((spec.flags & kCommandBlocking) != 0) return cluster_blocking_command;
  return generic_command;
}

ClusterRequest cluster_get_request(std::string_view key) {
  return key_request(RequestKind::kGet, key, "GET");
}

ClusterRequest cluster_set_request(std::string_view key, std::string_view value) {
  ClusterRequest write = key_request(RequestKind::kSet, key, "SET");
  write.arguments = {std::string(value)};
  return write;
}

}  // namespace cairn
