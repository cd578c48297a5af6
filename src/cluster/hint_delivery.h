// HintDelivery: hands the hints this node holds (hint_store.h) to their targets once membership
// sees them alive. Each target has at most one batch in flight; a hint leaves the store when
// its target acknowledges it, and a batch not acknowledged in time is sent again later (a
// duplicate merge changes nothing at the target).
//
// Its requests carry ids with kHintDeliveryIdBit set, so the node routes their acks here and not
// to the coordinator.
//
// Thread-safety: none; one node's state machines run on one thread.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "cluster/cluster_view.h"
#include "cluster/hint_store.h"
#include "cluster/node_time.h"
#include "cluster/replication_message.h"
#include "io/network.h"

namespace cairn {

constexpr uint64_t kHintDeliveryIdBit = uint64_t{1} << 63;

struct HintDeliveryConfig {
  size_t hints_per_batch_max = 32;
  uint64_t ack_timeout_ms = 1000;  // a batch not acked by then is sent again
};

class HintDelivery {
 public:
  // REQUIRES: every pointer outlives the delivery.
  HintDelivery(const ClusterView* view, HintStore* hints, Network* network,
               HintDeliveryConfig config = {})
      : view_(view), hints_(hints), network_(network), config_(config) {}

  // Sends a batch to every target that is alive and has none in flight.
  void tick(NodeTime now);
  // A kWriteAck whose id has kHintDeliveryIdBit.
  void on_ack(NodeId from, const ReplicationMessage& ack);

  size_t in_flight() const { return in_flight_.size(); }

 private:
  struct Sent {
    NodeId target;
    uint64_t sequence = 0;
  };
  struct Batch {
    uint64_t deadline_ms = 0;
    size_t unacked = 0;
  };

  const ClusterView* view_;
  HintStore* hints_;
  Network* network_;
  HintDeliveryConfig config_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Sent> in_flight_;  // by request id
  std::map<NodeId, Batch> batches_;     // by target
};

}  // namespace cairn
