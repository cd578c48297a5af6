#include "cluster/repair_service.h"

#include <algorithm>
#include <bit>

#include "cluster/merkle_tree.h"
#include "cluster/replication_message.h"
#include "common/assert.h"
#include "common/checksum.h"

namespace cairn {

namespace {

constexpr size_t kErrorBytesMax = 512;
// After a walk over every partition found nothing to compare.
constexpr uint64_t kIdleRetryMs = 1000;

std::string error_text(const Status& status) {
  return std::string(status.message().substr(0, kErrorBytesMax));
}

uint64_t root_of(const std::vector<uint64_t>& leaves) {
  return MerkleTree::of_leaves(leaves).root();
}

// Which of a pair of replicas starts their exchanges of `partition`: the lower id in even
// partitions, the higher in odd ones, so every replica starts about as many as the others.
bool initiates(NodeId self, NodeId peer, uint32_t partition) {
  return (self < peer) == (partition % 2 == 0);
}

}  // namespace

// ---- Serving a peer.

void RepairService::on_message(NodeId from, const RepairMessage& message, size_t bytes,
                               NodeTime now) {
  stats_.bytes_received += bytes;
  switch (message.type) {
    case RepairMessageType::kRangeDigest:
    case RepairMessageType::kKeyDigests:
    case RepairMessageType::kStates:
      return serve(from, message);
    case RepairMessageType::kStreamStatus:
      return serve_stream_status(from, message);
    case RepairMessageType::kStreamStatusReply:
      if (message.ready && message.ring_epoch == ready_epoch_ &&
          std::find(ready_.begin(), ready_.end(), from) == ready_.end()) {
        ready_.push_back(from);
      }
      return;
    default:
      if (exchange_ && !exchange_->unsent && exchange_->peer == from &&
          exchange_->request_id == message.request_id && exchange_->awaiting == message.type) {
        on_reply(message, now);
      }
  }
}

void RepairService::serve(NodeId from, const RepairMessage& request) {
  RepairMessage reply;
  reply.request_id = request.request_id;
  Status status;
  switch (request.type) {
    case RepairMessageType::kRangeDigest: {
      reply.type = RepairMessageType::kRangeDigestReply;
      Result<std::vector<uint64_t>> digests =
          store_->slot_digests(request.first_slot, request.last_slot);
      status = digests.status();
      if (!status.is_ok()) break;
      // Only a run of a power-of-two length has a root to compare; any other sends its digests.
      const bool comparable = std::has_single_bit(digests->size());
      reply.equal = comparable && root_of(*digests) == request.root;
      if (!reply.equal) reply.slot_digests = std::move(digests).value();
      learn(request.first_slot, request.exchanges);
      reply.exchanges = horizons_->records(partition_of_slot(request.first_slot));
      break;
    }
    case RepairMessageType::kKeyDigests: {
      reply.type = RepairMessageType::kKeyDigestsReply;
      Result<std::vector<KeyDigest>> page =
          store_->key_digests(request.first_slot, request.after, {}, kRepairKeyDigestsMax + 1);
      status = page.status();
      if (!status.is_ok()) break;
      reply.key_digests = std::move(page).value();
      reply.more = reply.key_digests.size() > kRepairKeyDigestsMax;
      if (reply.more) reply.key_digests.pop_back();
      break;
    }
    case RepairMessageType::kStates: {
      reply.type = RepairMessageType::kStatesReply;
      uint64_t reply_bytes = 0;
      for (const std::string& key : request.keys) {
        if (reply_bytes >= config_.states_reply_bytes_max) {
          stats_.states_replies_cut++;
          break;
        }
        size_t stored_bytes = 0;
        Result<KeyState> state = store_->read(key, &stored_bytes);
        status = state.status();
        if (!status.is_ok()) break;
        reply_bytes += key.size() + stored_bytes;
        reply.states.emplace_back(key, std::move(state).value());
      }
      break;
    }
    default:
      CAIRN_ASSERT(false);
  }
  if (!status.is_ok()) {
    reply.slot_digests.clear();
    reply.key_digests.clear();
    reply.more = false;
    reply.states.clear();
    reply.error = error_text(status);
  }
  send(from, encode_repair_message(reply));
}

// ---- Comparing with a peer.

void RepairService::tick(NodeTime now) {
  charge(now);
  if (exchange_ && exchange_->unsent) send_when_allowed(now);
  if (exchange_ && !exchange_->unsent && now.monotonic_ms >= exchange_->deadline_ms) {
    stats_.timeouts++;
    finish(now);
  }
  follow_transition(now);
  if (exchange_ || over_budget(now)) return;
  if (start_next_of_stream(now)) return;
  if (pass_ && pass_->status.running) {
    start_next_of_pass(now);
  } else if (config_.enabled && now.monotonic_ms >= next_start_ms_) {
    start_next(now);
  }
}

std::vector<NodeId> RepairService::peers_to_start(uint32_t partition) const {
  std::vector<NodeId> peers;
  const Ring& ring = view_->ring();
  if (ring.empty()) return peers;
  const std::span<const NodeId> replicas = ring.preference_list(partition);
  if (std::find(replicas.begin(), replicas.end(), self_) == replicas.end()) return peers;
  // Reversed: the walks take peers from the back, so in list order.
  for (auto it = replicas.rbegin(); it != replicas.rend(); ++it) {
    if (*it != self_ && initiates(self_, *it, partition)) peers.push_back(*it);
  }
  return peers;
}

std::optional<std::pair<uint32_t, NodeId>> RepairService::next_pair() {
  const Ring& ring = view_->ring();
  if (ring.empty() || !ring.contains(self_)) return std::nullopt;
  // At most one whole cycle per call: every partition's peers are looked at once.
  for (uint32_t step = 0; step <= kPartitionCount; step++) {
    while (!partition_peers_.empty()) {
      const NodeId peer = partition_peers_.back();
      partition_peers_.pop_back();
      if (ring.contains(peer) && view_->is_alive(peer)) return std::make_pair(partition_, peer);
    }
    if (partition_started_) {
      partition_ = (partition_ + 1) % kPartitionCount;
      if (partition_ == 0) {
        // A cycle counts when it compared something: a node with no pair to compare walks on.
        if (stats_.exchanges_started > exchanges_at_cycle_start_) stats_.cycles_completed++;
        exchanges_at_cycle_start_ = stats_.exchanges_started;
      }
    }
    partition_started_ = true;
    partition_peers_ = peers_to_start(partition_);
  }
  return std::nullopt;
}

void RepairService::start_next(NodeTime now) {
  next_start_ms_ = now.monotonic_ms + config_.partition_interval_ms;
  const std::optional<std::pair<uint32_t, NodeId>> pair = next_pair();
  if (!pair) {
    // Nothing to compare (no other replica to start with, or none alive): look again later.
    next_start_ms_ = now.monotonic_ms + kIdleRetryMs;
    return;
  }
  start_exchange(pair->first, pair->first, pair->second, ExchangeKind::kBackground, now);
}

// ---- On-demand passes.

void RepairService::start_pass(uint64_t id, uint32_t first_partition, uint32_t last_partition,
                               NodeTime now) {
  CAIRN_ASSERT(first_partition <= last_partition && last_partition < kPartitionCount);
  Pass pass;
  pass.status.id = id;
  pass.status.running = true;
  pass.status.first_partition = first_partition;
  pass.status.last_partition = last_partition;
  pass.partition = first_partition;
  pass.at_start = stats_;
  pass.at_start.bytes_read = store_->digest_bytes_read();
  pass.started_ms = now.monotonic_ms;
  pass_ = std::move(pass);
}

RepairPassStatus RepairService::pass_status(NodeTime now) const {
  if (!pass_) return RepairPassStatus{};
  RepairPassStatus status = pass_->status;
  if (!status.running) return status;
  const RepairStats& before = pass_->at_start;
  status.slots_differing = stats_.slots_differing - before.slots_differing;
  status.keys_fetched = stats_.keys_fetched - before.keys_fetched;
  status.keys_pushed = stats_.keys_pushed - before.keys_pushed;
  status.bytes = (stats_.bytes_sent + stats_.bytes_received + store_->digest_bytes_read()) -
                 (before.bytes_sent + before.bytes_received + before.bytes_read);
  status.elapsed_ms = now.monotonic_ms - pass_->started_ms;
  return status;
}

void RepairService::start_next_of_pass(NodeTime now) {
  const std::optional<std::pair<uint32_t, NodeId>> pair = next_pass_pair();
  if (!pair) {
    pass_->status = pass_status(now);  // the counts, frozen
    pass_->status.running = false;
    return;
  }
  if (!start_exchange(pair->first, pair->first, pair->second, ExchangeKind::kPass, now)) {
    pass_->status.exchanges_failed++;
  }
}

std::optional<std::pair<uint32_t, NodeId>> RepairService::next_pass_pair() {
  Pass& pass = *pass_;
  const Ring& ring = view_->ring();
  // Each turn of the loop takes a peer or walks past a partition: bounded by the run.
  while (true) {
    while (!pass.peers.empty()) {
      const NodeId peer = pass.peers.back();
      pass.peers.pop_back();
      if (ring.contains(peer) && view_->is_alive(peer)) return std::make_pair(pass.partition, peer);
      pass.status.peers_skipped++;
    }
    if (pass.partition_started) {
      pass.status.partitions_done++;
      if (pass.partition == pass.status.last_partition) return std::nullopt;
      pass.partition++;
    }
    pass.partition_started = true;
    pass.peers = peers_to_start(pass.partition);
  }
}

bool RepairService::start_exchange(uint32_t partition, uint32_t last_partition, NodeId peer,
                                   ExchangeKind kind, NodeTime now) {
  CAIRN_ASSERT(partition <= last_partition && last_partition < kPartitionCount);
  CAIRN_ASSERT(last_partition - partition < kStreamRunPartitionsMax);
  const uint16_t first_slot = static_cast<uint16_t>(partition * kSlotsPerPartition);
  const uint16_t last_slot = static_cast<uint16_t>((last_partition + 1) * kSlotsPerPartition - 1);
  Result<std::vector<uint64_t>> digests = store_->slot_digests(first_slot, last_slot);
  if (!digests.is_ok()) return false;  // the store's error: the next cycle tries again
  (kind == ExchangeKind::kStream ? stats_.stream_exchanges : stats_.exchanges_started)++;
  exchange_.emplace();
  exchange_->peer = peer;
  exchange_->partition = partition;
  exchange_->last_partition = last_partition;
  exchange_->started_unix_ms = static_cast<uint64_t>(now.unix_ms);
  exchange_->kind = kind;
  RepairMessage request;
  request.type = RepairMessageType::kRangeDigest;
  request.first_slot = first_slot;
  request.last_slot = last_slot;
  // Only a run of a power-of-two length has a root (the peer then answers every slot digest).
  request.root = std::has_single_bit(digests->size()) ? root_of(*digests) : 0;
  request.exchanges = horizons_->records(partition);
  send_request(std::move(request), RepairMessageType::kRangeDigestReply, now);
  return true;
}

void RepairService::on_reply(const RepairMessage& reply, NodeTime now) {
  if (!reply.error.empty()) {
    stats_.errors++;
    return finish(now);
  }
  Status status;
  switch (reply.type) {
    case RepairMessageType::kRangeDigestReply:
      status = on_range_reply(reply, now);
      break;
    case RepairMessageType::kKeyDigestsReply:
      status = on_key_digests_reply(reply, now);
      break;
    case RepairMessageType::kStatesReply:
      status = on_states_reply(reply, now);
      break;
    default:
      CAIRN_ASSERT(false);
  }
  if (!status.is_ok()) finish(now);  // this node's store failed: the next cycle tries again
}

Status RepairService::on_range_reply(const RepairMessage& reply, NodeTime now) {
  const uint16_t first_slot = static_cast<uint16_t>(exchange_->partition * kSlotsPerPartition);
  learn(first_slot, reply.exchanges);
  if (reply.equal) {
    if (exchange_->kind != ExchangeKind::kStream) stats_.partitions_equal++;
    finish(now, /*complete=*/true);
    return Status::ok();
  }
  CAIRN_ASSIGN_OR_RETURN(
      const std::vector<uint64_t> mine,
      store_->slot_digests(
          first_slot,
          static_cast<uint16_t>((exchange_->last_partition + 1) * kSlotsPerPartition - 1)));
  if (reply.slot_digests.size() != mine.size()) {
    return Status::corruption("repair: a range digest reply of the wrong length");
  }
  if (std::has_single_bit(mine.size())) {
    for (const size_t leaf : MerkleTree::differing_leaves(
             MerkleTree::of_leaves(mine), MerkleTree::of_leaves(reply.slot_digests))) {
      exchange_->slots.push_back(static_cast<uint16_t>(first_slot + leaf));
    }
  } else {  // a stream's run of another length: no tree, the slots one by one
    for (size_t leaf = 0; leaf < mine.size(); leaf++) {
      if (mine[leaf] != reply.slot_digests[leaf]) {
        exchange_->slots.push_back(static_cast<uint16_t>(first_slot + leaf));
      }
    }
  }
  stats_.slots_differing += exchange_->slots.size();
  if (exchange_->slots.empty()) {
    finish(now, /*complete=*/true);
    return Status::ok();
  }
  exchange_->after.clear();
  exchange_->page_more = true;  // no page of the first slot was read yet
  exchange_->page_last.clear();
  continue_after_page(now);
  return Status::ok();
}

Status RepairService::on_key_digests_reply(const RepairMessage& reply, NodeTime now) {
  Exchange& exchange = *exchange_;
  exchange.page_more = reply.more;
  exchange.page_last = reply.key_digests.empty() ? std::string() : reply.key_digests.back().key;
  // This node's keys over the same span: after the cursor, up to the page's last key, or to the
  // slot's end when the page is its last.
  std::optional<std::string_view> through;
  if (reply.more) through = exchange.page_last;
  CAIRN_ASSIGN_OR_RETURN(const std::vector<KeyDigest> mine,
                         store_->key_digests(exchange.slots.front(), exchange.after, through));
  auto theirs = reply.key_digests.begin();
  auto own = mine.begin();
  while (theirs != reply.key_digests.end() || own != mine.end()) {
    if (own == mine.end() || (theirs != reply.key_digests.end() && theirs->key < own->key)) {
      exchange.to_fetch.emplace(theirs->key, theirs->digest);  // the peer's alone
      ++theirs;
    } else if (theirs == reply.key_digests.end() || own->key < theirs->key) {
      CAIRN_ASSIGN_OR_RETURN(const KeyState state, store_->read(own->key));  // this node's alone
      push(own->key, state);
      ++own;
    } else {
      if (theirs->digest != own->digest) exchange.to_fetch.emplace(theirs->key, theirs->digest);
      ++theirs;
      ++own;
    }
  }
  if (exchange.to_fetch.empty()) {
    continue_after_page(now);
  } else {
    request_states(now);
  }
  return Status::ok();
}

Status RepairService::on_states_reply(const RepairMessage& reply, NodeTime now) {
  Exchange& exchange = *exchange_;
  for (const auto& [key, state] : reply.states) {
    const auto fetched = exchange.to_fetch.find(key);
    if (fetched == exchange.to_fetch.end()) continue;  // not asked: ignore
    const uint64_t peer_digest = fetched->second;
    exchange.to_fetch.erase(fetched);
    CAIRN_RETURN_IF_ERROR(replica_->write(key, state, std::nullopt, now));
    stats_.keys_fetched++;
    CAIRN_ASSIGN_OR_RETURN(const KeyState merged, store_->read(key));
    // The peer's state digests as the bytes it stores: a merge it lacks digests otherwise.
    if (hash64(merged.encode()) != peer_digest) push(key, merged);
  }
  if (!exchange.to_fetch.empty()) {
    request_states(now);
  } else {
    continue_after_page(now);
  }
  return Status::ok();
}

void RepairService::continue_after_page(NodeTime now) {
  Exchange& exchange = *exchange_;
  if (!exchange.page_more) {
    // The slot is done.
    exchange.slots.erase(exchange.slots.begin());
    exchange.after.clear();
    if (exchange.slots.empty()) return finish(now, /*complete=*/true);
  } else if (!exchange.page_last.empty()) {
    exchange.after = exchange.page_last;
  }
  RepairMessage request;
  request.type = RepairMessageType::kKeyDigests;
  request.first_slot = exchange.slots.front();
  request.after = exchange.after;
  send_request(std::move(request), RepairMessageType::kKeyDigestsReply, now);
}

void RepairService::request_states(NodeTime now) {
  RepairMessage request;
  request.type = RepairMessageType::kStates;
  for (const auto& [key, digest] : exchange_->to_fetch) {
    if (request.keys.size() == kRepairStatesMax) break;
    request.keys.push_back(key);
  }
  send_request(std::move(request), RepairMessageType::kStatesReply, now);
}

void RepairService::push(std::string_view key, const KeyState& state) {
  ReplicationMessage write;
  write.type = ReplicationMessageType::kWrite;
  write.request_id = 0;  // no ack: the next cycle compares again
  write.key = std::string(key);
  write.state = state;
  stats_.keys_pushed++;
  send(exchange_->peer, encode_replication_message(write));
}

void RepairService::send_request(RepairMessage request, RepairMessageType awaiting, NodeTime now) {
  request.request_id = next_request_id_++;
  exchange_->request_id = request.request_id;
  exchange_->awaiting = awaiting;
  exchange_->unsent = std::move(request);
  send_when_allowed(now);
}

void RepairService::send_when_allowed(NodeTime now) {
  charge(now);
  if (over_budget(now)) return;
  exchange_->deadline_ms = now.monotonic_ms + (exchange_->kind == ExchangeKind::kStream
                                                   ? config_.stream_request_timeout_ms
                                                   : config_.request_timeout_ms);
  send(exchange_->peer, encode_repair_message(*exchange_->unsent));
  exchange_->unsent.reset();
}

void RepairService::charge(NodeTime now) {
  stats_.bytes_read = store_->digest_bytes_read();
  const uint64_t used = stats_.bytes_sent + stats_.bytes_received + stats_.bytes_read;
  const uint64_t bytes = used - bytes_charged_;
  bytes_charged_ = used;
  if (config_.bytes_per_second_max == 0 || bytes == 0) return;
  paid_until_us_ = std::max(paid_until_us_, now.monotonic_ms * 1000) +
                   bytes * 1'000'000 / config_.bytes_per_second_max;
}

void RepairService::send(NodeId to, std::string bytes) {
  stats_.bytes_sent += bytes.size();
  network_->send(to, std::move(bytes));
}

void RepairService::learn(uint16_t first_slot, const std::vector<ExchangeRecord>& exchanges) {
  for (const ExchangeRecord& record : exchanges) {
    horizons_->record(partition_of_slot(first_slot), record);
  }
}

void RepairService::finish(NodeTime now, bool complete) {
  if (exchange_->kind == ExchangeKind::kPass && pass_ && pass_->status.running) {
    (complete ? pass_->status.exchanges_completed : pass_->status.exchanges_failed)++;
  }
  for (uint32_t p = exchange_->partition; p <= exchange_->last_partition; p++) {
    if (exchange_->kind == ExchangeKind::kStream) {
      on_stream_exchange_end(p, exchange_->peer, complete);
    }
    if (complete) {
      const auto [first, second] = std::minmax(self_, exchange_->peer);
      horizons_->record(p, ExchangeRecord{first, second, exchange_->started_unix_ms});
    }
  }
  exchange_.reset();
  next_start_ms_ = std::max(next_start_ms_, now.monotonic_ms);
  // A stream or a pass goes on at once, paced by the bandwidth limit alone; tick() resumes it
  // otherwise.
  charge(now);
  if (over_budget(now) || start_next_of_stream(now)) return;
  if (pass_ && pass_->status.running) start_next_of_pass(now);
}

}  // namespace cairn
