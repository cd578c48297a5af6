// Version::get opens the tables that may hold a key a batch at a time and prefetches their
// filters before probing any. These tests hold it to what probing the tables one by one, newest
// first, answers: over more level-0 tables than one batch, and with a table that cannot be read.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "storage/file_names.h"
#include "storage/version.h"
#include "support/database_test_helpers.h"

namespace cairn {
namespace {

using test::key_of;

Options tree_options(Env* env, Scheduler* scheduler) {
  Options options;
  options.env = env;
  options.scheduler = scheduler;
  options.row_cache_bytes = 0;  // every read goes to the tables
  // Level 0 keeps every flushed table: more than two batches of them.
  options.compaction.level0_compaction_trigger = 40;
  options.compaction.level0_slowdown_writes_trigger = 40;
  options.compaction.level0_stop_writes_trigger = 40;
  return options;
}

// Each key's newest version lies in a different table: the newest of 20 level-0 tables, one
// below level 0, or none (deleted in a newer table than its value, or never written).
TEST(VersionGetTest, ManyLevelZeroTablesAnswerWithTheNewestVersion) {
  FaultEnv env(5);
  InlineScheduler scheduler;
  std::unique_ptr<Database> database = test::open_database(tree_options(&env, &scheduler));
  std::map<std::string, std::string> model;
  constexpr int kKeys = 400;
  for (int i = 0; i < kKeys; i += 2) {
    ASSERT_TRUE(database->put(key_of(i), "below").is_ok());
    model[key_of(i)] = "below";
  }
  ASSERT_TRUE(database->compact_range(std::nullopt, std::nullopt).is_ok());
  constexpr int kTables = 20;
  for (int table = 0; table < kTables; table++) {
    // Table t writes every key whose number is a multiple of t + 3, and deletes half as many
    // (fewer than its puts, so that no compaction picks it for its tombstones).
    for (int i = 0; i < kKeys; i++) {
      if (i % (table + 3) == 0) {
        const std::string value = "table" + std::to_string(table);
        ASSERT_TRUE(database->put(key_of(i), value).is_ok());
        model[key_of(i)] = value;
      } else if (i % (2 * (table + 3)) == 1) {
        ASSERT_TRUE(database->remove(key_of(i)).is_ok());
        model.erase(key_of(i));
      }
    }
    ASSERT_TRUE(database->flush().is_ok());
  }
  const std::shared_ptr<const Version> version = database->current_version();
  ASSERT_EQ(version->files(0).size(), static_cast<size_t>(kTables));
  size_t deeper_files = 0;
  for (int level = 1; level < kLevelCount; level++) deeper_files += version->files(level).size();
  ASSERT_GE(deeper_files, 1u);

  for (int i = 0; i < kKeys + 10; i++) {
    const auto it = model.find(key_of(i));
    EXPECT_EQ(test::get_or_absent(*database, key_of(i)),
              it == model.end() ? "(absent)" : it->second)
        << key_of(i);
  }
}

// Probing one by one, an unreadable table is reached only by keys that no newer table holds.
TEST(VersionGetTest, AnUnreadableTableFailsOnlyTheKeysNoNewerTableAnswers) {
  FaultEnv env(6);
  InlineScheduler scheduler;
  const Options options = tree_options(&env, &scheduler);
  std::unique_ptr<Database> database = test::open_database(options);
  // The older table holds both keys; the newer one holds "key000001" only.
  ASSERT_TRUE(database->put(key_of(1), "old").is_ok());
  ASSERT_TRUE(database->put(key_of(2), "old").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  ASSERT_TRUE(database->put(key_of(1), "new").is_ok());
  ASSERT_TRUE(database->flush().is_ok());
  const Version::FileList level0 = database->current_version()->files(0);
  ASSERT_EQ(level0.size(), 2u);
  const uint64_t older_number = level0.back()->number;
  ASSERT_TRUE(database->close().is_ok());
  database.reset();

  // The older table's file is replaced by bytes that are no table: opening it fails.
  {
    Result<std::unique_ptr<WritableFile>> file =
        env.new_writable_file(table_file_name("/db", older_number));
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->append("not a table").is_ok());
    ASSERT_TRUE((*file)->close().is_ok());
  }
  database = test::open_database(options);
  ASSERT_NE(database, nullptr);
  auto newer = database->get(ReadOptions(), key_of(1));
  ASSERT_TRUE(newer.is_ok()) << newer.status().to_string();
  EXPECT_EQ(newer->value_or("(absent)"), "new");
  EXPECT_FALSE(database->get(ReadOptions(), key_of(2)).is_ok());
}

}  // namespace
}  // namespace cairn
