// Proves Database::get_value: absent / deleted keys are absent, small values come back inline
// with one lookup, blob values come back as a handle whose ranges stream the same version even
// after the key is overwritten.
#include <gtest/gtest.h>

#include <string>

#include "storage/database.h"
#include "support/disk_database_test.h"

namespace cairn {
namespace {

class GetValueTest : public test::DiskDatabaseTest {
 protected:
  void SetUp() override {
    Options options;
    options.blob_value_threshold_bytes = 1024;
    options.fsync = FsyncPolicy::kNever;
    open_database(options, "get_value_");
  }
  static std::string read_all(ValueReader& reader) {
    std::string out;
    char buffer[777];
    while (true) {
      auto n = reader.read(buffer, sizeof(buffer));
      EXPECT_TRUE(n.is_ok());
      if (!n.is_ok() || *n == 0) break;
      out.append(buffer, *n);
    }
    return out;
  }
};

TEST_F(GetValueTest, AbsentAndDeleted) {
  auto missing = db_->get_value(ReadOptions(), "k");
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->found());
  ASSERT_TRUE(db_->put("k", "v").is_ok());
  ASSERT_TRUE(db_->remove("k").is_ok());
  auto deleted = db_->get_value(ReadOptions(), "k");
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_EQ(deleted->kind(), StoredValue::Kind::kAbsent);
}

TEST_F(GetValueTest, InlineValue) {
  ASSERT_TRUE(db_->put("k", "small").is_ok());
  auto found = db_->get_value(ReadOptions(), "k");
  ASSERT_TRUE(found.is_ok());
  ASSERT_EQ(found->kind(), StoredValue::Kind::kInline);
  EXPECT_EQ(found->inline_bytes(), "small");
  EXPECT_EQ(found->size_bytes(), 5u);
  auto range = found->open_range(1, 3);
  ASSERT_TRUE(range.is_ok());
  EXPECT_EQ(read_all(**range), "mal");
  ASSERT_TRUE(db_->flush().is_ok());  // also from a table
  auto from_table = db_->get_value(ReadOptions(), "k");
  ASSERT_TRUE(from_table.is_ok());
  EXPECT_EQ(std::move(from_table).value().take_inline_bytes(), "small");
}

TEST_F(GetValueTest, BlobValueIsNotReadWhole) {
  std::string big(100000, 'x');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(db_->put("k", big).is_ok());
  auto found = db_->get_value(ReadOptions(), "k");
  ASSERT_TRUE(found.is_ok());
  ASSERT_EQ(found->kind(), StoredValue::Kind::kBlob);
  EXPECT_EQ(found->size_bytes(), big.size());
  auto tail = found->open_range(big.size() - 10, 10);
  ASSERT_TRUE(tail.is_ok());
  EXPECT_EQ(read_all(**tail), big.substr(big.size() - 10));
  // Overwritten meanwhile: the handle still reads its own version.
  ASSERT_TRUE(db_->put("k", "new").is_ok());
  auto whole = found->open_range(0, UINT64_MAX);
  ASSERT_TRUE(whole.is_ok());
  EXPECT_EQ(read_all(**whole), big);
  auto past = found->open_range(big.size() + 5, 10);
  ASSERT_TRUE(past.is_ok());
  EXPECT_EQ((*past)->size_bytes(), 0u);
}

}  // namespace
}  // namespace cairn
