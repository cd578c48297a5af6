// ReplicaStore's walks over slots' replica records ([slot][kReplicaStateTag][user key],
// replica_store.h): the keyspace-wide reads (the slot scans of DBSIZE, SCAN, KEYS and RANDOMKEY,
// slot_scan.h, and INFO keyspace's counts), with one seek per slot range, skipping the other
// records that share the slots' engine ranges by seeking past them; and dropping the states of a
// slot this node no longer replicates.
#include <algorithm>

#include "cluster/replica_store.h"
#include "common/assert.h"
#include "common/glob_match.h"

namespace cairn {

namespace {

// The engine key where `slot`'s records begin; slot kSlotCount is the end of every slot.
std::string slot_start(uint32_t slot) {
  CAIRN_ASSERT(slot <= kSlotCount);
  return std::string{static_cast<char>(slot >> 8), static_cast<char>(slot & 0xFF)};
}

std::string replica_key(uint16_t slot, std::string_view user_key) {
  std::string key = slot_start(slot);
  key.push_back(kReplicaStateTag);
  key.append(user_key);
  return key;
}

uint16_t slot_of(std::string_view engine_key) {
  return static_cast<uint16_t>(static_cast<uint8_t>(engine_key[0]) << 8 |
                               static_cast<uint8_t>(engine_key[1]));
}

// Moves `it` forward to the first replica record below `end` at or after where it is: records of
// a slot sort by tag, so one before the replica tag seeks to the slot's replicas and one after it
// to the next slot. False when there is none before `end`.
bool to_replica_record(Iterator* it, std::string_view end) {
  while (it->valid() && it->key() < end) {
    const std::string_view key = it->key();
    if (key.size() < 3) {  // no tag: not a record of a key
      it->next();
      continue;
    }
    const auto tag = static_cast<uint8_t>(key[2]);
    if (tag == kReplicaStateTag) return true;
    const uint16_t slot = slot_of(key);
    if (tag < kReplicaStateTag) {
      it->seek(replica_key(slot, ""));
    } else {
      it->seek(slot_start(uint32_t{slot} + 1));
    }
  }
  return false;
}

// The bounds of one scan, clamped to slot_scan.h's limits (a node serves no more than those
// whatever it is asked).
struct ScanBudget {
  uint64_t records_max;
  uint64_t keys_max;

  explicit ScanBudget(const SlotScan& scan)
      : records_max(std::clamp<uint64_t>(scan.records_max, 1, kSlotScanRecordsMax)),
        keys_max(scan.count_only ? UINT64_MAX
                                 : std::clamp<uint64_t>(scan.keys_max, 1, kSlotScanKeysMax)) {}
};

bool matches(const SlotScan& scan, std::string_view user_key, const KeyState& state) {
  const KeyStateType type = state.type(scan.now_unix_ms);
  if (type == KeyStateType::kNone) return false;  // deleted or expired
  if (scan.type.has_value() && type != *scan.type) return false;
  return scan.pattern == "*" || glob_match(scan.pattern, user_key);
}

}  // namespace

Result<SlotScanResult> ReplicaStore::scan(const SlotScan& scan) {
  CAIRN_ASSERT(slot_scan_is_valid(scan));
  const ScanBudget budget(scan);
  SlotScanResult result;
  uint64_t visited = 0;
  uint64_t reply_bytes = 0;
  ScanPosition last;  // the last record visited, where a cut-short walk resumes after
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  for (size_t r = 0; r < scan.ranges.size(); r++) {
    const bool first = r == 0;
    const uint16_t from = first ? scan.start.slot : scan.ranges[r].first;
    const std::string_view after =
        first && scan.start.after ? std::string_view(*scan.start.after) : std::string_view();
    it->seek(replica_key(from, after));
    const std::string end = slot_start(uint32_t{scan.ranges[r].last} + 1);
    for (; to_replica_record(it.get(), end); it->next()) {
      const std::string_view user_key = it->key().substr(3);
      const uint16_t slot = slot_of(it->key());
      if (first && scan.start.after && slot == from && user_key == after) continue;
      if (visited == budget.records_max || result.keys.size() == budget.keys_max ||
          reply_bytes >= kSlotScanReplyBytesMax) {
        CAIRN_ASSERT(visited > 0);
        result.resume = std::move(last);
        return result;
      }
      visited++;
      last.slot = slot;
      last.after = std::string(user_key);
      Result<KeyState> state = KeyState::decode(it->value());
      if (!state.is_ok()) return state.status().with_context("replica store");
      if (!matches(scan, user_key, *state)) continue;
      result.matched++;
      if (scan.count_only) continue;
      result.keys.emplace_back(user_key);
      reply_bytes += user_key.size();
    }
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return result;
}

Result<ReplicaKeyCounts> count_replica_keys(Database* database, int64_t now_unix_ms,
                                            uint64_t keys_max) {
  ReplicaKeyCounts counts;
  std::unique_ptr<Iterator> it = database->new_iterator(ReadOptions{});
  it->seek(slot_start(0));
  const std::string end = slot_start(kSlotCount);
  for (; counts.keys < keys_max && to_replica_record(it.get(), end); it->next()) {
    Result<KeyState> state = KeyState::decode(it->value());
    if (!state.is_ok()) return state.status().with_context("replica store");
    if (state->type(now_unix_ms) == KeyStateType::kNone) continue;
    counts.keys++;
    counts.keys_with_expiry += state->expires_at_unix_ms() != 0;
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return counts;
}

Status ReplicaStore::drop_states_older_than(uint16_t slot, HlcTimestamp older_than,
                                            size_t count_max, SlotCursor* cursor) {
  CAIRN_ASSERT(slot < kSlotCount && count_max > 0 && !cursor->done);
  const std::string prefix = replica_key(slot, "");
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  it->seek(prefix + cursor->after.value_or(""));
  if (cursor->after.has_value() && it->valid() &&
      it->key().substr(prefix.size()) == *cursor->after) {
    it->next();
  }
  WriteBatch batch;
  size_t looked = 0;
  for (; it->valid() && it->key().starts_with(prefix) && looked < count_max; it->next()) {
    looked++;
    Result<KeyState> state = KeyState::decode(it->value());
    if (!state.is_ok()) return state.status().with_context("replica store");
    if (state->newest_version().timestamp < older_than) batch.remove(it->key());
    cursor->after = std::string(it->key().substr(prefix.size()));
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  const bool walked = looked < count_max || !it->valid() || !it->key().starts_with(prefix);
  if (batch.count() > 0) CAIRN_RETURN_IF_ERROR(database_->write(batch));
  cursor->done = walked;
  cursor->looked += looked;
  cursor->dropped += batch.count();
  return Status::ok();
}

}  // namespace cairn
