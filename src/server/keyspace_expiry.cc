// Active expiry (Keyspace::expire_cycle) over the expiry index, and the compaction filter that
// drops expired records and unreachable collection elements (docs/keyspace-format.md).
#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "server/keyspace.h"
#include "server/keyspace_internal.h"

namespace cairn {

bool KeyspaceCompactionFilter::should_drop(std::string_view engine_key,
                                           std::optional<std::string_view> value) const {
  std::string_view user_key;
  if (parse_data_key(engine_key, &user_key)) {
    if (!value.has_value()) return false;  // a large string: active expiry removes it
    const Result<RecordTrailer> trailer = decode_record_trailer(*value);
    if (!trailer.is_ok()) return false;  // never drop what we cannot read
    return record_expired(trailer->expiry_ms, clock_->now_micros() / 1000);
  }
  return element_unreachable(engine_key);
}

bool KeyspaceCompactionFilter::element_unreachable(std::string_view engine_key) const {
  ElementKey element;
  Database* database = database_.load();
  if (database == nullptr || !parse_element_key(engine_key, &element)) return false;
  if (building_->contains(element.generation)) return false;
  // The record as of now: it reflects the batch that wrote this element (compacted entries were
  // committed before the compaction began) and everything since.
  const Result<StoredValue> record = database->get_value(ReadOptions(), data_key(element.user_key));
  if (!record.is_ok()) return false;
  if (!record->found()) return true;
  // A collection's record is small; one in a blob file is a string's.
  if (record->kind() != StoredValue::Kind::kInline) return true;
  const Result<DecodedRecord> decoded = decode_record(record->inline_bytes());
  if (!decoded.is_ok()) return false;
  const RecordType type = decoded->trailer.type;
  // An expired collection's elements wait for its record to go (active expiry, or this filter):
  // should the clock step back, the record is live again, and whole.
  if (!is_collection(type)) return true;
  if (element.tag == kScoreTag && type != RecordType::kSortedSet) return true;
  if (element.tag == kSampleTag && !has_sample_index(type)) return true;
  const Result<CollectionMeta> meta = decode_collection_meta(type, decoded->payload);
  if (!meta.is_ok()) return false;
  return meta->generation != element.generation;
}

Result<uint64_t> Keyspace::expire_cycle(uint64_t budget_ms) {
  std::lock_guard cycle(expire_cycle_mutex_);
  if (now_ms() < next_expiry_due_ms_.load()) return uint64_t{0};
  next_expiry_due_ms_.store(UINT64_MAX);  // writers lower it again from here on
  uint64_t next_due_ms = 0;               // after an error: scan again next time
  Result<uint64_t> removed = expire_due_entries(budget_ms, &next_due_ms);
  note_expiry_due(removed.is_ok() ? next_due_ms : 0);
  return removed;
}

Result<uint64_t> Keyspace::expire_due_entries(uint64_t budget_ms, uint64_t* next_due_ms) {
  Clock* timer = Clock::real();
  const uint64_t start_micros = timer->now_micros();
  const uint64_t now = now_ms();
  uint64_t removed = 0;
  uint64_t visited = 0;
  uint64_t left_behind_ms = UINT64_MAX;
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions());
  for (it->seek(expiry_index_prefix()); it->valid(); it->next()) {
    uint64_t expiry_ms = 0;
    std::string_view user_key;
    if (!parse_expiry_index_key(it->key(), &expiry_ms, &user_key)) break;  // past the index
    // The index is in time order: the first entry not handled bounds every later one.
    if (expiry_ms > now || visited == kExpireCycleEntriesMax ||
        (visited % 16 == 0 && timer->now_micros() - start_micros >= budget_ms * 1000)) {
      left_behind_ms = expiry_ms;
      break;
    }
    visited++;
    KeyLockGuard guard = lock_key(user_key);
    CAIRN_ASSIGN_OR_RETURN(const std::optional<KeyEntry> entry,
                           read_record(data_key(user_key), ReadOptions()));
    WriteBatch batch;
    batch.remove(it->key());
    // Only the record this entry was written for: a rewritten key has its own entry.
    const bool due = entry.has_value() && entry->trailer.expiry_ms == expiry_ms;
    if (due) batch.remove(data_key(user_key));
    CAIRN_RETURN_IF_ERROR(database_->write(batch));
    if (due) {
      removed++;
      expired_keys_.fetch_add(1, std::memory_order_relaxed);
      notify(user_key);
    }
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  *next_due_ms = left_behind_ms;
  return removed;
}

void Keyspace::note_expiry_due(uint64_t expiry_ms) {
  uint64_t current = next_expiry_due_ms_.load();
  while (expiry_ms < current && !next_expiry_due_ms_.compare_exchange_weak(current, expiry_ms)) {
  }
}

}  // namespace cairn
