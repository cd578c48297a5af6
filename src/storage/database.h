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
// Errors: a failure to write the WAL, a table or the MANIFEST stops further writes (they return
// that first error) because what is on disk is then unknown; reads keep working, and reopening
// the database recovers what was acknowledged.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/env.h"
#include "io/scheduler.h"
#include "storage/compaction.h"
#include "storage/database_stats.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"
#include "storage/log_writer.h"
#include "storage/memtable.h"
#include "storage/options.h"
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
  // crash either all are recovered or none.
  Status write(const WriteBatch& batch);

  // The value of `key`, or nullopt if it is absent.
  Result<std::optional<std::string>> get(const ReadOptions& options, std::string_view key);
  // An iterator over user keys in bytewise order, as of options.snapshot (or now). It keeps the
  // memtables and tables it reads alive; it may outlive neither the database nor the snapshot.
  std::unique_ptr<Iterator> new_iterator(const ReadOptions& options);

  const Snapshot* get_snapshot();
  // REQUIRES: `snapshot` came from this database's get_snapshot() and was not released.
  void release_snapshot(const Snapshot* snapshot);

  // Writes the memtable (and any immutable one) to level-0 tables and waits until that is done.
  Status flush();
  // Waits until no compaction is running or due (every level within its target).
  Status wait_for_compactions();
  // Makes every acknowledged write durable now, whatever the fsync policy.
  Status sync_wal();
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
  struct Writer;
  enum class WriteKind { kBatch, kSwitchMemtable, kSyncWal };

  // What one read looks at: a sequence and the sources that hold it, kept alive while read.
  struct ReadState {
    SequenceNumber sequence = 0;
    std::shared_ptr<MemTable> memtable;
    std::shared_ptr<MemTable> immutable;  // may be null
    std::shared_ptr<const Version> version;
  };
  ReadState read_state(const ReadOptions& options) const;

  Database(const Options& options, std::string directory);

  // Recovery (database_recovery.cc).
  Status recover();
  Status check_tables_exist(const std::vector<std::string>& names);
  Status replay_log(uint64_t number, VersionEdit* edit, SequenceNumber* max_sequence);
  Status write_level0_table(MemTable& memtable, VersionEdit* edit);
  Status open_new_log();

  // Writes (database.cc).
  Status write_through_queue(WriteKind kind, const WriteBatch* batch);
  Status apply_group(std::unique_lock<std::mutex>& lock, Writer& leader, Writer** last_in_group);
  Status make_room_for_write(std::unique_lock<std::mutex>& lock, bool force_switch);
  void delay_write(std::unique_lock<std::mutex>& lock);
  Status switch_memtable();
  bool should_sync_now() const;

  // Background flush (database_flush.cc).
  void schedule_flush(std::unique_lock<std::mutex>& lock);
  void background_flush();
  Status flush_immutable_memtable(std::unique_lock<std::mutex>& lock);
  void remove_obsolete_files(std::unique_lock<std::mutex>& lock);

  // Compaction (database_compaction.cc).
  void maybe_schedule_compaction(std::unique_lock<std::mutex>& lock);
  void background_compaction();
  Status run_one_compaction(std::unique_lock<std::mutex>& lock);
  Status install_compaction(const Compaction& compaction, std::vector<FileMetaData> outputs);
  // Recomputes compaction_debt_ from the current version. REQUIRES: mutex_ held.
  void refresh_compaction_debt();

  // Options with the defaults filled in.
  Options options_;
  const std::string directory_;
  std::unique_ptr<FileLock> lock_;
  TableCache table_cache_;
  VersionSet versions_;

  mutable std::mutex mutex_;
  std::condition_variable background_done_;  // a flush finished (or failed)
  std::shared_ptr<MemTable> mem_;
  std::shared_ptr<MemTable> imm_;  // being flushed, or null
  std::unique_ptr<WritableFile> log_file_;
  std::unique_ptr<LogWriter> log_;
  uint64_t log_number_ = 0;           // of log_file_
  SequenceNumber last_sequence_ = 0;  // of the last write visible to readers
  uint64_t last_sync_micros_ = 0;
  std::deque<Writer*> writers_;  // the front one is the leader
  std::multiset<SequenceNumber> snapshots_;
  std::set<uint64_t> pending_outputs_;  // table files being written, not yet in a version
  bool flush_scheduled_ = false;
  bool compaction_scheduled_ = false;
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
