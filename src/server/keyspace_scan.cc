// Keyspace scans: DBSIZE and INFO counts, KEYS, SCAN, RANDOMKEY and FLUSHALL walk the data keys
// in engine order (slot, then key bytes). Each key's trailer is read through get_value, so a
// large value's expiry costs a 10-byte read, never the value; the reads leave the row cache as
// it was.
#include <algorithm>

#include "common/glob_match.h"
#include "model/engine_key.h"
#include "model/generation_allocator.h"
#include "model/keyspace_format.h"
#include "model/slot.h"
#include "server/keyspace.h"
#include "server/scan_cursors.h"

namespace cairn {

// visit(engine_key, user_key, entry) -> bool (false stops). Expired keys are skipped.
template <typename Visit>
Status Keyspace::for_each_live_key(std::string_view start_engine_key, Visit&& visit) {
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions());
  const std::string end = data_end_key();
  const uint64_t now = now_ms();
  ReadOptions options;
  options.fill_row_cache = false;  // each key is read once: it would evict the hot ones
  it->seek(start_engine_key);
  while (it->valid()) {
    const std::string_view engine_key = it->key();
    if (engine_key >= end) break;
    std::string_view user_key;
    if (!parse_data_key(engine_key, &user_key)) {
      if (engine_key.size() < kSlotPrefixBytes) {  // no tag: not a key (format 2 writes none)
        it->next();
        continue;
      }
      // Another tag than a record's: records (tag 0) sort first in their slot, so the slot's
      // keys are all behind.
      const uint16_t slot = engine_key_slot(engine_key);
      it->seek(slot + 1 < kSlotCount ? slot_start_key(slot + 1) : end);
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(const std::optional<KeyEntry> entry, read_record(engine_key, options));
    if (entry.has_value() && !record_expired(entry->trailer.expiry_ms, now) &&
        !visit(engine_key, user_key, *entry)) {
      break;
    }
    it->next();
  }
  return it->status();
}

Result<KeyspaceCounts> Keyspace::counts() {
  KeyspaceCounts counts;
  CAIRN_RETURN_IF_ERROR(for_each_live_key(
      slot_start_key(0), [&](std::string_view, std::string_view, const KeyEntry& entry) {
        counts.keys++;
        if (entry.trailer.expiry_ms != 0) counts.keys_with_expiry++;
        return true;
      }));
  return counts;
}

Result<uint64_t> Keyspace::key_count() {
  CAIRN_ASSIGN_OR_RETURN(const KeyspaceCounts counts, this->counts());
  return counts.keys;
}

Result<std::vector<std::string>> Keyspace::keys(std::string_view pattern) {
  std::vector<std::string> out;
  const bool all = pattern == "*";
  CAIRN_RETURN_IF_ERROR(for_each_live_key(
      slot_start_key(0), [&](std::string_view, std::string_view user_key, const KeyEntry&) {
        if (all || glob_match(pattern, user_key)) out.emplace_back(user_key);
        return true;
      }));
  return out;
}

Result<Keyspace::ScanPage> Keyspace::scan(uint64_t cursor, std::string_view pattern,
                                          uint64_t count, std::string_view type) {
  ScanPage page;
  bool after = false;
  const std::string start = cursor == 0 ? slot_start_key(0) : cursors_->resume_point(cursor, &after);
  const uint64_t examined_max = std::max<uint64_t>(count, 1);
  uint64_t examined = 0;
  const bool all = pattern == "*";
  std::string last_engine_key;
  bool stopped_early = false;
  CAIRN_RETURN_IF_ERROR(for_each_live_key(
      start, [&](std::string_view engine_key, std::string_view user_key, const KeyEntry& entry) {
        if (after && engine_key == start) return true;
        if (examined == examined_max) {
          stopped_early = true;  // more keys remain after last_engine_key
          return false;
        }
        examined++;
        last_engine_key.assign(engine_key);
        const bool type_matches = type.empty() || type == record_type_name(entry.type());
        if (type_matches && (all || glob_match(pattern, user_key))) {
          page.keys.emplace_back(user_key);
        }
        return true;
      }));
  if (stopped_early) {
    std::string_view user_key;
    (void)parse_data_key(last_engine_key, &user_key);
    page.cursor = cursors_->remember(last_engine_key, key_slot(user_key));
  }
  return page;
}

uint64_t Keyspace::random_u64() {
  // splitmix64 step on a shared state: no global RNG, cheap, good enough to sample.
  uint64_t z = random_state_.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) +
               0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Result<std::optional<std::string>> Keyspace::random_key() {
  const auto slot = static_cast<uint16_t>(random_u64() % kSlotCount);
  std::optional<std::string> found;
  auto take_first = [&](std::string_view, std::string_view user_key, const KeyEntry&) {
    found.emplace(user_key);
    return false;
  };
  CAIRN_RETURN_IF_ERROR(for_each_live_key(slot_start_key(slot), take_first));
  if (!found.has_value() && slot != 0) {
    CAIRN_RETURN_IF_ERROR(for_each_live_key(slot_start_key(0), take_first));
  }
  return found;
}

Status Keyspace::remove_all() {
  constexpr uint32_t kBatchEntriesMax = 1000;
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions());
  WriteBatch batch;
  // The node's own records stay: the format marker (the layout is unchanged) and the generation
  // limit (generations are never reused, whatever was removed).
  const std::string marker = keyspace_format_marker_key();
  const std::string generation_limit = GenerationAllocator::record_key();
  for (it->seek_to_first(); it->valid(); it->next()) {
    if (it->key() == marker || it->key() == generation_limit) continue;
    batch.remove(it->key());
    if (batch.count() >= kBatchEntriesMax) {
      CAIRN_RETURN_IF_ERROR(database_->write(batch));
      batch.clear();
    }
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  if (batch.count() > 0) CAIRN_RETURN_IF_ERROR(database_->write(batch));
  pop_ahead_.clear();
  for (KeyspaceObserver* observer : observers_) observer->all_keys_modified();
  return Status::ok();
}

}  // namespace cairn
