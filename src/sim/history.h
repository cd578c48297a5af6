// History: every client operation of a simulated run, as invoked and as answered, for the
// checkers (checkers.h) to judge once the run is over.
//
// Thread-safety: none (the simulator is single-threaded).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cluster/cluster_request.h"
#include "cluster/consistency.h"
#include "common/node_id.h"

namespace cairn::sim {

struct OperationRecord {
  uint64_t id = 0;
  size_t client = 0;
  NodeId coordinator;
  ClusterRequest request;
  Consistency consistency;
  uint64_t invoked_us = 0;
  std::optional<uint64_t> completed_us;  // nullopt: never answered (its coordinator crashed)
  ClusterReply reply;

  bool acknowledged() const { return completed_us.has_value() && reply.status.is_ok(); }
};

class History {
 public:
  // Records an invocation; returns its id.
  uint64_t invoke(size_t client, NodeId coordinator, ClusterRequest request,
                  Consistency consistency, uint64_t now_us) {
    OperationRecord record;
    record.id = records_.size();
    record.client = client;
    record.coordinator = coordinator;
    record.request = std::move(request);
    record.consistency = consistency;
    record.invoked_us = now_us;
    records_.push_back(std::move(record));
    return records_.back().id;
  }
  void complete(uint64_t id, ClusterReply reply, uint64_t now_us) {
    OperationRecord& record = records_.at(id);
    record.completed_us = now_us;
    record.reply = std::move(reply);
  }
  const std::vector<OperationRecord>& records() const { return records_; }

 private:
  std::vector<OperationRecord> records_;
};

}  // namespace cairn::sim
