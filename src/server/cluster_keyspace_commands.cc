// Keyspace-wide commands in cluster mode: DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL and FLUSHDB
// cover the whole cluster from any node. Each is one keyspace-wide request to this node's
// KeyspaceCoordinator (cluster/keyspace_coordinator.h), which reads every slot from one live
// replica, or flushes every node; the replies are Redis 7's, and an error names the slot or node
// that was missing instead of answering part of the keyspace (docs/cluster-operations.md).
#include <string>

#include "server/client.h"
#include "server/cluster_call.h"
#include "server/cluster_commands.h"
#include "server/command_helpers.h"
#include "server/command_support.h"
#include "server/server.h"

namespace cairn {
namespace {

ClusterRequest keyspace_request(RequestKind kind, std::string_view command) {
  ClusterRequest request;
  request.kind = kind;
  request.command_name = std::string(command);
  return request;
}

// The step's reply; null after replying its error.
const ClusterReply* reply_or_error(CommandContext& context) {
  const ClusterReply& reply = cluster_call(context).replies.at(0);
  if (reply.status.is_ok()) return &reply;
  reply_cluster_error(context, reply.status);
  return nullptr;
}

// SCAN's TYPE names, as TYPE answers them; a name no type has matches no key (as a single node).
KeyStateType type_named(std::string_view name) {
  if (name == "string") return KeyStateType::kString;
  if (name == "list") return KeyStateType::kList;
  if (name == "set") return KeyStateType::kSet;
  if (name == "zset") return KeyStateType::kSortedSet;
  if (name == "hash") return KeyStateType::kHash;
  return KeyStateType::kNone;
}

void dbsize_command(CommandContext& context) {
  if (cluster_call(context).step == 0) {
    return submit_and_wait(context, {keyspace_request(RequestKind::kCountKeys, "DBSIZE")});
  }
  if (const ClusterReply* reply = reply_or_error(context)) context.reply.integer(reply->integer);
}

void keys_command(CommandContext& context) {
  if (cluster_call(context).step == 0) {
    ClusterRequest request = keyspace_request(RequestKind::kListKeys, "KEYS");
    request.query.pattern = std::string(context.argv[1]);
    return submit_and_wait(context, {std::move(request)});
  }
  const ClusterReply* reply = reply_or_error(context);
  if (reply == nullptr) return;
  context.reply.array_header(reply->values.size());
  for (const std::string& key : reply->values) context.reply.bulk_string(key);
}

void reply_scan_page(CommandContext& context, uint64_t cursor,
                     const std::vector<std::string>& keys) {
  context.reply.array_header(2);
  context.reply.bulk_string(std::to_string(cursor));
  context.reply.array_header(keys.size());
  for (const std::string& key : keys) context.reply.bulk_string(key);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void scan_command(CommandContext& context) {
  ClusterScanCursors& cursors = *context.server.cluster_scan_cursors();
  if (cluster_call(context).step == 0) {
    const std::optional<uint64_t> cursor = parse_scan_cursor(context.reply, context.argv[1]);
    if (!cursor.has_value()) return;
    const std::optional<ScanOptions> options = parse_scan_options(context, 2, true);
    if (!options.has_value()) return;
    const std::optional<ScanPosition> start = cursors.resume(*cursor);
    if (!start.has_value()) return reply_scan_page(context, 0, {});  // past the last slot
    ClusterRequest request = keyspace_request(RequestKind::kScanKeys, "SCAN");
    request.query.start = *start;
    request.query.pattern = std::string(options->pattern);
    request.query.count = options->count;
    if (!options->type_lower.empty()) request.query.type = type_named(options->type_lower);
    return submit_and_wait(context, {std::move(request)});
  }
  const ClusterReply* reply = reply_or_error(context);
  if (reply == nullptr) return;
  reply_scan_page(context, reply->next ? cursors.remember(*reply->next) : 0, reply->values);
}

void randomkey_command(CommandContext& context) {
  if (cluster_call(context).step == 0) {
    ClusterRequest request = keyspace_request(RequestKind::kRandomKey, "RANDOMKEY");
    request.number = static_cast<int64_t>(context.server.keyspace().random_u64() >> 1);
    return submit_and_wait(context, {std::move(request)});
  }
  const ClusterReply* reply = reply_or_error(context);
  if (reply == nullptr) return;
  if (reply->value.has_value()) return context.reply.bulk_string(*reply->value);
  context.reply.null();
}

// FLUSHALL / FLUSHDB [ASYNC | SYNC]: both flush the whole cluster before replying (the flush
// is a horizon each node applies at once, so ASYNC has nothing to defer).
void flush_command(CommandContext& context) {
  if (cluster_call(context).step == 0) {
    if (context.argv.size() > 2 ||
        (context.argv.size() == 2 && !equals_ignore_case(context.argv[1], "async") &&
         !equals_ignore_case(context.argv[1], "sync"))) {
      return context.reply.error("ERR syntax error");
    }
    const bool all = equals_ignore_case(context.argv[0], "flushall");
    return submit_and_wait(
        context, {keyspace_request(RequestKind::kFlushAll, all ? "FLUSHALL" : "FLUSHDB")});
  }
  if (reply_or_error(context) != nullptr) context.reply.ok();
}

struct NamedHandler {
  std::string_view name;
  CommandHandler handler;
};

constexpr NamedHandler kKeyspaceCommands[] = {
    {"dbsize", dbsize_command},       {"keys", keys_command},      {"scan", scan_command},
    {"randomkey", randomkey_command}, {"flushall", flush_command}, {"flushdb", flush_command},
};

}  // namespace

CommandHandler cluster_keyspace_handler(std::string_view full_name) {
  for (const NamedHandler& named : kKeyspaceCommands) {
    if (named.name == full_name) return named.handler;
  }
  return nullptr;
}

}  // namespace cairn
