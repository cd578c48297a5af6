#include "server/cluster_call.h"

#include <memory>

#include "common/assert.h"
#include "server/client.h"
#include "server/server.h"

namespace cairn {

namespace {

// Whether `message` starts with an error code: an upper-case word before a space.
bool has_error_code(std::string_view message) {
  const size_t space = message.find(' ');
  if (space == 0 || space == std::string_view::npos) return false;
  for (size_t i = 0; i < space; i++) {
    if (message[i] < 'A' || message[i] > 'Z') return false;
  }
  return true;
}

}  // namespace

ClusterCall& cluster_call(CommandContext& context) {
  Client& client = context.client;
  if (!context.retrying_block || client.cluster_call == nullptr) {
    client.cluster_call = std::make_shared<ClusterCall>();
  }
  return *client.cluster_call;
}

void submit_and_wait(CommandContext& context, std::vector<ClusterRequest> requests) {
  CAIRN_ASSERT(!requests.empty());
  if (!context.may_block) {
    context.reply.error("ERR this command cannot run inside MULTI in cluster mode");
    return;
  }
  Client& client = context.client;
  std::shared_ptr<ClusterCall> call = client.cluster_call;
  CAIRN_ASSERT(call != nullptr);
  call->step++;
  call->replies.assign(requests.size(), ClusterReply());
  {
    std::lock_guard lock(call->mutex);
    call->outstanding = requests.size();
  }
  ClusterRuntime& runtime = *context.server.cluster();
  for (size_t i = 0; i < requests.size(); i++) {
    runtime.submit(std::move(requests[i]), client.consistency,
                   [call, i, control = client.shared_control()](ClusterReply reply) {
                     bool last = false;
                     {
                       std::lock_guard lock(call->mutex);
                       call->replies[i] = std::move(reply);
                       last = --call->outstanding == 0;
                     }
                     // Posted to the client's loop: it arrives after the command blocked.
                     if (last) control->wake_blocked();
                   });
  }
  context.block.requested = true;  // no timeout: every request answers by its deadline
}

void reply_cluster_error(CommandContext& context, const Status& status) {
  const std::string_view message = status.message();
  if (has_error_code(message)) {
    context.reply.error(message);
  } else {
    context.reply.error("ERR " + std::string(message));
  }
}

}  // namespace cairn
