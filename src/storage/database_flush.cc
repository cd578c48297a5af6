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
  flush_scheduled_ = false;
  background_done_.notify_all();
}

// Writes imm_ to a table, records it (and that older logs are no longer needed) in the
// MANIFEST, then drops imm_. REQUIRES: `lock` holds mutex_; released during the I/O.
Status Database::flush_immutable_memtable(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<MemTable> immutable = imm_;
  const uint64_t number = versions_.new_file_number();
  pending_outputs_.insert(number);
  // mem_'s log holds every write not in imm_: older logs are obsolete once imm_ is a table.
  const uint64_t live_log_number = log_number_;
  const SequenceNumber last_sequence = last_sequence_;
  lock.unlock();

  VersionEdit edit;
  std::unique_ptr<Iterator> entries = immutable->new_iterator();
  Result<std::optional<FileMetaData>> file =
      build_table(options_.env, directory_, options_.table, *entries, number);
  Status status = file.status();
  if (status.is_ok()) {
    if (file->has_value()) edit.add_file(0, std::move(**file));
    edit.set_log_number(live_log_number);
    edit.set_last_sequence(last_sequence);
    status = versions_.log_and_apply(&edit);
  }

  lock.lock();
  pending_outputs_.erase(number);
  if (!status.is_ok()) return status;
  imm_.reset();
  remove_obsolete_files(lock);
  return Status::ok();
}

// Deletes logs older than the MANIFEST's log number, tables no live version lists, old
// MANIFESTs and leftover temp files. Failures are ignored: a file left behind is deleted at the
// next attempt or open. REQUIRES: `lock` holds mutex_; released during the I/O, and no
// MANIFEST write runs concurrently (one background task at a time, or during open).
void Database::remove_obsolete_files(std::unique_lock<std::mutex>& lock) {
  std::set<uint64_t> live_tables = versions_.live_table_numbers();
  live_tables.insert(pending_outputs_.begin(), pending_outputs_.end());
  const uint64_t oldest_live_log = versions_.log_number();
  const uint64_t manifest_number = versions_.manifest_file_number();
  lock.unlock();

  Result<std::vector<std::string>> names = options_.env->list_dir(directory_);
  if (names.is_ok()) {
    for (const std::string& name : *names) {
      uint64_t number = 0;
      FileKind kind;
      if (!parse_file_name(name, &number, &kind)) continue;
      bool keep = true;
      switch (kind) {
        case FileKind::kLog:
          keep = number >= oldest_live_log;
          break;
        case FileKind::kTable:
          keep = live_tables.contains(number);
          break;
        case FileKind::kManifest:
          keep = number == manifest_number;
          break;
        case FileKind::kTemp:
          keep = false;
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
