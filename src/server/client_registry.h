// ClientRegistry: the connected clients, for CLIENT LIST/INFO/KILL, INFO clients and the
// maxclients check, and the connection counters INFO stats reports.
//
// Thread-safety: every method may be called from any thread (one mutex around the map;
// counters are atomics). A Client registered here stays valid until unregister_client returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/client.h"

namespace cairn {

// Which clients CLIENT KILL (new form) or CLIENT LIST selects; unset fields match all.
struct ClientFilter {
  std::optional<std::vector<uint64_t>> ids;
  std::optional<std::string> addr;
  std::optional<std::string> laddr;
  std::optional<std::string> user;        // only "default" matches
  std::optional<std::string> type;        // only "normal" matches
  std::optional<int64_t> max_age_s;       // clients older than this (s)
  uint64_t skip_id = 0;                   // SKIPME yes: the caller's id (0 = none)
};

class ClientRegistry {
 public:
  explicit ClientRegistry(uint64_t maxclients) : maxclients_(maxclients) {}

  void register_client(Client* client);
  void unregister_client(Client* client);

  uint64_t connected() const { return connected_.load(std::memory_order_relaxed); }
  uint64_t total_connections() const { return total_connections_.load(std::memory_order_relaxed); }
  uint64_t rejected_connections() const { return rejected_.load(std::memory_order_relaxed); }
  uint64_t maxclients() const { return maxclients_.load(std::memory_order_relaxed); }
  void set_maxclients(uint64_t value) { maxclients_.store(value, std::memory_order_relaxed); }
  // The accept check: false (and counted as rejected) at maxclients.
  bool admit();

  // CLIENT LIST lines (each ending "\n") of the clients the filter selects, by id.
  std::string list(const ClientFilter& filter, int64_t now_ms) const;
  // Closes the clients the filter selects; returns how many.
  uint64_t kill(const ClientFilter& filter, int64_t now_ms);

  // CLIENT UNBLOCK: ends the wait of client `id` if it is blocked (ConnectionControl::end_block);
  // false when no such client is blocked.
  bool unblock(uint64_t id, ConnectionControl::BlockEnd reason);

  // Whether `client` is one the filter selects.
  static bool matches(const Client& client, const ClientFilter& filter, int64_t now_ms);

 private:

  mutable std::mutex mutex_;
  std::map<uint64_t, Client*> clients_;
  std::atomic<uint64_t> connected_{0};
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> maxclients_;
};

// One CLIENT LIST / CLIENT INFO line, without the final newline.
std::string format_client(const Client& client, int64_t now_ms);

}  // namespace cairn
