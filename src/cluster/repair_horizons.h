// RepairHorizons: what this node knows of the repair exchanges that compared a whole partition,
// and from them, how old a tombstone must be before a replica may purge it
// (docs/cluster-repair.md, "Purging tombstones").
//
// An exchange between two replicas leaves both holding the merge of what either held when it
// began. So once every pair of a partition's replicas has completed an exchange that began after
// time T, every tombstone any replica held at T is on all of them. A node learns of its own
// exchanges as they complete, and of the other pairs' from its peers, who send theirs with each
// range digest (repair_message.h). Records are kept per pair, the latest start winning; they live
// in memory only, so a restarted node purges nothing until it has heard of a whole round again.
//
// Thread-safety: none; the node's one thread.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "cluster/cluster_view.h"
#include "common/node_id.h"

namespace cairn {

// A completed exchange between two replicas of a partition: its start on the initiator's clock.
struct ExchangeRecord {
  NodeId first;   // the lower id of the pair
  NodeId second;  // the higher
  uint64_t started_unix_ms = 0;

  bool operator==(const ExchangeRecord&) const = default;
};

// The most records one partition's replicas can have: one per pair.
constexpr size_t kExchangeRecordsMax = kReplicaCountMax * (kReplicaCountMax - 1) / 2;

class RepairHorizons {
 public:
  static constexpr uint64_t kNoPeers = std::numeric_limits<uint64_t>::max();

  // REQUIRES: `view` outlives this.
  explicit RepairHorizons(const ClusterView* view) : view_(view), pairs_(kPartitionCount) {}

  // Keeps the record unless a later exchange of the same pair is known.
  // REQUIRES: partition < kPartitionCount; record.first < record.second.
  void record(uint32_t partition, const ExchangeRecord& record);
  // The records of pairs among the partition's current replicas: what this node tells a peer.
  std::vector<ExchangeRecord> records(uint32_t partition) const;
  // The oldest start among the latest exchanges of every pair of the partition's current
  // replicas: every tombstone a replica held then is on all of them. 0 while some pair has no
  // record; kNoPeers when the partition has one replica (or the ring is empty).
  uint64_t repaired_since_unix_ms(uint32_t partition) const;

 private:
  const ClusterView* view_;
  // Per partition, the latest start per pair (first, second).
  std::vector<std::map<std::pair<NodeId, NodeId>, uint64_t>> pairs_;
};

}  // namespace cairn
