// Background work of the database: flushing the immutable memtable to a level-0 table, and
// deleting the files no version needs any more.
#include "common/assert.h"
#include "storage/build_table.h"
#include "storage/database.h"
#include "storage/file_names.h"

namespace cairn {

// REQUIRES: `lock` holds mutex_ and imm_ is set. The lock is released while the scheduler runs,
// since an inline scheduler runs the task right away.
void Database::schedule_flush(std::unique_lock<std::mutex>& lock) {
  CAIRN_ASSERT(imm_ != nullptr && !flush_scheduled_);
  flush_scheduled_ = true;
  background_tasks_++;
  lock.unlock();
  options_.scheduler->schedule([this] { background_flush(); });
  lock.lock();
}

// Past this many pending entries (16 bytes each to sort), the memtable sorts them in the
// background: the next iterator, often a command's on an event loop, would otherwise sort them
// all first (a ZPOPMIN after a 200 K-member ZADD burst took 130 ms). Sorted this late, a
// memtable's entries are sorted in a few large runs, whose merges cost little more than the one
// sort its flush would do (at 1 << 16, a run of LPUSHes cost 1.25 times the CPU).
constexpr uint64_t kSortAheadPendingEntries = uint64_t{1} << 18;

// REQUIRES: `lock` holds mutex_; released while the scheduler runs, as in schedule_flush.
void Database::maybe_schedule_sort(std::unique_lock<std::mutex>& lock) {
  if (sort_scheduled_ || closed_ || mem_->pending_count() < kSortAheadPendingEntries) return;
  sort_scheduled_ = true;
  background_tasks_++;
  std::shared_ptr<const MemTable> memtable = mem_;
  lock.unlock();
  options_.scheduler->schedule([this, memtable] {
    memtable->sort_pending();
    std::lock_guard done(mutex_);
    sort_scheduled_ = false;
    stats_.memtable_sort_ahead_count++;
    finish_background_task();
  });
  lock.lock();
}

void Database::background_flush() {
  std::unique_lock lock(mutex_);
  CAIRN_ASSERT(flush_scheduled_ && imm_ != nullptr);
  Status status = sticky_error_;
  if (status.is_ok()) status = flush_immutable_memtable(lock);
  if (!status.is_ok() && sticky_error_.is_ok()) sticky_error_ = status;
  // Cleared before the lock is next released: from here on a writer may switch memtables and
  // schedule the next flush.
  flush_scheduled_ = false;
  background_done_.notify_all();
  if (status.is_ok()) {
    remove_obsolete_files(lock);
    maybe_schedule_compaction(lock);
  }
  finish_background_task();
}

// Writes imm_ to a table, records it (and that older logs are no longer needed) in the
// MANIFEST, then drops imm_. REQUIRES: `lock` holds mutex_; released during the I/O but held
// from the moment imm_ is dropped until the caller returns.
Status Database::flush_immutable_memtable(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<MemTable> immutable = imm_;
  const uint64_t number = versions_.new_file_number();
  pending_outputs_.insert(number);
  // mem_'s log holds every write not in imm_: older logs are obsolete once imm_ is a table.
  const uint64_t live_log_number = log_number_;
  const SequenceNumber last_sequence = last_sequence_.load(std::memory_order_relaxed);
  // Snapshots taken after this one see only the newest entry of each key in imm_.
  const std::vector<SequenceNumber> snapshots = live_snapshots();
  lock.unlock();

  VersionEdit edit;
  // The table will be durable whatever the fsync policy, so the blob records its references
  // name must be too (under kNever this is the only time they are synced before close).
  Status status = blobs_->sync();
  std::optional<FileMetaData> file;
  if (status.is_ok()) {
    std::unique_ptr<Iterator> entries = immutable->new_iterator();
    Result<std::optional<FileMetaData>> built =
        build_table(options_.env, directory_, options_.table, *entries, snapshots, number);
    status = built.status();
    if (status.is_ok()) file = std::move(built).value();
  }
  if (status.is_ok()) {
    if (file) edit.add_file(0, *file);
    edit.set_log_number(live_log_number);
    edit.set_last_sequence(last_sequence);
    status = versions_.log_and_apply(&edit);
  }

  lock.lock();
  pending_outputs_.erase(number);
  if (!status.is_ok()) return status;
  imm_.reset();
  stats_.flush_count++;
  if (file) stats_.flush_bytes_written += file->size_bytes;
  refresh_compaction_debt();
  return Status::ok();
}

// Deletes logs older than the MANIFEST's log number, tables no live version lists and that are
// not being written, blob files nothing can reach any more (live_blob_file_numbers_locked), and
// MANIFESTs and temp files older than the live MANIFEST (a newer one may be being written right
// now). Failures are ignored: a file left behind is deleted at the next attempt or open.
// REQUIRES: `lock` holds mutex_; it is released during the I/O.
void Database::remove_obsolete_files(std::unique_lock<std::mutex>& lock) {
  // Files numbered from here on were created after this snapshot of what is live (by another
  // thread while the lock is released below): they are never obsolete here. Read first: a blob
  // file numbered below it was pinned when numbered (BlobStore::acquire_lane), so the walk
  // below sees it.
  const uint64_t first_unseen_number = versions_.next_file_number();
  std::set<uint64_t> live_tables = versions_.live_table_numbers();
  live_tables.insert(pending_outputs_.begin(), pending_outputs_.end());
  const std::set<uint64_t> live_blobs = live_blob_file_numbers_locked();
  const uint64_t oldest_live_log = versions_.log_number();
  const uint64_t manifest_number = versions_.manifest_file_number();
  lock.unlock();

  Result<std::vector<std::string>> names = options_.env->list_dir(directory_);
  if (names.is_ok()) {
    for (const std::string& name : *names) {
      uint64_t number = 0;
      FileKind kind;
      if (!parse_file_name(name, &number, &kind) || number >= first_unseen_number) continue;
      bool keep = true;
      switch (kind) {
        case FileKind::kLog:
          keep = number >= oldest_live_log;
          break;
        case FileKind::kTable:
          keep = live_tables.contains(number);
          break;
        case FileKind::kBlob:
          keep = live_blobs.contains(number);
          break;
        case FileKind::kManifest:
        case FileKind::kTemp:
          keep = number >= manifest_number;
          break;
        case FileKind::kCurrent:
        case FileKind::kLock:
          keep = true;
          break;
      }
      if (keep) continue;
      if (kind == FileKind::kTable) table_cache_.evict(number);
      const Status removed = options_.env->remove_file(directory_ + "/" + name);
      if (kind == FileKind::kBlob && removed.is_ok()) blobs_->forget_file(number);
    }
  }
  lock.lock();
}

// A reference travels from a pinned blob record to a memtable, then to tables of successive
// versions, and each hop adds the new holder before the old lets go (the memtable notes the file
// before the pin is dropped; a flush installs its table before imm_ is dropped, under mutex_;
// a version stays listed while anything holds it). So the holders are read in that order: a
// reference moving meanwhile is seen at its old place or its new one.
std::set<uint64_t> Database::live_blob_file_numbers_locked() {
  std::set<uint64_t> live = blobs_->live_file_numbers();
  const std::set<uint64_t> in_memtables = memtable_blob_file_numbers_locked();
  live.insert(in_memtables.begin(), in_memtables.end());
  const std::set<uint64_t> in_tables = versions_.live_blob_file_numbers();
  live.insert(in_tables.begin(), in_tables.end());
  return live;
}

std::set<uint64_t> Database::memtable_blob_file_numbers_locked() {
  std::set<uint64_t> numbers;
  std::erase_if(memtables_, [](const auto& memtable) { return memtable.expired(); });
  for (const auto& weak : memtables_) {
    if (std::shared_ptr<const MemTable> memtable = weak.lock()) {
      const std::vector<uint64_t> named = memtable->blob_file_numbers();
      numbers.insert(named.begin(), named.end());
    }
  }
  return numbers;
}

}  // namespace cairn
