// The JSON forms of the reports (docs/cairnctl.md). Objects keep their fields in the order
// written here; bytes that are not UTF-8 (a binary key) are replaced, never an exception.
#include <nlohmann/json.hpp>

#include "admin/report_format.h"

namespace cairn {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kIndent = 2;

std::string dump(const Json& json) {
  return json.dump(kIndent, ' ', false, Json::error_handler_t::replace) + "\n";
}

template <typename T>
Json optional_json(const std::optional<T>& value) {
  return value.has_value() ? Json(*value) : Json(nullptr);
}

Json spans_json(const std::vector<SlotSpan>& spans) {
  Json list = Json::array();
  for (const SlotSpan& span : spans) list.push_back(Json::array({span.start, span.end}));
  return list;
}

Json replicas_json(const std::vector<Replica>& replicas) {
  Json list = Json::array();
  for (const Replica& replica : replicas) {
    list.push_back({{"address", replica.address.to_string()},
                    {"id", replica.id.empty() ? Json(nullptr) : Json(replica.id)}});
  }
  return list;
}

Json node_json(const NodeStatus& status) {
  const ClusterNodesLine& node = status.node;
  Json json;
  json["id"] = node.id;
  json["address"] = node.address.to_string();
  json["state"] = node_state_name(node.state);
  json["myself"] = node.myself;
  json["flags"] = node.flags;
  json["slots"] = node.slot_count();
  json["slot_ranges"] = spans_json(node.slots);
  json["reachable"] = status.reachable;
  json["error"] = status.reachable ? Json(nullptr) : Json(status.error);
  json["rack"] = optional_json(status.stats.rack);
  json["keys"] = optional_json(status.stats.keys);
  json["ops_per_sec"] = optional_json(status.stats.ops_per_sec);
  json["disk_bytes"] = optional_json(status.stats.disk_bytes);
  return json;
}

}  // namespace

std::string status_json(const StatusReport& report) {
  Json nodes = Json::array();
  for (const NodeStatus& status : report.nodes) nodes.push_back(node_json(status));
  return dump({{"asked", report.asked.to_string()}, {"nodes", std::move(nodes)}});
}

std::string ring_json(const RingReport& report) {
  Json ranges = Json::array();
  for (const SlotRange& range : report.ranges) {
    ranges.push_back({{"start", range.span.start},
                      {"end", range.span.end},
                      {"replicas", replicas_json(range.replicas)}});
  }
  return dump({{"asked", report.asked.to_string()},
               {"ranges", std::move(ranges)},
               {"unassigned", spans_json(unassigned_spans(report.ranges))}});
}

std::string slot_json(const SlotReport& report) {
  return dump({{"asked", report.asked.to_string()},
               {"key", report.key},
               {"slot", report.slot},
               {"replicas", replicas_json(report.replicas)}});
}

std::string repair_json(const RepairReport& report) {
  const RepairTotals totals = repair_totals(report);
  Json nodes = Json::array();
  for (const NodeRepair& node : report.nodes) {
    const RepairPassReply& pass = node.pass;
    nodes.push_back({{"id", node.node.id},
                     {"address", node.address.to_string()},
                     {"error", node.error.empty() ? Json(nullptr) : Json(node.error)},
                     {"state", pass.state},
                     {"partitions_total", pass.partitions_total},
                     {"partitions_done", pass.partitions_done},
                     {"exchanges_completed", pass.exchanges_completed},
                     {"exchanges_failed", pass.exchanges_failed},
                     {"peers_skipped", pass.peers_skipped},
                     {"slots_differing", pass.slots_differing},
                     {"keys_fetched", pass.keys_fetched},
                     {"keys_pushed", pass.keys_pushed},
                     {"bytes", pass.bytes},
                     {"elapsed_ms", pass.elapsed_ms}});
  }
  return dump({{"asked", report.asked.to_string()},
               {"first_slot", report.slots.start},
               {"last_slot", report.slots.end},
               {"complete", repair_complete(report)},
               {"elapsed_ms", report.elapsed_ms},
               {"exchanges_completed", totals.exchanges_completed},
               {"exchanges_failed", totals.exchanges_failed},
               {"peers_skipped", totals.peers_skipped},
               {"slots_differing", totals.slots_differing},
               {"keys_fetched", totals.keys_fetched},
               {"keys_pushed", totals.keys_pushed},
               {"bytes", totals.bytes},
               {"nodes", std::move(nodes)}});
}

std::string plan_json(const PlanReport& report) {
  Json members = Json::array();
  for (const PlanMember& member : report.members) {
    members.push_back(
        {{"id", member.id},
         {"address", member.address.port == 0 ? Json(nullptr) : Json(member.address.to_string())},
         {"replicas_before", member.replicas_before},
         {"replicas_after", member.replicas_after},
         {"gains", member.gained},
         {"loses", member.lost}});
  }
  return dump({{"asked", report.asked.to_string()},
               {"change", report.change},
               {"replicas_moved", report.replicas_moved},
               {"replicas_ideal", report.replicas_ideal},
               {"replicas_total", report.replicas_total},
               {"members", std::move(members)}});
}

std::string leave_json(const LeaveReport& report) {
  return dump({{"id", report.id},
               {"address", report.address.to_string()},
               {"was_alive", report.was_alive},
               {"epoch", report.final_status.epoch},
               {"members", report.final_status.members},
               {"elapsed_ms", report.elapsed_ms},
               {"shutdown_error",
                report.shutdown_error.empty() ? Json(nullptr) : Json(report.shutdown_error)}});
}

std::string add_json(const AddReport& report) {
  return dump({{"id", report.id},
               {"address", report.address.to_string()},
               {"epoch", report.final_status.epoch},
               {"members", report.final_status.members},
               {"elapsed_ms", report.elapsed_ms}});
}

}  // namespace cairn
