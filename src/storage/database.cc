// The write path (group commit through a queue of writers) and the read path.
#include "storage/database.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "common/assert.h"
#include "io/clock.h"
#include "storage/blob_format.h"
#include "storage/block_cache.h"
#include "storage/compression.h"
#include "storage/database_iterator.h"
#include "storage/file_names.h"
#include "storage/limits.h"
#include "storage/log_format.h"
#include "storage/merging_iterator.h"

namespace cairn {
namespace {

// A group of writes is cut at this size so one leader's latency stays bounded; a small first
// write only picks up a little more, so it is not slowed down by others' big batches.
constexpr size_t kGroupBytesMax = 1 << 20;
constexpr size_t kSmallWriteBytes = 128 << 10;

Status check_key_size(size_t key_size_bytes) {
  if (key_size_bytes <= kKeyBytesMax) return Status::ok();
  return Status::invalid_argument("key of " + std::to_string(key_size_bytes) +
                                  " bytes exceeds the limit of " + std::to_string(kKeyBytesMax));
}

// A database given no block cache gets its own of this size (RocksDB's default too).
constexpr size_t kDefaultBlockCacheBytes = 8 << 20;

Options with_defaults(Options options) {
  if (options.env == nullptr) options.env = Env::posix();
  if (options.clock == nullptr) options.clock = Clock::real();
  if (options.table.block_cache == nullptr) {
    options.table.block_cache = std::make_shared<BlockCache>(kDefaultBlockCacheBytes);
  }
  return options;
}

// Options that would break an invariant are refused at open, not asserted on later.
Status validate(const Options& options) {
  const CompactionOptions& compaction = options.compaction;
  const char* problem = nullptr;
  if (options.write_buffer_size_bytes == 0) problem = "write_buffer_size_bytes must be positive";
  if (options.max_open_tables == 0) problem = "max_open_tables must be at least 1";
  if (!is_known_compression_type(static_cast<uint8_t>(options.table.compression))) {
    problem = "unknown table compression";
  }
  if (options.table.block_size_bytes == 0 || options.table.block_restart_interval < 1) {
    problem = "block_size_bytes and block_restart_interval must be positive";
  }
  if (compaction.level0_compaction_trigger < 1 ||
      compaction.level0_slowdown_writes_trigger < compaction.level0_compaction_trigger ||
      compaction.level0_stop_writes_trigger < compaction.level0_slowdown_writes_trigger) {
    problem = "level-0 triggers must satisfy 1 <= compaction <= slowdown <= stop";
  }
  if (compaction.level_size_ratio < 2 || compaction.level1_size_bytes == 0 ||
      compaction.target_file_size_bytes == 0) {
    problem = "level_size_ratio must be at least 2, level and file sizes positive";
  }
  if (compaction.pending_compaction_bytes_stop < compaction.pending_compaction_bytes_slowdown) {
    problem = "pending_compaction_bytes_stop must be at least the slowdown limit";
  }
  if (options.blob_value_threshold_bytes >= kBlobValueBytesMax) {
    problem = "blob_value_threshold_bytes must be below the largest blob value (0 turns blobs off)";
  }
  if (options.blob_file_size_bytes == 0 || options.blob_file_size_bytes > kBlobFileBytesMax) {
    problem = "blob_file_size_bytes must be positive and at most kBlobFileBytesMax";
  }
  if (!(options.blob_gc_live_fraction_min >= 0 && options.blob_gc_live_fraction_min <= 1)) {
    problem = "blob_gc_live_fraction_min must be between 0 and 1";
  }
  return problem == nullptr ? Status::ok() : Status::invalid_argument(problem);
}

}  // namespace

// One caller of write_through_queue, waiting in writers_.
struct Database::Writer {
  Writer(WriteKind writer_kind, const WriteBatch* writer_batch)
      : kind(writer_kind), batch(writer_batch) {}

  WriteKind kind;
  const WriteBatch* batch;  // for kBatch
  Status status;
  bool done = false;             // guarded by mutex_
  std::condition_variable turn;  // notified when done, or when this writer becomes the leader
  // Set with each notification of `turn`, so a writer can wait for it without the lock.
  std::atomic<bool> signalled{false};
};

namespace {

// How many times a queued writer polls Writer::signalled before it sleeps on its condition
// variable: about 10 microseconds, several times a leader's group of small writes. Sleeping at
// once cost a futex wait and wake per write, which made two event loops writing at once slower
// than one (a tenth of the CPU in the kernel's scheduler).
constexpr int kWriterSpinCount = 256;

// Gives the row cache each key of a write group at the group's last sequence: readers see the
// whole group at once (last_sequence_ publishes it), so none may see part of it early. Keys the
// cache does not admit (Options::row_cache_admits) are left out: it never holds them.
// REQUIRES: the group outlives it.
class RowCacheUpdate final : public WriteBatch::Handler {
 public:
  RowCacheUpdate(RowCache& cache, SequenceNumber sequence,
                 bool (*admits)(std::string_view user_key))
      : update_(cache, sequence), admits_(admits) {}
  void put(std::string_view key, std::string_view value) override {
    if (admitted(key)) update_.refresh(key, value);
  }
  void remove(std::string_view key) override {
    if (admitted(key)) update_.invalidate(key);
  }
  // A lookup must answer kBlobReference for these, which the cache cannot say.
  void put_blob_reference(std::string_view key, std::string_view) override {
    if (admitted(key)) update_.invalidate(key);
  }
  // Applies what the last keys left in flight.
  void finish() { update_.apply(); }

 private:
  bool admitted(std::string_view key) const { return admits_ == nullptr || admits_(key); }

  RowCache::GroupUpdate update_;
  bool (*const admits_)(std::string_view user_key);
};

void pause_briefly() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

Database::Database(const Options& options, std::string directory)
    : options_(with_defaults(options)),
      directory_(std::move(directory)),
      table_cache_(options_.env, directory_, options_.table, options_.max_open_tables),
      row_cache_(options_.row_cache_bytes > 0 ? std::make_unique<RowCache>(options_.row_cache_bytes)
                                              : nullptr),
      versions_(options_.env, directory_),
      mem_(new_memtable()) {
  if (options_.scheduler == nullptr) {
    owned_scheduler_ = std::make_unique<ThreadPoolScheduler>(2);
    options_.scheduler = owned_scheduler_.get();
  }
  memtables_.push_back(mem_);
  write_prefetch_mask_ = mem_->point_index_prefetch_target().mask;
  publish_write_prefetch_target();
}

Database::~Database() { (void)close(); }

Result<std::unique_ptr<Database>> Database::open(const Options& options,
                                                 const std::string& directory) {
  CAIRN_RETURN_IF_ERROR(validate(options));
  std::unique_ptr<Database> database(new Database(options, directory));
  CAIRN_RETURN_IF_ERROR(database->recover());
  return database;
}

Status Database::put(std::string_view key, std::string_view value) {
  WriteBatch batch;
  batch.put(key, value);
  const uint64_t threshold_bytes = options_.blob_value_threshold_bytes;
  if (threshold_bytes != 0 && value.size() > threshold_bytes) return write(batch);
  // The common small put: write()'s walk over the batch would only check the key.
  CAIRN_RETURN_IF_ERROR(check_key_size(key.size()));
  return write_checked(batch);
}

Status Database::remove(std::string_view key) {
  WriteBatch batch;
  batch.remove(key);
  CAIRN_RETURN_IF_ERROR(check_key_size(key.size()));
  return write_checked(batch);
}

Status Database::write(const WriteBatch& batch) {
  // Keys are checked here, once, rather than in WriteBatch::put, which cannot fail.
  struct Check final : WriteBatch::Handler {
    uint64_t threshold_bytes = 0;
    size_t longest_key = 0;
    bool blob_reference = false;
    bool large_value = false;
    void put(std::string_view key, std::string_view value) override {
      note(key);
      large_value |= threshold_bytes != 0 && value.size() > threshold_bytes;
    }
    void remove(std::string_view key) override { note(key); }
    void put_blob_reference(std::string_view key, std::string_view) override {
      note(key);
      blob_reference = true;
    }
    void note(std::string_view key) { longest_key = std::max(longest_key, key.size()); }
  } check;
  check.threshold_bytes = options_.blob_value_threshold_bytes;
  CAIRN_RETURN_IF_ERROR(batch.iterate(check));
  CAIRN_RETURN_IF_ERROR(check_key_size(check.longest_key));
  // A reference names a record only the database may vouch for: a forged one would end the
  // WAL's replay at recovery (database_recovery.cc) and lose the writes after it.
  if (check.blob_reference) {
    return Status::invalid_argument("a write batch may not carry blob references");
  }
  if (batch.count() == 0) return Status::ok();
  if (!check.large_value) return write_checked(batch);
  uint64_t blob_value_bytes = 0;
  BlobPins pins(blobs_.get());
  CAIRN_ASSIGN_OR_RETURN(const WriteBatch with_references,
                         move_large_values(batch, &blob_value_bytes, &pins));
  return write_with_blob_values(with_references, blob_value_bytes, pins);
}

Status Database::write_checked(const WriteBatch& batch) {
  if (batch.size_bytes() > kWriteBatchBytesMax) {
    return Status::invalid_argument("write batch of " + std::to_string(batch.size_bytes()) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(kWriteBatchBytesMax));
  }
  return write_through_queue(WriteKind::kBatch, &batch);
}

Status Database::sync_wal() { return write_through_queue(WriteKind::kSyncWal, nullptr); }

Status Database::flush_wal() { return write_through_queue(WriteKind::kFlushWal, nullptr); }

Status Database::flush() {
  CAIRN_RETURN_IF_ERROR(write_through_queue(WriteKind::kSwitchMemtable, nullptr));
  std::unique_lock lock(mutex_);
  background_done_.wait(lock, [&] { return imm_ == nullptr || !sticky_error_.is_ok(); });
  return sticky_error_;
}

// Writers queue up; the one at the front (the leader) writes its own batch and those of the
// writers queued behind it as one WAL record with one fsync, then wakes them. This is group
// commit: under concurrency, many writes share one fsync.
Status Database::write_through_queue(WriteKind kind, const WriteBatch* batch) {
  Writer writer(kind, batch);
  std::unique_lock lock(mutex_);
  if (closed_) return Status::invalid_argument("the database is closed");
  writers_.push_back(&writer);
  if (writers_.front() != &writer) {
    lock.unlock();
    for (int i = 0; i < kWriterSpinCount && !writer.signalled.load(std::memory_order_acquire);
         i++) {
      pause_briefly();
    }
    lock.lock();
  }
  writer.turn.wait(lock, [&] { return writer.done || writers_.front() == &writer; });
  if (writer.done) return writer.status;

  Writer* last_in_group = &writer;
  Status status;
  switch (kind) {
    case WriteKind::kBatch:
      status = apply_group(lock, writer, &last_in_group);
      break;
    case WriteKind::kSwitchMemtable:
      status = make_room_for_write(lock, /*force_switch=*/true);
      break;
    case WriteKind::kSyncWal:
    case WriteKind::kFlushWal:
      status = sticky_error_;
      if (status.is_ok()) {
        // As in apply_group: only the leader touches the log, so the lock can go while it waits
        // for the disk; readers (and anyone asking for last_sequence) need not wait with it.
        lock.unlock();
        status = kind == WriteKind::kSyncWal ? sync_wal_files() : log_file_->flush();
        lock.lock();
      }
      if (status.is_ok() && kind == WriteKind::kSyncWal) {
        last_sync_micros_ = options_.clock->now_micros();
      }
      if (!status.is_ok() && sticky_error_.is_ok()) sticky_error_ = status;
      break;
  }

  while (true) {
    Writer* done = writers_.front();
    writers_.pop_front();
    if (done != &writer) {
      done->status = status;
      done->done = true;
      done->signalled.store(true, std::memory_order_release);
      done->turn.notify_one();
    }
    if (done == last_in_group) break;
  }
  if (!writers_.empty()) {
    writers_.front()->signalled.store(true, std::memory_order_release);
    writers_.front()->turn.notify_one();
  }
  return status;
}

// Blob records first: a synced WAL record must not name a record that is not.
// REQUIRES: the caller is the leader of the write queue.
Status Database::sync_wal_files() {
  CAIRN_RETURN_IF_ERROR(blobs_->sync());
  return log_file_->sync();
}

// REQUIRES: `leader` is at the front of writers_ and `lock` holds mutex_.
Status Database::apply_group(std::unique_lock<std::mutex>& lock, Writer& leader,
                             Writer** last_in_group) {
  CAIRN_RETURN_IF_ERROR(make_room_for_write(lock, /*force_switch=*/false));

  WriteBatch& group = write_group_;
  group = *leader.batch;  // reuses the buffer of the previous group
  const size_t group_bytes_max = group.size_bytes() <= kSmallWriteBytes
                                     ? group.size_bytes() + kSmallWriteBytes
                                     : kGroupBytesMax;
  for (size_t i = 1; i < writers_.size(); i++) {
    Writer* follower = writers_[i];
    if (follower->kind != WriteKind::kBatch) break;
    if (group.size_bytes() + follower->batch->size_bytes() > group_bytes_max) break;
    group.append(*follower->batch);
    *last_in_group = follower;
  }
  const SequenceNumber first_sequence = last_sequence_.load(std::memory_order_relaxed) + 1;
  group.set_sequence(first_sequence);
  const bool sync = should_sync_now();
  std::shared_ptr<MemTable> memtable = mem_;

  // Only the leader touches the log and the memtable's writer side, so the lock can go while
  // it does I/O; followers and readers proceed meanwhile.
  lock.unlock();
  Status status = log_->add_record(group.contents());
  // Under kBatch, blob records written since the last sync become durable before the WAL
  // records naming them (under kAlways they already are, and kNever never syncs).
  if (status.is_ok() && sync) status = blobs_->sync();
  if (status.is_ok() && sync) {
    status = log_file_->sync();
  } else if (status.is_ok() && options_.flush_wal_per_write) {
    status = log_file_->flush();
  }
  if (status.is_ok()) {
    // The row cache learns each key once it is in the memtable, before last_sequence_ makes the
    // group visible (see row_cache.h).
    std::optional<RowCacheUpdate> update;
    if (row_cache_ != nullptr) {
      update.emplace(*row_cache_, first_sequence + group.count() - 1, options_.row_cache_admits);
    }
    const Status inserted =
        insert_into_memtable(group, memtable.get(), update.has_value() ? &*update : nullptr);
    CAIRN_ASSERT(inserted.is_ok());  // the batch was built here, not read from disk
    if (update.has_value()) update->finish();
  }
  const size_t group_bytes = group.size_bytes();
  const uint32_t group_count = group.count();
  if (group_bytes > kGroupBytesMax) write_group_ = WriteBatch();  // do not keep a huge buffer
  lock.lock();

  if (!status.is_ok()) {
    if (sticky_error_.is_ok()) sticky_error_ = status;
    return status;
  }
  // Release: a reader that sees the sequence sees the memtable and row cache changes above.
  last_sequence_.store(first_sequence + group_count - 1, std::memory_order_release);
  stats_.user_bytes_written += group_bytes - kWriteBatchHeaderBytes;
  stats_.wal_bytes_written += group_bytes + kLogHeaderBytes;
  if (sync) last_sync_micros_ = options_.clock->now_micros();
  maybe_schedule_sort(lock);  // last: it may release the lock for a moment
  return Status::ok();
}

// Lets compaction catch up a little: releases the lock for one slowdown delay.
void Database::delay_write(std::unique_lock<std::mutex>& lock) {
  const uint64_t delay_micros = options_.compaction.slowdown_delay_micros;
  lock.unlock();
  options_.clock->sleep_micros(delay_micros);
  lock.lock();
  stats_.stall_micros += delay_micros;
}

bool Database::should_sync_now() const {
  switch (options_.fsync) {
    case FsyncPolicy::kAlways:
      return true;
    case FsyncPolicy::kNever:
      return false;
    case FsyncPolicy::kBatch:
      return options_.clock->now_micros() - last_sync_micros_ >=
             options_.fsync_batch_interval_ms * 1000;
  }
  return true;
}

// Makes sure the memtable has room, switching to a new one (and scheduling the flush of the
// old) when it is full or `force_switch` asks. Throttles on compaction debt: a write is delayed
// once while level 0 or the pending compaction bytes are past the slowdown limits, and a switch
// waits while they are past the stop limits (new level-0 files come only from switches, so
// that bounds level 0). Waits while the previous flush is running.
// REQUIRES: the caller is the leader and `lock` holds mutex_.
Status Database::make_room_for_write(std::unique_lock<std::mutex>& lock, bool force_switch) {
  const CompactionOptions& limits = options_.compaction;
  bool delayed = false;
  while (true) {
    CAIRN_RETURN_IF_ERROR(sticky_error_);
    const bool slow = static_cast<int>(compaction_debt_.level0_file_count) >=
                          limits.level0_slowdown_writes_trigger ||
                      compaction_debt_.pending_bytes >= limits.pending_compaction_bytes_slowdown;
    if (slow && !delayed && !force_switch) {
      delay_write(lock);
      delayed = true;
      continue;
    }
    const bool full = mem_->memory_usage_bytes() >= options_.write_buffer_size_bytes ||
                      mem_->point_index_full();
    if (!force_switch && !full) return Status::ok();
    const auto is_stopped = [&] {
      return static_cast<int>(compaction_debt_.level0_file_count) >=
                 limits.level0_stop_writes_trigger ||
             compaction_debt_.pending_bytes >= limits.pending_compaction_bytes_stop;
    };
    const bool stopped = is_stopped();
    if (imm_ != nullptr || stopped) {
      const uint64_t start_micros = options_.clock->now_micros();
      maybe_schedule_compaction(lock);
      // Scheduling may release the lock: a flush or compaction that ended meanwhile has already
      // notified, so wait only if there is still something to wait for.
      if (imm_ != nullptr || is_stopped()) background_done_.wait(lock);
      if (stopped) stats_.stall_micros += options_.clock->now_micros() - start_micros;
      continue;
    }
    if (mem_->entry_count() == 0) return Status::ok();  // nothing to switch away from
    const Status switched = switch_memtable();
    if (!switched.is_ok()) {
      sticky_error_ = switched;
      return switched;
    }
    schedule_flush(lock);
    force_switch = false;
  }
}

void Database::publish_write_prefetch_target() {
  const PointIndex::PrefetchTarget target = mem_->point_index_prefetch_target();
  CAIRN_ASSERT(target.mask == write_prefetch_mask_);  // every memtable's index has one size
  write_prefetch_slots_.store(target.slots, std::memory_order_relaxed);
}

// Starts a new WAL and memtable; the old memtable becomes imm_.
// REQUIRES: imm_ is null and `mutex_` is held by the leader.
Status Database::switch_memtable() {
  CAIRN_ASSERT(imm_ == nullptr);
  // Sync the old log first: otherwise a power loss could keep the new log's (synced) writes but
  // not the old one's unsynced tail, a hole in the history.
  if (options_.fsync != FsyncPolicy::kNever) {
    CAIRN_RETURN_IF_ERROR(blobs_->sync());  // before the log whose records name them
    CAIRN_RETURN_IF_ERROR(log_file_->sync());
  }
  CAIRN_RETURN_IF_ERROR(open_new_log());
  imm_ = std::move(mem_);
  mem_ = new_memtable();
  publish_write_prefetch_target();
  std::erase_if(memtables_, [](const auto& memtable) { return memtable.expired(); });
  memtables_.push_back(mem_);
  return Status::ok();
}

// Creates the next WAL file, makes its directory entry durable before any write lands in it,
// and only then closes the previous log (so a failure leaves the previous one in place).
Status Database::open_new_log() {
  const uint64_t number = versions_.new_file_number();
  CAIRN_ASSIGN_OR_RETURN(auto file,
                         options_.env->new_writable_file(log_file_name(directory_, number)));
  CAIRN_RETURN_IF_ERROR(options_.env->sync_dir(directory_));
  std::unique_ptr<WritableFile> previous = std::move(log_file_);
  log_file_ = std::move(file);
  log_ = std::make_unique<LogWriter>(log_file_.get());
  log_number_ = number;
  return previous == nullptr ? Status::ok() : previous->close();
}

std::shared_ptr<MemTable> Database::new_memtable() const {
  return std::make_shared<MemTable>(MemTableOptions{
      .point_index_slot_count = memtable_point_index_slots(options_.write_buffer_size_bytes)});
}

Database::ReadState Database::read_state(const ReadOptions& options) const {
  std::lock_guard lock(mutex_);
  ReadState state;
  state.sequence = options.snapshot != nullptr ? options.snapshot->sequence()
                                                : last_sequence_.load(std::memory_order_relaxed);
  state.before_write = options.before_write;
  state.memtable = mem_;
  state.immutable = imm_;
  // Read after imm_ under the lock: a flush installs its version before clearing imm_, so a
  // reader sees the flushed data in imm_, in the version, or in both — never in neither.
  state.version = versions_.current();
  return state;
}

Result<LookupResult> Database::lookup(const ReadOptions& options, std::string_view key,
                                      std::string* value, ReadState* state) {
  RowCache* const row_cache =
      options.snapshot == nullptr &&
              (options_.row_cache_admits == nullptr || options_.row_cache_admits(key))
          ? row_cache_.get()
          : nullptr;
  // The write's probe of the memtable's index then finds its slot cached, whatever the read
  // costs meanwhile.
  if (options.before_write) PointIndex::prefetch(write_prefetch_target(), key);
  // Acquire: pairs with the write path's release, so every entry refreshed before the sequence
  // was published is seen; an entry valid only from a later write misses.
  if (row_cache != nullptr) {
    switch (row_cache->lookup(key, last_sequence_.load(std::memory_order_acquire), value)) {
      case RowCache::Answer::kValue:
        return LookupResult::kFound;
      case RowCache::Answer::kAbsent:
        return LookupResult::kAbsent;
      case RowCache::Answer::kMiss:
        break;
    }
  }
  *state = read_state(options);
  const SequenceNumber sequence = state->sequence;
  LookupResult result = state->memtable->get(key, sequence, value);
  if (result == LookupResult::kAbsent && state->immutable != nullptr) {
    result = state->immutable->get(key, sequence, value);
  }
  bool from_tables = false;
  if (result == LookupResult::kAbsent) {
    CAIRN_ASSIGN_OR_RETURN(result, state->version->get(table_cache_, key, sequence, value));
    from_tables = true;
  }
  if (!options.fill_row_cache) return result;
  if (row_cache != nullptr && result == LookupResult::kFound &&
      (from_tables || state->before_write)) {
    row_cache->insert(key, *value, sequence);
  } else if (row_cache != nullptr && state->before_write &&
             (result == LookupResult::kAbsent || result == LookupResult::kDeleted)) {
    row_cache->insert_absent(key, sequence);  // the write that follows gives it its value
  }
  return result;
}

void Database::prefetch(std::span<const std::string_view> keys) {
  if (keys.empty()) return;
  if (row_cache_ != nullptr) row_cache_->prefetch(keys);
  // What a lookup that misses the row cache reads next, and a write probes. Not the tables'
  // filters: finding each table cost more than the misses saved (measured).
  const PointIndex::PrefetchTarget memtable = write_prefetch_target();
  for (const std::string_view key : keys) PointIndex::prefetch(memtable, key);
}

Result<std::optional<std::string>> Database::get(const ReadOptions& options, std::string_view key) {
  ReadState state;  // kept while a blob is read
  std::string value;
  CAIRN_ASSIGN_OR_RETURN(const LookupResult result, lookup(options, key, &value, &state));
  switch (result) {
    case LookupResult::kFound:
      return std::optional<std::string>(std::move(value));
    case LookupResult::kBlobReference: {
      CAIRN_ASSIGN_OR_RETURN(std::string blob_value, read_blob_value(value));
      return std::optional<std::string>(std::move(blob_value));
    }
    case LookupResult::kAbsent:
    case LookupResult::kDeleted:
      break;
  }
  return std::optional<std::string>();
}

std::unique_ptr<Iterator> Database::new_iterator(const ReadOptions& options) {
  ReadState state = read_state(options);
  std::vector<std::unique_ptr<Iterator>> children;
  for (const std::shared_ptr<MemTable>& memtable : {state.memtable, state.immutable}) {
    if (memtable == nullptr) continue;
    children.push_back(memtable->new_iterator());
    children.back()->keep_alive(memtable);
  }
  state.version->append_iterators(table_cache_, &children);
  auto iterator = new_database_iterator(new_merging_iterator(std::move(children)), state.sequence,
                                        blobs_.get());
  iterator->keep_alive(std::move(state.version));
  return iterator;
}

const Snapshot* Database::get_snapshot() {
  std::lock_guard lock(mutex_);
  const SequenceNumber sequence = last_sequence_.load(std::memory_order_relaxed);
  snapshots_.insert(sequence);
  return new Snapshot(sequence);
}

void Database::release_snapshot(const Snapshot* snapshot) {
  std::lock_guard lock(mutex_);
  auto it = snapshots_.find(snapshot->sequence());
  CAIRN_ASSERT(it != snapshots_.end());
  snapshots_.erase(it);
  delete snapshot;
}

std::vector<SequenceNumber> Database::live_snapshots() const {
  std::vector<SequenceNumber> sequences(snapshots_.begin(), snapshots_.end());
  sequences.erase(std::unique(sequences.begin(), sequences.end()), sequences.end());
  return sequences;
}

Status Database::close() {
  std::unique_lock lock(mutex_);
  if (closed_) return Status::ok();
  closed_ = true;
  closing_.store(true);
  CAIRN_ASSERT(writers_.empty());
  CAIRN_ASSERT(!manual_compaction_running_);  // disable_manual_compaction() and wait first
  background_done_.wait(lock, [&] { return background_tasks_ == 0; });
  Status status = sticky_error_;
  if (blobs_ != nullptr) {
    // Whatever the policy, as for the WAL below, whose records may name these.
    const Status blobs_closed = blobs_->close();
    if (status.is_ok()) status = blobs_closed;
  }
  if (log_file_ != nullptr) {
    if (status.is_ok()) status = log_file_->sync();
    const Status closed = log_file_->close();
    if (status.is_ok()) status = closed;
    log_file_.reset();
    log_.reset();
  }
  lock_.reset();
  return status;
}

DatabaseStats Database::stats() const {
  std::unique_lock lock(mutex_);
  DatabaseStats stats = stats_;
  lock.unlock();
  if (row_cache_ != nullptr) {
    const RowCache::Stats rows = row_cache_->stats();
    stats.row_cache_hits = rows.hits;
    stats.row_cache_misses = rows.misses;
    stats.row_cache_usage_bytes = rows.usage_bytes;
  }
  const BlockCache::Stats cache = options_.table.block_cache->stats();
  stats.block_cache_hits = cache.hits;
  stats.block_cache_misses = cache.misses;
  stats.block_cache_usage_bytes = cache.usage_bytes;
  stats.block_cache_capacity_bytes = cache.capacity_bytes;
  if (blobs_ != nullptr) {
    const BlobStore::Stats blobs = blobs_->stats();
    stats.blob_bytes_written = blobs.bytes_written;
    stats.blob_file_count = blobs.file_count;
  }
  const std::shared_ptr<const Version> version = versions_.current();
  for (int level = 0; level < kLevelCount; level++) {
    stats.levels[level].file_count = version->files(level).size();
    stats.levels[level].size_bytes = version->level_size_bytes(level);
  }
  return stats;
}

size_t Database::level0_table_count() const { return versions_.current()->files(0).size(); }

SequenceNumber Database::last_sequence() const {
  return last_sequence_.load(std::memory_order_acquire);
}

}  // namespace cairn
