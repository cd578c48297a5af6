#include "cluster/keyspace_coordinator.h"

#include <algorithm>

#include "cluster/node_identity.h"
#include "common/assert.h"
#include "model/slot.h"

namespace cairn {

namespace {

ScanPosition position_of(std::string key) {
  const uint16_t slot = key_slot(key);
  return ScanPosition{slot, std::move(key)};
}

template <typename Walks>
bool all_done(const Walks& walks) {
  return std::all_of(walks.begin(), walks.end(), [](const auto& walk) { return walk.done; });
}

// Whether a node's resume point lies after where its walk started and inside its ranges: one
// that does not would make the walk go back or run forever.
bool resume_is_ahead(const ScanPosition& resume, const ScanPosition& start,
                     const std::vector<ScanRange>& ranges) {
  if (!(start < resume) || !resume.after.has_value()) return false;
  return std::any_of(ranges.begin(), ranges.end(), [&](const ScanRange& range) {
    return resume.slot >= range.first && resume.slot <= range.last;
  });
}

}  // namespace

std::string KeyspaceCoordinator::command_of(const Operation& op) const {
  return op.request.command_name.empty() ? std::string(request_kind_name(op.request.kind))
                                         : op.request.command_name;
}

void KeyspaceCoordinator::submit(const ClusterRequest& request, NodeTime now, Completion done) {
  CAIRN_ASSERT(is_keyspace_wide(request.kind));
  const uint64_t id = next_id_++;
  Operation& op = operations_[id];
  op.id = id;
  op.request = request;
  op.done = std::move(done);
  if (view_->ring().empty()) {
    return fail(id, Status::busy("CLUSTERDOWN the cluster has no ring yet"));
  }
  if (operations_.size() > config_.requests_in_flight_max) {
    return fail(id, Status::busy("BUSY too many keyspace-wide requests in flight"));
  }
  if (request.query.start.slot >= kSlotCount) {
    return fail(id, Status::invalid_argument("ERR invalid cursor"));
  }
  if (request.query.pattern.size() > kScanPatternBytesMax) {
    return fail(id, Status::invalid_argument("ERR a pattern is at most " +
                                             std::to_string(kScanPatternBytesMax) +
                                             " bytes in cluster mode"));
  }
  constexpr uint16_t kLastSlot = kSlotCount - 1;
  switch (request.kind) {
    case RequestKind::kFlushAll:
      start_flush(op, now);
      break;
    case RequestKind::kScanKeys:
      start_reads(op, request.query.start, kLastSlot, now);
      break;
    case RequestKind::kRandomKey:
      op.random_first_slot =
          static_cast<uint16_t>(static_cast<uint64_t>(request.number) % kSlotCount);
      op.random_page_records = config_.random_key_records;
      start_reads(op, ScanPosition{op.random_first_slot, std::nullopt}, kLastSlot, now);
      break;
    default:
      start_reads(op, ScanPosition{}, kLastSlot, now);
      break;
  }
  serve_local(id, now);
}

// ---- Reads.

Status KeyspaceCoordinator::add_walks(Operation& op, const std::vector<ScanRange>& ranges,
                                      const ScanPosition& from) const {
  CAIRN_ASSERT(!ranges.empty() && from.slot >= ranges.front().first &&
               from.slot <= ranges.front().last);
  const Ring& ring = view_->ring();
  const size_t first_walk = op.walks.size();
  std::map<NodeId, size_t> walk_of;
  auto reader_of = [&](uint32_t partition) -> std::optional<NodeId> {
    for (const NodeId replica : ring.preference_list(partition)) {
      const bool passed =
          std::find(op.passed_over.begin(), op.passed_over.end(), replica) != op.passed_over.end();
      if (!passed && (replica == self_ || view_->is_alive(replica))) return replica;
    }
    return std::nullopt;
  };
  for (const ScanRange& range : ranges) {
    const uint32_t range_start = &range == &ranges.front() ? from.slot : range.first;
    for (uint32_t slot = range_start; slot <= range.last;) {
      const uint32_t partition = partition_of_slot(static_cast<uint16_t>(slot));
      const uint32_t end = std::min<uint32_t>((partition + 1) * kSlotsPerPartition - 1, range.last);
      const std::optional<NodeId> reader = reader_of(partition);
      if (!reader.has_value()) {
        return Status::busy("CLUSTERDOWN " + command_of(op) +
                            " needs a live replica of every slot, and slots " +
                            std::to_string(slot) + "-" + std::to_string(end) + " have none" +
                            (op.passed_over.empty() ? "" : " that answers in time"));
      }
      const auto [found, added] = walk_of.emplace(*reader, op.walks.size());
      if (added) {
        op.walks.push_back(Walk{});
        op.walks.back().node = *reader;
        op.walks.back().start = ScanPosition{static_cast<uint16_t>(slot), std::nullopt};
      }
      std::vector<ScanRange>& walk_ranges = op.walks[found->second].ranges;
      if (!walk_ranges.empty() && walk_ranges.back().last + 1u == slot) {
        walk_ranges.back().last = static_cast<uint16_t>(end);
      } else {
        walk_ranges.push_back(ScanRange{static_cast<uint16_t>(slot), static_cast<uint16_t>(end)});
      }
      slot = end + 1;
    }
  }
  // The first walk added holds from's slot: it resumes there, after from's key if it has one.
  op.walks[first_walk].start = from;
  return Status::ok();
}

void KeyspaceCoordinator::start_reads(Operation& op, const ScanPosition& from, uint16_t last_slot,
                                      NodeTime now) {
  CAIRN_ASSERT(from.slot <= last_slot && last_slot < kSlotCount);
  op.walks.clear();
  const Status planned = add_walks(op, {ScanRange{from.slot, last_slot}}, from);
  if (!planned.is_ok()) return fail(op.id, planned);
  for (size_t i = 0; i < op.walks.size(); i++) send_step(op, i, now);
}

void KeyspaceCoordinator::pass_over(Operation& op, size_t index, NodeTime now) {
  Walk& late = op.walks[index];
  messages_.erase(late.message_id);
  late.message_id = 0;
  late.done = true;  // its slots are read by the walks added now
  op.passed_over.push_back(late.node);
  const std::vector<ScanRange> ranges = std::move(late.ranges);
  const ScanPosition from = std::move(late.start);
  late.ranges.clear();
  const size_t first_added = op.walks.size();
  const Status planned = add_walks(op, ranges, from);
  if (!planned.is_ok()) {
    return fail(op.id,
                Status::busy(std::string(planned.message()) + " (node " +
                             cluster_node_name(op.passed_over.back()) + " did not answer within " +
                             std::to_string(config_.scan_timeout_ms) + " ms)"));
  }
  for (size_t i = first_added; i < op.walks.size(); i++) send_step(op, i, now);
}

SlotScan KeyspaceCoordinator::scan_of(const Operation& op, const Walk& walk, NodeTime now) const {
  SlotScan scan;
  scan.ranges = walk.ranges;
  scan.start = walk.start;
  scan.now_unix_ms = now.unix_ms;
  const KeyspaceQuery& query = op.request.query;
  switch (op.request.kind) {
    case RequestKind::kCountKeys:
      scan.count_only = true;
      break;
    case RequestKind::kListKeys:
      scan.pattern = query.pattern;
      scan.type = query.type;
      break;
    case RequestKind::kScanKeys:
      scan.pattern = query.pattern;
      scan.type = query.type;
      scan.records_max = std::clamp<uint64_t>(query.count, 1, kSlotScanRecordsMax);
      scan.keys_max = std::min(scan.records_max, kSlotScanKeysMax);
      break;
    case RequestKind::kRandomKey:
      scan.records_max = op.random_page_records;
      scan.keys_max = op.random_page_records;
      break;
    default:
      CAIRN_ASSERT(false);
  }
  return scan;
}

void KeyspaceCoordinator::send_step(Operation& op, size_t index, NodeTime now) {
  Walk& walk = op.walks[index];
  if (walk.node == self_) {
    walk.local_due = true;  // served by serve_local, once every remote step is on its way
    return;
  }
  const bool flush = op.request.kind == RequestKind::kFlushAll;
  walk.message_id = next_id_++;
  walk.deadline_ms =
      now.monotonic_ms + (flush ? config_.flush_timeout_ms : config_.scan_timeout_ms);
  messages_[walk.message_id] = {op.id, index};
  send_message(op, walk, now);
}

void KeyspaceCoordinator::send_message(const Operation& op, Walk& walk, NodeTime now) {
  CAIRN_ASSERT(walk.message_id != 0);
  KeyspaceMessage message;
  message.request_id = walk.message_id;
  if (op.request.kind == RequestKind::kFlushAll) {
    message.type = KeyspaceMessageType::kFlush;
    message.flush_version = op.flush_version;
  } else {
    message.type = KeyspaceMessageType::kSlotScan;
    message.scan = scan_of(op, walk, now);
  }
  walk.resend_ms = now.monotonic_ms + config_.resend_interval_ms;
  network_->send(walk.node, encode_keyspace_message(message));
}

void KeyspaceCoordinator::serve_local(uint64_t id, NodeTime now) {
  while (true) {
    const auto it = operations_.find(id);
    if (it == operations_.end()) return;
    Operation& op = it->second;
    const auto due = std::find_if(op.walks.begin(), op.walks.end(),
                                  [](const Walk& walk) { return walk.local_due; });
    if (due == op.walks.end()) return;
    due->local_due = false;
    const auto index = static_cast<size_t>(due - op.walks.begin());
    if (op.request.kind == RequestKind::kFlushAll) {
      const Status flushed = local_->flush(op.flush_version, now);
      if (!flushed.is_ok()) return fail(id, flushed.with_context("ERR FLUSHALL on this node"));
      on_flush_ack(op, index, now);
      continue;
    }
    Result<SlotScanResult> result = local_->scan(scan_of(op, *due, now));
    if (!result.is_ok()) return fail(id, result.status().with_context("ERR " + command_of(op)));
    on_scan_result(op, index, std::move(result).value(), now);
  }
}

void KeyspaceCoordinator::on_scan_result(Operation& op, size_t index, SlotScanResult result,
                                         NodeTime now) {
  Walk& walk = op.walks[index];
  if (result.resume.has_value() && !resume_is_ahead(*result.resume, walk.start, walk.ranges)) {
    return fail(op.id, Status::corruption("ERR " + command_of(op) + ": node " +
                                          cluster_node_name(walk.node) +
                                          " answered a resume point outside its slots"));
  }
  const bool gathers =
      op.request.kind == RequestKind::kCountKeys || op.request.kind == RequestKind::kListKeys;
  if (!gathers) {  // one round: the page is judged once every walk answered
    walk.page = std::move(result);
    walk.done = true;
    if (all_done(op.walks)) on_page(op, now);
    return;
  }
  op.count += result.matched;
  for (std::string& key : result.keys) op.keys.push_back(std::move(key));
  if (op.keys.size() > config_.listed_keys_max) {
    return fail(op.id, Status::invalid_argument(
                           "ERR KEYS matches more than " + std::to_string(config_.listed_keys_max) +
                           " keys in cluster mode; iterate with SCAN instead"));
  }
  if (result.resume.has_value()) {
    // Resume where the node stopped: the ranges it finished are dropped.
    const uint16_t slot = result.resume->slot;
    std::erase_if(walk.ranges, [slot](const ScanRange& range) { return range.last < slot; });
    walk.start = std::move(*result.resume);
    return send_step(op, index, now);
  }
  walk.done = true;
  if (!all_done(op.walks)) return;
  ClusterReply reply;
  reply.integer = static_cast<int64_t>(op.count);
  std::vector<ScanPosition> found;
  for (std::string& key : op.keys) found.push_back(position_of(std::move(key)));
  std::sort(found.begin(), found.end());
  for (ScanPosition& position : found) reply.values.push_back(std::move(*position.after));
  finish(op.id, std::move(reply));
}

void KeyspaceCoordinator::on_page(Operation& op, NodeTime now) {
  // The frontier: the earliest point where a node stopped short. Every key before it was seen.
  std::optional<ScanPosition> frontier;
  for (const Walk& walk : op.walks) {
    if (walk.page.resume.has_value() && (!frontier || *walk.page.resume < *frontier)) {
      frontier = walk.page.resume;
    }
  }
  std::vector<ScanPosition> found;
  for (Walk& walk : op.walks) {
    for (std::string& key : walk.page.keys) {
      ScanPosition position = position_of(std::move(key));
      if (!frontier || position <= *frontier) found.push_back(std::move(position));
    }
  }
  std::sort(found.begin(), found.end());
  ClusterReply reply;
  if (op.request.kind == RequestKind::kScanKeys) {
    for (ScanPosition& position : found) reply.values.push_back(std::move(*position.after));
    reply.next = std::move(frontier);
    return finish(op.id, std::move(reply));
  }
  // kRandomKey: a key of this page, else the next page, wrapping once past the last slot.
  const auto number = static_cast<uint64_t>(op.request.number);
  if (!found.empty()) {
    reply.value = std::move(*found[(number / kSlotCount) % found.size()].after);
    return finish(op.id, std::move(reply));
  }
  // Pages of deleted or expired keys only: each next page visits twice as many records.
  op.random_page_records = std::min(op.random_page_records * 2, kSlotScanRecordsMax);
  const uint16_t last_slot = op.wrapped ? op.random_first_slot - 1 : kSlotCount - 1;
  if (frontier.has_value()) return start_reads(op, *frontier, last_slot, now);
  if (!op.wrapped && op.random_first_slot > 0) {
    op.wrapped = true;
    return start_reads(op, ScanPosition{}, op.random_first_slot - 1, now);
  }
  finish(op.id, std::move(reply));  // no live key anywhere: nil
}

// ---- Flush.

void KeyspaceCoordinator::start_flush(Operation& op, NodeTime now) {
  for (const RingMember& member : view_->ring().members()) {
    if (member.id != self_ && !view_->is_alive(member.id)) {
      return fail(op.id,
                  Status::busy("CLUSTERDOWN " + command_of(op) +
                               " needs every node of the ring, and node " +
                               cluster_node_name(member.id) + " is down; nothing was flushed"));
    }
  }
  op.flush_version = WriteVersion{clock_->now(static_cast<uint64_t>(now.unix_ms)), self_};
  for (const RingMember& member : view_->ring().members()) {
    op.walks.push_back(Walk{});
    op.walks.back().node = member.id;
  }
  for (size_t i = 0; i < op.walks.size(); i++) send_step(op, i, now);
}

void KeyspaceCoordinator::on_flush_ack(Operation& op, size_t index, NodeTime) {
  op.walks[index].done = true;
  if (!all_done(op.walks)) return;
  ClusterReply reply;
  reply.version = op.flush_version;
  finish(op.id, std::move(reply));
}

// ---- Replies, deadlines, endings.

void KeyspaceCoordinator::on_reply(NodeId from, const KeyspaceMessage& reply, NodeTime now) {
  const auto message = messages_.find(reply.request_id);
  if (message == messages_.end()) return;
  const auto [id, index] = message->second;
  const auto it = operations_.find(id);
  CAIRN_ASSERT(it != operations_.end());
  Operation& op = it->second;
  Walk& walk = op.walks[index];
  const bool flush = op.request.kind == RequestKind::kFlushAll;
  const KeyspaceMessageType expected =
      flush ? KeyspaceMessageType::kFlushAck : KeyspaceMessageType::kSlotScanReply;
  if (from != walk.node || reply.type != expected) return;
  messages_.erase(message);
  walk.message_id = 0;
  if (!reply.error.empty()) {
    return fail(id, Status::io_error("ERR " + command_of(op) + ": node " + cluster_node_name(from) +
                                     " failed: " + reply.error));
  }
  if (flush) {
    on_flush_ack(op, index, now);
  } else {
    on_scan_result(op, index, reply.result, now);
  }
  serve_local(id, now);
}

void KeyspaceCoordinator::tick(NodeTime now) {
  std::vector<std::pair<uint64_t, size_t>> late;
  for (auto& [id, op] : operations_) {
    for (size_t i = 0; i < op.walks.size(); i++) {
      Walk& walk = op.walks[i];
      if (walk.message_id == 0) continue;
      if (walk.deadline_ms <= now.monotonic_ms) {
        late.emplace_back(id, i);
      } else if (walk.resend_ms <= now.monotonic_ms) {
        send_message(op, walk, now);  // the bus may have dropped it (a reconnect's backoff)
      }
    }
  }
  for (const auto& [id, index] : late) {
    const auto it = operations_.find(id);  // an earlier one may have ended it
    if (it == operations_.end() || it->second.walks[index].message_id == 0) continue;
    Operation& op = it->second;
    if (op.request.kind != RequestKind::kFlushAll) {
      pass_over(op, index, now);
      serve_local(id, now);
      continue;
    }
    const auto acked =
        std::count_if(op.walks.begin(), op.walks.end(), [](const Walk& w) { return w.done; });
    fail(id, Status::busy("CLUSTERDOWN " + command_of(op) + " was acked by " +
                          std::to_string(acked) + " of " + std::to_string(op.walks.size()) +
                          " nodes of the ring in time (node " +
                          cluster_node_name(op.walks[index].node) + " did not answer within " +
                          std::to_string(config_.flush_timeout_ms) +
                          " ms); those that acked flushed: retry once every node is up"));
  }
}

void KeyspaceCoordinator::finish(uint64_t id, ClusterReply reply) {
  const auto it = operations_.find(id);
  if (it == operations_.end()) return;
  for (const Walk& walk : it->second.walks) {
    if (walk.message_id != 0) messages_.erase(walk.message_id);
  }
  // The completion may submit more requests: move it out first.
  Completion done = std::move(it->second.done);
  operations_.erase(it);
  done(std::move(reply));
}

void KeyspaceCoordinator::fail(uint64_t id, const Status& status) {
  ClusterReply reply;
  reply.status = status;
  finish(id, std::move(reply));
}

}  // namespace cairn
