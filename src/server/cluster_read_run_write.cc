#include "server/cluster_read_run_write.h"

#include <algorithm>
#include <cctype>

#include "common/assert.h"
#include "model/key_image.h"
#include "model/slot.h"
#include "server/client.h"
#include "server/command_keys.h"
#include "server/server.h"

namespace cairn {

ClusterRequest key_request(RequestKind kind, std::string_view key, std::string_view command) {
  ClusterRequest made;
  made.kind = kind;
  made.key = std::string(key);
  made.command_name = std::string(command);
  return made;
}

bool reply_failure(CommandContext& context, const std::vector<ClusterReply>& replies) {
  for (const ClusterReply& reply : replies) {
    if (!reply.status.is_ok()) {
      reply_cluster_error(context, reply.status);
      return true;
    }
  }
  return false;
}

const CommandEntry& entry_of(CommandContext& context) {
  const CommandEntry* entry = context.server.table().find(context.argv[0]);
  CAIRN_ASSERT(entry != nullptr);
  if (!entry->subcommand_list.empty()) {
    entry = CommandTable::find_subcommand(*entry, context.argv[1]);
    CAIRN_ASSERT(entry != nullptr);
  }
  return *entry;
}

std::string upper_name(const CommandEntry& entry) {
  std::string name = entry.full_name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return c == '|' ? ' ' : static_cast<char>(std::toupper(c));
  });
  return name;
}

bool add_command_keys(CommandContext& context, ClusterCall& call, const CommandEntry& entry,
                      std::span<const std::string_view> argv, bool any_slot) {
  for (const std::string_view key : command_keys(entry, argv)) {
    if (std::find(call.keys.begin(), call.keys.end(), key) == call.keys.end()) {
      call.keys.emplace_back(key);
    }
  }
  if (any_slot) return true;
  for (const std::string& key : call.keys) {
    if (key_slot(key) != key_slot(call.keys.front())) {
      context.reply.error(kCrossSlotError);
      return false;
    }
  }
  return true;
}

bool read_keys(CommandContext& context, ClusterCall& call, std::string_view command_name) {
  CAIRN_ASSERT(call.step == 0);
  if (call.keys.empty()) {
    call.step = 1;
    call.replies.clear();
    return false;
  }
  std::vector<ClusterRequest> reads;
  reads.reserve(call.keys.size());
  for (const std::string& key : call.keys) {
    reads.push_back(key_request(RequestKind::kReadState, key, command_name));
  }
  submit_and_wait(context, std::move(reads));
  return true;
}

Result<ScratchOutcome> run_on_keys(CommandContext& context, ClusterCall& call,
                                   std::string_view command_name, const ScratchBody& body) {
  CAIRN_ASSERT(call.replies.size() == call.keys.size());
  // One clock reading for the images and the deltas: what the command saw is what it changed.
  const int64_t now_ms = Server::now_ms();
  std::vector<KeyImage> before;
  std::vector<KeyState> states;
  for (ClusterReply& reply : call.replies) {
    before.push_back(image_of(reply.state, now_ms));
    states.push_back(std::move(reply.state));
  }
  ScratchOutcome outcome;
  std::vector<KeyImage> after;
  {
    ClusterScratch::Run run = context.server.cluster_scratch()->begin();
    CAIRN_RETURN_IF_ERROR(run.load(call.keys, before));
    ReplyWriter reply(&outcome.reply, context.client.resp());
    body(run, reply);
    CAIRN_ASSIGN_OR_RETURN(after, run.read_back());
  }
  for (size_t i = 0; i < call.keys.size(); i++) {
    if (after[i] == before[i]) continue;
    ClusterRequest write = key_request(RequestKind::kWriteState, call.keys[i], command_name);
    write.write_delta = [state = std::move(states[i]), image = std::move(after[i]),
                         now_ms](WriteVersion version) {
      return change_delta(state, now_ms, image, version).value_or(KeyState());
    };
    outcome.writes.push_back(std::move(write));
  }
  return outcome;
}

void write_changes(CommandContext& context, ClusterCall& call, ScratchOutcome outcome) {
  if (outcome.writes.empty()) return context.reply.raw(outcome.reply);
  call.reply = std::move(outcome.reply);
  submit_and_wait(context, std::move(outcome.writes));
}

void finish_writes(CommandContext& context, ClusterCall& call) {
  if (reply_failure(context, call.replies)) return;
  context.reply.raw(call.reply);
}

}  // namespace cairn
