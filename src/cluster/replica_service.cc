#include "cluster/replica_service.h"

#include <algorithm>
#include <cstdint>

#include "model/slot.h"

namespace cairn {

void ReplicaService::absorb(const KeyState& state, NodeTime now) {
  clock_->update(state.newest_version().timestamp, static_cast<uint64_t>(now.unix_ms));
}

Result<bool> ReplicaService::counter_op_refused(const CounterOp& op) {
  CAIRN_ASSIGN_OR_RETURN(const bool refused, store_->counter_op_refused(op));
  stats_.counter_replays += refused;
  return refused;
}

HlcTimestamp ReplicaService::purge_horizon(std::string_view key, NodeTime now) const {
  const uint64_t repaired_since_ms =
      horizons_->repaired_since_unix_ms(partition_of_slot(key_slot(key)));
  const int64_t horizon_ms =
      std::min<int64_t>(now.unix_ms, std::min<uint64_t>(repaired_since_ms, INT64_MAX)) -
      tombstone_grace_ms_;
  return horizon_ms > 0 ? HlcTimestamp::of(static_cast<uint64_t>(horizon_ms), 0) : HlcTimestamp{};
}

Status ReplicaService::write(std::string_view key, const KeyState& state,
                             std::optional<NodeId> hint_for, NodeTime now) {
  absorb(state, now);
  if (hint_for.has_value()) {
    stats_.hints_held++;
    CAIRN_RETURN_IF_ERROR(hints_->add(*hint_for, key, state, now.unix_ms));
  } else {
    CAIRN_ASSIGN_OR_RETURN(const MergeResult merged,
                           store_->apply(key, state, purge_horizon(key, now)));
    stats_.writes_applied += merged.changed;
    stats_.concurrent_writes += merged.concurrent;
  }
  return make_durable();
}

Status ReplicaService::make_durable() {
  written_ = true;
  return grouped_ ? Status::ok() : make_writes_durable();
}

Status ReplicaService::make_writes_durable() {
  if (!written_) return Status::ok();
  written_ = false;
  return durability_ == AckDurability::kSynced ? store_->sync() : store_->flush();
}

Result<KeyState> ReplicaService::read(std::string_view key, size_t* stored_bytes) {
  return store_->read(key, stored_bytes);
}

Result<KeyState> ReplicaService::counter_add(std::string_view key, WriteVersion coordinator_version,
                                             int64_t delta, int64_t coordinator_unix_ms,
                                             const CounterOp* op, int64_t* value_after,
                                             NodeTime now) {
  clock_->update(coordinator_version.timestamp, static_cast<uint64_t>(now.unix_ms));
  if (op != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(const bool refused, store_->counter_op_refused(*op));
    if (refused) {
      stats_.counter_replays++;
      return Status::invalid_argument("ERR increment already applied or too old to tell");
    }
  }
  CAIRN_ASSIGN_OR_RETURN(KeyState current, store_->read(key));
  // The increment is versioned by the leader, after everything its shard holds: the
  // coordinator's clock may be behind the state the leader has.
  absorb(current, now);
  const WriteVersion version{clock_->now(static_cast<uint64_t>(now.unix_ms)), self_};
  CAIRN_ASSIGN_OR_RETURN(
      KeyState shard, KeyState::counter_add(current, self_, store_->incarnation(), version, delta,
                                            coordinator_unix_ms, value_after));
  CAIRN_ASSIGN_OR_RETURN(const MergeResult merged,
                         store_->apply(key, shard, purge_horizon(key, now), op));
  stats_.writes_applied += merged.changed;
  stats_.concurrent_writes += merged.concurrent;
  CAIRN_RETURN_IF_ERROR(make_durable());
  return shard;
}

void ReplicaService::on_request(NodeId from, const ReplicationMessage& request, NodeTime now) {
  ReplicationMessage reply;
  reply.request_id = request.request_id;
  Status status;
  switch (request.type) {
    case ReplicationMessageType::kWrite:
      reply.type = ReplicationMessageType::kWriteAck;
      status = write(request.key, request.state, request.hint_for, now);
      break;
    case ReplicationMessageType::kRead: {
      reply.type = ReplicationMessageType::kReadReply;
      Result<KeyState> state = read(request.key);
      status = state.status();
      if (state.is_ok()) reply.state = std::move(state).value();
      break;
    }
    default:
      return;  // replies, and increments (the coordinator leads those), go elsewhere
  }
  if (!status.is_ok()) {
    stats_.failures++;
    reply.error = std::string(status.message().substr(0, 512));
  }
  if (request.request_id != 0) network_->send(from, encode_replication_message(reply));
}

Status ReplicaService::flush(WriteVersion version, NodeTime now) {
  clock_->update(version.timestamp, static_cast<uint64_t>(now.unix_ms));
  CAIRN_RETURN_IF_ERROR(store_->flush_older_than(version));
  CAIRN_RETURN_IF_ERROR(hints_->drop_older_than(version));
  return make_durable();
}

void ReplicaService::on_keyspace_request(NodeId from, const KeyspaceMessage& request,
                                         NodeTime now) {
  KeyspaceMessage reply;
  reply.request_id = request.request_id;
  Status status;
  switch (request.type) {
    case KeyspaceMessageType::kSlotScan: {
      reply.type = KeyspaceMessageType::kSlotScanReply;
      Result<SlotScanResult> result = scan(request.scan);
      status = result.status();
      if (result.is_ok()) reply.result = std::move(result).value();
      break;
    }
    case KeyspaceMessageType::kFlush:
      reply.type = KeyspaceMessageType::kFlushAck;
      status = flush(request.flush_version, now);
      break;
    default:
      return;  // replies go to the coordinator
  }
  if (!status.is_ok()) {
    stats_.failures++;
    reply.error = std::string(status.message().substr(0, 512));
  }
  network_->send(from, encode_keyspace_message(reply));
}

}  // namespace cairn
