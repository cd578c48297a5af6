#include "admin/cluster_change.h"

#include <chrono>
#include <thread>

namespace cairn {

namespace {

constexpr uint64_t kPollIntervalMs = 500;

Result<uint64_t> count_of(const RespValue& reply, std::string_view field) {
  return map_count(reply, field, "CAIRN RING");
}

Result<RespValue> call(const HostPort& address, const ClusterTarget& target,
                       const std::vector<std::string>& argv) {
  CAIRN_ASSIGN_OR_RETURN(RespClient client, RespClient::connect(address, target.client));
  CAIRN_ASSIGN_OR_RETURN(RespValue reply, client.call(argv));
  if (reply.is_error()) return Status::invalid_argument(address.to_string() + ": " + reply.text);
  return reply;
}

Result<RingStatus> ring_status(const HostPort& address, const ClusterTarget& target) {
  CAIRN_ASSIGN_OR_RETURN(const RespValue reply, call(address, target, {"CAIRN", "RING", "STATUS"}));
  RingStatus status;
  CAIRN_ASSIGN_OR_RETURN(status.epoch, count_of(reply, "epoch"));
  CAIRN_ASSIGN_OR_RETURN(status.members, count_of(reply, "members"));
  CAIRN_ASSIGN_OR_RETURN(status.target_members, count_of(reply, "target_members"));
  const RespValue* transition = map_field(reply, "transition");
  const RespValue* claimant = map_field(reply, "claimant");
  if (transition == nullptr || !transition->is_string() || claimant == nullptr) {
    return Status::corruption("CAIRN RING STATUS: malformed reply");
  }
  status.transition = transition->text;
  if (claimant->is_string()) status.claimant = claimant->text;
  return status;
}

// The CLUSTER NODES line `node` names: its id, or its HOST:PORT.
Result<size_t> find_node(const NodeList& list, const std::string& node) {
  for (size_t i = 0; i < list.nodes.size(); i++) {
    if (list.nodes[i].id == node || list.addresses[i].to_string() == node) return i;
  }
  return Status::invalid_argument("no node " + node + " in CLUSTER NODES of " +
                                  list.asked.to_string());
}

}  // namespace

Result<PlanReport> plan_change(const ClusterTarget& target, const std::string& node) {
  CAIRN_ASSIGN_OR_RETURN(const NodeList list, list_nodes(target));
  std::vector<std::string> argv = {"CAIRN", "RING", "PLAN", "ADD"};
  PlanReport report;
  report.asked = list.asked;
  report.change = "add";
  if (!node.empty()) {
    CAIRN_ASSIGN_OR_RETURN(const size_t index, find_node(list, node));
    argv = {"CAIRN", "RING", "PLAN", "REMOVE", list.nodes[index].id};
    report.change = "leave " + list.nodes[index].id;
  }
  CAIRN_ASSIGN_OR_RETURN(const RespValue reply, call(list.asked, target, argv));
  CAIRN_ASSIGN_OR_RETURN(report.replicas_moved, count_of(reply, "replicas_moved"));
  CAIRN_ASSIGN_OR_RETURN(report.replicas_ideal, count_of(reply, "replicas_ideal"));
  CAIRN_ASSIGN_OR_RETURN(report.replicas_total, count_of(reply, "replicas_total"));
  const RespValue* members = map_field(reply, "members");
  if (members == nullptr || members->kind != RespKind::kArray) {
    return Status::corruption("CAIRN RING PLAN: no members");
  }
  for (const RespValue& entry : members->elements) {
    if (entry.elements.size() != 5 || !entry.elements[0].is_string()) {
      return Status::corruption("CAIRN RING PLAN: malformed member");
    }
    PlanMember member;
    member.id = entry.elements[0].text;
    for (size_t i = 0; i < list.nodes.size(); i++) {
      if (list.nodes[i].id == member.id) member.address = list.addresses[i];
    }
    uint64_t* counts[] = {&member.replicas_before, &member.replicas_after, &member.gained,
                          &member.lost};
    for (size_t i = 0; i < 4; i++) {
      if (entry.elements[i + 1].kind != RespKind::kInteger || entry.elements[i + 1].integer < 0) {
        return Status::corruption("CAIRN RING PLAN: malformed member");
      }
      *counts[i] = static_cast<uint64_t>(entry.elements[i + 1].integer);
    }
    report.members.push_back(std::move(member));
  }
  return report;
}

Result<LeaveReport> take_out(const ClusterTarget& target, const std::string& node,
                             bool dead_expected, uint64_t wait_ms,
                             const std::function<void(const RingStatus&)>& progress) {
  const auto started = std::chrono::steady_clock::now();
  CAIRN_ASSIGN_OR_RETURN(const NodeList list, list_nodes(target));
  CAIRN_ASSIGN_OR_RETURN(const size_t index, find_node(list, node));
  LeaveReport report;
  report.id = list.nodes[index].id;
  report.address = list.addresses[index];
  report.was_alive = list.nodes[index].state == NodeState::kAlive;
  if (dead_expected && report.was_alive) {
    return Status::invalid_argument(report.id + " is alive: use leave, which streams from it");
  }
  if (!dead_expected && !report.was_alive) {
    return Status::invalid_argument(report.id + " is not alive: use remove");
  }
  CAIRN_ASSIGN_OR_RETURN(const RingStatus before, ring_status(list.asked, target));
  const HostPort* claimant = nullptr;
  for (size_t i = 0; i < list.nodes.size(); i++) {
    if (list.nodes[i].id == before.claimant) claimant = &list.addresses[i];
  }
  if (claimant == nullptr) return Status::invalid_argument("no claimant is known");
  CAIRN_RETURN_IF_ERROR(call(*claimant, target, {"CAIRN", "RING", "REMOVE", report.id}).status());
  const auto elapsed_ms = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count());
  };
  // Settled without it: no transition, one member fewer, and CLUSTER NODES gives it no slot.
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollIntervalMs));
    Result<RingStatus> status = ring_status(*claimant, target);
    if (status.is_ok()) {
      if (progress) progress(*status);
      report.final_status = *status;
      if (status->transition == "none" && status->members + 1 == before.members) break;
    }
    if (elapsed_ms() > wait_ms) {
      return Status::busy("the ring did not settle without " + report.id + " in " +
                          std::to_string(wait_ms / 1000) + " s");
    }
  }
  if (report.was_alive) {
    const Result<RespValue> shutdown = call(report.address, target, {"SHUTDOWN"});
    // A node that shuts down closes the connection without a reply.
    if (shutdown.is_ok()) report.shutdown_error = "SHUTDOWN answered " + shutdown->to_string();
  }
  report.elapsed_ms = elapsed_ms();
  return report;
}

}  // namespace cairn
