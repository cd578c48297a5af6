// Keyspace: opening the engine, reading records with lazy expiry, and writing one command's
// changes as one batch (KeyspaceWrite). Scans are in keyspace_scan.cc, active expiry and the
// compaction filter in keyspace_expiry.cc.
#include "server/keyspace.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "io/env.h"
#include "io/scheduler.h"
#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "model/generation_allocator.h"
#include "model/keyspace_format.h"
#include "model/string_number.h"
#include "server/fused_writes.h"
#include "server/keyspace_internal.h"
#include "server/scan_cursors.h"
#include "storage/block_cache.h"
#include "storage/limits.h"

namespace cairn {
namespace {

// The command this thread runs under a Keyspace::FusedScope, if any (fused_writes.h). A thread
// runs one command at a time, so the scope of the running command is the thread's. `fusing`
// turns false when the command did something the held writes cannot answer (end_fusion);
// `command_locked`: the command took the run's key lock (lock_key), so it keeps it to the end.
struct ThreadFusion {
  FusedWrites* fused = nullptr;
  bool fusing = false;
  bool command_locked = false;
};
thread_local ThreadFusion this_thread_fusion;

// The system's wall clock in unix microseconds: expiry times are absolute unix times.
class SystemWallClock final : public Clock {
 public:
  uint64_t now_micros() const override {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
  }
  void sleep_micros(uint64_t micros) override { Clock::real()->sleep_micros(micros); }
};

constexpr int kDataBlockRestartInterval = 4;

Status key_too_large() {
  return Status::invalid_argument("key too large (max " + std::to_string(kUserKeyBytesMax) +
                                  " bytes)");
}

}  // namespace

Status check_user_key(std::string_view key) {
  return key.size() > kUserKeyBytesMax ? key_too_large() : Status::ok();
}

Status check_element(std::string_view element) {
  if (element.size() <= kElementBytesMax) return Status::ok();
  return Status::invalid_argument("element too large (max " + std::to_string(kElementBytesMax) +
                                  " bytes)");
}

Result<std::unique_ptr<Keyspace>> Keyspace::open(const ServerConfig& config,
                                                 const KeyspaceOptions& keyspace_options) {
  std::unique_ptr<Keyspace> keyspace(new Keyspace());
  if (keyspace_options.wall_clock != nullptr) {
    keyspace->clock_ = keyspace_options.wall_clock;
  } else {
    keyspace->owned_clock_ = std::make_unique<SystemWallClock>();
    keyspace->clock_ = keyspace->owned_clock_.get();
  }
  keyspace->filter_ = std::make_unique<KeyspaceCompactionFilter>(
      keyspace->clock_, &keyspace->building_generations_);
  keyspace->cursors_ = std::make_unique<ScanCursors>();
  keyspace->string_bytes_max_ = config.proto_max_bulk_len;

  Options options;
  options.env = keyspace_options.env;
  options.create_if_missing = true;
  // The server syncs the WAL itself (--fsync always per loop iteration, everysec by timer).
  options.fsync = FsyncPolicy::kNever;
  // ... and hands the WAL to the OS once per loop iteration, before the replies (before_replies).
  options.flush_wal_per_write = false;
  options.write_buffer_size_bytes = static_cast<size_t>(config.write_buffer_bytes);
  options.blob_value_threshold_bytes = config.blob_threshold_bytes;
  options.table.block_cache =
      std::make_shared<BlockCache>(static_cast<size_t>(config.block_cache_bytes));
  options.row_cache_bytes = static_cast<size_t>(config.row_cache_bytes);
  options.row_cache_admits = &is_point_read_key;
  // The filter drops only expired records and unreachable elements, which reads treat as absent
  // whether or not the row cache still holds them (options.h).
  options.compaction.filter = keyspace->filter_.get();
  // A point lookup searches its data block's restart points, then scans the keys after one:
  // every 4 keys instead of the engine's 16 shortens the scan (measured: about 5% less CPU per
  // GET over 1 M keys) for a few percent more block bytes before compression.
  options.table.block_restart_interval = kDataBlockRestartInterval;
  // Flushes and compactions yield the CPU to the event loops: on a machine with few cores they
  // otherwise take turns with the loop and add their slices to its replies' latency. Two threads,
  // as the engine's default, so a flush need not wait for a compaction.
  keyspace->background_ = std::make_unique<ThreadPoolScheduler>(2, Keyspace::kBackgroundNiceIncrement);
  options.scheduler = keyspace->background_.get();
  Env* env = keyspace_options.env != nullptr ? keyspace_options.env : Env::posix();
  if (!env->file_exists(config.dir)) {
    const Status created = env->create_dir(config.dir);
    if (!created.is_ok() && !env->file_exists(config.dir)) return created;
  }
  CAIRN_ASSIGN_OR_RETURN(keyspace->database_, Database::open(options, config.dir));
  // A directory written before the record tag is moved to the current layout, once.
  CAIRN_RETURN_IF_ERROR(ensure_keyspace_format(*keyspace->database_));
  CAIRN_ASSIGN_OR_RETURN(keyspace->generations_,
                         GenerationAllocator::open(*keyspace->database_));
  keyspace->filter_->attach(keyspace->database_.get());
  return keyspace;
}

Keyspace::~Keyspace() {
  // The database goes first: its compactions use filter_, which reads it.
  if (database_ != nullptr) {
    (void)database_->close();
    database_.reset();
  }
}

Database& Keyspace::database() { return *database_; }

void Keyspace::add_observer(KeyspaceObserver* observer) { observers_.push_back(observer); }

Status Keyspace::save() { return database_->flush(); }

Status Keyspace::compact() { return database_->compact_range(std::nullopt, std::nullopt); }

KeyspaceStats Keyspace::stats() const {
  KeyspaceStats stats;
  stats.expired_keys = expired_keys_.load(std::memory_order_relaxed);
  stats.keyspace_hits = hits_.load(std::memory_order_relaxed);
  stats.keyspace_misses = misses_.load(std::memory_order_relaxed);
  return stats;
}

uint64_t Keyspace::now_ms() const { return clock_->now_micros() / 1000; }

// ---- Fused writes ----------------------------------------------------------------------------

Keyspace::FusedScope::FusedScope(FusedWrites& fused) {
  CAIRN_ASSERT(this_thread_fusion.fused == nullptr);
  this_thread_fusion = ThreadFusion{&fused, true, false};
}

Keyspace::FusedScope::~FusedScope() { this_thread_fusion = ThreadFusion(); }

FusedWrites* Keyspace::scope_fused() const {
  FusedWrites* fused = this_thread_fusion.fused;
  return fused != nullptr && &fused->keyspace() == this ? fused : nullptr;
}

FusedWrites* Keyspace::fused() const {
  return this_thread_fusion.fusing ? scope_fused() : nullptr;
}

Status Keyspace::end_fusion() {
  FusedWrites* fused = this->fused();
  if (fused == nullptr) return Status::ok();
  this_thread_fusion.fusing = false;
  return fused->flush();  // the run's lock stays: the command may rely on it
}

KeyLockGuard Keyspace::lock_key(std::string_view key) {
  FusedWrites* fused = scope_fused();
  if (fused != nullptr && key == fused->key()) {
    if (!fused->holds_lock()) fused->adopt_lock(locks_.lock_one(key));
    this_thread_fusion.command_locked = true;
    return KeyLockGuard();  // the run's lock, released after its last command
  }
  const std::string_view keys[1] = {key};
  return lock_keys(keys);
}

KeyLockGuard Keyspace::lock_keys(std::span<const std::string_view> keys) {
  if (FusedWrites* fused = scope_fused(); fused != nullptr) {
    // ZPOPMIN locks its one key as a list of keys, as ZMPOP does.
    if (!keys.empty() && std::all_of(keys.begin(), keys.end(), [&](std::string_view key) {
          return key == fused->key();
        })) {
      return lock_key(keys.front());
    }
    // A fusable command locks its own key only (CommandEntry::fusable); holding the run's lock
    // while taking others could deadlock.
    CAIRN_ASSERT(!this_thread_fusion.command_locked);
    (void)end_fusion();  // a failure is kept for the session, which answers the run with it
    fused->release_lock();
  }
  return locks_.lock(keys);
}

Result<KeyEntry> Keyspace::held_entry(std::string_view record) {
  KeyEntry entry;
  CAIRN_ASSIGN_OR_RETURN(entry.trailer, decode_record_trailer(record));
  entry.payload_bytes = record.size() - kRecordTrailerBytes;
  entry.stored = database_->inline_value(std::string(record));
  return entry;
}

Status Keyspace::write_fused(const WriteBatch& batch, std::string_view key,
                             uint64_t earliest_index_expiry_ms) {
  const Status status = batch.count() == 0 ? Status::ok() : database_->write(batch);
  if (!status.is_ok()) {
    // The run's pop-ahead runs were kept as if its writes had landed.
    pop_ahead_.forget(key);
    return status;
  }
  note_expiry_due(earliest_index_expiry_ms);
  return Status::ok();
}

void Keyspace::notify(std::string_view key) {
  pop_ahead_.forget(key);
  for (KeyspaceObserver* observer : observers_) observer->key_modified(key);
}

Result<std::optional<KeyEntry>> Keyspace::read_record(std::string_view engine_key,
                                                      const ReadOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(StoredValue stored, database_->get_value(options, engine_key));
  if (!stored.found()) return std::optional<KeyEntry>();
  KeyEntry entry;
  if (stored.kind() == StoredValue::Kind::kInline) {
    CAIRN_ASSIGN_OR_RETURN(entry.trailer, decode_record_trailer(stored.inline_bytes()));
  } else {
    if (stored.size_bytes() < kRecordTrailerBytes) {
      return Status::corruption("keyspace record shorter than its trailer");
    }
    CAIRN_ASSIGN_OR_RETURN(
        std::unique_ptr<ValueReader> reader,
        stored.open_range(stored.size_bytes() - kRecordTrailerBytes, kRecordTrailerBytes));
    char trailer[kRecordTrailerBytes];
    size_t filled = 0;
    while (filled < kRecordTrailerBytes) {
      CAIRN_ASSIGN_OR_RETURN(const size_t n,
                             reader->read(trailer + filled, kRecordTrailerBytes - filled));
      if (n == 0) return Status::corruption("keyspace record trailer truncated");
      filled += n;
    }
    CAIRN_ASSIGN_OR_RETURN(entry.trailer,
                           decode_record_trailer(std::string_view(trailer, kRecordTrailerBytes)));
  }
  entry.payload_bytes = stored.size_bytes() - kRecordTrailerBytes;
  entry.stored = std::move(stored);
  return std::optional<KeyEntry>(std::move(entry));
}

Result<std::optional<KeyEntry>> Keyspace::find(std::string_view key, bool locked,
                                                  bool count_lookup) {
  std::optional<KeyEntry> entry;
  if (key.size() <= kUserKeyBytesMax) {
    const std::string engine_key = data_key(key);
    const FusedWrites* fused = this->fused();
    const std::optional<FusedWrites::Held> held =
        fused != nullptr ? fused->lookup(engine_key) : std::nullopt;
    if (held.has_value()) {
      if (!held->removed) {
        CAIRN_ASSIGN_OR_RETURN(entry, held_entry(held->value));
      }
    } else {
      ReadOptions options;
      options.before_write = locked;
      CAIRN_ASSIGN_OR_RETURN(entry, read_record(engine_key, options));
    }
  }
  // Most records have no expiry: no clock read for them.
  if (entry.has_value() && entry->trailer.expiry_ms != 0 &&
      record_expired(entry->trailer.expiry_ms, now_ms())) {
    // Expiry deletes through the engine, which must hold the run's writes first.
    if (fused() != nullptr) {
      CAIRN_RETURN_IF_ERROR(end_fusion());
      return find(key, locked, count_lookup);
    }
    const uint64_t expiry_ms = entry->trailer.expiry_ms;
    entry.reset();
    if (locked) {
      CAIRN_RETURN_IF_ERROR(delete_expired(key, expiry_ms));
    } else {
      KeyLockGuard guard = lock_key(key);
      CAIRN_RETURN_IF_ERROR(delete_expired(key, expiry_ms));
    }
  }
  if (count_lookup) {
    (entry.has_value() ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  }
  return entry;
}

void Keyspace::prefetch(std::span<const std::string_view> keys) {
  size_t bytes = 0;
  for (const std::string_view key : keys) bytes += kSlotPrefixBytes + key.size();
  std::string joined;  // the engine keys side by side; reserved, so the views stay valid
  joined.reserve(bytes);
  std::vector<std::string_view> engine_keys;
  engine_keys.reserve(keys.size());
  for (const std::string_view key : keys) {
    if (key.size() > kPrefetchKeyBytesMax) continue;
    const size_t start = joined.size();
    append_data_key(key, &joined);
    engine_keys.emplace_back(joined.data() + start, joined.size() - start);
  }
  CAIRN_ASSERT(joined.size() <= bytes);
  database_->prefetch(engine_keys);
}

void Keyspace::prefetch_elements(std::string_view key, std::span<const std::string_view> elements) {
  if (elements.empty() || key.size() > kPrefetchKeyBytesMax) return;
  // A plain read: a hint neither counts a lookup nor deletes an expired record.
  const Result<std::optional<KeyEntry>> entry = read_record(data_key(key), ReadOptions());
  if (!entry.is_ok() || !entry.value().has_value()) return;
  const KeyEntry& record = *entry.value();
  if (!is_collection(record.type()) || !record.is_inline()) return;
  const Result<CollectionMeta> meta =
      decode_collection_meta(record.type(), record.inline_payload());
  if (!meta.is_ok()) return;  // the command that reads it reports the damage
  const std::string prefix = element_key_prefix(kElementTag, key, meta.value().generation);
  std::vector<std::string> element_keys;
  element_keys.reserve(elements.size());
  for (const std::string_view element : elements) {
    if (element.size() > kPrefetchKeyBytesMax) continue;
    element_keys.emplace_back(prefix).append(element);
  }
  const std::vector<std::string_view> views(element_keys.begin(), element_keys.end());
  database_->prefetch(views);
}

Status Keyspace::delete_expired(std::string_view key, uint64_t expiry_ms) {
  // Re-read under the lock: another command may have rewritten the key meanwhile.
  CAIRN_ASSIGN_OR_RETURN(const std::optional<KeyEntry> current,
                         read_record(data_key(key), ReadOptions()));
  WriteBatch batch;
  batch.remove(expiry_index_key(expiry_ms, key));
  const bool expired = current.has_value() && current->trailer.expiry_ms == expiry_ms &&
                       record_expired(expiry_ms, now_ms());
  if (expired) batch.remove(data_key(key));
  CAIRN_RETURN_IF_ERROR(database_->write(batch));
  if (expired) {
    expired_keys_.fetch_add(1, std::memory_order_relaxed);
    notify(key);
  }
  return Status::ok();
}

Result<std::string> Keyspace::read_payload(const KeyEntry& entry) {
  if (entry.is_inline()) return std::string(entry.inline_payload());
  return read_payload_range(entry, 0, entry.payload_bytes);
}

Result<std::string> Keyspace::read_payload_range(const KeyEntry& entry, uint64_t offset,
                                                 uint64_t length) {
  const uint64_t begin = std::min(offset, entry.payload_bytes);
  const uint64_t count = std::min(length, entry.payload_bytes - begin);
  if (entry.is_inline()) return std::string(entry.inline_payload().substr(begin, count));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueReader> reader,
                         entry.stored.open_range(begin, count));
  std::string out(count, '\0');
  size_t filled = 0;
  while (filled < count) {
    CAIRN_ASSIGN_OR_RETURN(const size_t n, reader->read(out.data() + filled, count - filled));
    if (n == 0) return Status::corruption("keyspace value shorter than its record says");
    filled += n;
  }
  return out;
}

namespace {

// Streams a payload then "\r\n" (the end of a RESP bulk string).
class PayloadBody final : public ByteSource {
 public:
  explicit PayloadBody(std::unique_ptr<ValueReader> reader)
      : reader_(std::move(reader)), payload_bytes_(reader_->size_bytes()) {}
  uint64_t size_bytes() const override { return payload_bytes_ + 2; }
  Result<size_t> read(char* buffer, size_t n) override {
    if (n == 0) return size_t{0};
    if (sent_ < payload_bytes_) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(n, payload_bytes_ - sent_));
      CAIRN_ASSIGN_OR_RETURN(const size_t got, reader_->read(buffer, want));
      if (got == 0) return Status::corruption("keyspace value ended before its length");
      sent_ += got;
      return got;
    }
    static constexpr char kCrlf[2] = {'\r', '\n'};
    size_t copied = 0;
    while (copied < n && sent_ < payload_bytes_ + 2) {
      buffer[copied++] = kCrlf[sent_ - payload_bytes_];
      sent_++;
    }
    return copied;
  }

 private:
  std::unique_ptr<ValueReader> reader_;
  const uint64_t payload_bytes_;
  uint64_t sent_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> Keyspace::payload_body(const KeyEntry& entry) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueReader> reader,
                         entry.stored.open_range(0, entry.payload_bytes));
  return std::unique_ptr<ByteSource>(new PayloadBody(std::move(reader)));
}

Result<std::optional<KeyDescription>> Keyspace::describe(std::string_view key) {
  CAIRN_ASSIGN_OR_RETURN(const std::optional<KeyEntry> entry, find(key, false, false));
  if (!entry.has_value()) return std::optional<KeyDescription>();
  KeyDescription description;
  description.type = record_type_name(entry->type());
  // One stable name per collection type: Redis's encoding for a collection past its compact
  // (listpack) size, since Cairn stores every collection as element records alike.
  switch (entry->type()) {
    case RecordType::kString:
      if (entry->is_inline() && entry->payload_bytes <= 20 &&
          string_to_int64(entry->inline_payload()).has_value()) {
        description.encoding = "int";
      } else if (entry->payload_bytes <= 44) {
        description.encoding = "embstr";
      } else {
        description.encoding = "raw";
      }
      break;
    case RecordType::kHash:
    case RecordType::kSet:
      description.encoding = "hashtable";
      break;
    case RecordType::kList:
      description.encoding = "quicklist";
      break;
    case RecordType::kSortedSet:
      description.encoding = "skiplist";
      break;
  }
  return std::optional<KeyDescription>(description);
}

Result<uint64_t> Keyspace::new_generation() { return generations_->next(); }

Result<std::optional<KeyEntry>> Keyspace::find_at(std::string_view key, const Snapshot* snapshot) {
  CAIRN_RETURN_IF_ERROR(end_fusion());
  std::optional<KeyEntry> entry;
  if (key.size() <= kUserKeyBytesMax) {
    ReadOptions options;
    options.snapshot = snapshot;
    CAIRN_ASSIGN_OR_RETURN(entry, read_record(data_key(key), options));
  }
  if (entry.has_value() && record_expired(entry->trailer.expiry_ms, now_ms())) entry.reset();
  (entry.has_value() ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return entry;
}

Result<std::optional<std::string>> Keyspace::read_element(std::string_view engine_key,
                                                          const Snapshot* snapshot,
                                                          bool before_write) {
  // An element too large to be stored (kElementBytesMax) is not there.
  if (engine_key.size() > kKeyBytesMax) return std::optional<std::string>();
  if (const FusedWrites* fused = this->fused(); fused != nullptr && snapshot == nullptr) {
    if (const std::optional<FusedWrites::Held> held = fused->lookup(engine_key)) {
      if (held->removed) return std::optional<std::string>();
      return std::optional<std::string>(held->value);
    }
  }
  ReadOptions options;
  options.snapshot = snapshot;
  options.before_write = before_write;
  return database_->get(options, engine_key);
}

std::unique_ptr<Iterator> Keyspace::new_iterator(const Snapshot* snapshot) {
  (void)end_fusion();  // a failure is kept for the session, which answers the run with it
  ReadOptions options;
  options.snapshot = snapshot;
  return database_->new_iterator(options);
}

const Snapshot* Keyspace::get_snapshot() {
  (void)end_fusion();  // a failure is kept for the session, which answers the run with it
  return database_->get_snapshot();
}

// ---- KeyspaceWrite -------------------------------------------------------------------------

void KeyspaceWrite::replace_index(std::string_view key, uint64_t expiry_ms,
                                  const std::optional<KeyEntry>& old) {
  if (old.has_value() && old->trailer.expiry_ms != 0 && old->trailer.expiry_ms != expiry_ms) {
    batch_.remove(expiry_index_key(old->trailer.expiry_ms, key));
  }
  if (expiry_ms != 0) {
    batch_.put(expiry_index_key(expiry_ms, key), "");
    earliest_index_expiry_ms_ = std::min(earliest_index_expiry_ms_, expiry_ms);
  }
}

Status KeyspaceWrite::put_string(std::string_view key, std::string_view payload, uint64_t expiry_ms,
                                 const std::optional<KeyEntry>& old) {
  return put_record(key, payload, RecordType::kString, expiry_ms, old);
}

Status KeyspaceWrite::put_record(std::string_view key, std::string_view payload, RecordType type,
                                 uint64_t expiry_ms, const std::optional<KeyEntry>& old) {
  CAIRN_RETURN_IF_ERROR(check_user_key(key));
  RecordTrailer trailer;
  trailer.expiry_ms = expiry_ms;
  trailer.type = type;
  // The data key and the record in pieces: no buffer of their own for a small write.
  const DataKeyPrefix prefix = data_key_prefix(key);
  const EncodedRecordTrailer trailer_bytes = encode_record_trailer(trailer);
  const std::string_view key_parts[] = {{prefix.data(), prefix.size()}, key};
  const std::string_view record_parts[] = {payload, {trailer_bytes.data(), trailer_bytes.size()}};
  batch_.put_parts(key_parts, record_parts);
  replace_index(key, expiry_ms, old);
  note_modified(key);
  return Status::ok();
}

Status KeyspaceWrite::put_collection(std::string_view key, RecordType type,
                                     const CollectionMeta& meta, uint64_t expiry_ms,
                                     const std::optional<KeyEntry>& old) {
  CAIRN_ASSERT(is_collection(type));
  if (meta.count == 0) {
    if (old.has_value()) remove(key, *old);
    return Status::ok();
  }
  return put_record(key, encode_collection_meta(type, meta), type, expiry_ms, old);
}

void KeyspaceWrite::put_element(std::string_view key, std::string_view engine_key,
                                std::string_view value) {
  // Elements are often new, never looked up before their write: the commit's index probe of a
  // new key is a cache miss, which this overlaps with the rest of the command.
  keyspace_.database_->prefetch_for_write(engine_key);
  batch_.put(engine_key, value);
  note_modified(key);
}

void KeyspaceWrite::remove_element(std::string_view key, std::string_view engine_key) {
  keyspace_.database_->prefetch_for_write(engine_key);
  batch_.remove(engine_key);
  note_modified(key);
}

void KeyspaceWrite::note_modified(std::string_view key) {
  // A command's writes of one key come together: the last one noted is usually this key.
  if (modified_.empty() || modified_.back() != key) modified_.emplace_back(key);
}

Status KeyspaceWrite::put_entry(std::string_view key, const KeyEntry& source, uint64_t expiry_ms,
                                const std::optional<KeyEntry>& old) {
  if (source.is_inline()) {
    return put_record(key, source.inline_payload(), source.type(), expiry_ms, old);
  }
  CAIRN_RETURN_IF_ERROR(check_user_key(key));
  // The stream writes to the engine now: it must come after what the run holds.
  CAIRN_RETURN_IF_ERROR(keyspace_.end_fusion());
  // A value in a blob file is copied a chunk at a time, never held whole.
  RecordTrailer trailer;
  trailer.expiry_ms = expiry_ms;
  trailer.type = source.type();
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<ValueWriter> writer,
      keyspace_.database_->put_stream(data_key(key), source.payload_bytes + kRecordTrailerBytes));
  CAIRN_RETURN_IF_ERROR(source.stored.append_prefix_to(source.payload_bytes, *writer));
  std::string trailer_bytes;
  append_record_trailer(&trailer_bytes, trailer);
  CAIRN_RETURN_IF_ERROR(writer->append(trailer_bytes));
  // The new index entry goes in first (a stale entry is harmless, a missing one is not).
  if (expiry_ms != 0) {
    CAIRN_RETURN_IF_ERROR(keyspace_.database_->put(expiry_index_key(expiry_ms, key), ""));
    keyspace_.note_expiry_due(expiry_ms);
  }
  CAIRN_RETURN_IF_ERROR(writer->commit());
  replace_index(key, expiry_ms, old);
  note_modified(key);
  return Status::ok();
}

void KeyspaceWrite::remove(std::string_view key, const KeyEntry& old) {
  batch_.remove(data_key(key));
  if (old.trailer.expiry_ms != 0) batch_.remove(expiry_index_key(old.trailer.expiry_ms, key));
  note_modified(key);
}

void KeyspaceWrite::keep_pop_run(std::string_view key, PopRun run) {
  CAIRN_ASSERT(!pop_run_.has_value());
  pop_run_.emplace(std::string(key), std::move(run));
}

Status KeyspaceWrite::commit() {
  FusedWrites* fused = keyspace_.fused();
  if (fused != nullptr && fused->can_absorb(batch_, modified_)) {
    CAIRN_RETURN_IF_ERROR(
        fused->absorb(batch_, std::exchange(earliest_index_expiry_ms_, UINT64_MAX)));
  } else {
    CAIRN_RETURN_IF_ERROR(keyspace_.end_fusion());
    if (batch_.count() > 0) CAIRN_RETURN_IF_ERROR(keyspace_.database_->write(batch_));
    keyspace_.note_expiry_due(std::exchange(earliest_index_expiry_ms_, UINT64_MAX));
  }
  batch_.clear();
  for (const std::string& key : modified_) keyspace_.notify(key);
  modified_.clear();
  if (pop_run_.has_value()) {
    keyspace_.pop_ahead_.keep(pop_run_->first, std::move(pop_run_->second));
    pop_run_.reset();
  }
  return Status::ok();
}

}  // namespace cairn
