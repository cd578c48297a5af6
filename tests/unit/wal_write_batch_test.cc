// Proves WriteBatch encodes puts and removes losslessly, that from_contents rejects every
// malformed payload a damaged WAL could hand it, and that a batch lands in a memtable with
// consecutive sequence numbers.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "storage/memtable.h"
#include "storage/write_batch.h"

namespace cairn {
namespace {

struct Operation {
  ValueType type;
  std::string key;
  std::string value;
  bool operator==(const Operation&) const = default;
};

class RecordingHandler final : public WriteBatch::Handler {
 public:
  void put(std::string_view key, std::string_view value) override {
    operations.push_back({ValueType::kValue, std::string(key), std::string(value)});
  }
  void remove(std::string_view key) override {
    operations.push_back({ValueType::kDeletion, std::string(key), std::string()});
  }
  std::vector<Operation> operations;
};

std::vector<Operation> operations_of(const WriteBatch& batch) {
  RecordingHandler handler;
  EXPECT_TRUE(batch.iterate(handler).is_ok());
  return handler.operations;
}

WriteBatch sample_batch() {
  WriteBatch batch;
  batch.put("apple", "red");
  batch.remove("banana");
  batch.put(std::string("\0key\0", 5), "");
  batch.put("", std::string(300, 'v'));  // a value whose length needs a two-byte varint
  batch.set_sequence(4242);
  return batch;
}

const std::vector<Operation> kSampleOperations{
    {ValueType::kValue, "apple", "red"},
    {ValueType::kDeletion, "banana", ""},
    {ValueType::kValue, std::string("\0key\0", 5), ""},
    {ValueType::kValue, "", std::string(300, 'v')},
};

std::string with_count(std::string contents, uint32_t count) {
  encode_fixed32(contents.data() + 8, count);
  return contents;
}

// Proves puts and removes come back in order, with the sequence, through contents().
TEST(WalWriteBatchTest, RoundTripsThroughContents) {
  const WriteBatch batch = sample_batch();
  EXPECT_EQ(batch.count(), 4u);
  EXPECT_EQ(batch.sequence(), 4242u);
  EXPECT_EQ(batch.size_bytes(), batch.contents().size());
  EXPECT_EQ(operations_of(batch), kSampleOperations);

  Result<WriteBatch> decoded = WriteBatch::from_contents(batch.contents());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->contents(), batch.contents());
  EXPECT_EQ(decoded->sequence(), 4242u);
  EXPECT_EQ(decoded->count(), 4u);
  EXPECT_EQ(operations_of(*decoded), kSampleOperations);
}

// Proves a put given in pieces is byte for byte the put of the joined key and value, including
// empty pieces and a value long enough for a two-byte length.
TEST(WalWriteBatchTest, PutPartsIsThePutOfTheJoinedPieces) {
  const std::string long_piece(300, 'v');
  const std::string_view key_parts[] = {"ab", "", "cde"};
  const std::string_view value_parts[] = {long_piece, "", "xyz"};
  WriteBatch in_parts;
  in_parts.put_parts(key_parts, value_parts);
  in_parts.put_parts(key_parts, {});
  WriteBatch joined;
  joined.put("abcde", long_piece + "xyz");
  joined.put("abcde", "");
  EXPECT_EQ(in_parts.contents(), joined.contents());
  EXPECT_EQ(in_parts.count(), 2u);
}

// Proves an empty batch is just the 12-byte header and decodes.
TEST(WalWriteBatchTest, EmptyBatchIsItsHeader) {
  WriteBatch batch;
  EXPECT_EQ(batch.count(), 0u);
  EXPECT_EQ(batch.sequence(), 0u);
  EXPECT_EQ(batch.size_bytes(), kWriteBatchHeaderBytes);
  EXPECT_TRUE(operations_of(batch).empty());
  EXPECT_TRUE(WriteBatch::from_contents(batch.contents()).is_ok());
}

// Proves from_contents rejects the contents cut at every offset short of the end.
TEST(WalWriteBatchTest, FromContentsRejectsEveryTruncation) {
  const std::string contents(sample_batch().contents());
  for (size_t length = 0; length < contents.size(); length++) {
    SCOPED_TRACE("truncated at " + std::to_string(length));
    Result<WriteBatch> decoded = WriteBatch::from_contents(contents.substr(0, length));
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_TRUE(decoded.status().is_corruption());
  }
}

// Proves a count that disagrees with the operations is Corruption, too high or too low.
TEST(WalWriteBatchTest, FromContentsRejectsBadCounts) {
  const std::string contents(sample_batch().contents());
  for (uint32_t count : {0u, 3u, 5u, UINT32_MAX}) {
    SCOPED_TRACE("count " + std::to_string(count));
    Result<WriteBatch> decoded = WriteBatch::from_contents(with_count(contents, count));
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_TRUE(decoded.status().is_corruption());
  }
}

// Proves an unknown operation type and bytes after the last operation are Corruption.
TEST(WalWriteBatchTest, FromContentsRejectsUnknownTypesAndTrailingBytes) {
  WriteBatch batch;
  batch.remove("k");
  std::string unknown_type(batch.contents());
  unknown_type[kWriteBatchHeaderBytes] = 7;
  EXPECT_TRUE(WriteBatch::from_contents(unknown_type).status().is_corruption());

  const std::string trailing = std::string(batch.contents()) + "x";
  EXPECT_TRUE(WriteBatch::from_contents(trailing).status().is_corruption());
}

// Proves a batch whose sequences would pass kSequenceNumberMax is Corruption, and one that ends
// exactly at it is accepted.
TEST(WalWriteBatchTest, FromContentsRejectsSequencesPastTheMaximum) {
  WriteBatch batch;
  batch.put("a", "1");
  batch.put("b", "2");
  batch.set_sequence(kSequenceNumberMax - 1);
  EXPECT_TRUE(WriteBatch::from_contents(batch.contents()).is_ok());
  std::string contents(batch.contents());
  encode_fixed64(contents.data(), kSequenceNumberMax);
  EXPECT_TRUE(WriteBatch::from_contents(contents).status().is_corruption());
  encode_fixed64(contents.data(), UINT64_MAX);
  EXPECT_TRUE(WriteBatch::from_contents(contents).status().is_corruption());
}

// Proves append adds the other batch's operations after this one's and keeps this sequence.
TEST(WalWriteBatchTest, AppendKeepsThisSequence) {
  WriteBatch batch;
  batch.put("x", "1");
  batch.set_sequence(10);
  WriteBatch other = sample_batch();
  batch.append(other);
  EXPECT_EQ(batch.sequence(), 10u);
  EXPECT_EQ(batch.count(), 5u);
  std::vector<Operation> expected{{ValueType::kValue, "x", "1"}};
  expected.insert(expected.end(), kSampleOperations.begin(), kSampleOperations.end());
  EXPECT_EQ(operations_of(batch), expected);
  EXPECT_TRUE(WriteBatch::from_contents(batch.contents()).is_ok());

  batch.append(WriteBatch());  // appending nothing changes nothing
  EXPECT_EQ(batch.count(), 5u);
}

// Proves clear() leaves an empty batch with sequence 0.
TEST(WalWriteBatchTest, ClearEmptiesTheBatch) {
  WriteBatch batch = sample_batch();
  batch.clear();
  EXPECT_EQ(batch.count(), 0u);
  EXPECT_EQ(batch.sequence(), 0u);
  EXPECT_EQ(batch.size_bytes(), kWriteBatchHeaderBytes);
}

// Proves random batches with binary keys and values up to 1 MiB round-trip.
TEST(WalWriteBatchTest, RandomBatchesRoundTrip) {
  const uint64_t seed = 0xba7c4;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  auto random_string = [&](size_t size) {
    std::string bytes(size, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random());
    return bytes;
  };
  for (int round = 0; round < 50; round++) {
    WriteBatch batch;
    std::vector<Operation> expected;
    const int operations = static_cast<int>(random() % 40);
    for (int i = 0; i < operations; i++) {
      std::string key = random_string(random() % 20);
      if (random() % 3 == 0) {
        batch.remove(key);
        expected.push_back({ValueType::kDeletion, std::move(key), ""});
      } else {
        const size_t value_size = round == 0 && i == 0 ? size_t{1} << 20 : random() % 200;
        std::string value = random_string(value_size);
        batch.put(key, value);
        expected.push_back({ValueType::kValue, std::move(key), std::move(value)});
      }
    }
    batch.set_sequence(random() % kSequenceNumberMax);
    Result<WriteBatch> decoded = WriteBatch::from_contents(batch.contents());
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded->sequence(), batch.sequence());
    EXPECT_EQ(operations_of(*decoded), expected);
  }
}

// Proves insert_into_memtable gives the operations sequence(), sequence() + 1, ... in order.
TEST(WalWriteBatchTest, InsertIntoMemTableUsesConsecutiveSequences) {
  WriteBatch batch;
  batch.put("a", "first");   // 100
  batch.remove("a");         // 101
  batch.put("a", "second");  // 102
  batch.put("b", "only");    // 103
  batch.set_sequence(100);
  MemTable memtable;
  ASSERT_TRUE(insert_into_memtable(batch, &memtable).is_ok());
  EXPECT_EQ(memtable.entry_count(), 4u);

  std::string value;
  EXPECT_EQ(memtable.get("a", 99, &value), LookupResult::kAbsent);
  EXPECT_EQ(memtable.get("a", 100, &value), LookupResult::kFound);
  EXPECT_EQ(value, "first");
  EXPECT_EQ(memtable.get("a", 101, &value), LookupResult::kDeleted);
  EXPECT_EQ(memtable.get("a", 102, &value), LookupResult::kFound);
  EXPECT_EQ(value, "second");
  EXPECT_EQ(memtable.get("b", 102, &value), LookupResult::kAbsent);
  EXPECT_EQ(memtable.get("b", 103, &value), LookupResult::kFound);
  EXPECT_EQ(value, "only");
}

// Proves insert_into_memtable passes each operation, in order, to its `then` handler only once
// the memtable holds it (the row cache is updated this way, before the write is visible).
TEST(WalWriteBatchTest, InsertIntoMemTableTellsEachOperationAfterInsertingIt) {
  class CheckingHandler final : public WriteBatch::Handler {
   public:
    explicit CheckingHandler(const MemTable& memtable) : memtable_(memtable) {}
    void put(std::string_view key, std::string_view value) override {
      std::string found;
      EXPECT_EQ(memtable_.get(key, kSequenceNumberMax, &found), LookupResult::kFound) << key;
      EXPECT_EQ(found, value);
      told.push_back({ValueType::kValue, std::string(key), std::string(value)});
    }
    void remove(std::string_view key) override {
      std::string found;
      EXPECT_EQ(memtable_.get(key, kSequenceNumberMax, &found), LookupResult::kDeleted) << key;
      told.push_back({ValueType::kDeletion, std::string(key), std::string()});
    }
    std::vector<Operation> told;

   private:
    const MemTable& memtable_;
  };
  const WriteBatch batch = sample_batch();
  MemTable memtable;
  CheckingHandler then(memtable);
  ASSERT_TRUE(insert_into_memtable(batch, &memtable, &then).is_ok());
  EXPECT_EQ(then.told, kSampleOperations);
}

}  // namespace
}  // namespace cairn
