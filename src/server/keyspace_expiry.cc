// Active expiry (Keyspace::expire_cycle) over the expiry index, and the compaction filter that
// drops expired records and unreachable collection elements (docs/keyspace-format.md).
#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "server/keyspace.h"
#include "server/keyspace_internal.h"

namespace cairn {

namespace {

// One compaction job's questions: the record looked up for the last element asked about serves
// the elements after it of the same key. Any answer it gave stays true for the job: the job's
// elements were committed before it began, each with its record (or held as being built, which
// is asked each time), and a generation that became unreachable never comes back.
class ElementRecordMemo final : public CompactionFilter::Job {
 public:
  ElementRecordMemo(const KeyspaceCompactionFilter& filter, const BuildingGenerations& building)
      : filter_(filter), building_(building) {}

  bool should_drop(std::string_view engine_key, std::optional<std::string_view> value) override {
    ElementKey element;
    if (!parse_element_key(engine_key, &element)) return filter_.record_dropped(engine_key, value);
    if (building_.contains(element.generation)) return false;
    if (!has_record_ || element.user_key != user_key_) {
      record_ = filter_.read_record(element.user_key);
      user_key_.assign(element.user_key);
      has_record_ = true;
    }
    return filter_.element_unreachable(element, record_);
  }

 private:
  const KeyspaceCompactionFilter& filter_;
  const BuildingGenerations& building_;
  bool has_record_ = false;
  std::string user_key_;
  KeyspaceCompactionFilter::RecordState record_;
};

}  // namespace

bool KeyspaceCompactionFilter::should_drop(std::string_view engine_key,
                                           std::optional<std::string_view> value) const {
  ElementKey element;
  if (!parse_element_key(engine_key, &element)) return record_dropped(engine_key, value);
  if (building_->contains(element.generation)) return false;
  return element_unreachable(element, read_record(element.user_key));
}

std::unique_ptr<CompactionFilter::Job> KeyspaceCompactionFilter::start_job() const {
  return std::make_unique<ElementRecordMemo>(*this, *building_);
}

bool KeyspaceCompactionFilter::record_dropped(std::string_view engine_key,
                                              std::optional<std::string_view> value) const {
  std::string_view user_key;
  if (!parse_data_key(engine_key, &user_key)) return false;  // the expiry index, the node's own
  if (!value.has_value()) return false;  // a large string: active expiry removes it
  const Result<RecordTrailer> trailer = decode_record_trailer(*value);
  if (!trailer.is_ok()) return false;  // never drop what we cannot read
  return record_expired(trailer->expiry_ms, clock_->now_micros() / 1000);
}

KeyspaceCompactionFilter::RecordState KeyspaceCompactionFilter::read_record(
    std::string_view user_key) const {
  using Kind = RecordState::Kind;
  RecordState state;
  Database* database = database_.load();
  if (database == nullptr) return state;
  // The record as of now: it reflects the batch that wrote any element being compacted
  // (compacted entries were committed before the compaction began) and everything since.
  const Result<StoredValue> record = database->get_value(ReadOptions(), data_key(user_key));
  if (!record.is_ok()) return state;
  state.kind = Kind::kNone;
  // A collection's record is small; one in a blob file is a string's.
  if (!record->found() || record->kind() != StoredValue::Kind::kInline) return state;
  const Result<DecodedRecord> decoded = decode_record(record->inline_bytes());
  if (!decoded.is_ok()) return RecordState();
  // An expired collection's elements wait for its record to go (active expiry, or this filter):
  // should the clock step back, the record is live again, and whole.
  if (!is_collection(decoded->trailer.type)) return state;
  const Result<CollectionMeta> meta =
      decode_collection_meta(decoded->trailer.type, decoded->payload);
  if (!meta.is_ok()) return RecordState();
  state.kind = Kind::kCollection;
  state.type = decoded->trailer.type;
  state.generation = meta->generation;
  return state;
}

bool KeyspaceCompactionFilter::element_unreachable(const ElementKey& element,
                                                   const RecordState& record) const {
  switch (record.kind) {
    case RecordState::Kind::kUnknown: return false;
    case RecordState::Kind::kNone: return true;
    case RecordState::Kind::kCollection: break;
  }
  if (element.tag == kScoreTag && record.type != RecordType::kSortedSet) return true;
  if (element.tag == kSampleTag && !has_sample_index(record.type)) return true;
  return record.generation != element.generation;
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
