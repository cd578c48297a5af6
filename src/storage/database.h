// Database: Cairn's per-node storage engine, an LSM tree in one directory.
//
// Writes go to the write-ahead log (made durable per Options::fsync) and then to the memtable;
// a full memtable becomes immutable and a background task (through the Scheduler) flushes it to
// a level-0 table. Background compactions merge tables down the levels (compaction.h), and
// writes slow down or wait when compaction falls behind. Reads look in the memtable, the
// immutable memtable, then the tables, newest first. Every write gets the next sequence number; a
// read or iterator sees the database as of one sequence (the latest, or a snapshot's). Opening
// recovers: MANIFEST (which tables) + WAL (what was written since), then writes a fresh MANIFEST.
//
// Thread-safety: every method may be called from many threads at once, except close() and the
// destructor, which REQUIRE that no other call is in progress or follows.
//
// Large values (WiscKey-style, docs/blob-format.md): a value larger than
// Options::blob_value_threshold_bytes is written to a blob file (blob_store.h) before its write
// enters the writer queue, and the WAL and the tree carry a small reference to it instead. Reads
// resolve references. Memory: get() and an iterator's value() hold the whole value;
// put_stream() and get_stream() hold one chunk (64 KiB) of it, whatever its size (up to 1 GiB).
// A WAL record whose blob reference dangles after a crash (the blob bytes were not yet durable)
// ends recovery there, as a torn tail would (database_recovery.cc). A blob file is deleted once
// nothing can reach it any more: no live table or memtable names it and no write holds it
// (remove_obsolete_files; docs/blob-format.md).
//
// Errors: a failure to write the WAL, a blob file, a table or the MANIFEST stops further writes
// (they return that first error) because what is on disk is then unknown; reads keep working,
// and reopening the database recovers what was acknowledged.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/env.h"
#include "io/scheduler.h"
#include "storage/blob_store.h"
#include "storage/compaction.h"
#include "storage/database_stats.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"
#include "storage/log_writer.h"
#include "storage/memtable.h"
#include "storage/options.h"
#include "storage/row_cache.h"
#include "storage/table_cache.h"
#include "storage/version_set.h"
#include "storage/write_batch.h"

namespace cairn {

// A point in the database's history that reads can ask for. Obtained from and returned to
// the database that made it.
class Snapshot {
 public:
  SequenceNumber sequence() const { return sequence_; }

 private:
  friend class Database;
  explicit Snapshot(SequenceNumber sequence) : sequence_(sequence) {}
  SequenceNumber sequence_;
};

// A value given in pieces (Database::put_stream). Exactly the announced number of bytes must
// be appended, then commit() writes the key. Destroying the writer without a successful commit
// abandons the value: the database is unchanged (a large value leaves garbage in a blob file).
// Used by one thread at a time; REQUIRES: the database outlives it and is not closed before it.
class ValueWriter {
 public:
  virtual ~ValueWriter() = default;
  // The next bytes of the value. InvalidArgument if they pass the announced size; after any
  // error the value is abandoned and every later call returns that error.
  virtual Status append(std::string_view bytes) = 0;
  // Writes the key with the value through the normal write path (WAL, memtable): durable per
  // the fsync policy when it returns OK, as put(). InvalidArgument if fewer bytes than announced
  // were appended. REQUIRES: not called again after it returned OK.
  virtual Status commit() = 0;
};

// The bytes of a value, in order (Database::get_stream). Used by one thread at a time;
// REQUIRES: the database outlives it. It reads the value as of when it was opened, even if the
// key is overwritten meanwhile.
class ValueReader {
 public:
  virtual ~ValueReader() = default;
  // The number of bytes this reader returns in all (the range's length for a range reader).
  virtual uint64_t size_bytes() const = 0;
  // The size of the whole value.
  virtual uint64_t value_size_bytes() const = 0;
  // Copies up to n of the next bytes into `buffer` (room for n) and returns how many: 0 only at
  // the end (or when n is 0); may return fewer than n before the end. Corruption, naming the
  // blob file, if the bytes it reaches are damaged: no damaged byte is ever returned. After an
  // error every call returns it.
  virtual Result<size_t> read(char* buffer, size_t n) = 0;
};

// What Database::get_value found for a key: nothing, a value kept in the tree (its bytes, held
// here), or a value in a blob file (only its reference is held; open_range streams any part of
// it). Lets a caller read a small value with one lookup and no reader allocation while a 1 GiB
// value is never read whole. A value type; REQUIRES: the database outlives it.
class Database;
struct ManualCompaction;  // manual_compaction.h

class StoredValue {
 public:
  enum class Kind { kAbsent, kInline, kBlob };

  StoredValue() = default;
  Kind kind() const { return kind_; }
  bool found() const { return kind_ != Kind::kAbsent; }
  // The size of the value (0 when absent).
  uint64_t size_bytes() const { return size_bytes_; }
  // REQUIRES: kind() == kInline.
  std::string_view inline_bytes() const;
  std::string take_inline_bytes() &&;
  // A reader over bytes [offset, offset + length) of this very version of the value, clipped to
  // its end. For an inline value it copies the range. Errors as get_stream_range (the blob file
  // of an overwritten value may since have been collected: then an error, never other bytes).
  // REQUIRES: found().
  Result<std::unique_ptr<ValueReader>> open_range(uint64_t offset, uint64_t length) const;
  // Appends bytes [0, length) of the value (clipped to its end) to `writer`, one chunk (64 KiB)
  // in memory at a time; errors as open_range and ValueWriter::append. REQUIRES: found().
  Status append_prefix_to(uint64_t length, ValueWriter& writer) const;

 private:
  friend class Database;
  Kind kind_ = Kind::kAbsent;
  uint64_t size_bytes_ = 0;
  // kInline: the value; kBlob: the encoded blob reference.
  std::string bytes_;
  Database* database_ = nullptr;
};

class Database {
 public:
  // Opens (creating it if options.create_if_missing) the database in `directory`. Busy if
  // another process or Database holds it; Corruption, naming the file, if recovery finds
  // damage it cannot treat as a torn tail.
  static Result<std::unique_ptr<Database>> open(const Options& options,
                                                const std::string& directory);

  // Closes the database if close() was not called.
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status put(std::string_view key, std::string_view value);
  Status remove(std::string_view key);
  // Applies every operation of `batch` atomically: a read sees all of them or none, and after a
  // crash either all are recovered or none. Values over the threshold are first written to blob
  // files, before the batch joins the writer queue (a failed write leaves them as garbage).
  // InvalidArgument if the batch carries blob references: only the database writes those.
  Status write(const WriteBatch& batch);

  // Writes `key` with a value given in pieces through the returned writer (see ValueWriter):
  // straight to a blob file when value_size_bytes is over the threshold (one chunk in memory),
  // otherwise buffered and written whole at commit. Each large streamed value has a blob file
  // to itself while it is written, so concurrent streams and puts do not wait for each other.
  // InvalidArgument if the key is over kKeyBytesMax, or the value over kBlobValueBytesMax
  // (1 GiB + 64 KiB; with blob files off, the write batch limit).
  Result<std::unique_ptr<ValueWriter>> put_stream(std::string_view key, uint64_t value_size_bytes);

  // The value of `key`, or nullopt if it is absent. A value in a blob file is read whole.
  Result<std::optional<std::string>> get(const ReadOptions& options, std::string_view key);
  // The value of `key` without reading a blob value: see StoredValue. One lookup.
  Result<StoredValue> get_value(const ReadOptions& options, std::string_view key);
  // `bytes` as get_value returns an inline value: for a caller's own writes not yet written
  // (server/fused_writes.h).
  StoredValue inline_value(std::string bytes);
  // A hint that `keys` will be looked up (or written) soon, the commands of a pipeline: starts
  // loading their row cache entries and their slots in the memtable's index, so that the
  // lookups' cache misses overlap. Changes nothing visible. Meant for a pipeline's worth of keys
  // (a few dozen): what it loads for many more leaves the caches before it is used.
  void prefetch(std::span<const std::string_view> keys);
  // A hint that `key` will be written soon, though not read first (a new element of a
  // collection): starts loading the memtable index slot its write will probe, as a read with
  // ReadOptions::before_write does. Changes nothing visible.
  void prefetch_for_write(std::string_view key) const {
    PointIndex::prefetch(write_prefetch_target(), key);
  }
  // A reader over the value of `key`, or nullptr if the key is absent (as get's nullopt). A value
  // in a blob file is streamed, one verified chunk at a time; an inline value is held whole.
  Result<std::unique_ptr<ValueReader>> get_stream(const ReadOptions& options, std::string_view key);
  // As get_stream, over bytes [offset, offset + length) of the value, clipped to its end (empty
  // if offset is past it). A value in a blob file is read from the chunk holding `offset` on.
  Result<std::unique_ptr<ValueReader>> get_stream_range(const ReadOptions& options,
                                                        std::string_view key, uint64_t offset,
                                                        uint64_t length);
  // An iterator over user keys in bytewise order, as of options.snapshot (or now). It keeps the
  // memtables and tables it reads alive; it may outlive neither the database nor the snapshot.
  // value() reads a value in a blob file whole, only when called; an error doing so makes the
  // iterator invalid with status() telling (value() then returns an empty view).
  std::unique_ptr<Iterator> new_iterator(const ReadOptions& options);

  const Snapshot* get_snapshot();
  // REQUIRES: `snapshot` came from this database's get_snapshot() and was not released.
  void release_snapshot(const Snapshot* snapshot);

  // Writes the memtable (and any immutable one) to level-0 tables and waits until that is done.
  Status flush();
  // Waits until no compaction is running or due (every level within its target).
  Status wait_for_compactions();
  // A manual full compaction of the user keys in [begin, end] (nullopt: unbounded on that side),
  // as RocksDB's CompactRange: flushes the memtable, then rewrites every table overlapping the
  // range down to the last level (manual_compaction.h), through the compaction job, so that the
  // compaction filter sees every entry of the range and tombstones are dropped wherever no live
  // snapshot needs them; then runs blob garbage collection (blob_gc.h) until no blob file is
  // left below Options::blob_gc_live_fraction_min, and deletes what became unreachable. Returns
  // when all that is done. Level 0 is taken whole, so tables outside the range may be rewritten
  // too; writes made meanwhile may or may not be compacted.
  // Concurrency: reads, writes, snapshots and iterators work throughout and see what they would
  // have seen without it (snapshots keep their versions); background compactions take turns
  // with its steps, one each, so level 0 does not pile up behind a long manual compaction.
  // Calls from several threads run one after the other.
  // Errors: Busy once disable_manual_compaction() was called (a running one stops between or
  // inside its steps, leaving a valid tree); a write error stops writes as a background
  // compaction's would. The blob files still open for writing are not collected.
  Status compact_range(std::optional<std::string_view> begin, std::optional<std::string_view> end);
  // Makes a running compact_range return Busy soon and every later one return Busy at once (as
  // RocksDB's DisableManualCompaction): call it, and wait for the caller of compact_range to
  // return, before close().
  void disable_manual_compaction();
  // Makes every acknowledged write durable now, whatever the fsync policy.
  Status sync_wal();
  // Hands every WAL record written so far to the operating system (Options::flush_wal_per_write).
  Status flush_wal();
  // Waits for background work, syncs the WAL and releases the directory. Further calls other
  // than the destructor are programming errors. Returns the first error met while closing.
  Status close();

  DatabaseStats stats() const;
  // Test hooks.
  size_t level0_table_count() const;
  SequenceNumber last_sequence() const;
  // The current version, to check the tree's invariants in tests.
  std::shared_ptr<const Version> current_version() const { return versions_.current(); }

 private:
  friend class StoredValue;
  struct Writer;
  enum class WriteKind { kBatch, kSwitchMemtable, kSyncWal, kFlushWal };

  // What one read looks at: a sequence and the sources that hold it, kept alive while read.
  struct ReadState {
    SequenceNumber sequence = 0;
    bool before_write = false;  // ReadOptions::before_write
    std::shared_ptr<MemTable> memtable;
    std::shared_ptr<MemTable> immutable;  // may be null
    std::shared_ptr<const Version> version;
  };
  ReadState read_state(const ReadOptions& options) const;

  Database(const Options& options, std::string directory);

  // Recovery (database_recovery.cc).
  Status recover();
  Status check_tables_exist(const std::vector<std::string>& names);
  // *ended_early: the log ended at a dangling blob reference (database_blobs.cc).
  Status replay_log(uint64_t number, VersionEdit* edit, SequenceNumber* max_sequence,
                    bool* ended_early);
  Status write_level0_table(MemTable& memtable, VersionEdit* edit);
  Status open_new_log();

  // Writes (database.cc).
  // Checks the size limit, then writes through the queue. The batch's values are final: large
  // ones are already blob references.
  Status write_checked(const WriteBatch& batch);
  Status write_through_queue(WriteKind kind, const WriteBatch* batch);
  Status apply_group(std::unique_lock<std::mutex>& lock, Writer& leader, Writer** last_in_group);
  Status sync_wal_files();
  Status make_room_for_write(std::unique_lock<std::mutex>& lock, bool force_switch);
  void delay_write(std::unique_lock<std::mutex>& lock);
  Status switch_memtable();
  // Sets write_prefetch_slots_ for mem_. REQUIRES: mutex_ held, or the constructor.
  void publish_write_prefetch_target();
  // Where a write's probe of mem_'s index starts, read without the mutex.
  PointIndex::PrefetchTarget write_prefetch_target() const {
    return {write_prefetch_slots_.load(std::memory_order_relaxed), write_prefetch_mask_};
  }
  // A memtable for writes and reads, its point index sized for the write buffer.
  std::shared_ptr<MemTable> new_memtable() const;
  bool should_sync_now() const;

  // Large values (database_blobs.cc).
  class StreamedValueWriter;
  // The newest entry for `key` as `options` reads, as MemTable::get reports it. A read of the
  // latest state asks the row cache first, at last_sequence_ and without the mutex: a hit needs
  // neither the memtables nor the version, so it takes no read state. Otherwise *state gets the
  // read state looked in, which the caller keeps while it reads a blob the result refers to
  // (the state's memtables and version keep the blob file from deletion).
  Result<LookupResult> lookup(const ReadOptions& options, std::string_view key,
                              std::string* value, ReadState* state);
  // `batch` with every value over the threshold written to a blob file and replaced by its
  // reference (its file pinned in `pins`); *blob_value_bytes gets the bytes moved.
  Result<WriteBatch> move_large_values(const WriteBatch& batch, uint64_t* blob_value_bytes,
                                       BlobPins* pins);
  // Writes `batch` (its references' records are durable per the policy, their files pinned in
  // `pins`) and counts the bytes the caller wrote to blob files as user bytes.
  Status write_with_blob_values(const WriteBatch& batch, uint64_t blob_value_bytes, BlobPins& pins);
  // A failed blob write: anything but InvalidArgument (nothing written) stops further writes.
  Status blob_write_failed(const Status& status);
  Result<std::string> read_blob_value(std::string_view encoded_reference);
  Result<std::unique_ptr<ValueReader>> open_value_reader(LookupResult result, std::string value,
                                                         uint64_t offset, uint64_t length);
  // Whether every blob reference of a batch read back from the WAL names an intact record.
  Result<bool> blob_references_intact(const WriteBatch& batch);
  // Creates blobs_, counting the blob files among the directory's `names`.
  void open_blob_store(const std::vector<std::string>& names);

  // Background flush (database_flush.cc).
  void schedule_flush(std::unique_lock<std::mutex>& lock);
  // Sorts the memtable's pending entries on a background thread once they are many (sort-ahead).
  void maybe_schedule_sort(std::unique_lock<std::mutex>& lock);
  void background_flush();
  Status flush_immutable_memtable(std::unique_lock<std::mutex>& lock);
  // The sequences of the live snapshots, ascending, without repeats. REQUIRES: mutex_ held.
  std::vector<SequenceNumber> live_snapshots() const;
  void remove_obsolete_files(std::unique_lock<std::mutex>& lock);
  // Blob files something may still reach (docs/blob-format.md): pinned or open in blobs_, named
  // by a memtable still alive or by a table of a live version. REQUIRES: mutex_ held.
  std::set<uint64_t> live_blob_file_numbers_locked();
  // The blob files the memtables still alive name. REQUIRES: mutex_ held.
  std::set<uint64_t> memtable_blob_file_numbers_locked();

  // Compaction (database_compaction.cc).
  void maybe_schedule_compaction(std::unique_lock<std::mutex>& lock);
  void background_compaction();
  void finish_background_task();
  // The next blob garbage collection (blob_gc.h), if one is due, of the files in `among` only
  // when it is given. REQUIRES: mutex_ held.
  std::optional<Compaction> pick_blob_gc_locked(const std::set<uint64_t>* among = nullptr);
  // The sealed blob files due for garbage collection. REQUIRES: mutex_ held.
  std::set<uint64_t> blob_files_to_collect_locked();
  // Copies the value `reference` names to a new blob record of `user_key`, a chunk at a time,
  // and returns the new reference encoded, its file pinned in `pins` (database_blobs.cc).
  Result<std::string> relocate_blob_value(std::string_view user_key, const BlobReference& reference,
                                          BlobPins* pins);
  Status run_one_compaction(std::unique_lock<std::mutex>& lock);
  // Runs `compaction` and installs its result; its job stops early with Busy once *stop is set.
  // *output_numbers (if not null) gets the numbers of the tables it wrote. REQUIRES: `lock` holds
  // mutex_ (released while the job runs), and this thread set compaction_scheduled_.
  Status run_compaction(std::unique_lock<std::mutex>& lock, Compaction compaction,
                        const std::atomic<bool>* stop, std::vector<uint64_t>* output_numbers);

  // Manual compaction (database_manual_compaction.cc). REQUIRES of each: `lock` holds mutex_
  // (released while a compaction runs) and this thread set manual_compaction_running_.
  Status run_manual_compaction(std::unique_lock<std::mutex>& lock, ManualCompaction* manual);
  // Blob garbage collection of the files due now, until no table references them.
  Status collect_blob_garbage_now(std::unique_lock<std::mutex>& lock);
  // Waits for the compaction slot (compaction_scheduled_; background compactions do not take it
  // meanwhile), runs the compaction `pick` returns from the current version, if any (*ran), and
  // gives the slot back, letting one background compaction run if one is due. Busy if manual
  // compaction was disabled; *output_numbers as in run_compaction.
  Status run_manual_step(std::unique_lock<std::mutex>& lock,
                         const std::function<std::optional<Compaction>()>& pick,
                         std::vector<uint64_t>* output_numbers, bool* ran);
  Status install_compaction(const Compaction& compaction, std::vector<FileMetaData> outputs);
  // Recomputes compaction_debt_ from the current version. REQUIRES: mutex_ held.
  void refresh_compaction_debt();

  // Options with the defaults filled in.
  Options options_;
  const std::string directory_;
  std::unique_ptr<FileLock> lock_;
  TableCache table_cache_;
  const std::unique_ptr<RowCache> row_cache_;  // null when Options::row_cache_bytes is 0
  VersionSet versions_;
  // Created at open (recover()), once the blob files already present are counted.
  std::unique_ptr<BlobStore> blobs_;

  mutable std::mutex mutex_;
  std::condition_variable background_done_;  // a flush finished (or failed)
  std::shared_ptr<MemTable> mem_;
  // mem_'s point index slots, set with mem_, so that a read before a write prefetches the slot
  // its write will probe without the mutex (a stale address only wastes the prefetch). Every
  // memtable's index has the same size: the mask is set once, by the constructor.
  std::atomic<const std::atomic<uint64_t>*> write_prefetch_slots_{nullptr};
  size_t write_prefetch_mask_ = 0;
  std::shared_ptr<MemTable> imm_;  // being flushed, or null
  // Every memtable made mem_ and maybe still held (by mem_, imm_, a read or an iterator): the
  // blob files they name are live. Expired entries are dropped when it is walked.
  std::vector<std::weak_ptr<const MemTable>> memtables_;
  std::unique_ptr<WritableFile> log_file_;
  std::unique_ptr<LogWriter> log_;
  uint64_t log_number_ = 0;           // of log_file_
  // Of the last write visible to readers. Written under mutex_; atomic so that a row cache
  // lookup reads it without the mutex (lookup()).
  std::atomic<SequenceNumber> last_sequence_{0};
  uint64_t last_sync_micros_ = 0;
  std::deque<Writer*> writers_;  // the front one is the leader
  // The batch the leader writes: its own and its followers'. Only the leader uses it; kept
  // across groups so that its buffer is not allocated per write.
  WriteBatch write_group_;
  std::multiset<SequenceNumber> snapshots_;
  std::set<uint64_t> pending_outputs_;  // table files being written, not yet in a version
  bool flush_scheduled_ = false;
  bool sort_scheduled_ = false;  // maybe_schedule_sort
  // Held by the thread that runs a compaction, background or manual: one at a time.
  bool compaction_scheduled_ = false;
  // A compact_range is running; another waits for it.
  bool manual_compaction_running_ = false;
  // A manual compaction waits for the compaction slot: no background compaction takes it first.
  bool manual_compaction_waiting_ = false;
  // Set by disable_manual_compaction(); stops a manual compaction's job as closing_ does.
  std::atomic<bool> manual_compaction_disabled_{false};
  // Background tasks scheduled and not yet returned. A task clears its flag above before it is
  // done with `this` (it may go on deleting files), so close() waits for this count instead.
  int background_tasks_ = 0;
  // What the write path throttles on, refreshed whenever a version is installed.
  struct CompactionDebt {
    size_t level0_file_count = 0;
    uint64_t pending_bytes = 0;
  } compaction_debt_;
  std::array<std::string, kLevelCount> compact_pointers_;
  DatabaseStats stats_;
  // Set by close(): a running compaction stops early and no new one starts.
  std::atomic<bool> closing_{false};
  Status sticky_error_;  // the first write-side failure; stops writes
  bool closed_ = false;

  // The default background thread, when options.scheduler was null. Declared last so that it is
  // joined first, while every member its tasks touch still exists (close() has already waited
  // for them).
  std::unique_ptr<Scheduler> owned_scheduler_;
};

}  // namespace cairn
