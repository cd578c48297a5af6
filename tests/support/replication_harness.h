// A few ClusterNodes on in-memory disks over a hand-driven network, for the coordinator's unit
// tests: the test decides which nodes are down (their messages are dropped, and the view says so),
// whether messages are duplicated, and when time passes. The simulator (src/sim) runs the same
// nodes under random faults; this harness makes single scenarios easy to state.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/cluster_view.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"

namespace cairn::test {

class ReplicationHarness {
 public:
  // `node_count` nodes with ids 1..node_count, all in one ring of `replica_count`, each opened
  // with `config`.
  explicit ReplicationHarness(size_t node_count, size_t replica_count = 3,
                              ClusterNodeConfig config = {})
      : view_(replica_count), config_(config) {
    Ring ring(replica_count);
    for (size_t i = 1; i <= node_count; i++) ring = ring.with_joined(RingMember{NodeId{i}, ""});
    view_.ring_ = ring;
    for (size_t i = 1; i <= node_count; i++) nodes_.push_back(std::make_unique<Node>(this, i));
    for (auto& node : nodes_) node->open();
  }

  struct Envelope {
    NodeId from;
    NodeId to;
    std::string bytes;
  };

  // Delivers queued messages (and those they cause) until none is left; messages from or to a
  // down node are dropped; with duplicate_ set each is delivered twice.
  void deliver_all() {
    while (!queue_.empty()) {
      Envelope envelope = std::move(queue_.front());
      queue_.pop_front();
      if (down_.contains(envelope.from) || down_.contains(envelope.to)) continue;
      for (int copy = 0; copy < (duplicate_ ? 2 : 1); copy++) {
        node(envelope.to).cluster->on_message(envelope.from, envelope.bytes, now_);
      }
      delivered_.push_back(std::move(envelope));
    }
  }
  // Delivers again every message delivered so far, in order (a replay of the whole history).
  void replay_delivered() {
    std::vector<Envelope> history = std::move(delivered_);
    delivered_.clear();
    for (Envelope& envelope : history) queue_.push_back(std::move(envelope));
    deliver_all();
  }
  // Time passes for every live node: timeouts, hint delivery, WAL syncs.
  void advance_ms(uint64_t ms) {
    now_.monotonic_ms += ms;
    now_.unix_ms += static_cast<int64_t>(ms);
    for (auto& n : nodes_) {
      if (!down_.contains(n->id)) n->cluster->tick(now_);
    }
  }
  // Runs the request on node `coordinator` to its end: delivery, then timeouts if needed.
  ClusterReply run(size_t coordinator, const ClusterRequest& request,
                   Consistency consistency = {}) {
    std::optional<ClusterReply> reply = start(coordinator, request, consistency);
    deliver_all();
    for (int i = 0; i < 20 && !reply_->has_value(); i++) {
      advance_ms(100);
      deliver_all();
    }
    EXPECT_TRUE(reply_->has_value()) << "no reply to " << request_kind_name(request.kind);
    return reply_->value_or(ClusterReply{});
  }
  // Submits without delivering; the reply lands in last_reply().
  std::optional<ClusterReply> start(size_t coordinator, const ClusterRequest& request,
                                    Consistency consistency = {}) {
    auto slot = std::make_shared<std::optional<ClusterReply>>();
    reply_ = slot;
    node(NodeId{coordinator}).cluster->submit(request, consistency, now_, [slot](ClusterReply r) {
      *slot = std::move(r);
    });
    return *slot;
  }
  const std::optional<ClusterReply>& last_reply() const { return *reply_; }

  void set_down(size_t id, bool down) {
    if (down) {
      down_.insert(NodeId{id});
      view_.dead_.insert(NodeId{id});
    } else {
      down_.erase(NodeId{id});
      view_.dead_.erase(NodeId{id});
    }
  }
  // Drops node `id`'s messages while the view still sees it alive: a crash membership has not
  // noticed yet.
  void set_unreachable(size_t id, bool unreachable) {
    if (unreachable) {
      down_.insert(NodeId{id});
    } else {
      down_.erase(NodeId{id});
    }
  }
  void set_duplicate(bool duplicate) { duplicate_ = duplicate; }
  // Messages sent to node `id` so far.
  size_t messages_to(size_t id) const {
    auto it = sent_to_.find(NodeId{id});
    return it == sent_to_.end() ? 0 : it->second;
  }

  // What node `id` stores for `key`, as the reader at the harness's time sees it.
  KeyState stored(size_t id, const std::string& key) {
    Result<KeyState> state = node(NodeId{id}).cluster->store().read(key);
    EXPECT_TRUE(state.is_ok()) << state.status().to_string();
    return state.is_ok() ? std::move(state).value() : KeyState();
  }
  ClusterNode& cluster(size_t id) { return *node(NodeId{id}).cluster; }
  const Ring& ring() const { return view_.ring_; }
  NodeTime now() const { return now_; }
  // The replica ids of `key`, in preference order.
  std::vector<size_t> replicas_of(const std::string& key) const {
    std::vector<size_t> ids;
    for (const NodeId node : view_.ring_.preference_list_of_slot(key_slot(key))) {
      ids.push_back(node.value);
    }
    return ids;
  }
  // A node that is not a replica of `key`, or 0.
  size_t non_replica_of(const std::string& key) const {
    const std::vector<size_t> replicas = replicas_of(key);
    for (size_t id = 1; id <= nodes_.size(); id++) {
      if (std::find(replicas.begin(), replicas.end(), id) == replicas.end()) return id;
    }
    return 0;
  }

 private:
  class View final : public ClusterView {
   public:
    explicit View(size_t replica_count) : ring_(replica_count) {}
    const Ring& ring() const override { return ring_; }
    bool is_alive(NodeId node) const override { return !dead_.contains(node); }
    Ring ring_;
    std::set<NodeId> dead_;
  };
  struct Node final : public Network {
    Node(ReplicationHarness* harness_in, size_t id_in)
        : harness(harness_in), id{id_in}, env(id_in) {
      options.env = &env;
      options.scheduler = &scheduler;
      options.fsync = FsyncPolicy::kNever;
    }
    void open() {
      database = open_database(options);
      auto opened =
          ClusterNode::open(id, database.get(), &harness->view_, this, harness->config_);
      ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
      cluster = std::move(opened).value();
    }
    void send(NodeId to, std::string message) override {
      harness->sent_to_[to]++;
      harness->queue_.push_back(Envelope{id, to, std::move(message)});
    }
    ReplicationHarness* harness;
    NodeId id;
    FaultEnv env;
    InlineScheduler scheduler;
    Options options;
    std::unique_ptr<Database> database;
    std::unique_ptr<ClusterNode> cluster;
  };
  Node& node(NodeId id) { return *nodes_[id.value - 1]; }

  View view_;
  const ClusterNodeConfig config_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::deque<Envelope> queue_;
  std::vector<Envelope> delivered_;
  std::set<NodeId> down_;
  std::map<NodeId, size_t> sent_to_;
  bool duplicate_ = false;
  NodeTime now_{1, 1'700'000'000'000};
  std::shared_ptr<std::optional<ClusterReply>> reply_ =
      std::make_shared<std::optional<ClusterReply>>();
};

}  // namespace cairn::test
