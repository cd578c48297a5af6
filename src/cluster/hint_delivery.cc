#include "cluster/hint_delivery.h"

namespace cairn {

void HintDelivery::tick(NodeTime now) {
  // Forget batches whose acks did not all come in time; their hints are still stored.
  for (auto it = batches_.begin(); it != batches_.end();) {
    if (it->second.deadline_ms > now.monotonic_ms) {
      ++it;
      continue;
    }
    const NodeId target = it->first;
    std::erase_if(in_flight_, [&](const auto& entry) { return entry.second.target == target; });
    it = batches_.erase(it);
  }
  for (const NodeId target : hints_->targets()) {
    if (batches_.contains(target) || !view_->is_alive(target)) continue;
    Result<std::vector<Hint>> hints =
        hints_->oldest(target, config_.hints_per_batch_max, now.unix_ms);
    if (!hints.is_ok() || hints->empty()) continue;
    batches_[target] = Batch{now.monotonic_ms + config_.ack_timeout_ms, hints->size()};
    for (Hint& hint : *hints) {
      const uint64_t id = kHintDeliveryIdBit | next_id_++;
      in_flight_[id] = Sent{target, hint.sequence};
      ReplicationMessage write;
      write.type = ReplicationMessageType::kWrite;
      write.request_id = id;
      write.key = std::move(hint.key);
      write.state = std::move(hint.state);
      network_->send(target, encode_replication_message(write));
    }
  }
}

void HintDelivery::on_ack(NodeId from, const ReplicationMessage& ack) {
  auto it = in_flight_.find(ack.request_id);
  if (it == in_flight_.end() || it->second.target != from || !ack.error.empty()) return;
  const Sent sent = it->second;
  in_flight_.erase(it);
  (void)hints_->remove_delivered(sent.target, sent.sequence);
  auto batch = batches_.find(sent.target);
  if (batch != batches_.end() && --batch->second.unacked == 0) batches_.erase(batch);
}

}  // namespace cairn
