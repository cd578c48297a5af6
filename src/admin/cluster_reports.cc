#include "admin/cluster_reports.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>

#include "model/slot.h"

namespace cairn {

namespace {

template <typename T>
struct Answer {
  HostPort seed;
  T value;
};

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); i++) {
    if (i > 0) out.append(separator);
    out.append(parts[i]);
  }
  return out;
}

// Sends `argv` to each seed in turn and returns the first reply that `parse` accepts. A seed that
// cannot be reached, answers an error or answers something `parse` rejects is skipped; when none
// is left the error names every seed with its reason.
template <typename T>
Result<Answer<T>> ask_first(const ClusterTarget& target, const std::vector<std::string>& argv,
                            const std::function<Result<T>(const RespValue&)>& parse) {
  CAIRN_ASSERT(!target.seeds.empty() && !argv.empty());
  std::vector<std::string> reasons;
  bool answered = false;  // some seed was reached but its answer was of no use
  for (const HostPort& seed : target.seeds) {
    Result<RespClient> client = RespClient::connect(seed, target.client);
    if (!client.is_ok()) {
      reasons.emplace_back(client.status().message());
      continue;
    }
    Result<RespValue> reply = client->call(argv);
    if (!reply.is_ok()) {
      reasons.emplace_back(reply.status().message());
      continue;
    }
    answered = true;
    if (reply->is_error()) {
      const bool not_cluster = reply->text.find("cluster support disabled") != std::string::npos;
      reasons.push_back(seed.to_string() + (not_cluster ? ": not a cluster node: " : ": ") +
                        reply->text);
      continue;
    }
    Result<T> parsed = parse(*reply);
    if (!parsed.is_ok()) {
      reasons.push_back(seed.to_string() + ": " + std::string(parsed.status().message()));
      continue;
    }
    return Answer<T>{seed, std::move(parsed).value()};
  }
  std::string command = argv[0];
  for (size_t i = 1; i < argv.size(); i++) command += " " + argv[i];
  return Status::io_error((answered ? "no node answered " + command : "no node answered") +
                          " (tried " + join(reasons, ", ") + ")");
}

Result<std::vector<ClusterNodesLine>> nodes_of(const RespValue& reply) {
  if (!reply.is_string()) {
    return Status::corruption("CLUSTER NODES answered " + std::string(resp_kind_name(reply.kind)) +
                              ", not a string");
  }
  return parse_cluster_nodes(reply.text);
}

// INFO from one node, on its own address.
NodeStatus query_info(const ClusterNodesLine& node, const HostPort& address,
                      const RespClientOptions& options) {
  NodeStatus status;
  status.node = node;
  status.address = address;
  if (address.host.empty() || address.port == 0) {
    status.error = "no address known";
    return status;
  }
  Result<RespClient> client = RespClient::connect(address, options);
  if (!client.is_ok()) {
    status.error = client.status().message();
    return status;
  }
  Result<RespValue> reply = client->call({"INFO"});
  if (!reply.is_ok()) {
    status.error = reply.status().message();
  } else if (!reply->is_string()) {
    status.error = address.to_string() + ": INFO answered " +
                   (reply->is_error() ? reply->text : std::string(resp_kind_name(reply->kind)));
  } else {
    status.reachable = true;
    status.stats = parse_info(reply->text);
  }
  return status;
}

// Runs query_info for every node on up to `parallel_max` threads (this one included).
std::vector<NodeStatus> query_all_info(const std::vector<ClusterNodesLine>& nodes,
                                       const std::vector<HostPort>& addresses,
                                       const ClusterTarget& target) {
  CAIRN_ASSERT(nodes.size() == addresses.size());
  std::vector<NodeStatus> statuses(nodes.size());
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < nodes.size(); i = next++) {
      statuses[i] = query_info(nodes[i], addresses[i], target.client);
    }
  };
  std::vector<std::thread> threads;
  const size_t helpers = std::min(nodes.size(), std::max<size_t>(target.info_parallel_max, 1)) - 1;
  for (size_t i = 0; i < helpers; i++) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones started and this one do the rest
    }
  }
  work();
  for (std::thread& thread : threads) thread.join();
  return statuses;
}

bool address_less(const HostPort& a, const HostPort& b) {
  return a.host != b.host ? a.host < b.host : a.port < b.port;
}

Result<Answer<std::vector<SlotRange>>> ask_slots(const ClusterTarget& target) {
  return ask_first<std::vector<SlotRange>>(target, {"CLUSTER", "SLOTS"}, parse_cluster_slots);
}

}  // namespace

Result<NodeList> list_nodes(const ClusterTarget& target) {
  CAIRN_ASSIGN_OR_RETURN(auto answer, ask_first<std::vector<ClusterNodesLine>>(
                                          target, {"CLUSTER", "NODES"}, nodes_of));
  NodeList list;
  list.asked = answer.seed;
  for (ClusterNodesLine& node : answer.value) {
    // The node that answered is asked again where it answered: it may not know its own address
    // (Redis lists itself as ":port" until it met another node).
    if (node.myself && node.address.host.empty()) node.address = answer.seed;
    list.addresses.push_back(node.myself ? answer.seed : node.address);
  }
  list.nodes = std::move(answer.value);
  return list;
}

Result<StatusReport> gather_status(const ClusterTarget& target) {
  CAIRN_ASSIGN_OR_RETURN(const NodeList list, list_nodes(target));
  StatusReport report;
  report.asked = list.asked;
  report.nodes = query_all_info(list.nodes, list.addresses, target);
  std::stable_sort(report.nodes.begin(), report.nodes.end(),
                   [](const NodeStatus& a, const NodeStatus& b) {
                     return address_less(a.node.address, b.node.address);
                   });
  return report;
}

Result<RingReport> gather_ring(const ClusterTarget& target) {
  CAIRN_ASSIGN_OR_RETURN(auto answer, ask_slots(target));
  return RingReport{answer.seed, std::move(answer.value)};
}

Result<SlotReport> gather_slot(const ClusterTarget& target, const std::string& key) {
  CAIRN_ASSIGN_OR_RETURN(auto answer, ask_slots(target));
  SlotReport report;
  report.asked = answer.seed;
  report.key = key;
  report.slot = key_slot(key);
  if (const SlotRange* range = find_slot_range(answer.value, report.slot); range != nullptr) {
    report.replicas = range->replicas;
  }
  return report;
}

}  // namespace cairn
