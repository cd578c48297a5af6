#include "server/client.h"

#include <utility>

namespace cairn {

Client::Client(const ConnectionInfo& info, std::shared_ptr<ConnectionControl> control,
               int64_t created_ms)
    : info_(info),
      control_(std::move(control)),
      created_ms_(created_ms),
      last_interaction_ms_(created_ms) {}

std::string Client::name() const {
  std::lock_guard lock(info_mutex_);
  return name_;
}

void Client::set_name(std::string name) {
  std::lock_guard lock(info_mutex_);
  name_ = std::move(name);
}

std::string Client::lib_name() const {
  std::lock_guard lock(info_mutex_);
  return lib_name_;
}

std::string Client::lib_ver() const {
  std::lock_guard lock(info_mutex_);
  return lib_ver_;
}

void Client::set_lib_name(std::string value) {
  std::lock_guard lock(info_mutex_);
  lib_name_ = std::move(value);
}

void Client::set_lib_ver(std::string value) {
  std::lock_guard lock(info_mutex_);
  lib_ver_ = std::move(value);
}

void Client::begin_multi() {
  in_multi_ = true;
  multi_error_ = false;
  queue_.clear();
  multi_count_.store(0, std::memory_order_relaxed);
}

bool Client::queue(const CommandEntry* entry, std::span<const std::string_view> argv) {
  if (queue_.size() >= kQueuedCommandsMax) {
    multi_error_ = true;
    return false;
  }
  QueuedCommand command;
  command.entry = entry;
  command.argv.reserve(argv.size());
  for (std::string_view arg : argv) command.argv.emplace_back(arg);
  queue_.push_back(std::move(command));
  multi_count_.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
  return true;
}

std::vector<QueuedCommand> Client::take_queue() { return std::exchange(queue_, {}); }

void Client::end_multi() {
  in_multi_ = false;
  multi_error_ = false;
  queue_.clear();
  multi_count_.store(-1, std::memory_order_relaxed);
}

}  // namespace cairn
