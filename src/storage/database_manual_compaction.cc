// Manual compaction (Database::compact_range): the steps manual_compaction.h picks, each run in
// the caller's thread through the same job and install as a background compaction, taking turns
// with background compactions for the one compaction slot; then the blob garbage collection of
// the files that were due once the sweep was done.
#include "common/assert.h"
#include "storage/database.h"
#include "storage/manual_compaction.h"

namespace cairn {
namespace {

Status manual_compaction_disabled() {
  return Status::busy("manual compaction is disabled (the database is closing)");
}

}  // namespace

Status Database::compact_range(std::optional<std::string_view> begin,
                               std::optional<std::string_view> end) {
  ManualCompaction manual;
  if (begin) manual.begin = std::string(*begin);
  if (end) manual.end = std::string(*end);
  {
    std::unique_lock lock(mutex_);
    background_done_.wait(lock, [&] {
      return !manual_compaction_running_ || manual_compaction_disabled_.load();
    });
    if (manual_compaction_disabled_.load()) return manual_compaction_disabled();
    manual_compaction_running_ = true;
  }
  // The memtable's entries become level-0 tables, which the sweep then takes.
  Status status = flush();
  std::unique_lock lock(mutex_);
  if (status.is_ok()) status = run_manual_compaction(lock, &manual);
  if (status.is_ok()) status = collect_blob_garbage_now(lock);
  if (status.is_ok()) stats_.manual_compaction_count++;
  manual_compaction_running_ = false;
  background_done_.notify_all();
  return status;
}

void Database::disable_manual_compaction() {
  std::lock_guard lock(mutex_);
  manual_compaction_disabled_.store(true);
  background_done_.notify_all();
}

Status Database::run_manual_compaction(std::unique_lock<std::mutex>& lock,
                                       ManualCompaction* manual) {
  CAIRN_ASSERT(manual_compaction_running_);
  // Each step at least advances the sweep past one table (or a level with none left).
  while (true) {
    int output_level = 0;
    std::vector<uint64_t> output_numbers;
    bool ran = false;
    CAIRN_RETURN_IF_ERROR(run_manual_step(
        lock,
        [&] {
          std::optional<Compaction> step =
              pick_manual_compaction(versions_.current(), options_.compaction, manual);
          if (step) output_level = step->output_level;
          return step;
        },
        &output_numbers, &ran));
    if (!ran) return Status::ok();
    note_manual_step_done(output_level, output_numbers, manual);
  }
}

Status Database::collect_blob_garbage_now(std::unique_lock<std::mutex>& lock) {
  CAIRN_ASSERT(manual_compaction_running_);
  // Only the files due now: the copies this makes are fully live, so the loop ends once no table
  // references these any more.
  const std::set<uint64_t> due = blob_files_to_collect_locked();
  bool ran = !due.empty();
  while (ran) {
    CAIRN_RETURN_IF_ERROR(
        run_manual_step(lock, [&] { return pick_blob_gc_locked(&due); }, nullptr, &ran));
  }
  return Status::ok();
}

Status Database::run_manual_step(std::unique_lock<std::mutex>& lock,
                                 const std::function<std::optional<Compaction>()>& pick,
                                 std::vector<uint64_t>* output_numbers, bool* ran) {
  *ran = false;
  manual_compaction_waiting_ = true;
  background_done_.wait(lock, [&] {
    return !compaction_scheduled_ || manual_compaction_disabled_.load() || !sticky_error_.is_ok();
  });
  manual_compaction_waiting_ = false;
  CAIRN_RETURN_IF_ERROR(sticky_error_);
  std::optional<Compaction> step;
  if (!manual_compaction_disabled_.load()) step = pick();
  if (!step) {
    // Flushes that ended while this waited did not schedule the compaction they may need.
    maybe_schedule_compaction(lock);
    return manual_compaction_disabled_.load() ? manual_compaction_disabled() : Status::ok();
  }
  *ran = true;
  compaction_scheduled_ = true;
  Status status =
      run_compaction(lock, std::move(*step), &manual_compaction_disabled_, output_numbers);
  if (!status.is_ok()) {
    // Stopped by disable_manual_compaction(): the inputs are intact, nothing failed.
    if (manual_compaction_disabled_.load()) {
      status = manual_compaction_disabled();
    } else if (sticky_error_.is_ok()) {
      sticky_error_ = status;
    }
  }
  compaction_scheduled_ = false;
  background_done_.notify_all();
  // One background compaction, if one is due, runs before the next step.
  maybe_schedule_compaction(lock);
  return status;
}

}  // namespace cairn
