#include "storage/table_cache.h"

#include "io/env.h"
#include "storage/file_names.h"

namespace cairn {

TableCache::TableCache(Env* env, std::string directory, const TableOptions& options)
    : env_(env), directory_(std::move(directory)), options_(options) {}

Result<std::shared_ptr<Table>> TableCache::find(const FileMetaData& file) {
  {
    std::lock_guard lock(mutex_);
    auto it = tables_.find(file.number);
    if (it != tables_.end()) return it->second;
  }
  // Opened outside the lock so one slow open does not stall lookups of other tables; two
  // threads may open the same table at once, and the first to insert wins.
  const std::string name = table_file_name(directory_, file.number);
  CAIRN_ASSIGN_OR_RETURN(auto handle, env_->new_random_access_file(name));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Table> table,
                         Table::open(options_, std::move(handle), file.size_bytes, name));
  std::lock_guard lock(mutex_);
  return tables_.try_emplace(file.number, std::move(table)).first->second;
}

void TableCache::evict(uint64_t file_number) {
  std::lock_guard lock(mutex_);
  tables_.erase(file_number);
}

}  // namespace cairn
