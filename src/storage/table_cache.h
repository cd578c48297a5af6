// TableCache: the open tables of a database, by file number, so that a table's file, index and
// filter are opened and read once and not at every lookup. At most `capacity_tables` tables stay
// open; beyond that the least recently used one is closed.
//
// Ownership: the cache holds one shared reference to each open table. A reader that found a
// table keeps it open through its own shared_ptr after the cache evicts it; the file is closed
// when the last holder lets go, so more than capacity_tables files can be open for a moment.
// Thread-safety: all methods may be called concurrently. Tables are opened outside the mutex.
// Invariants: at most capacity_tables tables are cached after every call; a table is in the map
// exactly when it is in the LRU list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/result.h"
#include "storage/options.h"
#include "storage/table.h"
#include "storage/version_edit.h"

namespace cairn {

class Env;

class TableCache {
 public:
  // REQUIRES: capacity_tables >= 1; env outlives the cache.
  TableCache(Env* env, std::string directory, const TableOptions& options, size_t capacity_tables);

  TableCache(const TableCache&) = delete;
  TableCache& operator=(const TableCache&) = delete;

  // The open table for `file`, opening it on first use (or again after eviction) and marking it
  // most recently used. Corruption or IOError naming the file.
  Result<std::shared_ptr<Table>> find(const FileMetaData& file);
  // Forgets the table (once its file is deleted). Readers holding it keep it open.
  void evict(uint64_t file_number);

  // How many tables the cache holds open now (at most capacity_tables).
  size_t open_table_count();
  size_t capacity_tables() const { return capacity_tables_; }

 private:
  using Entry = std::pair<uint64_t, std::shared_ptr<Table>>;  // file number, table

  Env* const env_;
  const std::string directory_;
  const TableOptions options_;
  const size_t capacity_tables_;
  std::mutex mutex_;
  std::list<Entry> lru_;  // front = most recently used; guarded by mutex_
  std::map<uint64_t, std::list<Entry>::iterator> tables_;  // guarded by mutex_
};

}  // namespace cairn
