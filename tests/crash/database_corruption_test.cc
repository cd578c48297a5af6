// Corruption tests: a flipped byte in a table, a blob file, in the middle of the WAL, or in the
// MANIFEST is reported as Corruption naming the file; the database never returns wrong data and
// never crashes.
#include <gtest/gtest.h>

#include "io/fault_env.h"
#include "io/scheduler.h"
#include "storage/database.h"
#include "support/database_workload.h"

namespace cairn {
namespace {

constexpr int kKeyCount = 300;

std::string key_of(int i) { return "key" + std::to_string(1000 + i); }
std::string value_of(int i) { return "value-" + std::to_string(i) + std::string(40, 'x'); }

class DatabaseCorruptionTest : public ::testing::Test {
 protected:
  DatabaseCorruptionTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    options_.table.block_size_bytes = 512;
  }

  // Writes kKeyCount keys; `flush` puts them in a table, otherwise they stay in the WAL.
  void write_database(bool flush) {
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok());
    for (int i = 0; i < kKeyCount; i++) {
      ASSERT_TRUE((*database)->put(key_of(i), value_of(i)).is_ok());
    }
    if (flush) {
      ASSERT_TRUE((*database)->flush().is_ok());
    }
    ASSERT_TRUE((*database)->close().is_ok());
  }

  // The one file in /db whose name contains `part`.
  std::string find_file(const std::string& part) {
    auto names = env_.list_dir("/db");
    EXPECT_TRUE(names.is_ok());
    std::string found;
    for (const std::string& name : *names) {
      if (name.find(part) != std::string::npos) {
        EXPECT_TRUE(found.empty()) << "two files match " << part;
        found = "/db/" + name;
      }
    }
    EXPECT_FALSE(found.empty()) << "no file matches " << part;
    return found;
  }

  FaultEnv env_{11};
  InlineScheduler scheduler_;
  Options options_;
};

// Every read of a database with one flipped table byte returns the right value or a
// Corruption naming the table: never a wrong value, never a crash.
TEST_F(DatabaseCorruptionTest, FlippedTableByteIsCorruptionNamingTheTable) {
  write_database(/*flush=*/true);
  const std::string table = find_file(".sst");
  const uint64_t size = *env_.file_size(table);
  const std::string pristine = *env_.contents(table);
  int corruptions_seen = 0;
  for (uint64_t offset = 0; offset < size; offset += 1 + size / 97) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    ASSERT_TRUE(env_.corrupt_byte(table, offset, 0x10).is_ok());
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();  // tables open lazily
    bool corruption = false;
    for (int i = 0; i < kKeyCount; i++) {
      auto value = (*database)->get({}, key_of(i));
      if (value.is_ok()) {
        ASSERT_EQ(value->value_or("absent"), value_of(i));
      } else {
        ASSERT_TRUE(value.status().is_corruption()) << value.status().to_string();
        ASSERT_NE(value.status().to_string().find(".sst"), std::string::npos);
        corruption = true;
      }
    }
    Result<test::Model> scanned = test::scan_all(**database);
    if (scanned.is_ok()) {
      ASSERT_EQ(scanned->size(), static_cast<size_t>(kKeyCount));
      for (const auto& [key, value] : *scanned)
        ASSERT_EQ(value, value_of(std::stoi(key.substr(3)) - 1000));
    } else {
      ASSERT_TRUE(scanned.status().is_corruption()) << scanned.status().to_string();
      corruption = true;
    }
    corruptions_seen += corruption ? 1 : 0;
    database->reset();
    ASSERT_TRUE(env_.corrupt_byte(table, offset, 0x10).is_ok());  // restore
    ASSERT_EQ(*env_.contents(table), pristine);
  }
  EXPECT_GT(corruptions_seen, 0);
}

// Every read of a database with one flipped byte in a blob file — get, get_stream, a scan —
// returns the right value or a Corruption naming the blob file: never a wrong byte, never a crash.
TEST_F(DatabaseCorruptionTest, FlippedBlobByteIsCorruptionNamingTheBlobFile) {
  options_.blob_value_threshold_bytes = 64;
  constexpr int kBlobKeyCount = 40;
  const auto blob_value_of = [](int i) { return value_of(i) + std::string(100 + 37 * i, 'b'); };
  {
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok());
    for (int i = 0; i < kBlobKeyCount; i++) {
      ASSERT_TRUE((*database)->put(key_of(i), blob_value_of(i)).is_ok());
    }
    // The references go to a table: a damaged record named from the WAL would instead end the
    // replay there, as a torn tail (database_recovery.cc).
    ASSERT_TRUE((*database)->flush().is_ok());
    ASSERT_TRUE((*database)->close().is_ok());
  }
  const std::string blob = find_file(".blob");
  const uint64_t size = *env_.file_size(blob);
  const std::string pristine = *env_.contents(blob);
  const auto is_blob_corruption = [](const Status& status) {
    return status.is_corruption() && status.to_string().find(".blob") != std::string::npos;
  };
  int corruptions_seen = 0;
  int offsets_tried = 0;
  for (uint64_t offset = 0; offset < size; offset += 1 + size / 197, offsets_tried++) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    ASSERT_TRUE(env_.corrupt_byte(blob, offset, 0x10).is_ok());
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    bool corruption = false;
    for (int i = 0; i < kBlobKeyCount; i++) {
      auto value = (*database)->get({}, key_of(i));
      if (value.is_ok()) {
        ASSERT_EQ(value->value_or("absent"), blob_value_of(i));
      } else {
        ASSERT_TRUE(is_blob_corruption(value.status())) << value.status().to_string();
        corruption = true;
      }
      // Streamed: every byte handed out is the value's, up to the error if there is one.
      auto reader = (*database)->get_stream({}, key_of(i));
      if (!reader.is_ok()) {
        ASSERT_TRUE(is_blob_corruption(reader.status())) << reader.status().to_string();
        continue;
      }
      ASSERT_NE(*reader, nullptr);
      std::string streamed(blob_value_of(i).size() + 1, '\0');
      size_t position = 0;
      while (true) {
        const Result<size_t> read = (*reader)->read(streamed.data() + position, 100);
        if (!read.is_ok()) {
          ASSERT_TRUE(is_blob_corruption(read.status())) << read.status().to_string();
          break;
        }
        if (*read == 0) break;
        position += *read;
        ASSERT_LE(position, blob_value_of(i).size());
      }
      ASSERT_EQ(streamed.substr(0, position), blob_value_of(i).substr(0, position));
    }
    Result<test::Model> scanned = test::scan_all(**database);
    if (scanned.is_ok()) {
      ASSERT_EQ(scanned->size(), static_cast<size_t>(kBlobKeyCount));
      for (const auto& [key, value] : *scanned) {
        ASSERT_EQ(value, blob_value_of(std::stoi(key.substr(3)) - 1000));
      }
    } else {
      ASSERT_TRUE(is_blob_corruption(scanned.status())) << scanned.status().to_string();
      corruption = true;
    }
    corruptions_seen += corruption ? 1 : 0;
    database->reset();
    ASSERT_TRUE(env_.corrupt_byte(blob, offset, 0x10).is_ok());  // restore
    ASSERT_EQ(*env_.contents(blob), pristine);
  }
  // Every byte of the file belongs to a live record (or the file header), so every flip shows.
  EXPECT_EQ(corruptions_seen, offsets_tried);
}

// A flipped byte in a WAL record that is not the last one makes open fail with Corruption
// naming the log, rather than silently dropping the records after it.
TEST_F(DatabaseCorruptionTest, FlippedByteInTheMiddleOfTheWalIsCorruption) {
  write_database(/*flush=*/false);
  const std::string log = find_file(".log");
  const uint64_t size = *env_.file_size(log);
  ASSERT_GT(size, 1000u);
  for (const uint64_t offset : {uint64_t{0}, uint64_t{5}, uint64_t{11}, size / 3, size / 2}) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    ASSERT_TRUE(env_.corrupt_byte(log, offset).is_ok());
    auto database = Database::open(options_, "/db");
    ASSERT_FALSE(database.is_ok());
    EXPECT_TRUE(database.status().is_corruption()) << database.status().to_string();
    EXPECT_NE(database.status().to_string().find(".log"), std::string::npos)
        << database.status().to_string();
    ASSERT_TRUE(env_.corrupt_byte(log, offset).is_ok());  // restore
  }
  auto database = Database::open(options_, "/db");
  ASSERT_TRUE(database.is_ok()) << database.status().to_string();
  auto value = (*database)->get({}, key_of(kKeyCount - 1));
  ASSERT_TRUE(value.is_ok());
  EXPECT_EQ(value->value_or("absent"), value_of(kKeyCount - 1));
}

// A flipped byte anywhere in the MANIFEST makes open fail with Corruption naming it.
TEST_F(DatabaseCorruptionTest, FlippedManifestByteIsCorruptionNamingTheManifest) {
  write_database(/*flush=*/true);
  {
    // A second open writes a MANIFEST whose snapshot lists the table; one more flush appends.
    auto database = Database::open(options_, "/db");
    ASSERT_TRUE(database.is_ok());
    ASSERT_TRUE((*database)->put("extra", "value").is_ok());
    ASSERT_TRUE((*database)->flush().is_ok());
  }
  const std::string manifest = find_file("MANIFEST");
  const uint64_t size = *env_.file_size(manifest);
  for (uint64_t offset = 0; offset < size; offset++) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    ASSERT_TRUE(env_.corrupt_byte(manifest, offset).is_ok());
    auto database = Database::open(options_, "/db");
    ASSERT_FALSE(database.is_ok());
    EXPECT_TRUE(database.status().is_corruption()) << database.status().to_string();
    EXPECT_NE(database.status().to_string().find("MANIFEST"), std::string::npos)
        << database.status().to_string();
    ASSERT_TRUE(env_.corrupt_byte(manifest, offset).is_ok());  // restore
  }
  auto database = Database::open(options_, "/db");
  ASSERT_TRUE(database.is_ok()) << database.status().to_string();
}

// A table the MANIFEST lists but that is gone is reported, not silently skipped.
TEST_F(DatabaseCorruptionTest, MissingTableIsCorruption) {
  write_database(/*flush=*/true);
  ASSERT_TRUE(env_.remove_file(find_file(".sst")).is_ok());
  auto database = Database::open(options_, "/db");
  ASSERT_FALSE(database.is_ok());
  EXPECT_TRUE(database.status().is_corruption()) << database.status().to_string();
}

}  // namespace
}  // namespace cairn
