#include "cluster/cluster_node.h"

#include <optional>
#include <vector>

namespace cairn {

Result<std::unique_ptr<ClusterNode>> ClusterNode::open(NodeId self, Database* database,
                                                       const ClusterView* view, Network* network,
                                                       ClusterNodeConfig config) {
  if (config.tombstone_grace_ms <= config.hint_limits.window_ms) {
    return Status::invalid_argument(
        "cluster: the tombstone grace period must be longer than the hint window");
  }
  std::unique_ptr<ClusterNode> node(new ClusterNode(self, config));
  CAIRN_ASSIGN_OR_RETURN(node->store_, ReplicaStore::open(database));
  CAIRN_ASSIGN_OR_RETURN(node->hints_, HintStore::open(database, config.hint_limits));
  node->horizons_ = std::make_unique<RepairHorizons>(view);
  node->replica_ = std::make_unique<ReplicaService>(
      self, node->store_.get(), node->hints_.get(), &node->clock_, node->horizons_.get(), network,
      config.ack_durability, config.grouped_durability, config.tombstone_grace_ms);
  node->coordinator_ =
      std::make_unique<Coordinator>(self, view, node->replica_.get(), node->hints_.get(),
                                    &node->clock_, network, config.coordinator);
  node->keyspace_ = std::make_unique<KeyspaceCoordinator>(self, view, node->replica_.get(),
                                                          &node->clock_, network, config.keyspace);
  node->delivery_ =
      std::make_unique<HintDelivery>(view, node->hints_.get(), network, config.hint_delivery);
  node->repair_ =
      std::make_unique<RepairService>(self, view, node->replica_.get(), node->store_.get(),
                                      node->horizons_.get(), network, config.repair);
  node->cleanup_ = std::make_unique<PartitionCleanup>(self, view, node->store_.get(),
                                                      config.repair.stream_settle_ms);
  return node;
}

void ClusterNode::submit(ClusterRequest request, Consistency consistency, NodeTime now,
                         Coordinator::Completion done) {
  if (is_keyspace_wide(request.kind)) {
    keyspace_->submit(request, now, std::move(done));
  } else {
    coordinator_->submit(std::move(request), consistency, now, std::move(done));
  }
}

void ClusterNode::on_keyspace_message(NodeId from, std::string_view bytes, NodeTime now) {
  Result<KeyspaceMessage> message = decode_keyspace_message(bytes);
  if (!message.is_ok()) {
    malformed_messages_++;
    return;
  }
  switch (message->type) {
    case KeyspaceMessageType::kSlotScan:
    case KeyspaceMessageType::kFlush:
      replica_->on_keyspace_request(from, *message, now);
      return;
    default:
      keyspace_->on_reply(from, *message, now);
      return;
  }
}

void ClusterNode::on_repair_message(NodeId from, std::string_view bytes, NodeTime now) {
  Result<RepairMessage> message = decode_repair_message(bytes);
  if (!message.is_ok()) {
    malformed_messages_++;
    return;
  }
  repair_->on_message(from, *message, bytes.size(), now);
}

void ClusterNode::on_message(NodeId from, std::string_view bytes, NodeTime now) {
  const auto channel = bytes.empty() ? uint8_t{0} : static_cast<uint8_t>(bytes[0]);
  if (channel == static_cast<uint8_t>(MessageChannel::kKeyspace)) {
    return on_keyspace_message(from, bytes, now);
  }
  if (channel == static_cast<uint8_t>(MessageChannel::kRepair)) {
    return on_repair_message(from, bytes, now);
  }
  Result<ReplicationMessage> message = decode_replication_message(bytes);
  if (!message.is_ok()) {
    malformed_messages_++;
    return;
  }
  switch (message->type) {
    case ReplicationMessageType::kWrite:
    case ReplicationMessageType::kRead:
      replica_->on_request(from, *message, now);
      return;
    case ReplicationMessageType::kCounterAdd:
      coordinator_->lead_increment(from, *message, now);
      return;
    default:
      break;
  }
  if ((message->request_id & kHintDeliveryIdBit) != 0) {
    delivery_->on_ack(from, *message);
  } else {
    coordinator_->on_reply(from, *message, bytes.size(), now);
  }
}

void ClusterNode::prefetch(std::span<const std::string_view> messages) const {
  std::vector<std::string_view> keys;
  for (const std::string_view message : messages) {
    const std::optional<std::string_view> key = replication_read_key(message);
    if (key.has_value()) keys.push_back(*key);
  }
  if (!keys.empty()) store_->prefetch(keys);
}

void ClusterNode::tick(NodeTime now) {
  coordinator_->tick(now);
  keyspace_->tick(now);
  delivery_->tick(now);
  repair_->tick(now);
  if (config_.partition_cleanup) cleanup_->tick(now);
  if (now.monotonic_ms >= next_sync_ms_) {
    next_sync_ms_ = now.monotonic_ms + config_.wal_sync_interval_ms;
    if (sync_status_.is_ok()) sync_status_ = store_->sync();
  }
}

}  // namespace cairn
