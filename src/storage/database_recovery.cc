// Opening a database: lock the directory, replay the MANIFEST, replay the WALs it does not
// cover into level-0 tables, start a new WAL, and record the result in a new MANIFEST.
//
// Blob references in the WAL. Under kBatch and kNever a power loss can keep a WAL record but
// lose the unsynced bytes of the blob record it names (blob_store.h). So each reference replayed
// is checked (header, key and last chunk of its record); a dangling or damaged one is treated as
// the torn end of its log: that batch and everything after it — in that log and in later logs —
// is dropped, which keeps the recovered state a prefix of the history. A synced WAL record never
// names an unsynced blob record, so nothing acknowledged as durable is lost that way; damage to
// a blob record that a WAL record names is indistinguishable from such a crash and truncates
// the history there too.
//
// After a process crash without a power loss, the WAL and blob files are read from the OS's
// cache. The level-0 tables written here copy the WAL's values but only refer to the blob
// records, so the blob files a table names are synced (Env::sync_file) before it is written: a
// power loss after this recovery cannot leave its references dangling.
#include <algorithm>

#include "storage/build_table.h"
#include "storage/database.h"
#include "storage/file_names.h"
#include "storage/log_reader.h"

namespace cairn {

// Recovery's memtables are only flushed, never read by key: no point index.
constexpr MemTableOptions kFlushOnlyMemTable{.point_index_slot_count = 0};

Status Database::recover() {
  Env* env = options_.env;
  CAIRN_RETURN_IF_ERROR(env->create_dir(directory_));
  CAIRN_ASSIGN_OR_RETURN(lock_, env->lock_file(lock_file_name(directory_)));
  if (versions_.exists()) {
    if (options_.error_if_exists) {
      return Status::invalid_argument(directory_ + ": database exists (error_if_exists)");
    }
    CAIRN_RETURN_IF_ERROR(versions_.recover());
  } else if (!options_.create_if_missing) {
    return Status::invalid_argument(directory_ + ": no database (create_if_missing is false)");
  }

  CAIRN_ASSIGN_OR_RETURN(const std::vector<std::string> names, env->list_dir(directory_));
  CAIRN_RETURN_IF_ERROR(check_tables_exist(names));
  std::vector<uint64_t> logs;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileKind kind;
    if (!parse_file_name(name, &number, &kind)) continue;
    versions_.mark_file_number_used(number);
    if (kind == FileKind::kLog && number >= versions_.log_number()) logs.push_back(number);
  }
  // Older logs hold older writes: replay in number order.
  std::sort(logs.begin(), logs.end());
  open_blob_store(names);

  VersionEdit edit;
  SequenceNumber max_sequence = versions_.last_sequence();
  for (const uint64_t number : logs) {
    bool ended_early = false;
    CAIRN_RETURN_IF_ERROR(replay_log(number, &edit, &max_sequence, &ended_early));
    // Later logs hold later writes: keeping them would leave a hole in the history.
    if (ended_early) break;
  }
  CAIRN_RETURN_IF_ERROR(open_new_log());
  edit.set_log_number(log_number_);
  edit.set_last_sequence(max_sequence);
  CAIRN_RETURN_IF_ERROR(versions_.log_and_apply(&edit));

  std::unique_lock lock(mutex_);
  last_sequence_.store(max_sequence, std::memory_order_release);
  refresh_compaction_debt();
  remove_obsolete_files(lock);
  maybe_schedule_compaction(lock);
  return Status::ok();
}

// A MANIFEST that lists a table whose file is gone is damage recovery must not paper over.
Status Database::check_tables_exist(const std::vector<std::string>& names) {
  std::set<uint64_t> present;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileKind kind;
    if (parse_file_name(name, &number, &kind) && kind == FileKind::kTable) present.insert(number);
  }
  for (const uint64_t number : versions_.live_table_numbers()) {
    if (!present.contains(number)) {
      return Status::corruption(table_file_name(directory_, number) +
                                ": listed in the MANIFEST but missing");
    }
  }
  return Status::ok();
}

// Replays one WAL into memtables, writing each (when full, and at the end) as a level-0 table
// added to `edit`. A torn tail ends the log; damage before the tail is Corruption. A batch with
// a dangling blob reference ends the log too (see the top), and sets *ended_early.
Status Database::replay_log(uint64_t number, VersionEdit* edit, SequenceNumber* max_sequence,
                            bool* ended_early) {
  const std::string name = log_file_name(directory_, number);
  CAIRN_ASSIGN_OR_RETURN(auto file, options_.env->new_sequential_file(name));
  LogReader reader(std::move(file), name);
  std::unique_ptr<MemTable> current = std::make_unique<MemTable>(kFlushOnlyMemTable);
  std::string record;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool read, reader.read_record(&record));
    if (!read) break;
    Result<WriteBatch> batch = WriteBatch::from_contents(record);
    if (!batch.is_ok()) return batch.status().with_context(name);
    CAIRN_ASSIGN_OR_RETURN(const bool intact, blob_references_intact(*batch));
    if (!intact) {
      *ended_early = true;
      break;
    }
    CAIRN_RETURN_IF_ERROR(insert_into_memtable(*batch, current.get()).with_context(name));
    if (batch->count() > 0) {
      *max_sequence = std::max(*max_sequence, batch->sequence() + batch->count() - 1);
    }
    if (current->memory_usage_bytes() >= options_.write_buffer_size_bytes) {
      CAIRN_RETURN_IF_ERROR(write_level0_table(*current, edit));
      current = std::make_unique<MemTable>(kFlushOnlyMemTable);
    }
  }
  return write_level0_table(*current, edit);
}

Status Database::write_level0_table(MemTable& memtable, VersionEdit* edit) {
  if (memtable.entry_count() == 0) return Status::ok();
  for (const uint64_t number : memtable.blob_file_numbers()) {
    CAIRN_RETURN_IF_ERROR(options_.env->sync_file(blob_file_name(directory_, number)));
  }
  std::unique_ptr<Iterator> entries = memtable.new_iterator();
  CAIRN_ASSIGN_OR_RETURN(
      std::optional<FileMetaData> file,
      build_table(options_.env, directory_, options_.table, *entries, /*snapshots=*/{},
                  versions_.new_file_number()));
  if (file) edit->add_file(0, std::move(*file));
  return Status::ok();
}

}  // namespace cairn
