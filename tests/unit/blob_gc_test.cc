// Choosing blob garbage collections: live fractions come from the tables' record bytes over the
// file's records, only sealed, unexcluded files under the threshold are collected, and the table
// rewritten is one of level >= 1 naming the emptiest such file, in place.
#include "storage/blob_gc.h"

#include <gtest/gtest.h>

#include "storage/blob_format.h"
#include "storage/internal_key.h"
#include "storage/version_edit.h"

namespace cairn {
namespace {

FileMetaData table(uint64_t number, std::string_view smallest, std::string_view largest,
                   std::vector<BlobFileUse> blob_files) {
  return {number, 4096, make_internal_key(smallest, 5, ValueType::kValue),
          make_internal_key(largest, 3, ValueType::kValue), std::move(blob_files)};
}

// A blob file of `record_bytes` bytes of records, as its size on disk.
uint64_t file_of(uint64_t record_bytes) { return kBlobFileHeaderBytes + record_bytes; }

std::shared_ptr<const Version> version_of(const std::vector<std::pair<int, FileMetaData>>& tables) {
  VersionEdit edit;
  for (const auto& [level, file] : tables) edit.add_file(level, file);
  auto version = Version().apply(edit);
  EXPECT_TRUE(version.is_ok()) << version.status().to_string();
  return *version;
}

// A reference's record bytes are its header, key, value and one checksum per chunk.
TEST(BlobGcTest, RecordBytesCountEveryPartOfTheRecord) {
  BlobReference reference;
  reference.key_size_bytes = 10;
  reference.value_size_bytes = 3 * kBlobChunkBytesDefault + 1;  // four chunks
  EXPECT_EQ(blob_record_bytes(reference), kBlobRecordHeaderBytes + 10 + kBlobChecksumBytes +
                                              reference.value_size_bytes + 4 * kBlobChecksumBytes);
  reference.value_size_bytes = 0;
  EXPECT_EQ(blob_record_bytes(reference), kBlobRecordHeaderBytes + 10 + kBlobChecksumBytes);
}

// Live bytes add up over every table of every level.
TEST(BlobGcTest, LiveBytesAddUpOverAllLevels) {
  const auto version = version_of({{0, table(10, "a", "z", {{1, 100}, {2, 50}})},
                                   {1, table(11, "a", "f", {{1, 30}})},
                                   {3, table(12, "g", "k", {{2, 7}, {3, 9}})}});
  EXPECT_EQ(blob_live_record_bytes(*version),
            (std::map<uint64_t, uint64_t>{{1, 130}, {2, 57}, {3, 9}}));
}

// Collected: sealed files strictly under the threshold, referenced, not excluded, not empty.
TEST(BlobGcTest, CollectsOnlySealedReferencedFilesUnderTheThreshold) {
  const auto version = version_of({{1, table(10, "a", "f", {{1, 499}, {2, 500}, {3, 10}})},
                                   {2, table(11, "g", "k", {{4, 1000}, {5, 1}})}});
  const std::map<uint64_t, uint64_t> sealed = {{1, file_of(1000)},  // 49.9% live
                                               {2, file_of(1000)},  // 50%: not under
                                               {3, file_of(1000)},  // 1% live but excluded below
                                               {4, file_of(1000)},  // fully live
                                               {6, file_of(1000)},  // referenced by no table
                                               {7, kBlobFileHeaderBytes}};
  EXPECT_EQ(blob_files_to_collect(*version, sealed, {3}, 0.5), (std::set<uint64_t>{1}));
  EXPECT_EQ(blob_files_to_collect(*version, sealed, {}, 0.5), (std::set<uint64_t>{1, 3}));
  EXPECT_EQ(blob_files_to_collect(*version, sealed, {}, 1.0), (std::set<uint64_t>{1, 2, 3}))
      << "a fully live file is never collected, whatever the threshold";
  EXPECT_TRUE(blob_files_to_collect(*version, sealed, {}, 0).empty()) << "0 turns it off";
  // File 5 is referenced but not sealed (still being written): not a candidate.
  EXPECT_FALSE(blob_files_to_collect(*version, sealed, {}, 1.0).contains(5));
}

// The table rewritten names the emptiest collected file, lies in level >= 1, and is rewritten
// into its own level with the whole collected set to relocate.
TEST(BlobGcTest, PicksTheTableOfTheEmptiestFileAndRewritesItInPlace) {
  const auto version = version_of({{0, table(10, "a", "z", {{1, 10}})},
                                   {1, table(11, "a", "f", {{1, 100}, {2, 300}})},
                                   {2, table(12, "g", "k", {{2, 50}})},
                                   {2, table(13, "m", "p", {{3, 10}})}});
  const std::map<uint64_t, uint64_t> sealed = {
      {1, file_of(1000)}, {2, file_of(1000)}, {3, file_of(1000)}};
  // Live: file 1 11%, file 2 35%, file 3 1%.
  auto picked = pick_blob_gc(version, sealed, {1, 2, 3});
  ASSERT_TRUE(picked.has_value());
  EXPECT_EQ(picked->level, 2);
  EXPECT_EQ(picked->output_level, 2);
  ASSERT_EQ(picked->inputs.size(), 1u);
  EXPECT_EQ(picked->inputs[0]->number, 13u);
  EXPECT_TRUE(picked->next_inputs.empty());
  EXPECT_FALSE(picked->trivial_move);
  EXPECT_EQ(picked->relocated_blob_files, (std::set<uint64_t>{1, 2, 3}));

  picked = pick_blob_gc(version, sealed, {1, 2});
  ASSERT_TRUE(picked.has_value());
  EXPECT_EQ(picked->inputs[0]->number, 11u) << "file 1 is the emptier; level 0's table is skipped";
}

// A file named only by level-0 tables waits for them to be compacted down.
TEST(BlobGcTest, LevelZeroTablesAreNotRewritten) {
  const auto version =
      version_of({{0, table(10, "a", "z", {{1, 10}})}, {1, table(11, "a", "f", {{2, 900}})}});
  const std::map<uint64_t, uint64_t> sealed = {{1, file_of(1000)}, {2, file_of(1000)}};
  EXPECT_EQ(blob_files_to_collect(*version, sealed, {}, 0.5), (std::set<uint64_t>{1}));
  EXPECT_FALSE(pick_blob_gc(version, sealed, {1}).has_value());
}

}  // namespace
}  // namespace cairn
