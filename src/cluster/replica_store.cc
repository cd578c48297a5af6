#include "cluster/replica_store.h"

#include <algorithm>
#include <optional>

#include "common/assert.h"
#include "common/coding.h"
#include "model/slot.h"

namespace cairn {

namespace {

constexpr std::string_view kIncarnationKey = "\xFFNincarnation";
constexpr std::string_view kFlushKey =
    "\xFF"
    "Fflush";
// Engine records the flush rewrite changes per write batch.
constexpr uint32_t kFlushBatchEntriesMax = 1000;
constexpr std::string_view kCounterOpsPrefix =
    "\xFF"
    "C";
constexpr uint64_t kCounterWindowSequences = 64;
constexpr std::string_view kVersionBoundKey =
    "\xFF"
    "Bbound";
// How far ahead of the newest state stored the version bound is set: the record is rewritten
// about once per this much time under writes, and after a restart, writes read their key first
// until the clocks pass the bound.
constexpr uint64_t kVersionBoundLeadMs = 10'000;

std::string counter_ops_key(NodeId coordinator) {
  std::string key(kCounterOpsPrefix);
  put_big_endian64(&key, coordinator.value);
  return key;
}

void replica_key_into(std::string_view user_key, std::string* out) {
  const uint16_t slot = key_slot(user_key);
  out->clear();
  out->push_back(static_cast<char>(slot >> 8));
  out->push_back(static_cast<char>(slot & 0xFF));
  out->push_back(kReplicaStateTag);
  out->append(user_key);
}

}  // namespace

Result<std::unique_ptr<ReplicaStore>> ReplicaStore::open(Database* database) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database->get(ReadOptions{}, kIncarnationKey));
  uint64_t incarnation = 0;
  if (stored.has_value()) {
    std::string_view bytes = *stored;
    if (!get_fixed64(&bytes, &incarnation) || !bytes.empty()) {
      return Status::corruption("replica store: bad incarnation record");
    }
  }
  incarnation++;
  std::string encoded;
  put_fixed64(&encoded, incarnation);
  CAIRN_RETURN_IF_ERROR(database->put(kIncarnationKey, encoded));
  CAIRN_RETURN_IF_ERROR(database->sync_wal());
  std::unique_ptr<ReplicaStore> store(new ReplicaStore(database, incarnation));
  CAIRN_RETURN_IF_ERROR(store->load_version_bound());
  CAIRN_RETURN_IF_ERROR(store->load_flush());
  return store;
}

Status ReplicaStore::load_version_bound() {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database_->get(ReadOptions{}, kVersionBoundKey));
  if (stored.has_value()) {
    std::string_view bytes = *stored;
    if (!get_fixed64(&bytes, &version_bound_.value) || !bytes.empty()) {
      return Status::corruption("replica store: bad version bound record");
    }
  } else {
    CAIRN_RETURN_IF_ERROR(for_each([&](std::string_view, const KeyState& state) {
      version_bound_ = std::max(version_bound_, state.newest_version().timestamp);
    }));
    std::string encoded;
    put_fixed64(&encoded, version_bound_.value);
    CAIRN_RETURN_IF_ERROR(database_->put(kVersionBoundKey, encoded));
  }
  stored_bounds_ = StoredVersionBounds(version_bound_);
  return Status::ok();
}

std::optional<HlcTimestamp> ReplicaStore::raise_version_bound(HlcTimestamp newest,
                                                              WriteBatch* batch) {
  if (newest <= version_bound_) return std::nullopt;
  const HlcTimestamp raised = HlcTimestamp::of(newest.physical_ms() + kVersionBoundLeadMs, 0);
  std::string encoded;
  put_fixed64(&encoded, raised.value);
  batch->put(kVersionBoundKey, encoded);
  return raised;
}

Status ReplicaStore::bound_every_key_by(HlcTimestamp timestamp) {
  WriteBatch batch;
  if (const std::optional<HlcTimestamp> raised = raise_version_bound(timestamp, &batch)) {
    CAIRN_RETURN_IF_ERROR(database_->write(batch));
    version_bound_ = *raised;
  }
  stored_bounds_.note_stored_everywhere(timestamp);
  return Status::ok();
}

Status ReplicaStore::load_flush() {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database_->get(ReadOptions{}, kFlushKey));
  if (!stored.has_value()) return Status::ok();
  std::string_view bytes = *stored;
  WriteVersion version;
  if (!get_fixed64(&bytes, &version.timestamp.value) || !get_fixed64(&bytes, &version.node.value) ||
      bytes.size() != 1 || static_cast<uint8_t>(bytes[0]) > 1) {
    return Status::corruption("replica store: bad flush record");
  }
  flush_version_ = version;
  if (bytes[0] == 1) return Status::ok();
  // A crash interrupted the flush's rewrite: finish it before anything reads the states.
  CAIRN_RETURN_IF_ERROR(rewrite_older_than(version));
  CAIRN_RETURN_IF_ERROR(save_flush(version, true));
  return database_->sync_wal();
}

Status ReplicaStore::save_flush(WriteVersion version, bool done) {
  std::string encoded;
  put_fixed64(&encoded, version.timestamp.value);
  put_fixed64(&encoded, version.node.value);
  encoded.push_back(done ? 1 : 0);
  return database_->put(kFlushKey, encoded);
}

Status ReplicaStore::flush_older_than(WriteVersion version) {
  if (version <= flush_version_) return Status::ok();
  // The horizon first: the WAL keeps records in order, so after a crash either the rewrite's
  // batches are all there and "done" too, or the record says to finish the rewrite.
  CAIRN_RETURN_IF_ERROR(save_flush(version, false));
  flush_version_ = version;
  CAIRN_RETURN_IF_ERROR(rewrite_older_than(version));
  return save_flush(version, true);
}

Status ReplicaStore::rewrite_older_than(WriteVersion version) {
  CAIRN_RETURN_IF_ERROR(bound_every_key_by(version.timestamp));
  const KeyState tombstone = KeyState::deleted(version);
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  WriteBatch batch;
  for (it->seek_to_first(); it->valid(); it->next()) {
    const std::string_view engine_key = it->key();
    if (!engine_key.empty() && static_cast<uint8_t>(engine_key[0]) >= 0x40) break;  // no slot
    if (engine_key.size() < 3 || engine_key[2] != kReplicaStateTag) continue;
    Result<KeyState> state = KeyState::decode(it->value());
    if (!state.is_ok()) return state.status().with_context("replica store");
    if (state->newest_version() < version) {
      batch.remove(engine_key);
    } else if (state->merge(tombstone).changed) {
      batch.put(engine_key, state->encode());
    }
    if (batch.count() >= kFlushBatchEntriesMax) {
      CAIRN_RETURN_IF_ERROR(database_->write(batch));
      batch.clear();
    }
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return batch.count() > 0 ? database_->write(batch) : Status::ok();
}

Result<KeyState> ReplicaStore::read(std::string_view key, size_t* stored_bytes) {
  replica_key_into(key, &engine_key_);
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database_->get(ReadOptions{}, engine_key_));
  if (stored_bytes != nullptr) *stored_bytes = stored.has_value() ? stored->size() : 0;
  if (!stored.has_value()) return KeyState();
  Result<KeyState> state = KeyState::decode(*stored);
  if (!state.is_ok()) return state.status().with_context("replica store");
  return state;
}

void ReplicaStore::prefetch(std::span<const std::string_view> keys) const {
  std::vector<std::string> engine_keys(keys.size());
  std::vector<std::string_view> views(keys.size());
  for (size_t i = 0; i < keys.size(); i++) {
    replica_key_into(keys[i], &engine_keys[i]);
    views[i] = engine_keys[i];
  }
  database_->prefetch(views);
}

Result<MergeResult> ReplicaStore::apply(std::string_view key, const KeyState& delta,
                                        HlcTimestamp purge_horizon, const CounterOp* op) {
  // Merged into an older state, a replacing write keeps nothing of it: no need to read it.
  const bool read_skipped = delta.replaces_older_states() &&
                            stored_bounds_.newer_than_stored(key, delta.newest_version().timestamp);
  KeyState state;
  if (!read_skipped) {
    CAIRN_ASSIGN_OR_RETURN(state, read(key));
  }
  MergeResult result;
  const bool flushed = delta.newest_version() < flush_version_;
  if (flush_version_ == WriteVersion{}) {
    result = state.merge(delta);
  } else if (!flushed) {
    // The flush is a delete of every key at its version: it joins every delta that may still
    // carry writes older than it (a read repair's merge, a hint).
    KeyState filtered = delta;
    (void)filtered.merge(KeyState::deleted(flush_version_));
    result = state.merge(filtered);
  }
  WriteBatch batch;
  std::optional<HlcTimestamp> raised_bound;
  if (result.changed) {
    if (purge_horizon.value != 0) state.purge(purge_horizon);
    replica_key_into(key, &engine_key_);
    batch.put(engine_key_, state.encode());
    raised_bound = raise_version_bound(state.newest_version().timestamp, &batch);
  }
  if (op != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(CounterWindow window, counter_window(op->coordinator));
    window = with_applied(window, *op);
    std::string encoded;
    put_fixed64(&encoded, window.incarnation);
    put_fixed64(&encoded, window.highest_sequence);
    put_fixed64(&encoded, window.applied_bits);
    batch.put(counter_ops_key(op->coordinator), encoded);
  }
  if (batch.count() > 0) CAIRN_RETURN_IF_ERROR(database_->write(batch));
  if (raised_bound) version_bound_ = *raised_bound;
  if (result.changed) stored_bounds_.note_stored(key, state.newest_version().timestamp);
  writes_without_read_ += read_skipped;
  return result;
}

Result<ReplicaStore::CounterWindow> ReplicaStore::counter_window(NodeId coordinator) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         database_->get(ReadOptions{}, counter_ops_key(coordinator)));
  CounterWindow window;
  if (!stored.has_value()) return window;
  std::string_view bytes = *stored;
  if (!get_fixed64(&bytes, &window.incarnation) || !get_fixed64(&bytes, &window.highest_sequence) ||
      !get_fixed64(&bytes, &window.applied_bits) || !bytes.empty()) {
    return Status::corruption("replica store: bad counter window");
  }
  return window;
}

Result<bool> ReplicaStore::counter_op_refused(const CounterOp& op) {
  CAIRN_ASSIGN_OR_RETURN(CounterWindow window, counter_window(op.coordinator));
  if (op.incarnation != window.incarnation) return op.incarnation < window.incarnation;
  if (op.sequence > window.highest_sequence) return false;
  const uint64_t age = window.highest_sequence - op.sequence;
  if (age >= kCounterWindowSequences) return true;
  return (window.applied_bits >> age) & 1;
}

ReplicaStore::CounterWindow ReplicaStore::with_applied(CounterWindow window, const CounterOp& op) {
  if (op.incarnation > window.incarnation) return CounterWindow{op.incarnation, op.sequence, 1};
  CAIRN_ASSERT(op.incarnation == window.incarnation);
  if (op.sequence > window.highest_sequence) {
    const uint64_t shift = op.sequence - window.highest_sequence;
    window.applied_bits = shift >= kCounterWindowSequences ? 1 : (window.applied_bits << shift) | 1;
    window.highest_sequence = op.sequence;
  } else {
    window.applied_bits |= uint64_t{1} << (window.highest_sequence - op.sequence);
  }
  return window;
}

Status ReplicaStore::sync() { return database_->sync_wal(); }

Status ReplicaStore::flush() { return database_->flush_wal(); }

Result<uint64_t> count_replica_keys_in_slot(Database* database, uint16_t slot,
                                            int64_t now_unix_ms) {
  std::string prefix;
  prefix.push_back(static_cast<char>(slot >> 8));
  prefix.push_back(static_cast<char>(slot & 0xFF));
  prefix.push_back(kReplicaStateTag);
  uint64_t count = 0;
  std::unique_ptr<Iterator> it = database->new_iterator(ReadOptions{});
  for (it->seek(prefix); it->valid() && it->key().starts_with(prefix); it->next()) {
    Result<KeyState> state = KeyState::decode(it->value());
    if (!state.is_ok()) return state.status().with_context("replica store");
    count += state->type(now_unix_ms) != KeyStateType::kNone;
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return count;
}

Status ReplicaStore::for_each(
    const std::function<void(std::string_view key, const KeyState& state)>& visit) {
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  for (it->seek_to_first(); it->valid(); it->next()) {
    const std::string_view engine_key = it->key();
    if (engine_key.size() < 3 || static_cast<uint8_t>(engine_key[0]) >= 0x40 ||
        engine_key[2] != kReplicaStateTag) {
      continue;
    }
    Result<KeyState> state = KeyState::decode(it->value());
    if (!state.is_ok()) return state.status().with_context("replica store");
    visit(engine_key.substr(3), *state);
  }
  return it->status();
}

}  // namespace cairn
