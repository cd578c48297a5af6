// Coordinator: runs one node's client requests across the replicas of their keys
// (docs/cluster-replication.md). Any node coordinates any key.
//
// A request moves through up to three phases, each a round of messages to the key's preference
// list (the ring's N replicas):
// - read: GET, SMEMBERS and HGETALL answer from the merge of the first R replies; SREM reads
//   first to learn which additions it removes. Replies that arrive later are still merged, and
//   once all replicas answered (or the request timed out) every replica that answered with less
//   than the merge is sent the merge (read repair).
// - counter: INCRBY goes to the key's counter leader (the first replica membership sees alive),
//   which adds the delta to its shard and replicates that shard at the request's level itself
//   (lead_increment), then answers. A coordinator that is the leader does this in place.
// - write: the delta goes to all N replicas; the client is answered after W acks. A sloppy
//   request sends the writes of replicas membership sees down to the next healthy nodes instead,
//   as hints, and counts their acks. When the request times out, each replica that did not ack
//   gets a hint stored here, so it converges once it is back.
// A request without enough replies by its deadline is answered an error naming the level and
// how many replicas replied (CP by default); its writes may still land (the client was not told
// they did not).
//
// Versions: each write takes this node's HLC (ReplicaService moves it past every state it sees).
//
// Thread-safety: none; one node's state machines run on one thread. Completions run on it too,
// possibly inside submit() (a request that needs only this node).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_request.h"
#include "cluster/cluster_view.h"
#include "cluster/consistency.h"
#include "cluster/hint_delivery.h"
#include "cluster/hint_store.h"
#include "cluster/node_time.h"
#include "cluster/replica_service.h"
#include "cluster/replication_message.h"
#include "common/hlc.h"
#include "io/network.h"

namespace cairn {

struct CoordinatorConfig {
  // A request without enough replies by then is answered an error.
  uint64_t request_timeout_ms = 1000;
  // A request's timeout grows by 1 ms per this many bytes of the largest message a write sends
  // (its replicas store and sync it before they ack) and of each state a read receives (the
  // replicas still to answer read and send as much): values of up to 1 GiB travel whole, and at
  // 16 KiB per ms a 1 GiB value gets about a minute more.
  uint64_t timeout_bytes_per_ms = 16 << 10;
  // Requests not yet answered, at once; more are refused with BUSY.
  size_t requests_in_flight_max = 10'000;
  // Operations kept at once, answered writes still waiting for their last acks included (each
  // lives until every replica acked or its deadline passed): the bound on their memory; past it
  // new requests are refused with BUSY too. Counting those in requests_in_flight_max refused
  // clients whenever one replica lagged: at 57 K writes per second, 10 K answered writes waited
  // on its acks.
  size_t operations_max = 200'000;
  // A read goes first to as many replicas as its level needs: this node if it is one, then the
  // live ones in preference order. If they have not all answered after this long, or one fails,
  // it goes to the others too (Cassandra's speculative retry). A busy cluster so spends a
  // QUORUM read's work on 2 replicas instead of 3. 0: every read goes to every replica at once.
  uint64_t read_widen_after_ms = 20;
  // A planted bug for the simulation test that proves the checkers catch it: writes are
  // acknowledged one ack early. Never set outside that test.
  bool testing_ack_one_early = false;
};

struct CoordinatorStats {
  uint64_t requests = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;        // not enough replies, or a replica's error
  uint64_t read_repairs = 0;  // repair writes sent to replicas that answered a read stale
  uint64_t hints_stored = 0;  // for replicas that did not ack a write in time
};

class Coordinator {
 public:
  using Completion = std::function<void(ClusterReply)>;

  // REQUIRES: every pointer outlives the coordinator.
  Coordinator(NodeId self, const ClusterView* view, ReplicaService* local, HintStore* hints,
              HybridClock* clock, Network* network, CoordinatorConfig config = {})
      : self_(self),
        view_(view),
        local_(local),
        hints_(hints),
        clock_(clock),
        network_(network),
        config_(config) {}

  void submit(ClusterRequest request, Consistency consistency, NodeTime now, Completion done);
  // A reply (kWriteAck, kReadReply, kCounterAddReply) to one of this coordinator's requests;
  // late, duplicated and unknown replies are ignored.
  // `reply_bytes`: the size of the message it came in.
  void on_reply(NodeId from, const ReplicationMessage& reply, size_t reply_bytes, NodeTime now);
  // As the key's counter leader, for another coordinator's INCRBY (kCounterAdd from `from`):
  // applies the increment to this node's shard (once per name), replicates it at the request's
  // level, then answers `from` with kCounterAddReply. Being the one that replicates, the leader
  // also leaves the hints for replicas that miss it, so an applied increment reaches every
  // replica even when its coordinator gave up waiting.
  void lead_increment(NodeId from, const ReplicationMessage& add, NodeTime now);
  // Fails, hints and repairs the requests whose deadline passed.
  void tick(NodeTime now);

  size_t in_flight() const { return operations_.size(); }
  const CoordinatorStats& stats() const { return stats_; }

 private:
  enum class Phase : uint8_t { kRead, kCounter, kWrite };
  struct WriteTarget {
    NodeId node;                     // where the write goes
    std::optional<NodeId> hint_for;  // a sloppy stand-in holds it for this replica
    bool acked = false;
  };
  struct Operation {
    uint64_t id = 0;
    ClusterRequest request;
    Consistency consistency;
    Completion done;
    bool answered = false;
    uint64_t deadline_ms = 0;
    Phase phase = Phase::kRead;
    std::vector<NodeId> replicas;  // the key's preference list
    size_t required = 0;           // replies the level needs
    // In a ring transition, the other ring's list: a write needs next_required acks there too.
    std::vector<NodeId> next_replicas;
    size_t next_required = 0;
    // Read phase: the replicas asked so far, each one's answer and their merge.
    std::vector<NodeId> read_from;
    uint64_t widen_at_ms = 0;  // when the read goes to the other replicas too; 0: it did
    std::vector<std::pair<NodeId, KeyState>> read_replies;
    KeyState merged;
    SeenWrites read_seen;  // SREM: the writes its read saw
    // Counter and write phases.
    NodeId leader;
    int64_t counter_value = 0;
    KeyState delta;
    std::vector<WriteTarget> targets;
  };

  WriteVersion next_version(NodeTime now);
  // The key's preference list (where reads go) and, in a ring transition, the other ring's list
  // (where writes also go), with the replies the level needs of each.
  void assign_replicas(Operation& op, const Ring& ring) const;
  void start_read(Operation& op, NodeTime now);
  // Sends the read to the replicas it has not gone to yet.
  void widen_read(Operation& op, NodeTime now);
  void send_read(Operation& op, NodeId replica, NodeTime now);
  void start_counter(Operation& op, NodeTime now);
  void start_write(Operation& op, KeyState delta, NodeTime now);
  std::vector<WriteTarget> write_targets(const Operation& op) const;
  void on_read_reply(Operation& op, NodeId from, KeyState state, NodeTime now);
  void on_read_quorum(Operation& op, NodeTime now);
  // Applies op's increment here, as its leader (`named` for another coordinator's, to refuse a
  // replay), then replicates it.
  void lead(Operation& op, const CounterOp* named, NodeTime now);
  void on_counter_reply(Operation& op, const ReplicationMessage& reply, NodeTime now);
  void on_write_ack(Operation& op, NodeId from, NodeTime now);
  // Answers once W targets acked; ends the operation once all did.
  void settle_write(Operation& op, NodeTime now);
  // Answers the client once; the operation may live on for repairs and hints.
  void answer(Operation& op, ClusterReply reply);
  void answer_error(Operation& op, const Status& status);
  void fail_for_replies(Operation& op, size_t replied);
  // Sends the merge to replicas that answered the read with less.
  void read_repair(Operation& op, NodeTime now);
  // Ends the operation: repairs, hints, and the error if it was never answered.
  void finish(uint64_t id, NodeTime now);
  // Returns the bytes sent.
  size_t send(NodeId to, const ReplicationMessage& message);

  NodeId self_;
  const ClusterView* view_;
  ReplicaService* local_;
  HintStore* hints_;
  HybridClock* clock_;
  Network* network_;
  CoordinatorConfig config_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Operation> operations_;
  size_t unanswered_ = 0;  // operations_ not yet answered
  CoordinatorStats stats_;
};

}  // namespace cairn
