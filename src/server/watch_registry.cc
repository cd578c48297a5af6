#include "server/watch_registry.h"

#include <algorithm>

namespace cairn {

bool WatchRegistry::watch(Client& client, std::string_view key) {
  std::vector<std::string>& keys = client.watched_keys();
  if (std::find(keys.begin(), keys.end(), key) != keys.end()) return true;
  if (keys.size() >= Client::kWatchedKeysMax) return false;
  keys.emplace_back(key);
  client.set_watched_count(keys.size());
  std::lock_guard lock(mutex_);
  auto it = watchers_.find(key);
  if (it == watchers_.end()) it = watchers_.emplace(std::string(key), std::vector<Client*>{}).first;
  it->second.push_back(&client);
  watch_count_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void WatchRegistry::unwatch_all(Client& client) {
  std::vector<std::string>& keys = client.watched_keys();
  if (!keys.empty()) {
    std::lock_guard lock(mutex_);
    for (const std::string& key : keys) {
      auto it = watchers_.find(key);
      if (it == watchers_.end()) continue;
      std::vector<Client*>& clients = it->second;
      auto found = std::find(clients.begin(), clients.end(), &client);
      if (found == clients.end()) continue;
      clients.erase(found);
      watch_count_.fetch_sub(1, std::memory_order_acq_rel);
      if (clients.empty()) watchers_.erase(it);
    }
    keys.clear();
  }
  client.set_watched_count(0);
  client.set_watch_dirty(false);
  client.cluster_transaction.reset();  // cluster mode's watches, which no registry indexes
}

void WatchRegistry::key_modified(std::string_view key) {
  if (watch_count_.load(std::memory_order_acquire) == 0) return;
  std::lock_guard lock(mutex_);
  auto it = watchers_.find(key);
  if (it == watchers_.end()) return;
  for (Client* client : it->second) client->set_watch_dirty(true);
}

void WatchRegistry::all_keys_modified() {
  if (watch_count_.load(std::memory_order_acquire) == 0) return;
  std::lock_guard lock(mutex_);
  for (auto& [key, clients] : watchers_) {
    for (Client* client : clients) client->set_watch_dirty(true);
  }
}

size_t WatchRegistry::watched_key_count() const {
  std::lock_guard lock(mutex_);
  return watchers_.size();
}

}  // namespace cairn
