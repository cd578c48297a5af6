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

namespace {

// Submits `requests` as the call's next step.
void submit_step(ClusterRuntime& runtime, Client& client, const std::shared_ptr<ClusterCall>& call,
                 std::vector<ClusterRequest> requests, bool waited) {
  call->step++;
  call->replies.assign(requests.size(), ClusterReply());
  {
    std::lock_guard lock(call->mutex);
    call->outstanding = requests.size();
    call->waited = waited;
  }
  for (size_t i = 0; i < requests.size(); i++) {
    runtime.submit(std::move(requests[i]), client.consistency,
                   [call, i, control = client.shared_control()](ClusterReply reply) {
                     bool wake = false;
                     {
                       std::lock_guard lock(call->mutex);
                       call->replies[i] = std::move(reply);
                       wake = --call->outstanding == 0 && call->waited;
                     }
                     // Posted to the client's loop: it arrives after the command blocked.
                     if (wake) control->wake_blocked();
                   });
  }
}

}  // namespace

void submit_and_wait(CommandContext& context, std::vector<ClusterRequest> requests) {
  CAIRN_ASSERT(!requests.empty());
  if (!context.may_block) {
    context.reply.error("ERR this command cannot run inside MULTI in cluster mode");
    return;
  }
  Client& client = context.client;
  CAIRN_ASSERT(client.cluster_call != nullptr);
  submit_step(*context.server.cluster(), client, client.cluster_call, std::move(requests), true);
  context.block.requested = true;  // no timeout: every request answers by its deadline
}

std::shared_ptr<ClusterCall> submit_ahead(Server& server, Client& client,
                                          std::vector<ClusterRequest> requests) {
  CAIRN_ASSERT(!requests.empty());
  auto call = std::make_shared<ClusterCall>();
  submit_step(*server.cluster(), client, call, std::move(requests), false);
  return call;
}

bool replies_ready(ClusterCall& call) {
  std::lock_guard lock(call.mutex);
  if (call.outstanding == 0) return true;
  call.waited = true;
  return false;
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
