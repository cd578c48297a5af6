// RepairService's part in ring transitions (repair_service.h, ring.h): a node gaining partitions
// streams them from their current replicas, and the claimant learns when every gaining node has.
#include <algorithm>

#include "cluster/repair_service.h"

namespace cairn {

namespace {

size_t quorum_of(size_t replicas) { return replicas / 2 + 1; }

bool contains(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

}  // namespace

void RepairService::follow_transition(NodeTime now) {
  const Ring& ring = view_->ring();
  if (ring.transition() != Ring::Transition::kNext) {
    stream_.reset();
    return;
  }
  if (stream_ && stream_->ring_epoch == ring.epoch()) return;
  Stream stream;
  stream.ring_epoch = ring.epoch();
  stream.start_ms = now.monotonic_ms + config_.stream_settle_ms;
  for (uint32_t partition = 0; partition < kPartitionCount; partition++) {
    const std::vector<NodeId> gaining = ring.gaining(partition);
    if (std::find(gaining.begin(), gaining.end(), self_) == gaining.end()) continue;
    StreamPartition& gained = stream.partitions[partition];
    if (!ring.empty()) {
      const std::span<const NodeId> sources = ring.preference_list(partition);
      gained.sources.assign(sources.begin(), sources.end());
    }
  }
  stream_ = std::move(stream);
}

bool RepairService::wants(const StreamPartition& gained, NodeId source) const {
  return source != self_ && contains(gained.sources, source) && !contains(gained.done, source) &&
         view_->is_alive(source);
}

bool RepairService::start_next_of_stream(NodeTime now) {
  if (!stream_ || now.monotonic_ms < stream_->start_ms ||
      stream_->complete == stream_->partitions.size()) {
    return false;
  }
  Stream& stream = *stream_;
  // One walk over the gained partitions from the cursor: the first source not streamed from yet
  // that is alive, and the run of the next partitions to stream from it too.
  auto it = stream.partitions.lower_bound(stream.cursor);
  for (size_t seen = 0; seen < stream.partitions.size(); seen++, ++it) {
    if (it == stream.partitions.end()) it = stream.partitions.begin();
    const auto& [partition, gained] = *it;
    for (const NodeId source : gained.sources) {
      if (!wants(gained, source)) continue;
      uint32_t last = partition;
      for (auto next = std::next(it);
           next != stream.partitions.end() && next->first == last + 1 &&
           last + 1 - partition < kStreamRunPartitionsMax && wants(next->second, source);
           ++next) {
        last++;
      }
      stream.cursor = partition;
      return start_exchange(partition, last, source, ExchangeKind::kStream, now);
    }
  }
  return false;
}

void RepairService::on_stream_exchange_end(uint32_t partition, NodeId peer, bool complete) {
  if (!complete || !stream_) return;  // a failed exchange is tried again
  const auto it = stream_->partitions.find(partition);
  if (it == stream_->partitions.end()) return;
  StreamPartition& gained = it->second;
  if (contains(gained.done, peer)) return;
  const bool was_complete = gained.done.size() >= quorum_of(gained.sources.size());
  gained.done.push_back(peer);
  // The union of what a quorum of the replicas held has every write they acknowledged; the walk
  // still streams from the others it finds alive.
  if (!was_complete && gained.done.size() >= quorum_of(gained.sources.size())) {
    stream_->complete++;
    stats_.partitions_streamed++;
  }
  stream_->cursor = partition + 1;
}

bool RepairService::streamed(uint64_t ring_epoch) const {
  return stream_ && stream_->ring_epoch == ring_epoch &&
         stream_->complete == stream_->partitions.size();
}

RepairService::StreamProgress RepairService::stream_progress() const {
  if (!stream_) return {};
  return StreamProgress{stream_->partitions.size(), stream_->complete};
}

void RepairService::serve_stream_status(NodeId from, const RepairMessage& request) {
  RepairMessage reply;
  reply.type = RepairMessageType::kStreamStatusReply;
  reply.request_id = request.request_id;
  reply.ring_epoch = request.ring_epoch;
  reply.ready = streamed(request.ring_epoch);
  send(from, encode_repair_message(reply));
}

bool RepairService::transition_ready(NodeTime now) {
  const Ring& ring = view_->ring();
  if (ring.transition() != Ring::Transition::kNext) return false;
  if (ready_epoch_ != ring.epoch()) {
    ready_epoch_ = ring.epoch();
    ready_.clear();
    asked_ms_.clear();
  }
  std::vector<NodeId> gainers;
  for (uint32_t partition = 0; partition < kPartitionCount; partition++) {
    for (const NodeId node : ring.gaining(partition)) {
      if (std::find(gainers.begin(), gainers.end(), node) == gainers.end()) gainers.push_back(node);
    }
  }
  bool all_ready = true;
  for (const NodeId node : gainers) {
    if (std::find(ready_.begin(), ready_.end(), node) != ready_.end()) continue;
    if (node == self_ && streamed(ring.epoch())) {
      ready_.push_back(node);
      continue;
    }
    all_ready = false;
    if (node == self_) continue;
    const auto asked = asked_ms_.find(node);
    if (asked != asked_ms_.end() &&
        now.monotonic_ms < asked->second + config_.stream_status_interval_ms) {
      continue;
    }
    asked_ms_[node] = now.monotonic_ms;
    RepairMessage request;
    request.type = RepairMessageType::kStreamStatus;
    request.request_id = next_request_id_++;
    request.ring_epoch = ring.epoch();
    send(node, encode_repair_message(request));
  }
  return all_ready;
}

}  // namespace cairn
