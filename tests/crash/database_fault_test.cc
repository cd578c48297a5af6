// Fault tests: EIO and ENOSPC injected into the WAL, blob file, table, MANIFEST and directory
// operations.
// The failing write returns the error, later writes are refused, the database stays readable
// with exactly the acknowledged writes, and a reopen (after the fault clears) recovers them.
#include <gtest/gtest.h>

#include "io/clock.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_workload.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

using test::Model;
using test::Write;

constexpr uint32_t kWriteSideOps[] = {FaultEnv::kAppend, FaultEnv::kSync, FaultEnv::kCreate,
                                      FaultEnv::kRename, FaultEnv::kSyncDir};
constexpr const char* kPathFilters[] = {"", ".log", ".sst", ".blob", "MANIFEST", "CURRENT"};

TEST(DatabaseFaultTest, InjectedErrorsFailTheWriteAndKeepTheDatabaseReadable) {
  for (const uint64_t seed : test::test_seeds(3000, 120, 2000)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    Random random(seed);
    FaultEnv env(seed);
    InlineScheduler scheduler;
    Options options;
    options.env = &env;
    options.scheduler = &scheduler;
    options.write_buffer_size_bytes = 4096 * (1 + random.uniform(8));
    options.table.block_size_bytes = 256;
    // Larger values in blob files for most seeds (a generator of their own keeps the rest).
    Random blob_random(seed ^ 0xb10bf11e5eedull);
    options.blob_value_threshold_bytes = blob_random.one_in(4) ? 0 : 64 << blob_random.uniform(5);
    options.blob_file_size_bytes = 2048 * (1 + blob_random.uniform(32));

    auto opened = Database::open(options, "/db");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    std::unique_ptr<Database> database = std::move(opened).value();

    FaultEnv::FaultRule rule;
    rule.ops = kWriteSideOps[random.uniform(std::size(kWriteSideOps))];
    rule.path_substring = kPathFilters[random.uniform(std::size(kPathFilters))];
    rule.code = random.one_in(2) ? Status::Code::kNoSpace : Status::Code::kIOError;
    rule.skip = random.uniform(200);
    env.inject(rule);

    Model acknowledged;
    std::optional<Write> failed;
    Status failure;
    for (int i = 0; i < 1000 && !failed; i++) {
      Write write = test::random_write(random);
      failure = database->write(write.batch);
      if (failure.is_ok()) {
        write.apply_to(&acknowledged);
      } else {
        failed = std::move(write);
      }
    }
    if (!failed) continue;  // this rule matched too few operations to fire; nothing to check
    EXPECT_EQ(failure.code(), rule.code) << failure.to_string();

    // Readable, with exactly what was acknowledged: the failed write is not visible.
    Result<Model> readable = test::scan_all(*database);
    ASSERT_TRUE(readable.is_ok()) << readable.status().to_string();
    ASSERT_EQ(*readable, acknowledged);
    // Writes stay refused: what reached the disk is unknown.
    EXPECT_FALSE(database->put("after", "failure").is_ok());

    env.clear_faults();
    database.reset();
    auto reopened = Database::open(options, "/db");
    ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
    Result<Model> recovered = test::scan_all(**reopened);
    ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
    if (*recovered != acknowledged) {
      failed->apply_to(&acknowledged);  // it may have reached the log before its sync failed
      ASSERT_EQ(*recovered, acknowledged);
    }
    ASSERT_TRUE((*reopened)->put("after", "recovery").is_ok());
  }
}

// A full disk during a memtable flush: the write that needed room fails with NoSpace, reads
// keep working (from the memtables), and a reopen with space again keeps every write.
TEST(DatabaseFaultTest, FullDiskDuringFlushThenRecovery) {
  FaultEnv env(7);
  InlineScheduler scheduler;
  Options options;
  options.env = &env;
  options.scheduler = &scheduler;
  options.write_buffer_size_bytes = 16 << 10;
  auto database = Database::open(options, "/db");
  ASSERT_TRUE(database.is_ok());
  env.inject({.ops = FaultEnv::kAppend, .path_substring = ".sst", .code = Status::Code::kNoSpace});

  Model written;
  Status status;
  int i = 0;
  for (; i < 1000; i++) {
    const std::string key = "key" + std::to_string(i);
    status = (*database)->put(key, std::string(100, 'v'));
    if (!status.is_ok()) break;
    written[key] = std::string(100, 'v');
  }
  ASSERT_TRUE(status.is_no_space()) << status.to_string();
  ASSERT_GT(written.size(), 10u);
  Result<Model> readable = test::scan_all(**database);
  ASSERT_TRUE(readable.is_ok());
  EXPECT_EQ(*readable, written);
  auto value = (*database)->get({}, "key0");
  ASSERT_TRUE(value.is_ok());
  EXPECT_EQ(value->value_or("absent"), std::string(100, 'v'));

  env.clear_faults();
  database->reset();
  auto reopened = Database::open(options, "/db");
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  Result<Model> recovered = test::scan_all(**reopened);
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(*recovered, written);
}

}  // namespace
}  // namespace cairn
