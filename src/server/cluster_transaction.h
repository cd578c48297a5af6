// Transactions in cluster mode: MULTI ... EXEC and WATCH, as Redis Cluster has them, on the
// replicas' merged states (docs/cluster-operations.md, "Transactions").
//
// - One slot: every key of a transaction (the watched keys and those of each queued command)
//   must share a slot. A queued command whose keys do not gets CROSSSLOT and flags the
//   transaction, which EXEC then aborts (EXECABORT), as Redis Cluster does.
// - EXEC reads every key of the transaction once (one kReadState per distinct key, the watched
//   ones included), runs the queued commands on their images in the scratch keyspace, one after
//   the other as the single node's EXEC runs them (so the replies, errors inside EXEC and
//   WRONGTYPE are the single node's), writes every key that changed as a delta, and replies
//   EXEC's array once the writes succeeded (or the first write's error: NOQUORUM ...).
//   Commands that touch no key (PING, CLIENT ..., HELLO) run on this node in their turn.
// - WATCH reads the keys' states and keeps them on the client; EXEC answers a null array when a
//   key's version vector changed since. Optimistic: another coordinator's write between EXEC's
//   read and its writes is not seen (no lock spans the cluster); the CRDT merge keeps both.
//
// Thread-safety: the client's loop thread owns its ClusterTransaction.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/key_state.h"
#include "net/reply_writer.h"
#include "server/command.h"
#include "server/command_table.h"

namespace cairn {

class Client;

// A client's cluster transaction state (Client::cluster_transaction), from its first WATCH or
// queued key until EXEC, DISCARD, UNWATCH or RESET (WatchRegistry::unwatch_all drops it).
struct ClusterTransaction {
  // The slot every key of the transaction is in, once one key fixed it.
  std::optional<uint16_t> slot;
  // The watched keys, each once, with their states as WATCH read them and when (unix ms).
  struct WatchedKey {
    std::string key;
    KeyState state;
    int64_t read_at_ms = 0;
  };
  std::vector<WatchedKey> watched;
};

// Whether `entry` with argv may be queued in the client's transaction: its keys share the
// transaction's slot (which the first key fixes). Otherwise replies CROSSSLOT and returns false;
// the caller flags the transaction. REQUIRES: cluster mode, the client in MULTI.
bool cluster_admits_queued(Client& client, const CommandEntry& entry,
                           std::span<const std::string_view> argv, ReplyWriter& reply);

// WATCH key [key ...] and EXEC in cluster mode.
void cluster_watch_command(CommandContext& context);
void cluster_exec_command(CommandContext& context);

}  // namespace cairn
