// Active expiry (Keyspace::expire_cycle) over the expiry index, and the compaction filter that
// drops expired records (docs/keyspace-format.md, "Expiry").
#include "model/engine_key.h"
#include "server/keyspace.h"
#include "server/keyspace_internal.h"

namespace cairn {

bool ExpiredRecordFilter::should_drop(std::string_view engine_key, std::string_view value) const {
  std::string_view user_key;
  if (!parse_data_key(engine_key, &user_key)) return false;
  const Result<RecordTrailer> trailer = decode_record_trailer(value);
  if (!trailer.is_ok()) return false;  // never drop what we cannot read
  return record_expired(trailer->expiry_ms, clock_->now_micros() / 1000);
}

Result<uint64_t> Keyspace::expire_cycle(uint64_t budget_ms) {
  std::lock_guard cycle(expire_cycle_mutex_);
  Clock* timer = Clock::real();
  const uint64_t start_micros = timer->now_micros();
  const uint64_t now = now_ms();
  uint64_t removed = 0;
  uint64_t visited = 0;
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions());
  for (it->seek(expiry_index_prefix()); it->valid(); it->next()) {
    uint64_t expiry_ms = 0;
    std::string_view user_key;
    if (!parse_expiry_index_key(it->key(), &expiry_ms, &user_key)) break;  // past the index
    if (expiry_ms > now) break;  // the index is in time order: nothing later is due
    if (visited == kExpireCycleEntriesMax) break;
    if (visited % 16 == 0 && timer->now_micros() - start_micros >= budget_ms * 1000) break;
    visited++;
    KeyLockGuard guard = lock_key(user_key);
    CAIRN_ASSIGN_OR_RETURN(const std::optional<StringEntry> entry,
                           read_record(data_key(user_key)));
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
  return removed;
}

}  // namespace cairn
