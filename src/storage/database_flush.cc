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
  lock.unlock();
  options_.scheduler->schedule([this] { background_flush(); });
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
  const SequenceNumber last_sequence = last_sequence_;
  lock.unlock();

  VersionEdit edit;
  // The table will be durable whatever the fsync policy, so the blob records its references
  // name must be too (under kNever this is the only time they are synced before close).
  Status status = blobs_->sync();
  std::optional<FileMetaData> file;
  if (status.is_ok()) {
    std::unique_ptr<Iterator> entries = immutable->new_iterator();
    Result<std::optional<FileMetaData>> built =
        build_table(options_.env, directory_, options_.table, *entries, number);
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
// not being written, and MANIFESTs and temp files older than the live MANIFEST (a newer one may
// be being written right now). Failures are ignored: a file left behind is deleted at the next
// attempt or open. REQUIRES: `lock` holds mutex_; it is released during the I/O.
void Database::remove_obsolete_files(std::unique_lock<std::mutex>& lock) {
  std::set<uint64_t> live_tables = versions_.live_table_numbers();
  live_tables.insert(pending_outputs_.begin(), pending_outputs_.end());
  const uint64_t oldest_live_log = versions_.log_number();
  const uint64_t manifest_number = versions_.manifest_file_number();
  // Files numbered from here on were created after this snapshot of what is live (by another
  // background thread while the lock is released below): they are never obsolete here.
  const uint64_t first_unseen_number = versions_.next_file_number();
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
          keep = true;  // until blob garbage collection knows which records are live
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
      (void)options_.env->remove_file(directory_ + "/" + name);
    }
  }
  lock.lock();
}

}  // namespace cairn
