#include "server/cluster_pipeline.h"

#include <algorithm>
#include <vector>

#include "common/assert.h"
#include "server/client.h"
#include "server/cluster_call.h"
#include "server/cluster_commands.h"
#include "server/command_support.h"
#include "server/server.h"

namespace cairn {
namespace {

bool is_get(const PeekedCommand& command) {
  return command.argc == 2 && equals_ignore_case(command.name, "get");
}

// A SET without options: one blind write, whose reply does not depend on what the key held.
bool is_plain_set(const PeekedCommand& command) {
  return command.argc == 3 && equals_ignore_case(command.name, "set");
}

}  // namespace

void ClusterPipeline::prepare(Server& server, Client& client,
                              std::span<const PeekedCommand> commands) {
  prepared_.clear();
  if (client.in_multi()) return;  // queued, not run
  size_t count = 0;
  std::vector<std::string_view> keys;
  for (const PeekedCommand& command : commands) {
    if (count == kPreparedCallsMax || (!is_get(command) && !is_plain_set(command))) break;
    if (std::find(keys.begin(), keys.end(), command.key) != keys.end()) break;
    keys.push_back(command.key);
    count++;
  }
  if (count < 2) return;
  std::vector<std::string_view> read_keys;
  for (size_t i = 0; i < count; i++) {
    if (is_get(commands[i])) read_keys.push_back(commands[i].key);
  }
  if (!read_keys.empty()) server.cluster()->prefetch(read_keys);
  for (size_t i = 0; i < count; i++) {
    const PeekedCommand& command = commands[i];
    Prepared prepared;
    prepared.is_set = is_plain_set(command);
    prepared.key.assign(command.key);
    if (prepared.is_set) prepared.value.assign(command.value);
    ClusterRequest request = prepared.is_set ? cluster_set_request(command.key, command.value)
                                             : cluster_get_request(command.key);
    prepared.call = submit_ahead(server, client, {std::move(request)});
    prepared_.push_back(std::move(prepared));
  }
  server.stats().add_calls_submitted_ahead(count);
}

std::shared_ptr<ClusterCall> ClusterPipeline::take(std::span<const std::string_view> argv) {
  if (prepared_.empty()) return nullptr;
  Prepared& next = prepared_.front();
  const bool matches =
      next.is_set ? argv.size() == 3 && equals_ignore_case(argv[0], "set") && argv[1] == next.key &&
                        argv[2] == next.value
                  : argv.size() == 2 && equals_ignore_case(argv[0], "get") && argv[1] == next.key;
  if (!matches) {
    prepared_.clear();
    return nullptr;
  }
  std::shared_ptr<ClusterCall> call = std::move(next.call);
  prepared_.pop_front();
  return call;
}

}  // namespace cairn
