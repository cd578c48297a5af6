#include "cluster/cluster_node.h"

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
  node->replica_ = std::make_unique<ReplicaService>(
      self, node->store_.get(), node->hints_.get(), &node->clock_, network, config.ack_durability,
      config.grouped_durability, config.tombstone_grace_ms);
  node->coordinator_ =
      std::make_unique<Coordinator>(self, view, node->replica_.get(), node->hints_.get(),
                                    &node->clock_, network, config.coordinator);
  node->delivery_ =
      std::make_unique<HintDelivery>(view, node->hints_.get(), network, config.hint_delivery);
  return node;
}

void ClusterNode::on_message(NodeId from, std::string_view bytes, NodeTime now) {
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
    coordinator_->on_reply(from, *message, now);
  }
}

void ClusterNode::tick(NodeTime now) {
  coordinator_->tick(now);
  delivery_->tick(now);
  if (now.monotonic_ms >= next_sync_ms_) {
    next_sync_ms_ = now.monotonic_ms + config_.wal_sync_interval_ms;
    if (sync_status_.is_ok()) sync_status_ = store_->sync();
  }
}

}  // namespace cairn
