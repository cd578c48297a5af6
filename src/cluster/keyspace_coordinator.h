// KeyspaceCoordinator: runs one node's keyspace-wide requests (DBSIZE, KEYS, SCAN, RANDOMKEY,
// FLUSHALL) across the whole cluster (docs/cluster-operations.md, "Keyspace-wide commands").
//
// Reads (kCountKeys, kListKeys, kScanKeys, kRandomKey) read each slot from one replica: the first
// node of the slot's preference list that membership sees alive (this node counts as alive), or,
// when that node does not answer in time (a crash membership has not noticed yet), the next. The
// slots are grouped into walks, one per node, each a list of slot ranges sent as one SlotScan
// (slot_scan.h) and served from that node's replica store, so the whole keyspace costs one
// message per node rather than one per slot, and an empty slot costs nothing but a seek.
// - kCountKeys and kListKeys resume each walk where its node stopped (a bounded amount per
//   message) until every walk reached its end, and sum or gather the answers: every slot is read
//   once, from one replica.
// - kScanKeys runs one round from query.start: each node returns at most query.count keys after
//   visiting at most query.count records. The page is every key up to the frontier, the earliest
//   point where a node stopped short, and the next page starts there: each key is returned by
//   exactly one page of a scan when the keyspace does not change meanwhile.
// - kRandomKey runs pages from a slot picked from request.number until one has a key, wrapping
//   once past the last slot, and picks one of the page's keys.
// A slot without a live replica that answers in time, or a node that answers an error, fails the
// whole request with an error naming the problem: never a partial answer.
//
// Messages are sent again until answered, since the network may lose them; a scan or a flush run
// twice changes nothing, and only the first answer counts.
//
// kFlushAll is a delete of every key at one version F (replica_store.h): F comes from this node's
// HLC, every ring member is told to flush at F and must ack (durably), and the client is answered
// once all did. A member seen down fails the request before anything is sent, as Cassandra's
// TRUNCATE does; one that does not ack in time fails it after (those that acked flushed).
//
// Thread-safety: none; one node's state machines run on one thread. Completions run on it too,
// possibly inside submit() (a request this node serves alone).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_request.h"
#include "cluster/cluster_view.h"
#include "cluster/keyspace_message.h"
#include "cluster/node_time.h"
#include "cluster/replica_service.h"
#include "common/hlc.h"
#include "io/network.h"

namespace cairn {

struct KeyspaceCoordinatorConfig {
  // A node that does not answer a slot scan by then is passed over for the request: its slots
  // are read from their next live replicas (the request fails when a slot has none left).
  uint64_t scan_timeout_ms = 1'500;
  // A node that does not ack a flush by then fails FLUSHALL (its rewrite is O(its keys)).
  uint64_t flush_timeout_ms = 30'000;
  // A message unanswered this long is sent again: the network may drop messages (the bus drops
  // those sent while it waits to reconnect), and a scan or a flush may safely run twice.
  uint64_t resend_interval_ms = 300;
  // Requests in flight at once; more are refused with an error.
  size_t requests_in_flight_max = 1'000;
  // KEYS answers an error rather than gather more names than this.
  uint64_t listed_keys_max = 1'000'000;
  // RANDOMKEY: records each node visits for its first page; each page without a live key
  // doubles it (up to kSlotScanRecordsMax), so a keyspace of tombstones costs few rounds.
  uint64_t random_key_records = 64;
};

class KeyspaceCoordinator {
 public:
  using Completion = std::function<void(ClusterReply)>;

  // REQUIRES: every pointer outlives the coordinator.
  KeyspaceCoordinator(NodeId self, const ClusterView* view, ReplicaService* local,
                      HybridClock* clock, Network* network, KeyspaceCoordinatorConfig config = {})
      : self_(self),
        view_(view),
        local_(local),
        clock_(clock),
        network_(network),
        config_(config) {}

  // REQUIRES: is_keyspace_wide(request.kind).
  void submit(const ClusterRequest& request, NodeTime now, Completion done);
  // A kSlotScanReply or kFlushAck; late, duplicated and unknown ones are ignored.
  void on_reply(NodeId from, const KeyspaceMessage& reply, NodeTime now);
  // Fails the requests a node did not answer in time.
  void tick(NodeTime now);

  size_t in_flight() const { return operations_.size(); }

 private:
  // One node's part of a request: the slot ranges it serves that are left (a flush has none).
  struct Walk {
    NodeId node;
    std::vector<ScanRange> ranges;
    ScanPosition start;
    bool done = false;         // reached the end of its ranges (a flush: acked)
    bool local_due = false;    // this node serves the walk's next step (serve_local)
    uint64_t message_id = 0;   // the message in flight; 0 when none
    uint64_t deadline_ms = 0;  // of that message
    uint64_t resend_ms = 0;    // when that message is sent again, unanswered
    SlotScanResult page;       // kScanKeys, kRandomKey: the node's answer this round
  };
  struct Operation {
    uint64_t id = 0;
    ClusterRequest request;
    Completion done;
    std::vector<Walk> walks;
    uint64_t count = 0;                // kCountKeys
    std::vector<std::string> keys;     // kListKeys
    uint16_t random_first_slot = 0;    // kRandomKey: the slot the first page started at
    bool wrapped = false;              // kRandomKey: past the last slot to slot 0
    uint64_t random_page_records = 0;  // kRandomKey: records each node visits for this page
    WriteVersion flush_version;        // kFlushAll
    std::vector<NodeId> passed_over;   // nodes that did not answer a slot scan in time
  };

  // Appends walks covering `ranges` from `from` (in the first range), each slot with its first
  // live replica not passed over; an error when a slot has none.
  Status add_walks(Operation& op, const std::vector<ScanRange>& ranges,
                   const ScanPosition& from) const;
  void start_reads(Operation& op, const ScanPosition& from, uint16_t last_slot, NodeTime now);
  void start_flush(Operation& op, NodeTime now);
  SlotScan scan_of(const Operation& op, const Walk& walk, NodeTime now) const;
  // Sends walk `index`'s next step, or marks it due here when this node serves it.
  void send_step(Operation& op, size_t index, NodeTime now);
  // Sends (again) the walk's message in flight.
  void send_message(const Operation& op, Walk& walk, NodeTime now);
  // Serves operation `id`'s steps due on this node until none is (a step may lead to another).
  void serve_local(uint64_t id, NodeTime now);
  void on_scan_result(Operation& op, size_t index, SlotScanResult result, NodeTime now);
  void on_flush_ack(Operation& op, size_t index, NodeTime now);
  // Walk `index`'s node did not answer in time: its remaining slots go to their next replicas.
  void pass_over(Operation& op, size_t index, NodeTime now);
  // kScanKeys and kRandomKey once every walk of the round answered.
  void on_page(Operation& op, NodeTime now);
  // Answers the client and ends the operation.
  void finish(uint64_t id, ClusterReply reply);
  void fail(uint64_t id, const Status& status);
  std::string command_of(const Operation& op) const;

  NodeId self_;
  const ClusterView* view_;
  ReplicaService* local_;
  HybridClock* clock_;
  Network* network_;
  KeyspaceCoordinatorConfig config_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Operation> operations_;
  // Messages in flight: their id -> (operation id, walk index).
  std::map<uint64_t, std::pair<uint64_t, size_t>> messages_;
};

}  // namespace cairn
