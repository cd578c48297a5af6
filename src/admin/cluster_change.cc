#include "admin/cluster_change.h"

#include <chrono>
#include <thread>

namespace cairn {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kPollIntervalMs = 500;
// A node sent CLUSTER MEET gives up its own ring once its seed has answered: within a second or
// two, unless the seed is unreachable from it or it stopped being alone and empty.
constexpr uint64_t kMeetTimeoutMs = 10'000;

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
  CAIRN_ASSIGN_OR_RETURN(status.stream_partitions, count_of(reply, "stream_partitions"));
  CAIRN_ASSIGN_OR_RETURN(status.stream_partitions_done, count_of(reply, "stream_partitions_done"));
  const RespValue* transition = map_field(reply, "transition");
  const RespValue* claimant = map_field(reply, "claimant");
  if (transition == nullptr || !transition->is_string() || claimant == nullptr) {
    return Status::corruption("CAIRN RING STATUS: malformed reply");
  }
  status.transition = transition->text;
  if (claimant->is_string()) status.claimant = claimant->text;
  return status;
}

uint64_t ms_since(Clock::time_point started) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
}

// Polls `watched` until `done` holds for the ring it holds, at most until `wait_ms` after
// `started`. Each poll hands `progress` the streams of `nodes` summed (a node that does not
// answer counts as streaming nothing).
Result<RingStatus> wait_for_ring(const ClusterTarget& target, const HostPort& watched,
                                 const std::vector<HostPort>& nodes, Clock::time_point started,
                                 uint64_t wait_ms,
                                 const std::function<bool(const RingStatus&)>& done,
                                 const RingProgressCallback& progress, const std::string& what) {
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollIntervalMs));
    const Result<RingStatus> status = ring_status(watched, target);
    if (status.is_ok()) {
      if (progress) {
        RingProgress polled{*status, 0, 0, ms_since(started)};
        for (const HostPort& node : nodes) {
          const Result<RingStatus> its = node == watched ? status : ring_status(node, target);
          if (!its.is_ok()) continue;
          polled.stream_partitions += its->stream_partitions;
          polled.stream_partitions_done += its->stream_partitions_done;
        }
        progress(polled);
      }
      if (done(*status)) return *status;
    }
    if (ms_since(started) > wait_ms) {
      return Status::busy("the ring did not settle " + what + " in " +
                          std::to_string(wait_ms / 1000) + " s");
    }
  }
}

// The addresses of the nodes CLUSTER NODES shows alive.
std::vector<HostPort> alive_addresses(const NodeList& list) {
  std::vector<HostPort> alive;
  for (size_t i = 0; i < list.nodes.size(); i++) {
    if (list.nodes[i].state == NodeState::kAlive) alive.push_back(list.addresses[i]);
  }
  return alive;
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

Result<AddReport> add_node(const ClusterTarget& target, const HostPort& address, uint64_t wait_ms,
                           const RingProgressCallback& progress) {
  const auto started = Clock::now();
  CAIRN_ASSIGN_OR_RETURN(const NodeList list, list_nodes(target));
  for (const HostPort& member : list.addresses) {
    if (member == address) {
      return Status::invalid_argument(address.to_string() + " is already a member");
    }
  }
  CAIRN_ASSIGN_OR_RETURN(const RingStatus before, ring_status(list.asked, target));
  AddReport report;
  report.address = address;
  CAIRN_ASSIGN_OR_RETURN(const RespValue id, call(address, target, {"CLUSTER", "MYID"}));
  if (!id.is_string()) return Status::corruption("CLUSTER MYID: malformed reply");
  report.id = id.text;
  CAIRN_RETURN_IF_ERROR(
      call(address, target, {"CLUSTER", "MEET", list.asked.host, std::to_string(list.asked.port)})
          .status());
  const auto met = Clock::now();
  while (true) {
    const Result<RingStatus> its = ring_status(address, target);
    // Alone, it is its own claimant; joining (no ring yet), it knows none; joined, another.
    if (its.is_ok() && its->claimant != report.id) break;
    if (ms_since(met) > kMeetTimeoutMs) {
      return Status::busy(address.to_string() + " did not start joining through " +
                          list.asked.to_string() + " within " +
                          std::to_string(kMeetTimeoutMs / 1000) + " s: its log says why");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollIntervalMs / 5));
  }
  std::vector<HostPort> nodes = alive_addresses(list);
  nodes.push_back(address);
  CAIRN_ASSIGN_OR_RETURN(report.final_status, wait_for_ring(
                                                  target, list.asked, nodes, started, wait_ms,
                                                  [&](const RingStatus& status) {
                                                    return status.transition == "none" &&
                                                           status.members == before.members + 1;
                                                  },
                                                  progress, "with " + report.id));
  report.elapsed_ms = ms_since(started);
  return report;
}

Result<LeaveReport> take_out(const ClusterTarget& target, const std::string& node,
                             bool dead_expected, uint64_t wait_ms,
                             const RingProgressCallback& progress) {
  const auto started = Clock::now();
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
  // Settled without it: no transition, one member fewer.
  CAIRN_ASSIGN_OR_RETURN(report.final_status,
                         wait_for_ring(
                             target, *claimant, alive_addresses(list), started, wait_ms,
                             [&](const RingStatus& status) {
                               return status.transition == "none" &&
                                      status.members + 1 == before.members;
                             },
                             progress, "without " + report.id));
  if (report.was_alive) {
    const Result<RespValue> shutdown = call(report.address, target, {"SHUTDOWN"});
    // A node that shuts down closes the connection without a reply.
    if (shutdown.is_ok()) report.shutdown_error = "SHUTDOWN answered " + shutdown->to_string();
  }
  report.elapsed_ms = ms_since(started);
  return report;
}

}  // namespace cairn
