// Proves TableIndex: find() lands where a binary search over the whole keys does, for keys that
// share long prefixes, are shorter than a fence, or differ only past it; and a malformed index
// (keys out of order, bad handles) is Corruption at build, never a wrong answer later.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "io/random.h"
#include "storage/block.h"
#include "storage/block_builder.h"
#include "storage/internal_key.h"
#include "storage/table_format.h"
#include "storage/table_index.h"

namespace cairn {
namespace {

const std::string kFileName = "000009.sst";
constexpr uint64_t kBlocksEndBytes = uint64_t{1} << 40;

std::shared_ptr<const Block> index_block_of(const std::vector<std::string>& keys) {
  BlockBuilder builder(1);
  for (size_t i = 0; i < keys.size(); i++) {
    std::string handle;
    encode_block_handle(&handle, BlockHandle{1000 * i, 900});
    builder.add(keys[i], handle);
  }
  Result<std::shared_ptr<const Block>> block = Block::parse(
      std::string(builder.finish()), std::make_shared<const std::string>(kFileName));
  EXPECT_TRUE(block.is_ok()) << block.status().to_string();
  return std::move(block).value();
}

TableIndex build_or_die(const std::vector<std::string>& keys) {
  Result<TableIndex> index = TableIndex::build(*index_block_of(keys), kBlocksEndBytes, kFileName);
  EXPECT_TRUE(index.is_ok()) << index.status().to_string();
  return std::move(index).value();
}

// The reference answer: the first key >= target by whole-key comparison.
size_t expected_position(const std::vector<std::string>& keys, const std::string& target) {
  return static_cast<size_t>(
      std::lower_bound(keys.begin(), keys.end(), target,
                       [](const std::string& a, const std::string& b) {
                         return compare_internal_keys(a, b) < 0;
                       }) -
      keys.begin());
}

// User keys from a small alphabet with a shared head, so that many keys tie on their fence,
// some are shorter than it, and some differ only beyond it.
std::string random_user_key(Random& random, const std::string& head) {
  std::string key = head;
  const size_t length = random.uniform(14);
  for (size_t i = 0; i < length; i++) key += static_cast<char>("ab\0\xff"[random.uniform(4)]);
  return key;
}

std::vector<std::string> random_index_keys(Random& random, const std::string& head,
                                           size_t count) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < count; i++) {
    keys.push_back(make_internal_key(random_user_key(random, head), 1 + random.uniform(1000),
                                     ValueType::kValue));
  }
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return compare_internal_keys(a, b) < 0;
  });
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// Proves find() agrees with whole-key binary search for random keys and targets, across heads
// that give a long shared prefix, none, or one that only some targets share.
TEST(TableIndexTest, FindMatchesWholeKeySearch) {
  for (uint64_t seed = 1; seed <= 40; seed++) {
    Random random(seed);
    const std::string head = seed % 3 == 0 ? "" : seed % 3 == 1 ? "slot/" : "a-rather-long-head/";
    const std::vector<std::string> keys = random_index_keys(random, head, 1 + random.uniform(300));
    const TableIndex index = build_or_die(keys);
    ASSERT_EQ(index.block_count(), keys.size());
    for (int probe = 0; probe < 500; probe++) {
      const std::string user_key =
          probe % 7 == 0 ? random_user_key(random, "") : random_user_key(random, head);
      const std::string target =
          make_internal_key(user_key, random.uniform(1100), kValueTypeForSeek);
      ASSERT_EQ(index.find(target), expected_position(keys, target))
          << "seed " << seed << " target user key size " << user_key.size();
    }
    // Every index key finds itself.
    for (size_t i = 0; i < keys.size(); i++) ASSERT_EQ(index.find(keys[i]), i) << "seed " << seed;
  }
}

// Proves versions of one user key in the index are told apart by sequence (the fence ties).
TEST(TableIndexTest, VersionsOfOneUserKeyOrderBySequence) {
  const std::vector<std::string> keys = {make_internal_key("k", 90, ValueType::kValue),
                                         make_internal_key("k", 50, ValueType::kValue),
                                         make_internal_key("k", 10, ValueType::kValue)};
  const TableIndex index = build_or_die(keys);
  EXPECT_EQ(index.find(make_internal_key("k", 100, kValueTypeForSeek)), 0u);
  EXPECT_EQ(index.find(make_internal_key("k", 60, kValueTypeForSeek)), 1u);
  EXPECT_EQ(index.find(make_internal_key("k", 50, kValueTypeForSeek)), 1u);
  EXPECT_EQ(index.find(make_internal_key("k", 5, kValueTypeForSeek)), 3u);
  EXPECT_EQ(index.find(make_internal_key("j", 5, kValueTypeForSeek)), 0u);
  EXPECT_EQ(index.find(make_internal_key("l", 5, kValueTypeForSeek)), 3u);
}

// Proves the handles come back as the index stored them, and an empty index finds nothing.
TEST(TableIndexTest, HandlesAndEmptyIndex) {
  const std::vector<std::string> keys = {make_internal_key("a", 1, ValueType::kValue),
                                         make_internal_key("b", 1, ValueType::kValue)};
  const TableIndex index = build_or_die(keys);
  EXPECT_EQ(index.handle(1).offset, 1000u);
  EXPECT_EQ(index.handle(1).size, 900u);
  const TableIndex empty = build_or_die({});
  EXPECT_EQ(empty.block_count(), 0u);
  EXPECT_EQ(empty.find(make_internal_key("a", 1, kValueTypeForSeek)), 0u);
}

// Proves an index whose keys do not strictly increase is refused: a search over it could
// otherwise pick the wrong block.
TEST(TableIndexTest, KeysOutOfOrderAreCorruption) {
  // BlockBuilder asserts order, so the block is assembled by hand: restart interval 1, whole keys.
  const std::string second = make_internal_key("a", 1, ValueType::kValue);
  const std::string first = make_internal_key("b", 1, ValueType::kValue);
  std::string contents;
  std::vector<uint32_t> restarts;
  for (const std::string& key : {first, second}) {
    restarts.push_back(static_cast<uint32_t>(contents.size()));
    std::string handle;
    encode_block_handle(&handle, BlockHandle{0, 10});
    contents += static_cast<char>(0);
    contents += static_cast<char>(key.size());
    contents += static_cast<char>(handle.size());
    contents += key + handle;
  }
  for (const uint32_t restart : restarts) put_fixed32(&contents, restart);
  put_fixed32(&contents, static_cast<uint32_t>(restarts.size()));
  Result<std::shared_ptr<const Block>> block =
      Block::parse(contents, std::make_shared<const std::string>(kFileName));
  ASSERT_TRUE(block.is_ok()) << block.status().to_string();
  Result<TableIndex> index = TableIndex::build(**block, kBlocksEndBytes, kFileName);
  ASSERT_FALSE(index.is_ok());
  EXPECT_TRUE(index.status().is_corruption());
  EXPECT_NE(index.status().message().find("out of order"), std::string::npos);
}

// Proves malformed handles and handles past the blocks are refused at build.
TEST(TableIndexTest, BadHandlesAreCorruption) {
  BlockBuilder builder(1);
  builder.add(make_internal_key("a", 1, ValueType::kValue), "\xff");  // a truncated varint
  Result<std::shared_ptr<const Block>> malformed = Block::parse(
      std::string(builder.finish()), std::make_shared<const std::string>(kFileName));
  ASSERT_TRUE(malformed.is_ok());
  Result<TableIndex> index = TableIndex::build(**malformed, kBlocksEndBytes, kFileName);
  ASSERT_FALSE(index.is_ok());
  EXPECT_TRUE(index.status().is_corruption());

  const std::vector<std::string> keys = {make_internal_key("a", 1, ValueType::kValue),
                                         make_internal_key("b", 1, ValueType::kValue)};
  // The second handle is {1000, 900}: its block and trailer end past 1500.
  Result<TableIndex> beyond = TableIndex::build(*index_block_of(keys), 1500, kFileName);
  ASSERT_FALSE(beyond.is_ok());
  EXPECT_TRUE(beyond.status().is_corruption());
  EXPECT_TRUE(TableIndex::build(*index_block_of(keys), 1905, kFileName).is_ok());
}

}  // namespace
}  // namespace cairn
