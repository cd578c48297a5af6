#include "sim/cluster_run.h"

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "common/assert.h"
#include "sim/history.h"
#include "sim/sim_cluster.h"
#include "sim/workload.h"

namespace cairn::sim {

namespace {

constexpr uint64_t kMs = 1000;
constexpr uint64_t kSecond = 1000 * kMs;
// Joins pass through ring transitions (ring.h): each waits out its settle delays and streams
// every partition it gains, and nodes joining in waves take several.
constexpr uint64_t kFormationTimeout = 180 * kSecond;
constexpr uint64_t kHealTimeout = 120 * kSecond;
constexpr uint64_t kQuiesce = 10 * kSecond;

// One run's moving parts; lives for the run.
class Run {
 public:
  explicit Run(const ClusterRunOptions& options)
      : options_(options),
        simulation_(options.seed),
        cluster_(&simulation_, cluster_options(options)),
        workload_(options.seed * 31 + 7, WorkloadOptions{}) {
    if (options.trace) simulation_.set_trace_sink(options.trace);
  }

  ClusterRunResult run();

 private:
  static SimClusterOptions cluster_options(const ClusterRunOptions& options);
  bool run_until(uint64_t deadline_us, const std::function<bool()>& done);
  void start_client(size_t client);
  void client_step(size_t client);
  void nemesis_step();
  // Asks the claimant, when its ring is settled, to take `leaver` out, every second until every
  // node up holds a settled ring without it; then retires it.
  void leave_step(NodeId leaver);
  bool left_everywhere(NodeId leaver) const;
  void inject_fault();
  void heal();
  std::optional<ClusterReply> request_and_wait(NodeId coordinator, const ClusterRequest& request,
                                               Consistency consistency);
  void dump_key(const std::string& key, const std::vector<FinalKey>& finals) const;
  void violation(std::string checker, std::string detail) {
    violations_.push_back({std::move(checker), std::move(detail)});
  }

  ClusterRunOptions options_;
  Simulation simulation_;
  SimCluster cluster_;
  Workload workload_;
  History history_;
  std::vector<Violation> violations_;
  bool load_running_ = false;
  std::optional<NodeId> leaver_;  // the member that leaves during the load, if one does
  bool leaver_gone_ = false;      // the ring settled without it, and it was retired
  uint64_t faults_injected_ = 0;
  NetworkConfig base_network_;
};

SimClusterOptions Run::cluster_options(const ClusterRunOptions& options) {
  SimClusterOptions cluster;
  cluster.node_count = cluster_node_count(options);
  cluster.late_count = std::min(options.late_joiners, cluster.node_count - cluster.seed_count);
  cluster.membership.replica_count = options.replica_count;
  cluster.node.coordinator.testing_ack_one_early = options.plant_early_ack_bug;
  cluster.node.repair.enabled = options.anti_entropy;
  if (options.faults) {
    cluster.network.loss_probability = 0.01;
    cluster.network.duplicate_probability = 0.01;
    cluster.clock_skew_ms_max = 500;
    cluster.clock_drift_ppm_max = 200;
  }
  return cluster;
}

bool Run::run_until(uint64_t deadline_us, const std::function<bool()>& done) {
  while (simulation_.now_us() < deadline_us) {
    if (done()) return true;
    simulation_.run_until(std::min(deadline_us, simulation_.now_us() + 100 * kMs));
  }
  return done();
}

void Run::start_client(size_t client) {
  simulation_.schedule_after(
      simulation_.random().uniform(100 * kMs), [this, client] { client_step(client); }, "client");
}

// A client sends one request at a time to a random live coordinator; a request whose
// coordinator crashed is never answered, and the client gives up on it and goes on.
void Run::client_step(size_t client) {
  if (!load_running_) return;
  std::vector<NodeId> up;
  for (const NodeId id : cluster_.ids()) {
    if (cluster_.is_up(id)) up.push_back(id);
  }
  if (up.empty()) {
    start_client(client);
    return;
  }
  const NodeId coordinator = up[simulation_.random().uniform(up.size())];
  auto [request, consistency] =
      workload_.next(static_cast<int64_t>(cluster_.clock(coordinator).wall_ms()));
  const uint64_t id =
      history_.invoke(client, coordinator, request, consistency, simulation_.now_us());
  auto answered = std::make_shared<bool>(false);
  cluster_.submit(coordinator, request, consistency, [this, id, client, answered](ClusterReply r) {
    if (*answered) return;
    *answered = true;
    history_.complete(id, std::move(r), simulation_.now_us());
    start_client(client);
  });
  simulation_.schedule_after(
      5 * kSecond,
      [this, client, answered] {
        if (*answered) return;
        *answered = true;  // a reply after this (there is none: its node crashed) is ignored
        start_client(client);
      },
      "client-timeout");
}

void Run::leave_step(NodeId leaver) {
  if (left_everywhere(leaver)) {
    cluster_.retire(leaver);
    leaver_gone_ = true;
    return;
  }
  for (const NodeId id : cluster_.ids()) {
    if (!cluster_.is_up(id) || !cluster_.membership(id).is_claimant()) continue;
    const Ring& ring = cluster_.membership(id).ring();
    if (ring.transition() == Ring::Transition::kNone && ring.contains(leaver)) {
      // Refused only when the ring has fewer than two members; a claimant that crashes before
      // it acts forgets the request, so it is made again until the leave is done.
      (void)cluster_.request_removal(id, leaver);
    }
  }
  simulation_.schedule_after(
      kSecond, [this, leaver] { leave_step(leaver); }, "leave");
}

bool Run::left_everywhere(NodeId leaver) const {
  bool any = false;
  for (const NodeId id : cluster_.ids()) {
    if (id == leaver || !cluster_.is_up(id)) continue;
    const Ring& ring = cluster_.membership(id).ring();
    if (ring.contains_anywhere(leaver) || ring.transition() != Ring::Transition::kNone) {
      return false;
    }
    any = true;
  }
  return any;
}

void Run::nemesis_step() {
  if (!load_running_) return;
  inject_fault();
  simulation_.schedule_after(
      1 * kSecond + simulation_.random().uniform(4 * kSecond), [this] { nemesis_step(); },
      "nemesis");
}

void Run::inject_fault() {
  Random& random = simulation_.random();
  const std::vector<NodeId> ids = cluster_.ids();
  const NodeId victim = ids[random.uniform(ids.size())];
  const uint64_t duration = 500 * kMs + random.uniform(5 * kSecond);
  faults_injected_++;
  switch (random.uniform(7)) {
    case 0:  // crash with power loss, restart later
      if (!options_.crashes) break;
      cluster_.crash(victim);
      simulation_.schedule_after(
          duration, [this, victim] { cluster_.restart(victim); }, "restart");
      break;
    case 1: {  // a symmetric partition into two random groups
      std::vector<NodeId> a;
      std::vector<NodeId> b;
      for (const NodeId id : ids) (random.one_in(2) ? a : b).push_back(id);
      cluster_.network().partition(a, b);
      simulation_.schedule_after(
          duration, [this] { cluster_.network().heal(); }, "heal");
      break;
    }
    case 2: {  // one-way: the victim hears nobody
      std::vector<NodeId> others;
      for (const NodeId id : ids) {
        if (id != victim) others.push_back(id);
      }
      cluster_.network().partition_one_way(others, {victim});
      simulation_.schedule_after(
          duration, [this] { cluster_.network().heal(); }, "heal");
      break;
    }
    case 3:  // an isolated node
      cluster_.network().isolate(victim);
      simulation_.schedule_after(
          duration, [this] { cluster_.network().heal(); }, "heal");
      break;
    case 4: {  // a bridge: two halves that only both reach the victim
      std::vector<NodeId> a;
      std::vector<NodeId> b;
      for (const NodeId id : ids) {
        if (id != victim) (a.size() <= b.size() ? a : b).push_back(id);
      }
      cluster_.network().bridge(a, b, victim);
      simulation_.schedule_after(
          duration, [this] { cluster_.network().heal(); }, "heal");
      break;
    }
    case 5: {  // the wall clock steps, forward or back
      const int64_t step_ms = static_cast<int64_t>(random.uniform(4000)) - 2000;
      cluster_.clock(victim).jump_ms(step_ms);
      break;
    }
    default:  // a slow disk for a while
      cluster_.set_slow_disk(victim, true);
      simulation_.schedule_after(
          duration, [this, victim] { cluster_.set_slow_disk(victim, false); }, "disk-recovers");
      break;
  }
}

void Run::heal() {
  cluster_.network().heal();
  NetworkConfig reliable = cluster_.network().config();
  reliable.loss_probability = 0;
  reliable.duplicate_probability = 0;
  cluster_.network().set_config(reliable);
  for (const NodeId id : cluster_.ids()) {
    cluster_.set_slow_disk(id, false);
    cluster_.restart(id);  // nothing for nodes that are up
  }
}

void Run::dump_key(const std::string& key, const std::vector<FinalKey>& finals) const {
  auto seen_text = [](const std::map<NodeId, HlcTimestamp>& seen) {
    std::string text;
    for (const auto& [node, timestamp] : seen) {
      text += " " + std::to_string(node.value) + ":" + to_string(timestamp);
    }
    return text;
  };
  for (const OperationRecord& op : history_.records()) {
    if (op.request.key != key) continue;
    std::string values;
    for (const std::string& value : op.reply.values) values += " " + value;
    std::fprintf(stderr, "%s -> %s%s%s%s [seen%s]\n", describe(op).c_str(),
                 op.completed_us ? op.reply.status.to_string().c_str() : "(no reply)",
                 op.reply.value ? (" " + *op.reply.value).c_str() : "", values.c_str(),
                 op.completed_us ? (" at " + std::to_string(*op.completed_us) + "us").c_str() : "",
                 seen_text(op.reply.seen.vector).c_str());
  }
  for (const FinalKey& final_key : finals) {
    if (final_key.key != key) continue;
    for (const auto& [node, state] : final_key.replica_states) {
      std::fprintf(stderr, "final on %s: newest %s [seen%s]\n", to_string(node).c_str(),
                   to_string(state.newest_version().timestamp).c_str(),
                   seen_text(state.version_vector()).c_str());
    }
  }
}

std::optional<ClusterReply> Run::request_and_wait(NodeId coordinator, const ClusterRequest& request,
                                                  Consistency consistency) {
  auto reply = std::make_shared<std::optional<ClusterReply>>();
  cluster_.submit(coordinator, request, consistency,
                  [reply](ClusterReply r) { *reply = std::move(r); });
  run_until(simulation_.now_us() + 10 * kSecond, [&] { return reply->has_value(); });
  return *reply;
}

ClusterRunResult Run::run() {
  cluster_.start();
  if (!run_until(kFormationTimeout, [&] { return cluster_.converged(); })) {
    violation("formation",
              "the cluster did not converge within 180 s:" + cluster_.convergence_report());
  }
  load_running_ = true;
  for (size_t client = 0; client < options_.client_count; client++) start_client(client);
  const std::vector<NodeId> nodes = cluster_.ids();
  for (size_t late = nodes.size() - cluster_options(options_).late_count; late < nodes.size();
       late++) {
    const uint64_t after = simulation_.random().uniform(options_.load_seconds * kSecond / 4 + 1);
    const NodeId joiner = nodes[late];
    simulation_.schedule_after(
        after, [this, joiner] { cluster_.restart(joiner); }, "late-join");
  }
  if (options_.leaver && nodes.size() >= 4) {
    const size_t founders = nodes.size() - cluster_options(options_).late_count;
    const NodeId leaver = nodes[simulation_.random().uniform(founders)];
    leaver_ = leaver;
    const uint64_t quarter = options_.load_seconds * kSecond / 4;
    simulation_.schedule_after(
        quarter + simulation_.random().uniform(quarter + 1), [this, leaver] { leave_step(leaver); },
        "leave");
  }
  if (options_.faults) {
    simulation_.schedule_after(
        2 * kSecond, [this] { nemesis_step(); }, "nemesis");
  }
  simulation_.run_until(simulation_.now_us() + options_.load_seconds * kSecond);
  load_running_ = false;

  heal();
  // The final reads need every replica up: a leave still going on ends first.
  if (!run_until(simulation_.now_us() + kHealTimeout,
                 [&] { return cluster_.converged() && (!leaver_ || leaver_gone_); })) {
    violation("heal", std::string(leaver_ && !leaver_gone_ ? "the leave did not finish; " : "") +
                          "membership did not converge within 120 s of healing:" +
                          cluster_.convergence_report());
  }
  simulation_.run_until(simulation_.now_us() + kQuiesce);

  // A read of every key at ALL repairs every replica; then what a QUORUM read returns is final.
  std::vector<FinalKey> finals;
  std::vector<NodeId> ids = cluster_.ids();
  std::erase_if(ids, [&](NodeId id) { return !cluster_.is_up(id); });  // a leaver is gone
  std::map<std::string, std::vector<std::pair<NodeId, KeyState>>> states_before_reads;
  for (const std::string& key : workload_.keys()) {
    if (!options_.repair_pass) states_before_reads[key] = cluster_.replica_states(key);
  }
  for (const std::string& key : workload_.keys()) {
    if (!options_.repair_pass) break;
    const ClusterRequest read{Workload::final_read_kind(key), key, {}, 0};
    std::optional<ClusterReply> all;
    for (int attempt = 0; attempt < 3 && !(all && all->status.is_ok()); attempt++) {
      all = request_and_wait(ids[simulation_.random().uniform(ids.size())], read,
                             Consistency{ConsistencyLevel::kAll, false});
    }
    if (!all || !all->status.is_ok()) {
      violation("availability", "a read at ALL of " + key + " failed after healing: " +
                                    (all ? all->status.to_string() : "no reply"));
    }
  }
  simulation_.run_until(simulation_.now_us() + 2 * kSecond);
  for (const std::string& key : workload_.keys()) {
    FinalKey final_key;
    final_key.key = key;
    std::optional<ClusterReply> quorum =
        request_and_wait(ids[simulation_.random().uniform(ids.size())],
                         ClusterRequest{Workload::final_read_kind(key), key, {}, 0}, Consistency{});
    if (!quorum || !quorum->status.is_ok()) {
      violation("availability", "the final QUORUM read of " + key + " failed");
      continue;
    }
    final_key.quorum_read = std::move(*quorum);
    final_key.replica_states =
        options_.repair_pass ? cluster_.replica_states(key) : states_before_reads[key];
    finals.push_back(std::move(final_key));
  }
  simulation_.run_until(simulation_.now_us() + 2 * kSecond);

  if (!options_.dump_key.empty()) dump_key(options_.dump_key, finals);
  ClusterRunResult result;
  result.violations = violations_;
  for (Violation& v : check_run(history_, finals, options_.replica_count)) {
    result.violations.push_back(std::move(v));
  }
  result.node_count = cluster_.size();
  result.trace_hash = simulation_.trace_hash();
  result.operations = history_.records().size();
  for (const OperationRecord& op : history_.records()) result.acknowledged += op.acknowledged();
  result.messages_delivered = cluster_.network().stats().delivered;
  result.faults_injected = faults_injected_;
  for (const NodeId id : ids) {
    ClusterNode& node = cluster_.cluster_node(id);
    result.concurrent_writes += node.replica().stats().concurrent_writes;
    result.hints_delivered += node.hints().stats().delivered;
    result.read_repairs += node.coordinator().stats().read_repairs;
  }
  return result;
}

}  // namespace

size_t cluster_node_count(const ClusterRunOptions& options) {
  if (options.node_count != 0) return options.node_count;
  Random random(options.seed ^ 0x6e6f646573ULL);  // its own stream: the run's is untouched
  return 3 + random.uniform(7);
}

ClusterRunResult run_cluster(const ClusterRunOptions& options) {
  Run run(options);
  return run.run();
}

void plant_early_ack_bug(ClusterRunOptions* options) {
  options->plant_early_ack_bug = true;
  options->anti_entropy = false;
  options->late_joiners = 0;
  options->leaver = false;
}

}  // namespace cairn::sim
