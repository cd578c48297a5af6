// TableCache: the open tables of a database, by file number, so that a table's index and filter
// are read once and not at every lookup. Unbounded for now: a later step bounds the number of
// open files with an LRU.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "storage/options.h"
#include "storage/table.h"
#include "storage/version_edit.h"

namespace cairn {

class Env;

class TableCache {
 public:
  TableCache(Env* env, std::string directory, const TableOptions& options);

  // The open table for `file`, opening it on first use. Corruption or IOError naming the file.
  Result<std::shared_ptr<Table>> find(const FileMetaData& file);
  // Forgets the table (once its file is deleted). Readers holding it keep it open.
  void evict(uint64_t file_number);

 private:
  Env* const env_;
  const std::string directory_;
  const TableOptions options_;
  std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<Table>> tables_;
};

}  // namespace cairn
