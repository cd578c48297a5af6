#include "admin/cluster_repair.h"

#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "model/slot.h"

namespace cairn {

namespace {

// Polls that may still show the pass before ours, while the start reaches the cluster thread.
constexpr uint32_t kStalePollsMax = 50;

Status bad_status(std::string_view why) {
  return Status::corruption("CAIRN REPAIR STATUS: " + std::string(why));
}

// The nodes whose pass is still to poll.
bool all_done(const RepairReport& report) {
  for (const NodeRepair& node : report.nodes) {
    if (!node.done()) return false;
  }
  return true;
}

// Polls one node once; a failure is recorded in the node, and its connection dropped.
void poll(NodeRepair& node, std::optional<RespClient>& client) {
  Result<RespValue> reply = client->call({"CAIRN", "REPAIR", "STATUS"});
  if (!reply.is_ok()) {
    node.error = "lost during the pass: " + std::string(reply.status().message());
    client.reset();
    return;
  }
  if (reply->is_error()) {
    node.error = reply->text;
    client.reset();
    return;
  }
  Result<RepairPassReply> pass = parse_repair_status(*reply);
  if (!pass.is_ok()) {
    node.error = std::string(pass.status().message());
    client.reset();
    return;
  }
  // An older pass is shown until the node's status catches up with the start; a newer one
  // replaced ours (another cairnctl), and none means the node restarted and forgot it.
  if (pass->id == node.pass_id) {
    node.pass = std::move(pass).value();
    return;
  }
  if (pass->id > node.pass_id) {
    node.error = "another repair pass replaced this one";
  } else if (pass->id == 0) {
    node.error = "the node restarted during the pass";
  } else if (++node.stale_polls > kStalePollsMax) {
    node.error = "the node did not start the pass";
  } else {
    return;
  }
  client.reset();
}

}  // namespace

Result<SlotSpan> parse_slot_span(std::string_view text) {
  const auto slot_of = [](std::string_view digits) -> std::optional<uint16_t> {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    uint32_t value = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value >= kSlotCount) return std::nullopt;
    return static_cast<uint16_t>(value);
  };
  const size_t dash = text.find('-');
  const std::optional<uint16_t> first = slot_of(text.substr(0, dash));
  const std::optional<uint16_t> last =
      dash == std::string_view::npos ? first : slot_of(text.substr(dash + 1));
  if (!first || !last || *first > *last) {
    return Status::invalid_argument("--slot must be N or FIRST-LAST with 0 <= FIRST <= LAST <= " +
                                    std::to_string(kSlotCount - 1) + ", not " + std::string(text));
  }
  return SlotSpan{*first, *last};
}

Result<RepairPassReply> parse_repair_status(const RespValue& reply) {
  if ((reply.kind != RespKind::kMap && reply.kind != RespKind::kArray) ||
      reply.elements.size() % 2 != 0) {
    return bad_status("the reply is not a map");
  }
  RepairPassReply pass;
  const RespValue* state = map_field(reply, "state");
  if (state == nullptr || !state->is_string()) return bad_status("no state");
  pass.state = state->text;
  if (pass.state != "idle" && pass.state != "running" && pass.state != "done") {
    return bad_status("unknown state " + pass.state);
  }
  const std::pair<std::string_view, uint64_t*> counts[] = {
      {"id", &pass.id},
      {"first_slot", &pass.first_slot},
      {"last_slot", &pass.last_slot},
      {"partitions_total", &pass.partitions_total},
      {"partitions_done", &pass.partitions_done},
      {"exchanges_completed", &pass.exchanges_completed},
      {"exchanges_failed", &pass.exchanges_failed},
      {"peers_skipped", &pass.peers_skipped},
      {"slots_differing", &pass.slots_differing},
      {"keys_fetched", &pass.keys_fetched},
      {"keys_pushed", &pass.keys_pushed},
      {"bytes", &pass.bytes},
      {"elapsed_ms", &pass.elapsed_ms},
  };
  for (const auto& [field, value] : counts) {
    CAIRN_ASSIGN_OR_RETURN(*value, map_count(reply, field, "CAIRN REPAIR STATUS"));
  }
  return pass;
}

RepairTotals repair_totals(const RepairReport& report) {
  RepairTotals totals;
  for (const NodeRepair& node : report.nodes) {
    totals.nodes_failed += !node.error.empty();
    totals.partitions_total += node.pass.partitions_total;
    totals.partitions_done += node.pass.partitions_done;
    totals.exchanges_completed += node.pass.exchanges_completed;
    totals.exchanges_failed += node.pass.exchanges_failed;
    totals.peers_skipped += node.pass.peers_skipped;
    totals.slots_differing += node.pass.slots_differing;
    totals.keys_fetched += node.pass.keys_fetched;
    totals.keys_pushed += node.pass.keys_pushed;
    totals.bytes += node.pass.bytes;
  }
  return totals;
}

bool repair_complete(const RepairReport& report) {
  const RepairTotals totals = repair_totals(report);
  return all_done(report) && totals.nodes_failed == 0 && totals.exchanges_failed == 0 &&
         totals.peers_skipped == 0;
}

Result<RepairReport> run_repair(const ClusterTarget& target, const RepairOptions& options,
                                const std::function<void(const RepairReport&)>& progress) {
  CAIRN_ASSERT(options.slots.start <= options.slots.end);
  const auto started = std::chrono::steady_clock::now();
  CAIRN_ASSIGN_OR_RETURN(const NodeList list, list_nodes(target));
  RepairReport report;
  report.asked = list.asked;
  report.slots = options.slots;
  std::vector<std::optional<RespClient>> clients(list.nodes.size());
  for (size_t i = 0; i < list.nodes.size(); i++) {
    NodeRepair node;
    node.node = list.nodes[i];
    node.address = list.addresses[i];
    Result<RespClient> client = RespClient::connect(node.address, target.client);
    Result<RespValue> reply =
        client.is_ok()
            ? client->call({"CAIRN", "REPAIR", "START", std::to_string(options.slots.start),
                            std::to_string(options.slots.end)})
            : Result<RespValue>(client.status());
    if (!reply.is_ok()) {
      node.error = std::string(reply.status().message());
    } else if (reply->kind != RespKind::kInteger || reply->integer <= 0) {
      node.error = reply->is_error() ? reply->text : "CAIRN REPAIR START: " + reply->to_string();
    } else {
      node.pass_id = static_cast<uint64_t>(reply->integer);
      clients[i] = std::move(client).value();
    }
    report.nodes.push_back(std::move(node));
  }
  const auto elapsed_ms = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count());
  };
  while (!all_done(report)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.poll_interval_ms));
    for (size_t i = 0; i < report.nodes.size(); i++) {
      if (!report.nodes[i].done()) poll(report.nodes[i], clients[i]);
    }
    report.elapsed_ms = elapsed_ms();
    if (progress) progress(report);
  }
  report.elapsed_ms = elapsed_ms();
  return report;
}

}  // namespace cairn
