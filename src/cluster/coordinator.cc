#include "cluster/coordinator.h"

#include <algorithm>

#include "common/assert.h"
#include "model/slot.h"

namespace cairn {

namespace {

ClusterReply reply_from_state(const ClusterRequest& request, const KeyState& state,
                              int64_t now_unix_ms) {
  ClusterReply reply;
  switch (request.kind) {
    case RequestKind::kGet:
      reply.value = state.string_value(now_unix_ms);
      if (!reply.value && state.type(now_unix_ms) != KeyStateType::kNone) {
        reply.status = Status::invalid_argument(
            "WRONGTYPE Operation against a key holding the wrong kind of value");
      }
      break;
    case RequestKind::kSetMembers:
      reply.values = state.set_members(now_unix_ms);
      break;
    case RequestKind::kHashGetAll:
      for (auto& [field, value] : state.hash_fields(now_unix_ms)) {
        reply.values.push_back(field);
        reply.values.push_back(value);
      }
      break;
    case RequestKind::kReadState:
      reply.state = state;
      break;
    default:
      CAIRN_ASSERT(false);
  }
  reply.version = state.newest_version();
  reply.seen = state.seen_writes();
  return reply;
}

// The delta of a write that needs no read first.
KeyState write_delta(const ClusterRequest& request, WriteVersion version) {
  const std::vector<std::string>& args = request.arguments;
  switch (request.kind) {
    case RequestKind::kSet:
      CAIRN_ASSERT(args.size() == 1);
      return KeyState::string_set(version, args[0], request.number);
    case RequestKind::kDelete:
      return KeyState::deleted(version);
    case RequestKind::kSetAdd:
      return KeyState::set_add(version, args);
    case RequestKind::kHashSet: {
      CAIRN_ASSERT(args.size() % 2 == 0);
      std::vector<std::pair<std::string, std::string>> fields;
      for (size_t i = 0; i + 1 < args.size(); i += 2) fields.emplace_back(args[i], args[i + 1]);
      return KeyState::hash_set(version, fields);
    }
    case RequestKind::kHashDelete:
      return KeyState::hash_delete(version, args);
    case RequestKind::kExpireAt:
      return KeyState::expiry_set(version, request.number);
    case RequestKind::kWriteState:
      return request.write_delta(version);
    default:
      CAIRN_ASSERT(false);
      return KeyState();
  }
}

}  // namespace

WriteVersion Coordinator::next_version(NodeTime now) {
  return WriteVersion{clock_->now(static_cast<uint64_t>(now.unix_ms)), self_};
}

void Coordinator::submit(ClusterRequest request, Consistency consistency, NodeTime now,
                         Completion done) {
  stats_.requests++;
  const uint64_t id = next_id_++;
  CAIRN_ASSERT((id & kHintDeliveryIdBit) == 0);
  Operation& op = operations_[id];
  unanswered_++;
  op.id = id;
  op.request = std::move(request);
  op.consistency = consistency;
  op.done = std::move(done);
  op.deadline_ms = now.monotonic_ms + config_.request_timeout_ms;
  const Ring& ring = view_->ring();
  if (ring.empty() || unanswered_ > config_.requests_in_flight_max ||
      operations_.size() > config_.operations_max) {
    answer_error(op, Status::busy(ring.empty() ? "CLUSTERDOWN the cluster has no ring yet"
                                               : "BUSY too many requests in flight"));
    operations_.erase(id);
    return;
  }
  assign_replicas(op, ring);

  switch (op.request.kind) {
    case RequestKind::kGet:
    case RequestKind::kSetMembers:
    case RequestKind::kHashGetAll:
    case RequestKind::kSetRemove:
    case RequestKind::kReadState:
      start_read(op, now);
      return;
    case RequestKind::kIncrBy:
      start_counter(op, now);
      return;
    default:
      break;
  }
  start_write(op, write_delta(op.request, next_version(now)), now);
}

void Coordinator::assign_replicas(Operation& op, const Ring& ring) const {
  const uint32_t partition = partition_of_slot(key_slot(op.request.key));
  const std::span<const NodeId> list = ring.preference_list(partition);
  op.replicas.assign(list.begin(), list.end());
  op.required = required_replies(op.consistency.level, op.replicas.size());
  op.next_replicas.clear();
  op.next_required = 0;
  if (ring.other() != nullptr && !ring.other()->empty()) {
    const std::span<const NodeId> next = ring.other()->preference_list(partition);
    op.next_replicas.assign(next.begin(), next.end());
    op.next_required = required_replies(op.consistency.level, op.next_replicas.size());
  }
}

// ---- Read phase.

void Coordinator::start_read(Operation& op, NodeTime now) {
  op.phase = Phase::kRead;
  std::vector<NodeId> first;
  if (config_.read_widen_after_ms == 0) {
    first = op.replicas;
  } else {
    if (std::find(op.replicas.begin(), op.replicas.end(), self_) != op.replicas.end()) {
      first.push_back(self_);
    }
    for (const NodeId replica : op.replicas) {
      if (first.size() == op.required) break;
      if (replica != self_ && view_->is_alive(replica)) first.push_back(replica);
    }
    for (const NodeId replica : op.replicas) {  // too few alive: the read fails or widens
      if (first.size() == op.required) break;
      if (std::find(first.begin(), first.end(), replica) == first.end()) first.push_back(replica);
    }
  }
  if (first.size() < op.replicas.size()) {
    op.widen_at_ms = now.monotonic_ms + config_.read_widen_after_ms;
  }
  // Remote reads go out before the local one answers, which may end the read.
  for (const NodeId replica : first) {
    if (replica != self_) send_read(op, replica, now);
  }
  for (const NodeId replica : first) {
    if (replica == self_) send_read(op, replica, now);
  }
}

void Coordinator::widen_read(Operation& op, NodeTime now) {
  op.widen_at_ms = 0;
  for (const NodeId replica : op.replicas) {
    if (std::find(op.read_from.begin(), op.read_from.end(), replica) != op.read_from.end()) {
      continue;
    }
    const uint64_t id = op.id;
    send_read(op, replica, now);
    // A local read may have ended the operation.
    if (operations_.find(id) == operations_.end()) return;
  }
}

void Coordinator::send_read(Operation& op, NodeId replica, NodeTime now) {
  op.read_from.push_back(replica);
  if (replica != self_) {
    ReplicationMessage read;
    read.type = ReplicationMessageType::kRead;
    read.request_id = op.id;
    read.key = op.request.key;
    send(replica, read);
    return;
  }
  size_t stored_bytes = 0;
  Result<KeyState> state = local_->read(op.request.key, &stored_bytes);
  if (state.is_ok()) {
    op.deadline_ms += stored_bytes / config_.timeout_bytes_per_ms;
    on_read_reply(op, self_, std::move(state).value(), now);
  } else if (op.widen_at_ms != 0) {
    widen_read(op, now);
  }
}

void Coordinator::on_read_reply(Operation& op, NodeId from, KeyState state, NodeTime now) {
  for (const auto& [replied, ignored] : op.read_replies) {
    if (replied == from) return;  // a duplicate
  }
  clock_->update(state.newest_version().timestamp, static_cast<uint64_t>(now.unix_ms));
  op.merged.merge(state);
  op.read_replies.emplace_back(from, std::move(state));
  const uint64_t id = op.id;
  if (op.read_replies.size() == op.required) {
    op.widen_at_ms = 0;  // answered: the replicas not asked need not be
    on_read_quorum(op, now);
  }
  // on_read_quorum may have answered and moved on, or ended the operation.
  auto it = operations_.find(id);
  if (it != operations_.end() && it->second.phase == Phase::kRead &&
      it->second.read_replies.size() == it->second.read_from.size() &&
      it->second.widen_at_ms == 0) {  // else the read is still to widen
    finish(id, now);
  }
}

void Coordinator::on_read_quorum(Operation& op, NodeTime now) {
  if (op.request.kind != RequestKind::kSetRemove) {
    answer(op, reply_from_state(op.request, op.merged, now.unix_ms));
    return;
  }
  // SREM removes the additions its read saw; the read is also its causal context.
  op.read_seen = op.merged.seen_writes();
  read_repair(op, now);
  KeyState delta = KeyState::set_remove(next_version(now), op.merged, op.request.arguments);
  delta.with_context(op.merged);
  start_write(op, std::move(delta), now);
}

void Coordinator::read_repair(Operation& op, NodeTime now) {
  for (auto& [replica, state] : op.read_replies) {
    if (state == op.merged) continue;
    stats_.read_repairs++;
    if (replica == self_) {
      (void)local_->write(op.request.key, op.merged, std::nullopt, now);
      continue;
    }
    ReplicationMessage repair;
    repair.type = ReplicationMessageType::kWrite;
    repair.request_id = 0;  // no ack wanted
    repair.key = op.request.key;
    repair.state = op.merged;
    send(replica, repair);
  }
  op.read_replies.clear();
}

// ---- Counter phase.

void Coordinator::start_counter(Operation& op, NodeTime now) {
  op.phase = Phase::kCounter;
  op.leader = op.replicas.front();
  for (const NodeId replica : op.replicas) {
    if (replica == self_ || view_->is_alive(replica)) {
      op.leader = replica;
      break;
    }
  }
  if (op.leader == self_) {
    lead(op, nullptr, now);
    return;
  }
  ReplicationMessage add;
  add.type = ReplicationMessageType::kCounterAdd;
  add.request_id = op.id;
  add.key = op.request.key;
  add.version = next_version(now);
  add.delta = op.request.number;
  add.incarnation = local_->incarnation();
  add.level = op.consistency.level;
  add.now_unix_ms = now.unix_ms;
  send(op.leader, add);
}

void Coordinator::lead(Operation& op, const CounterOp* named, NodeTime now) {
  op.leader = self_;
  Result<KeyState> shard = local_->counter_add(op.request.key, next_version(now), op.request.number,
                                               now.unix_ms, named, &op.counter_value, now);
  if (!shard.is_ok()) {
    const uint64_t id = op.id;
    answer_error(op, shard.status());
    finish(id, now);
    return;
  }
  start_write(op, std::move(shard).value(), now);
}

void Coordinator::lead_increment(NodeId from, const ReplicationMessage& add, NodeTime now) {
  const CounterOp named{from, add.incarnation, add.request_id};
  // A copy of an increment this node leads or led: the first copy answers.
  const Result<bool> refused = local_->counter_op_refused(named);
  if (!refused.is_ok() || *refused) return;
  const uint64_t id = next_id_++;
  Operation& op = operations_[id];
  unanswered_++;
  op.id = id;
  op.request = ClusterRequest{RequestKind::kIncrBy, add.key, {}, add.delta};
  op.consistency = Consistency{add.level, false};
  op.deadline_ms = now.monotonic_ms + config_.request_timeout_ms;
  op.phase = Phase::kCounter;
  // The answer goes back to the coordinator that asked, with the delta it replicated.
  op.done = [this, id, from, request_id = add.request_id](ClusterReply reply) {
    ReplicationMessage answer;
    answer.type = ReplicationMessageType::kCounterAddReply;
    answer.request_id = request_id;
    answer.value = reply.integer;
    answer.error = std::string(reply.status.message().substr(0, 512));
    const auto it = operations_.find(id);
    if (it != operations_.end() && reply.status.is_ok()) answer.state = it->second.delta;
    send(from, answer);
  };
  const Ring& ring = view_->ring();
  if (!ring.empty()) assign_replicas(op, ring);
  // In a ring transition the coordinator may hold the other ring: a replica of either leads.
  const auto listed = [&](const std::vector<NodeId>& list) {
    return std::find(list.begin(), list.end(), self_) != list.end();
  };
  if (!listed(op.replicas) && !listed(op.next_replicas)) {
    answer_error(op, Status::busy("TRYAGAIN this node is not a replica of the key"));
    operations_.erase(id);
    return;
  }
  lead(op, &named, now);
}

void Coordinator::on_counter_reply(Operation& op, const ReplicationMessage& reply, NodeTime now) {
  const uint64_t id = op.id;
  if (!reply.error.empty()) {
    answer_error(op, Status::invalid_argument(reply.error));
  } else {
    // The leader replicated the increment at the request's level before it answered.
    clock_->update(reply.state.newest_version().timestamp, static_cast<uint64_t>(now.unix_ms));
    ClusterReply answer;
    answer.integer = reply.value;
    answer.version = reply.state.newest_version();
    this->answer(op, std::move(answer));
  }
  finish(id, now);
}

// ---- Write phase.

std::vector<Coordinator::WriteTarget> Coordinator::write_targets(const Operation& op) const {
  std::vector<WriteTarget> targets;
  for (const NodeId replica : op.replicas) targets.push_back(WriteTarget{replica, {}, false});
  // In a transition the other ring's replicas take the write too (no stand-ins for them).
  std::vector<WriteTarget> others;
  for (const NodeId replica : op.next_replicas) {
    if (std::find(op.replicas.begin(), op.replicas.end(), replica) == op.replicas.end()) {
      others.push_back(WriteTarget{replica, {}, false});
    }
  }
  if (!op.consistency.sloppy) {
    targets.insert(targets.end(), others.begin(), others.end());
    return targets;
  }
  // Each replica seen down is replaced by the next healthy node clockwise past the list.
  const std::vector<NodeId> walk =
      view_->ring().members_clockwise(partition_of_slot(key_slot(op.request.key)));
  size_t next_stand_in = op.replicas.size();
  for (WriteTarget& target : targets) {
    if (target.node == self_ || view_->is_alive(target.node)) continue;
    while (next_stand_in < walk.size() && walk[next_stand_in] != self_ &&
           !view_->is_alive(walk[next_stand_in])) {
      next_stand_in++;
    }
    if (next_stand_in == walk.size()) break;
    target.hint_for = target.node;
    target.node = walk[next_stand_in++];
  }
  targets.insert(targets.end(), others.begin(), others.end());
  return targets;
}

void Coordinator::start_write(Operation& op, KeyState delta, NodeTime now) {
  op.phase = Phase::kWrite;
  op.delta = std::move(delta);
  op.targets = write_targets(op);
  size_t sent_bytes_max = 0;
  for (WriteTarget& target : op.targets) {
    // The counter leader applied the delta already.
    if (op.request.kind == RequestKind::kIncrBy && target.node == op.leader && !target.hint_for) {
      target.acked = true;
      continue;
    }
    if (target.node == self_) continue;
    ReplicationMessage write;
    write.type = ReplicationMessageType::kWrite;
    write.request_id = op.id;
    write.key = op.request.key;
    write.state = op.delta;
    write.hint_for = target.hint_for;
    sent_bytes_max = std::max(sent_bytes_max, send(target.node, write));
  }
  op.deadline_ms += sent_bytes_max / config_.timeout_bytes_per_ms;
  for (WriteTarget& target : op.targets) {
    if (target.node == self_ && !target.acked) {
      target.acked = local_->write(op.request.key, op.delta, target.hint_for, now).is_ok();
    }
  }
  settle_write(op, now);
}

void Coordinator::on_write_ack(Operation& op, NodeId from, NodeTime now) {
  for (WriteTarget& target : op.targets) {
    if (target.node == from && !target.acked) {
      target.acked = true;
      settle_write(op, now);
      return;
    }
  }
}

void Coordinator::settle_write(Operation& op, NodeTime now) {
  const size_t acks = static_cast<size_t>(std::count_if(
      op.targets.begin(), op.targets.end(), [](const WriteTarget& t) { return t.acked; }));
  // Acks of the replicas in `list`, a stand-in's counting for the replica it holds the write for.
  const auto acked_in = [&](const std::vector<NodeId>& list) {
    return static_cast<size_t>(
        std::count_if(op.targets.begin(), op.targets.end(), [&](const auto& t) {
          const NodeId owner = t.hint_for.value_or(t.node);
          return t.acked && std::find(list.begin(), list.end(), owner) != list.end();
        }));
  };
  const size_t needed =
      config_.testing_ack_one_early && op.required > 1 ? op.required - 1 : op.required;
  const bool enough = acked_in(op.replicas) >= needed &&
                      (op.next_replicas.empty() || acked_in(op.next_replicas) >= op.next_required);
  if (enough && !op.answered) {
    ClusterReply reply;
    reply.integer = op.counter_value;
    reply.version = op.delta.newest_version();
    if (op.request.kind == RequestKind::kSetRemove) reply.seen = op.read_seen;
    answer(op, std::move(reply));
  }
  if (acks == op.targets.size()) finish(op.id, now);
}

// ---- Replies, deadlines, endings.

void Coordinator::on_reply(NodeId from, const ReplicationMessage& reply, size_t reply_bytes,
                           NodeTime now) {
  auto it = operations_.find(reply.request_id);
  if (it == operations_.end()) return;
  Operation& op = it->second;
  const bool from_replica =
      std::find(op.replicas.begin(), op.replicas.end(), from) != op.replicas.end();
  switch (reply.type) {
    case ReplicationMessageType::kReadReply:
      if (op.phase != Phase::kRead || !from_replica) break;
      if (reply.error.empty()) {
        op.deadline_ms += reply_bytes / config_.timeout_bytes_per_ms;
        on_read_reply(op, from, reply.state, now);
      } else if (op.widen_at_ms != 0) {
        widen_read(op, now);
      }
      break;
    case ReplicationMessageType::kCounterAddReply:
      if (op.phase == Phase::kCounter && from == op.leader) on_counter_reply(op, reply, now);
      break;
    case ReplicationMessageType::kWriteAck:
      if (op.phase == Phase::kWrite && reply.error.empty()) on_write_ack(op, from, now);
      break;
    default:
      break;
  }
}

void Coordinator::tick(NodeTime now) {
  std::vector<uint64_t> expired;
  std::vector<uint64_t> to_widen;
  for (const auto& [id, op] : operations_) {
    if (op.deadline_ms <= now.monotonic_ms) {
      expired.push_back(id);
    } else if (op.phase == Phase::kRead && op.widen_at_ms != 0 &&
               op.widen_at_ms <= now.monotonic_ms) {
      to_widen.push_back(id);
    }
  }
  for (const uint64_t id : to_widen) {
    auto it = operations_.find(id);
    if (it != operations_.end()) widen_read(it->second, now);
  }
  for (const uint64_t id : expired) finish(id, now);
}

void Coordinator::finish(uint64_t id, NodeTime now) {
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  Operation& op = it->second;
  switch (op.phase) {
    case Phase::kRead:
      if (!op.answered) fail_for_replies(op, op.read_replies.size());
      read_repair(op, now);
      break;
    case Phase::kCounter:
      if (!op.answered) fail_for_replies(op, 0);
      break;
    case Phase::kWrite: {
      size_t acks = 0;
      for (const WriteTarget& target : op.targets) {
        if (target.acked) {
          acks++;
          continue;
        }
        // The replica (or its stand-in) may have the write or not; a hint makes sure.
        const NodeId owner = target.hint_for.value_or(target.node);
        if (owner != self_ && hints_->add(owner, op.request.key, op.delta, now.unix_ms).is_ok()) {
          stats_.hints_stored++;
        }
      }
      if (!op.answered) fail_for_replies(op, acks);
      break;
    }
  }
  CAIRN_ASSERT(op.answered);  // unanswered_ counts it no more
  operations_.erase(id);
}

void Coordinator::fail_for_replies(Operation& op, size_t replied) {
  const char* what = op.phase == Phase::kWrite ? "write" : "read";
  const std::string command = op.request.command_name.empty()
                                  ? std::string(request_kind_name(op.request.kind))
                                  : op.request.command_name;
  answer_error(op, Status::busy("NOQUORUM " + std::string(level_name(op.consistency.level)) + " " +
                                what + " of " + command + " needs " + std::to_string(op.required) +
                                " of " + std::to_string(op.replicas.size()) + " replicas; " +
                                std::to_string(replied) + " replied"));
}

void Coordinator::answer(Operation& op, ClusterReply reply) {
  if (op.answered) return;
  op.answered = true;
  CAIRN_ASSERT(unanswered_ > 0);
  unanswered_--;
  if (reply.status.is_ok()) {
    stats_.succeeded++;
  } else {
    stats_.failed++;
  }
  // The completion may submit more requests: move it out first.
  Completion done = std::move(op.done);
  done(std::move(reply));
}

void Coordinator::answer_error(Operation& op, const Status& status) {
  ClusterReply reply;
  reply.status = status;
  // A failed SREM may still remove what its read saw: say what that was.
  if (op.request.kind == RequestKind::kSetRemove && op.phase == Phase::kWrite) {
    reply.seen = op.read_seen;
  }
  answer(op, std::move(reply));
}

size_t Coordinator::send(NodeId to, const ReplicationMessage& message) {
  std::string encoded = encode_replication_message(message);
  const size_t bytes = encoded.size();
  network_->send(to, std::move(encoded));
  return bytes;
}

}  // namespace cairn
