// Background compaction of the database: when a level is over its target, pick a compaction
// (compaction.h), run it (compaction_job.h) and install the result; then look for more work.
#include <algorithm>
#include <map>

#include "common/assert.h"
#include "io/clock.h"
#include "storage/blob_gc.h"
#include "storage/compaction_job.h"
#include "storage/database.h"

namespace cairn {

// REQUIRES: `lock` holds mutex_. Released while scheduling (an inline scheduler runs the task).
void Database::maybe_schedule_compaction(std::unique_lock<std::mutex>& lock) {
  if (compaction_scheduled_ || manual_compaction_waiting_ || closing_.load() ||
      !sticky_error_.is_ok()) {
    return;
  }
  if (!compaction_due(*versions_.current(), options_.compaction) && !pick_blob_gc_locked()) {
    return;
  }
  compaction_scheduled_ = true;
  background_tasks_++;
  lock.unlock();
  options_.scheduler->schedule([this] { background_compaction(); });
  lock.lock();
}

void Database::background_compaction() {
  std::unique_lock lock(mutex_);
  CAIRN_ASSERT(compaction_scheduled_);
  Status status = sticky_error_;
  if (status.is_ok() && !closing_.load()) status = run_one_compaction(lock);
  // A compaction stopped by close() is not a failure: its inputs are intact.
  if (!status.is_ok() && !closing_.load() && sticky_error_.is_ok()) sticky_error_ = status;
  compaction_scheduled_ = false;
  background_done_.notify_all();
  maybe_schedule_compaction(lock);
  finish_background_task();
}

// The last thing a background task does with `this`. REQUIRES: mutex_ held, and held until the
// task returns (close() may destroy the database once it can lock mutex_).
void Database::finish_background_task() {
  CAIRN_ASSERT(background_tasks_ > 0);
  background_tasks_--;
  background_done_.notify_all();
}

std::set<uint64_t> Database::blob_files_to_collect_locked() {
  if (blobs_ == nullptr || options_.blob_gc_live_fraction_min <= 0) return {};
  // A file a memtable names has live values no table accounts for yet.
  return blob_files_to_collect(*versions_.current(), blobs_->sealed_file_bytes(),
                               memtable_blob_file_numbers_locked(),
                               options_.blob_gc_live_fraction_min);
}

std::optional<Compaction> Database::pick_blob_gc_locked(const std::set<uint64_t>* among) {
  std::set<uint64_t> collect = blob_files_to_collect_locked();
  if (among != nullptr) {
    std::erase_if(collect, [&](uint64_t number) { return !among->contains(number); });
  }
  if (collect.empty()) return std::nullopt;
  return pick_blob_gc(versions_.current(), blobs_->sealed_file_bytes(), collect);
}

// Runs the most urgent compaction, or else a blob garbage collection. REQUIRES: `lock` holds
// mutex_; released while the compaction runs.
Status Database::run_one_compaction(std::unique_lock<std::mutex>& lock) {
  std::optional<Compaction> compaction =
      pick_compaction(versions_.current(), options_.compaction, &compact_pointers_);
  if (!compaction) compaction = pick_blob_gc_locked();
  if (!compaction) return Status::ok();
  return run_compaction(lock, std::move(*compaction), &closing_, nullptr);
}

Status Database::run_compaction(std::unique_lock<std::mutex>& lock, Compaction compaction,
                                const std::atomic<bool>* stop,
                                std::vector<uint64_t>* output_numbers) {
  CAIRN_ASSERT(compaction_scheduled_);
  const uint64_t start_micros = options_.clock->now_micros();
  if (compaction.trivial_move) {
    lock.unlock();
    const Status moved = install_compaction(compaction, {});
    lock.lock();
    if (moved.is_ok()) stats_.trivial_move_count += compaction.inputs.size();
    return moved;
  }

  CompactionJobContext context;
  context.env = options_.env;
  context.directory = directory_;
  context.table = options_.table;
  context.options = &options_.compaction;
  context.tables = &table_cache_;
  context.snapshots = live_snapshots();
  std::vector<uint64_t> created_numbers;
  context.new_output_number = [&] {
    std::lock_guard output_lock(mutex_);
    const uint64_t number = versions_.new_file_number();
    pending_outputs_.insert(number);
    created_numbers.push_back(number);
    return number;
  };
  context.stop = stop;
  // Relocated blob records stay pinned until the version naming them is installed.
  BlobPins relocated(blobs_.get());
  context.relocate_blob = [&](std::string_view user_key, const BlobReference& reference) {
    return relocate_blob_value(user_key, reference, &relocated);
  };
  lock.unlock();

  Result<CompactionJobResult> result = run_compaction_job(compaction, context);
  Status status = result.status();
  // Durable before the MANIFEST names them, whatever the fsync policy.
  if (status.is_ok() && result->blob_relocated_bytes > 0) status = blobs_->sync();
  if (status.is_ok()) {
    if (output_numbers != nullptr) {
      for (const FileMetaData& output : result->outputs) output_numbers->push_back(output.number);
    }
    status = install_compaction(compaction, std::move(result->outputs));
    // The MANIFEST record may have reached the disk: keep what it may name until reopen.
    if (!status.is_ok()) relocated.keep();
  }

  lock.lock();
  for (const uint64_t number : created_numbers) pending_outputs_.erase(number);
  if (!status.is_ok()) return status;
  stats_.compaction_count++;
  stats_.compaction_bytes_read += result->bytes_read;
  stats_.compaction_bytes_written += result->bytes_written;
  stats_.entries_dropped += result->entries_dropped;
  for (const auto& [number, bytes] : result->blob_garbage_bytes) stats_.blob_garbage_bytes += bytes;
  if (!compaction.relocated_blob_files.empty()) stats_.blob_gc_count++;
  stats_.blob_relocated_bytes += result->blob_relocated_bytes;
  stats_.compaction_micros += options_.clock->now_micros() - start_micros;
  // The compaction holds its input version, which keeps the input files live: let it go first.
  compaction = Compaction();
  remove_obsolete_files(lock);
  return Status::ok();
}

// Records in the MANIFEST that the compaction's inputs are replaced by `outputs` (or, for a
// trivial move, moved down a level), and refreshes the write throttle.
Status Database::install_compaction(const Compaction& compaction,
                                    std::vector<FileMetaData> outputs) {
  VersionEdit edit;
  for (const auto& file : compaction.inputs) edit.remove_file(compaction.level, file->number);
  for (const auto& file : compaction.next_inputs) {
    edit.remove_file(compaction.output_level, file->number);
  }
  if (compaction.trivial_move) {
    for (const auto& file : compaction.inputs) edit.add_file(compaction.output_level, *file);
  }
  for (FileMetaData& file : outputs) edit.add_file(compaction.output_level, std::move(file));
  CAIRN_RETURN_IF_ERROR(versions_.log_and_apply(&edit));
  std::lock_guard lock(mutex_);
  refresh_compaction_debt();
  return Status::ok();
}

void Database::refresh_compaction_debt() {
  const std::shared_ptr<const Version> version = versions_.current();
  compaction_debt_.level0_file_count = version->files(0).size();
  compaction_debt_.pending_bytes = pending_compaction_bytes(*version, options_.compaction);
}

Status Database::wait_for_compactions() {
  std::unique_lock lock(mutex_);
  while (true) {
    CAIRN_RETURN_IF_ERROR(sticky_error_);
    maybe_schedule_compaction(lock);
    if (!compaction_scheduled_ && !flush_scheduled_) return Status::ok();
    background_done_.wait(lock);
  }
}

}  // namespace cairn
