// Proves the table cache: at most its capacity of tables stays open, the least recently used is
// closed first, a table in use stays readable after eviction, and failed opens are not cached.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/env_wrapper.h"
#include "io/fault_env.h"
#include "storage/file_names.h"
#include "storage/internal_key.h"
#include "storage/table_builder.h"
#include "storage/table_cache.h"

namespace cairn {
namespace {

const std::string kDirectory = "/db";

// Counts table opens, so a test sees when the cache reopened a file.
class CountingEnv final : public EnvWrapper {
 public:
  explicit CountingEnv(Env* target) : EnvWrapper(target) {}
  Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(
      const std::string& path) override {
    opens_.fetch_add(1);
    return EnvWrapper::new_random_access_file(path);
  }
  int opens() const { return opens_.load(); }

 private:
  std::atomic<int> opens_{0};
};

// The one entry of table `number`: its key and value both name the number.
std::string key_of(uint64_t number) {
  return make_internal_key("key/" + std::to_string(number), 1, ValueType::kValue);
}
std::string value_of(uint64_t number) { return "value of table " + std::to_string(number); }

class TableCacheTest : public ::testing::Test {
 protected:
  TableCacheTest() : fault_env_(1), env_(&fault_env_) {
    EXPECT_TRUE(fault_env_.create_dir(kDirectory).is_ok());
  }

  FileMetaData write_table(uint64_t number) {
    auto file = fault_env_.new_writable_file(table_file_name(kDirectory, number));
    EXPECT_TRUE(file.is_ok());
    TableBuilder builder(TableOptions{}, file->get());
    builder.add(key_of(number), value_of(number));
    EXPECT_TRUE(builder.finish().is_ok());
    EXPECT_TRUE((*file)->close().is_ok());
    FileMetaData meta;
    meta.number = number;
    meta.size_bytes = builder.file_size_bytes();
    return meta;
  }

  // Whether `table` answers with the entry of table `number`.
  static bool reads_as(const Table& table, uint64_t number) {
    const auto found = table.find_first_at_or_after(key_of(number));
    return found.is_ok() && found->has_value() && (*found)->value == value_of(number);
  }

  FaultEnv fault_env_;
  CountingEnv env_;
};

// Proves the cache holds at most its capacity, reopens nothing it still holds, and on overflow
// closes the least recently used table (a find counts as use).
TEST_F(TableCacheTest, CapacityIsRespectedWithLruEviction) {
  std::vector<FileMetaData> files;
  for (uint64_t number = 1; number <= 5; number++) files.push_back(write_table(number));
  TableCache cache(&env_, kDirectory, TableOptions{}, 3);
  for (int i = 0; i < 3; i++) ASSERT_TRUE(cache.find(files[i]).is_ok());  // tables 1, 2, 3
  EXPECT_EQ(env_.opens(), 3);
  ASSERT_TRUE(cache.find(files[0]).is_ok());  // 1 is now the most recently used; 2 the least
  EXPECT_EQ(env_.opens(), 3);
  ASSERT_TRUE(cache.find(files[3]).is_ok());  // opens 4, closes 2
  EXPECT_EQ(env_.opens(), 4);
  EXPECT_EQ(cache.open_table_count(), 3u);
  for (const int i : {0, 2, 3}) {  // 1, 3 and 4 are still open
    const auto table = cache.find(files[i]);
    ASSERT_TRUE(table.is_ok());
    EXPECT_TRUE(reads_as(**table, files[i].number));
  }
  EXPECT_EQ(env_.opens(), 4);
  const auto reopened = cache.find(files[1]);  // 2 was closed: reopened, closing 1
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_TRUE(reads_as(**reopened, 2));
  EXPECT_EQ(env_.opens(), 5);
  EXPECT_EQ(cache.open_table_count(), 3u);
  ASSERT_TRUE(cache.find(files[0]).is_ok());
  EXPECT_EQ(env_.opens(), 6);
}

// Proves a table a reader holds — and an iterator open on it — stays readable after the cache
// evicts it, by capacity or by evict().
TEST_F(TableCacheTest, EvictedTableInUseStaysReadable) {
  const FileMetaData first = write_table(1);
  const FileMetaData second = write_table(2);
  TableCache cache(&env_, kDirectory, TableOptions{}, 1);
  auto found = cache.find(first);
  ASSERT_TRUE(found.is_ok());
  std::shared_ptr<Table> held = std::move(found).value();
  std::unique_ptr<Iterator> iterator = held->new_iterator();
  iterator->keep_alive(held);
  ASSERT_TRUE(cache.find(second).is_ok());  // capacity 1: table 1 is evicted
  EXPECT_EQ(cache.open_table_count(), 1u);
  EXPECT_TRUE(reads_as(*held, 1));
  held.reset();  // only the iterator keeps table 1 open now
  iterator->seek_to_first();
  ASSERT_TRUE(iterator->valid());
  EXPECT_EQ(iterator->value(), value_of(1));

  auto second_table = cache.find(second);
  ASSERT_TRUE(second_table.is_ok());
  cache.evict(2);
  EXPECT_EQ(cache.open_table_count(), 0u);
  EXPECT_TRUE(reads_as(**second_table, 2));
  cache.evict(2);  // evicting an absent table is a no-op
}

// Proves a failed open is reported naming the file and not cached: once the file exists, the
// next find opens it.
TEST_F(TableCacheTest, FailedOpenIsNotCached) {
  TableCache cache(&env_, kDirectory, TableOptions{}, 4);
  FileMetaData missing;
  missing.number = 9;
  missing.size_bytes = 100;
  const auto failed = cache.find(missing);
  ASSERT_FALSE(failed.is_ok());
  EXPECT_NE(failed.status().message().find("000009"), std::string_view::npos);
  EXPECT_EQ(cache.open_table_count(), 0u);
  const auto found = cache.find(write_table(9));
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_TRUE(reads_as(**found, 9));
}

// Proves concurrent finds over more tables than the capacity always return the right table
// and leave at most the capacity open.
TEST_F(TableCacheTest, ConcurrentFindsReturnTheRightTable) {
  std::vector<FileMetaData> files;
  for (uint64_t number = 1; number <= 8; number++) files.push_back(write_table(number));
  TableCache cache(&env_, kDirectory, TableOptions{}, 3);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; i++) {
        const FileMetaData& file = files[(i * 7 + t * 3) % files.size()];
        const auto table = cache.find(file);
        if (!table.is_ok() || !reads_as(**table, file.number)) wrong[t]++;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
  EXPECT_LE(cache.open_table_count(), 3u);
  EXPECT_GT(env_.opens(), 8);
}

}  // namespace
}  // namespace cairn
