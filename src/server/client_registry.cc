#include "server/client_registry.h"

#include <algorithm>

#include "server/command_table.h"

namespace cairn {

void ClientRegistry::register_client(Client* client) {
  std::lock_guard lock(mutex_);
  clients_[client->id()] = client;
  connected_.store(clients_.size(), std::memory_order_relaxed);
  total_connections_.fetch_add(1, std::memory_order_relaxed);
}

void ClientRegistry::unregister_client(Client* client) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(client->id());
  if (it != clients_.end() && it->second == client) clients_.erase(it);
  connected_.store(clients_.size(), std::memory_order_relaxed);
}

bool ClientRegistry::unblock(uint64_t id, ConnectionControl::BlockEnd reason) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(id);
  if (it == clients_.end() || !it->second->blocked()) return false;
  it->second->control().end_block(reason);
  return true;
}

bool ClientRegistry::admit() {
  if (connected() >= maxclients()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

bool ClientRegistry::matches(const Client& client, const ClientFilter& filter, int64_t now_ms) {
  if (filter.skip_id != 0 && client.id() == filter.skip_id) return false;
  if (filter.ids && std::find(filter.ids->begin(), filter.ids->end(), client.id()) ==
                        filter.ids->end()) {
    return false;
  }
  if (filter.addr && *filter.addr != client.connection().peer) return false;
  if (filter.laddr && *filter.laddr != client.connection().local) return false;
  if (filter.user && *filter.user != "default") return false;
  if (filter.type && *filter.type != "normal") return false;
  if (filter.max_age_s && (now_ms - client.created_ms()) / 1000 < *filter.max_age_s) return false;
  return true;
}

std::string ClientRegistry::list(const ClientFilter& filter, int64_t now_ms) const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [id, client] : clients_) {
    if (!matches(*client, filter, now_ms)) continue;
    out += format_client(*client, now_ms);
    out += '\n';
  }
  return out;
}

uint64_t ClientRegistry::kill(const ClientFilter& filter, int64_t now_ms) {
  uint64_t killed = 0;
  std::lock_guard lock(mutex_);
  for (const auto& [id, client] : clients_) {
    if (!matches(*client, filter, now_ms)) continue;
    client->control().close();
    ++killed;
  }
  return killed;
}

std::string format_client(const Client& client, int64_t now_ms) {
  const ConnectionInfo& info = client.connection();
  const CommandEntry* last = client.last_command();
  int64_t age_s = std::max<int64_t>(0, (now_ms - client.created_ms()) / 1000);
  int64_t idle_s = std::max<int64_t>(0, (now_ms - client.last_interaction_ms()) / 1000);
  std::string flags;
  if (client.multi_count() >= 0) flags += 'x';
  if (client.watched_count() > 0 && client.watch_dirty()) flags += 'd';
  if (client.no_evict) flags += 'e';
  if (client.no_touch) flags += 'T';
  if (client.blocked()) flags += 'b';
  if (flags.empty()) flags = "N";
  std::string line;
  line.reserve(256);
  line += "id=" + std::to_string(info.id);
  line += " addr=" + info.peer;
  line += " laddr=" + info.local;
  line += " fd=" + std::to_string(info.fd);
  line += " name=" + client.name();
  line += " age=" + std::to_string(age_s);
  line += " idle=" + std::to_string(idle_s);
  line += " flags=" + flags;
  line += " db=0 sub=0 psub=0 ssub=0";
  line += " multi=" + std::to_string(client.multi_count());
  line += " watch=" + std::to_string(client.watched_count());
  line += " qbuf=" + std::to_string(client.control().query_buffer_bytes());
  line += " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0";
  uint64_t output_bytes = client.control().output_buffer_bytes();
  line += " obl=0 oll=0 omem=" + std::to_string(output_bytes);
  line += " tot-mem=0 events=r";
  line += " cmd=" + (last == nullptr ? std::string("NULL") : last->full_name);
  line += " user=default redir=-1";
  line += " resp=" + std::to_string(static_cast<int>(client.resp()));
  line += " lib-name=" + client.lib_name();
  line += " lib-ver=" + client.lib_ver();
  return line;
}

}  // namespace cairn
