// WatchRegistry: which clients WATCH which keys. The keyspace tells it of every modified key
// (KeyspaceObserver); each client watching that key is marked dirty, and its EXEC then fails.
// With no key watched, key_modified costs one atomic load.
//
// Thread-safety: every method may be called from any thread. watch/unwatch_all are called by
// the client's own loop thread; key_modified by whichever thread modified the key.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/client.h"
#include "server/keyspace.h"

namespace cairn {

class WatchRegistry final : public KeyspaceObserver {
 public:
  // Adds `key` to the client's watched keys (once). False when the client watches too many.
  bool watch(Client& client, std::string_view key);
  // Forgets every key the client watches and clears its dirty flag; in cluster mode, drops the
  // client's ClusterTransaction (its watched states and its slot) too.
  void unwatch_all(Client& client);

  void key_modified(std::string_view key) override;
  void all_keys_modified() override;

  // Keys watched by at least one client.
  size_t watched_key_count() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  // Watch entries (key, client) in the index; 0 means nothing to check on modification.
  std::atomic<size_t> watch_count_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<Client*>, StringHash, std::equal_to<>> watchers_;
};

}  // namespace cairn
