// RepairService: anti-entropy between this node and the other replicas of its partitions
// (docs/cluster-repair.md). In the background, one partition and one peer at a time, it compares
// the Merkle root of the partition's slot digests with the peer's; for the slots that differ it
// compares key digests a page at a time, fetches the peer's states of the keys that differ,
// merges them into its own replicas, and sends back each merged state the peer does not already
// hold. So after one exchange both replicas hold the merge of what either held. Each pair of
// replicas compares a partition once per cycle, started by the lower id in even partitions and
// by the higher in odd ones; a cycle walks every partition once.
//
// Bounds: one exchange at a time, one request outstanding, pages of kRepairKeyDigestsMax key
// digests and kRepairStatesMax states; a new exchange starts at most every
// partition_interval_ms, and no request goes out before the bytes used so far are paid for at
// bytes_per_second_max. A request unanswered after request_timeout_ms ends its exchange; the
// next cycle compares that pair again.
//
// In a ring transition (ring.h) a node gaining partitions streams them: after a settle delay, so
// that every coordinator writes to it first, it runs an exchange of each gained partition with
// each of its current replicas (an empty replica's exchange fetches every key), and once it holds
// the union of what a quorum of them held it is ready; the claimant asks the gaining nodes
// (kStreamStatus) before it flips the ring (transition_ready).
//
// It also serves the peers' requests (digests and states) from the replica store. Every exchange
// that compares a whole partition is recorded in RepairHorizons, and the records travel with the
// range digests, so each replica learns when every pair of its partitions last completed one:
// what tombstone purging waits for.
//
// Thread-safety: none; the node's one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_view.h"
#include "cluster/node_time.h"
#include "cluster/repair_horizons.h"
#include "cluster/repair_message.h"
#include "cluster/replica_service.h"
#include "cluster/replica_store.h"
#include "io/network.h"

namespace cairn {

struct RepairConfig {
  bool enabled = true;
  // Between the starts of two exchanges: at 100 ms a 3-node cluster (N=3: 2048 exchanges for
  // each node) finishes a cycle in under four minutes.
  uint64_t partition_interval_ms = 100;
  uint64_t request_timeout_ms = 5000;
  // The bytes repair may cost per second, averaged: what its digests read from the engine (for
  // its own exchanges and its peers' requests) plus what it sends and receives. Each byte used
  // delays the next request by 1 / this many seconds. 0: no limit.
  uint64_t bytes_per_second_max = 16 << 20;
  // After adopting a ring in which it gains partitions, a node waits this long before it streams
  // them, so that every coordinator has heard of the transition and writes to it too.
  uint64_t stream_settle_ms = 5000;
  // A stream request unanswered this long is sent again: a lost message stalls the stream no
  // longer than this.
  uint64_t stream_request_timeout_ms = 1000;
  // The least time between two stream status requests to one gaining node.
  uint64_t stream_status_interval_ms = 500;
  // A states reply carries the states asked for in order until their stored bytes reach this,
  // and always the first; the asker asks again for the rest. Without the bound, kRepairStatesMax
  // states of a few MiB each passed what the bus queues for a peer (BusTransportOptions::
  // send_queue_bytes_max, 64 MiB): the reply was dropped, and the same request timed out again
  // and again.
  uint64_t states_reply_bytes_max = 16 << 20;
};

// An on-demand pass (cairnctl repair): this node compares every partition of a run with each
// replica it starts exchanges with (the other replicas start the rest in their own passes), one
// exchange after another, paced by the bandwidth limit alone. The counts are since the pass
// began and include serving the peers' exchanges.
struct RepairPassStatus {
  uint64_t id = 0;  // the caller's; 0: no pass yet
  bool running = false;
  uint32_t first_partition = 0;
  uint32_t last_partition = 0;
  uint32_t partitions_done = 0;  // walked, of last - first + 1
  uint64_t exchanges_completed = 0;
  uint64_t exchanges_failed = 0;  // timed out or answered an error
  uint64_t peers_skipped = 0;     // replicas down when their turn came
  uint64_t slots_differing = 0;
  uint64_t keys_fetched = 0;
  uint64_t keys_pushed = 0;
  uint64_t bytes = 0;  // read, sent and received
  uint64_t elapsed_ms = 0;
};

struct RepairStats {
  uint64_t exchanges_started = 0;
  uint64_t partitions_equal = 0;  // exchanges whose roots matched
  uint64_t slots_differing = 0;
  uint64_t keys_fetched = 0;  // peer states merged here
  uint64_t keys_pushed = 0;   // merged states sent to the peer
  uint64_t timeouts = 0;
  uint64_t errors = 0;            // error replies from peers
  uint64_t cycles_completed = 0;  // walks over every partition that compared something
  uint64_t bytes_sent = 0;        // requests, replies and pushed states
  uint64_t bytes_received = 0;
  uint64_t bytes_read = 0;           // by the digests, from the engine
  uint64_t stream_exchanges = 0;     // exchanges of ring transitions' streams (not counted above)
  uint64_t partitions_streamed = 0;  // gained in ring transitions, streamed from their replicas
  uint64_t states_replies_cut = 0;   // states replies that left keys for a later request
};

class RepairService {
 public:
  static constexpr uint64_t kBudgetAheadUs = 10'000;
  // A stream exchange compares a run of partitions at once: as many as a range digest holds.
  static constexpr uint32_t kStreamRunPartitionsMax = kRepairSlotRunMax / kSlotsPerPartition;

  // REQUIRES: every pointer outlives the service.
  RepairService(NodeId self, const ClusterView* view, ReplicaService* replica, ReplicaStore* store,
                RepairHorizons* horizons, Network* network, RepairConfig config)
      : self_(self),
        view_(view),
        replica_(replica),
        store_(store),
        horizons_(horizons),
        network_(network),
        config_(config) {}

  // Ends an exchange past its timeout; starts the next one when its time has come.
  void tick(NodeTime now);
  // Starts an on-demand pass over partitions [first, last] under `id`, replacing any pass still
  // running. The background cycle waits while it runs. REQUIRES: first <= last < kPartitionCount.
  void start_pass(uint64_t id, uint32_t first_partition, uint32_t last_partition, NodeTime now);
  // The latest pass.
  RepairPassStatus pass_status(NodeTime now) const;
  // In a ring transition (kNext): whether every member gaining partitions has streamed them all.
  // Asks those not known ready, each at most every stream_status_interval_ms; the claimant calls
  // it before it flips the ring. False without a transition.
  bool transition_ready(NodeTime now);
  // Whether this node has streamed every partition it gains in the ring of `ring_epoch`.
  bool streamed(uint64_t ring_epoch) const;
  // In a ring transition: the partitions this node gains, and how many of them it has streamed
  // (a quorum of their sources streamed to it). Both 0 outside a transition or when it gains none.
  struct StreamProgress {
    size_t partitions = 0;
    size_t partitions_done = 0;
  };
  StreamProgress stream_progress() const;
  // A repair message from `from` (decoded; a malformed one never reaches here).
  void on_message(NodeId from, const RepairMessage& message, size_t bytes, NodeTime now);

  const RepairStats& stats() const { return stats_; }

 private:
  enum class ExchangeKind : uint8_t { kBackground, kPass, kStream };
  struct Exchange {
    NodeId peer;
    // The run of partitions compared: one, but a stream compares up to kStreamRunPartitionsMax.
    uint32_t partition = 0;
    uint32_t last_partition = 0;
    uint64_t started_unix_ms = 0;
    ExchangeKind kind = ExchangeKind::kBackground;
    uint64_t request_id = 0;
    uint64_t deadline_ms = 0;             // of the request sent; 0 while it waits for the bandwidth
    std::optional<RepairMessage> unsent;  // the next request, held back by the bandwidth limit
    RepairMessageType awaiting = RepairMessageType::kRangeDigestReply;
    std::vector<uint16_t> slots;  // differing slots left, the current one first
    std::string after;            // the key digest page cursor in slots.front()
    bool page_more = false;       // the peer's current page is not the slot's last
    std::string page_last;        // the last key of the peer's current page
    // Keys of the current page whose states are still to fetch, with the peer's digest.
    std::map<std::string, uint64_t> to_fetch;
  };

  // What this node streams in a ring transition: per gained partition, the current replicas to
  // stream from and those it has.
  struct StreamPartition {
    std::vector<NodeId> sources;
    std::vector<NodeId> done;
  };
  struct Stream {
    uint64_t ring_epoch = 0;
    uint64_t start_ms = 0;  // when the settle delay ends
    std::map<uint32_t, StreamPartition> partitions;
    uint32_t cursor = 0;  // the partition the walk looks at next
    size_t complete = 0;  // partitions streamed
  };
  struct Pass {
    RepairPassStatus status;
    uint32_t partition = 0;     // the one being walked
    std::vector<NodeId> peers;  // of `partition`, still to compare with
    bool partition_started = false;
    RepairStats at_start;
    uint64_t started_ms = 0;
  };

  void serve(NodeId from, const RepairMessage& request);
  void on_reply(const RepairMessage& reply, NodeTime now);
  void start_next(NodeTime now);
  void start_next_of_pass(NodeTime now);
  // Starts an exchange of `partition` with `peer`; false when this node's store failed.
  bool start_exchange(uint32_t partition, uint32_t last_partition, NodeId peer, ExchangeKind kind,
                      NodeTime now);
  // Streaming (repair_stream.cc): keeps stream_ in step with the ring; starts the next stream
  // exchange, answering false when there is none to start now.
  void follow_transition(NodeTime now);
  bool start_next_of_stream(NodeTime now);
  // Whether the walk still streams `gained` from `source`: one of its replicas, alive, not done.
  bool wants(const StreamPartition& gained, NodeId source) const;
  void on_stream_exchange_end(uint32_t partition, NodeId peer, bool complete);
  void serve_stream_status(NodeId from, const RepairMessage& request);
  // The next (partition, peer) to compare, advancing the cursor; nullopt when there is none.
  std::optional<std::pair<uint32_t, NodeId>> next_pair();
  // The pass's next pair; nullopt when the pass has walked its last partition.
  std::optional<std::pair<uint32_t, NodeId>> next_pass_pair();
  // The peers `partition` has this node start exchanges with (none unless it is a replica).
  std::vector<NodeId> peers_to_start(uint32_t partition) const;
  // Steps within the exchange.
  Status on_range_reply(const RepairMessage& reply, NodeTime now);
  Status on_key_digests_reply(const RepairMessage& reply, NodeTime now);
  Status on_states_reply(const RepairMessage& reply, NodeTime now);
  // Asks for the next page, the next slot's first page, or ends the exchange.
  void continue_after_page(NodeTime now);
  void request_states(NodeTime now);
  void push(std::string_view key, const KeyState& state);
  void send_request(RepairMessage request, RepairMessageType awaiting, NodeTime now);
  void send(NodeId to, std::string bytes);
  // Sends the exchange's unsent request once the bandwidth allows.
  void send_when_allowed(NodeTime now);
  // Charges the bytes used since the last charge to the bandwidth budget.
  void charge(NodeTime now);
  // Past the budget by more than kBudgetAheadUs: time is in whole milliseconds, so without that
  // slack any byte would hold the next request to the next millisecond's tick.
  bool over_budget(NodeTime now) const {
    return now.monotonic_ms * 1000 + kBudgetAheadUs < paid_until_us_;
  }
  // Records the peer's exchanges of the partition the run starting at `first_slot` is in.
  void learn(uint16_t first_slot, const std::vector<ExchangeRecord>& exchanges);
  // Ends the exchange, `complete` when it compared the whole partition; a running pass starts its
  // next exchange.
  void finish(NodeTime now, bool complete = false);

  NodeId self_;
  const ClusterView* view_;
  ReplicaService* replica_;
  ReplicaStore* store_;
  RepairHorizons* horizons_;
  Network* network_;
  RepairConfig config_;
  RepairStats stats_;
  std::optional<Exchange> exchange_;
  std::optional<Pass> pass_;
  std::optional<Stream> stream_;
  // transition_ready: the gaining members known ready for the ring of ready_epoch_, and when each
  // other one was last asked.
  uint64_t ready_epoch_ = 0;
  std::vector<NodeId> ready_;
  std::map<NodeId, uint64_t> asked_ms_;
  uint64_t next_start_ms_ = 0;
  uint64_t next_request_id_ = 1;
  // The cycle's cursor: the partition being compared, and its peers still to compare with.
  uint32_t partition_ = 0;
  std::vector<NodeId> partition_peers_;
  bool partition_started_ = false;
  uint64_t exchanges_at_cycle_start_ = 0;
  // The bandwidth budget: the bytes charged so far are paid for at paid_until_us_.
  uint64_t bytes_charged_ = 0;
  uint64_t paid_until_us_ = 0;
};

}  // namespace cairn
