// BlockingRegistry: the clients that a blocking pop (BLPOP, BZPOPMIN, ...) blocked, by key, so
// that a write to a key wakes the clients waiting on it. A woken client's session runs its command
// again (ServerSession::retry_blocked): it is served if the key now holds something for it,
// and waits on otherwise. Clients waiting on one key are woken in the order they blocked, and
// one that waits on after a wake keeps its place.
//
// Lost wake-ups: a blocking command registers while it still holds the locks of its keys, after
// it found them empty; a write to one of them takes that key's lock and tells the registry
// (key_modified) after its commit, so it either came before the check or wakes the client.
//
// Thread-safety: every method may be called from any thread (one mutex; key_modified costs an
// atomic load while no client is blocked). REQUIRES: a client is unblocked before it is
// destroyed.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/keyspace.h"

namespace cairn {

class Client;

class BlockingRegistry final : public KeyspaceObserver {
 public:
  // `client` waits on `keys` (repeats ignored). A client already waiting on a key keeps its
  // place there. REQUIRES: the caller holds the keys' locks, unless no local write can change
  // the keys (a cluster node's pop, which polls the keys' replicas instead of being woken).
  void block(Client& client, std::span<const std::string_view> keys);
  // `client` waits on nothing any more; does nothing if it did not wait.
  void unblock(Client& client);
  // Clients waiting now (INFO blocked_clients).
  size_t blocked_count() const { return blocked_count_.load(std::memory_order_relaxed); }

  // KeyspaceObserver: wakes the clients waiting on `key`, in the order they blocked.
  void key_modified(std::string_view key) override;
  void all_keys_modified() override {}

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<Client*>> waiters_;      // by key, oldest first
  std::unordered_map<Client*, std::vector<std::string>> keys_of_;      // what each client waits on
  std::atomic<size_t> blocked_count_{0};
};

}  // namespace cairn
