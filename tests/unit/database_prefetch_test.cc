// Database::prefetch is a hint: over a tree with tables below level 0, tables in level 0 and
// entries in the memtable, prefetching any keys (present in each place, absent, between and
// outside the tables' ranges, deleted, empty) changes no answer.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_test_helpers.h"

namespace cairn {
namespace {

using test::key_of;

TEST(DatabasePrefetchTest, PrefetchChangesNoAnswer) {
  FaultEnv env(3);
  InlineScheduler scheduler;
  Options options;
  options.env = &env;
  options.scheduler = &scheduler;
  options.write_buffer_size_bytes = 32 << 10;
  options.table.compression = CompressionType::kNone;  // the values fill several tables
  options.compaction.level1_size_bytes = 128 << 10;
  options.compaction.target_file_size_bytes = 32 << 10;
  // Level 0 keeps every table flushed after the manual compaction.
  options.compaction.level0_compaction_trigger = 16;
  std::unique_ptr<Database> database = test::open_database(options);
  std::map<std::string, std::string> model;
  const auto put = [&](int i, const std::string& value) {
    ASSERT_TRUE(database->put(key_of(i), value).is_ok());
    model[key_of(i)] = value;
  };

  // The even keys compacted below level 0, every third key in two level-0 tables, a few more
  // in the memtable, and some deleted.
  for (int i = 0; i < 3000; i += 2) put(i, std::string(100, 'a'));
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  for (int i = 0; i < 3000; i += 3) put(i, "b" + std::to_string(i));
  ASSERT_TRUE(database->flush().is_ok());
  for (int i = 1500; i < 4000; i += 3) put(i, "c" + std::to_string(i));
  ASSERT_TRUE(database->flush().is_ok());
  for (int i = 0; i < 5000; i += 7) put(i, "d" + std::to_string(i));
  for (int i = 0; i < 5000; i += 11) {
    ASSERT_TRUE(database->remove(key_of(i)).is_ok());
    model.erase(key_of(i));
  }
  const std::shared_ptr<const Version> version = database->current_version();
  ASSERT_GE(version->files(0).size(), 2u);
  size_t deeper_files = 0;
  for (int level = 1; level < kLevelCount; level++) deeper_files += version->files(level).size();
  ASSERT_GE(deeper_files, 2u);

  std::vector<std::string> keys = {"", "a", "key", "zzz"};
  for (int i = 0; i < 5200; i += 13) keys.push_back(key_of(i));
  for (size_t begin = 0; begin < keys.size(); begin += 40) {
    std::vector<std::string_view> window;
    for (size_t i = begin; i < keys.size() && i < begin + 40; i++) window.push_back(keys[i]);
    database->prefetch(window);
    for (const std::string_view key : window) {
      const auto it = model.find(std::string(key));
      EXPECT_EQ(test::get_or_absent(*database, key), it == model.end() ? "(absent)" : it->second)
          << key;
    }
  }
}

}  // namespace
}  // namespace cairn
