// Proves that collection generations are never handed out twice by one database: across
// reopens (a reopen skips to the recorded limit), across block boundaries, and across power
// losses at random points (a generation found in a recovered record is always below what the
// reopened allocator hands out next); a malformed limit record is Corruption.
#include "model/generation_allocator.h"

#include <gtest/gtest.h>

#include <string>

#include "common/coding.h"
#include "io/fault_env.h"
#include "io/random.h"
#include "support/disk_database_test.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

class GenerationAllocatorTest : public test::DiskDatabaseTest {
 protected:
  void SetUp() override { open_database(Options(), "generation_allocator_"); }
  void reopen() {
    ASSERT_TRUE(db_->close().is_ok());
    db_.reset();
    auto opened = Database::open(Options(), directory_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    db_ = std::move(opened).value();
  }
  std::unique_ptr<GenerationAllocator> open_allocator() {
    auto opened = GenerationAllocator::open(*db_);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(opened).value() : nullptr;
  }
};

TEST_F(GenerationAllocatorTest, UniqueAcrossReopensAndBlocks) {
  uint64_t first = 0;
  uint64_t last = 0;  // every number is above the last one: none repeats
  for (int round = 0; round < 3; round++) {
    auto allocator = open_allocator();
    ASSERT_NE(allocator, nullptr);
    // Cross a block boundary in the second round.
    const uint64_t count = round == 1 ? GenerationAllocator::kBlockSize + 10 : 100;
    for (uint64_t i = 0; i < count; i++) {
      auto generation = allocator->next();
      ASSERT_TRUE(generation.is_ok());
      ASSERT_GT(*generation, last);
      last = *generation;
      if (first == 0) first = last;
    }
    allocator.reset();
    reopen();
  }
  EXPECT_EQ(first, 1u) << "a fresh database starts at 1";
}

TEST_F(GenerationAllocatorTest, MalformedLimitIsCorruption) {
  ASSERT_TRUE(db_->put(GenerationAllocator::record_key(), "short").is_ok());
  EXPECT_TRUE(GenerationAllocator::open(*db_).status().is_corruption());
  std::string zero;
  put_fixed64(&zero, 0);
  ASSERT_TRUE(db_->put(GenerationAllocator::record_key(), zero).is_ok());
  EXPECT_TRUE(GenerationAllocator::open(*db_).status().is_corruption());
}

// A workload that records each generation it uses in a record of its own (as a collection's
// record would), across block boundaries, syncing now and then, loses power at a random
// operation; after recovery every recorded generation is below the allocator's next one.
TEST(GenerationAllocatorCrashTest, RecoveredGenerationsAreNeverHandedOutAgain) {
  for (const uint64_t seed : test::test_seeds(6100, 12, 200)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED replays it)");
    Random random(seed);
    FaultEnv env(seed);
    Options options;
    options.env = &env;
    options.fsync = FsyncPolicy::kNever;
    options.write_buffer_size_bytes = 4096;
    const std::string directory = "/db";
    env.crash_after_mutating_ops(20 + random.uniform(200));
    {
      auto opened = Database::open(options, directory);
      ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
      auto allocator = GenerationAllocator::open(**opened);
      ASSERT_TRUE(allocator.is_ok());
      for (int i = 0; i < 1000 && !env.crashed(); i++) {
        // Skip ahead by up to most of a block, so that limits are written often.
        const uint64_t skip = random.uniform(GenerationAllocator::kBlockSize / 2);
        Result<uint64_t> generation = (*allocator)->next();
        for (uint64_t s = 0; s < skip && generation.is_ok(); s++) generation = (*allocator)->next();
        if (!generation.is_ok()) break;
        std::string value;
        put_fixed64(&value, *generation);
        if (!(*opened)->put("used" + std::to_string(i), value).is_ok()) break;
        if (random.one_in(5) && !(*opened)->sync_wal().is_ok()) break;
      }
      (void)(*opened)->close();
    }
    ASSERT_TRUE(env.crashed()) << "the crash point was reached";
    env.restart();
    auto opened = Database::open(options, directory);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    uint64_t highest_used = 0;
    auto it = (*opened)->new_iterator(ReadOptions());
    for (it->seek("used"); it->valid() && it->key().starts_with("used"); it->next()) {
      std::string_view value = it->value();
      uint64_t generation = 0;
      ASSERT_TRUE(get_fixed64(&value, &generation));
      highest_used = std::max(highest_used, generation);
    }
    it.reset();
    auto allocator = GenerationAllocator::open(**opened);
    ASSERT_TRUE(allocator.is_ok());
    auto next = (*allocator)->next();
    ASSERT_TRUE(next.is_ok());
    EXPECT_GT(*next, highest_used);
    ASSERT_TRUE((*opened)->close().is_ok());
  }
}

}  // namespace
}  // namespace cairn
