#include "server/blocking_registry.h"

#include <algorithm>

#include "server/client.h"

namespace cairn {

void BlockingRegistry::block(Client& client, std::span<const std::string_view> keys) {
  std::lock_guard lock(mutex_);
  auto [entry, inserted] = keys_of_.try_emplace(&client);
  std::vector<std::string>& waited = entry->second;
  for (const std::string_view key : keys) {
    if (std::find(waited.begin(), waited.end(), key) != waited.end()) continue;
    waited.emplace_back(key);
    waiters_[std::string(key)].push_back(&client);
  }
  if (inserted) blocked_count_.fetch_add(1, std::memory_order_relaxed);
  client.set_blocked(true);
}

void BlockingRegistry::unblock(Client& client) {
  std::lock_guard lock(mutex_);
  auto entry = keys_of_.find(&client);
  if (entry == keys_of_.end()) return;
  for (const std::string& key : entry->second) {
    auto waiting = waiters_.find(key);
    if (waiting == waiters_.end()) continue;
    std::erase(waiting->second, &client);
    if (waiting->second.empty()) waiters_.erase(waiting);
  }
  keys_of_.erase(entry);
  blocked_count_.fetch_sub(1, std::memory_order_relaxed);
  client.set_blocked(false);
}

void BlockingRegistry::key_modified(std::string_view key) {
  if (blocked_count_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(mutex_);
  auto waiting = waiters_.find(std::string(key));
  if (waiting == waiters_.end()) return;
  for (Client* client : waiting->second) client->control().wake_blocked();
}

}  // namespace cairn
