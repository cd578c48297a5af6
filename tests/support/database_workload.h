// A random write workload over a small key space, with the std::map model of what it wrote:
// shared by the crash and fault tests, which check the recovered database against the model.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/random.h"
#include "storage/database.h"
#include "storage/write_batch.h"

namespace cairn::test {

using Model = std::map<std::string, std::string>;

// One write: a batch of puts and removes, and how it changes the model.
struct Write {
  WriteBatch batch;
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;  // nullopt: removed

  void apply_to(Model* model) const {
    for (const auto& [key, value] : changes) {
      if (value) {
        (*model)[key] = *value;
      } else {
        model->erase(key);
      }
    }
  }
};

// A random write: mostly single puts, some removes, some multi-operation batches.
inline Write random_write(Random& random) {
  Write write;
  const uint64_t operations = random.one_in(5) ? 2 + random.uniform(10) : 1;
  for (uint64_t i = 0; i < operations; i++) {
    const std::string key = "key" + std::to_string(random.skewed(8));
    if (random.one_in(4)) {
      write.batch.remove(key);
      write.changes.emplace_back(key, std::nullopt);
    } else {
      std::string value = random.bytes(random.one_in(30) ? 2000 : random.skewed(7));
      write.batch.put(key, value);
      write.changes.emplace_back(key, std::move(value));
    }
  }
  return write;
}

// Every entry of the database, or the first error met while scanning.
inline Result<Model> scan_all(Database& database) {
  Model state;
  auto iterator = database.new_iterator({});
  for (iterator->seek_to_first(); iterator->valid(); iterator->next()) {
    state.emplace(iterator->key(), iterator->value());
  }
  if (!iterator->status().is_ok()) return iterator->status();
  return state;
}

}  // namespace cairn::test
