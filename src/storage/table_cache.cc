#include "storage/table_cache.h"

#include "common/assert.h"
#include "io/env.h"
#include "storage/file_names.h"

namespace cairn {

TableCache::TableCache(Env* env, std::string directory, const TableOptions& options,
                       size_t capacity_tables)
    : env_(env),
      directory_(std::move(directory)),
      options_(options),
      capacity_tables_(capacity_tables) {
  CAIRN_ASSERT(env_ != nullptr);
  CAIRN_ASSERT(capacity_tables_ >= 1);
}

Result<std::shared_ptr<Table>> TableCache::find(const FileMetaData& file) {
  {
    std::lock_guard lock(mutex_);
    auto it = tables_.find(file.number);
    if (it != tables_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Opened outside the lock so one slow open does not stall lookups of other tables; two
  // threads may open the same table at once, and the first to insert wins.
  const std::string name = table_file_name(directory_, file.number);
  CAIRN_ASSIGN_OR_RETURN(auto handle, env_->new_random_access_file(name));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Table> table,
                         Table::open(options_, std::move(handle), file.size_bytes, name));
  // Tables closed here are destroyed after the lock is released: closing a file may block.
  std::list<Entry> closed;
  std::lock_guard lock(mutex_);
  auto it = tables_.find(file.number);
  if (it != tables_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }
  lru_.emplace_front(file.number, std::move(table));
  tables_.emplace(file.number, lru_.begin());
  while (lru_.size() > capacity_tables_) {
    tables_.erase(lru_.back().first);
    closed.splice(closed.begin(), lru_, std::prev(lru_.end()));
  }
  CAIRN_ASSERT(tables_.size() == lru_.size());
  return lru_.front().second;
}

void TableCache::evict(uint64_t file_number) {
  std::shared_ptr<Table> closed;  // destroyed after the lock is released
  std::lock_guard lock(mutex_);
  auto it = tables_.find(file_number);
  if (it == tables_.end()) return;
  closed = std::move(it->second->second);
  lru_.erase(it->second);
  tables_.erase(it);
}

size_t TableCache::open_table_count() {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace cairn
