// Proves version edits round-trip and reject damage, file names parse back, and versions keep
// their ordering invariants when edits are applied.
#include "storage/version_edit.h"

#include <gtest/gtest.h>

#include "common/coding.h"
#include "storage/file_names.h"
#include "storage/internal_key.h"
#include "storage/version.h"

namespace cairn {
namespace {

FileMetaData file(uint64_t number, std::string_view smallest, std::string_view largest) {
  return {number,
          1000 + number,
          make_internal_key(smallest, 5, ValueType::kValue),
          make_internal_key(largest, 3, ValueType::kValue),
          {}};
}

// An added-file record as the format had it before blob file lists (tag 5), by hand.
std::string old_format_added_file(int level, const FileMetaData& meta) {
  std::string encoded;
  put_varint32(&encoded, 5);
  put_varint32(&encoded, static_cast<uint32_t>(level));
  put_varint64(&encoded, meta.number);
  put_varint64(&encoded, meta.size_bytes);
  put_length_prefixed(&encoded, meta.smallest_key);
  put_length_prefixed(&encoded, meta.largest_key);
  return encoded;
}

TEST(VersionEditTest, RoundTrip) {
  VersionEdit edit;
  edit.set_log_number(7);
  edit.set_next_file_number(12);
  edit.set_last_sequence(99999);
  edit.add_file(0, file(9, "a", "m"));
  edit.add_file(2, file(10, "n", "z"));
  edit.remove_file(1, 4);
  std::string encoded;
  edit.encode_to(&encoded);

  VersionEdit decoded;
  ASSERT_TRUE(decoded.decode_from(encoded).is_ok());
  EXPECT_EQ(decoded.log_number(), 7u);
  EXPECT_EQ(decoded.next_file_number(), 12u);
  EXPECT_EQ(decoded.last_sequence(), 99999u);
  ASSERT_EQ(decoded.added_files().size(), 2u);
  EXPECT_EQ(decoded.added_files()[1].first, 2);
  EXPECT_EQ(decoded.added_files()[1].second.number, 10u);
  EXPECT_EQ(decoded.added_files()[1].second.size_bytes, 1010u);
  EXPECT_EQ(decoded.added_files()[1].second.largest_key, file(10, "n", "z").largest_key);
  EXPECT_EQ(decoded.removed_files(), (std::set<std::pair<int, uint64_t>>{{1, 4}}));
  std::string reencoded;
  decoded.encode_to(&reencoded);
  EXPECT_EQ(reencoded, encoded);
}

// A table's blob file list (numbers and record bytes) and entry counts survive encode/decode,
// a table without blob files included, and a version built from the edit carries them.
TEST(VersionEditTest, BlobFileListsAndCountsRoundTrip) {
  FileMetaData with_blobs = file(9, "a", "m");
  with_blobs.blob_files = {
      {3, 70000}, {4, 1}, {1u << 20, uint64_t{1} << 30}, {uint64_t{1} << 40, 0}};
  with_blobs.entry_count = 1000;
  with_blobs.deletion_count = 999;
  FileMetaData without = file(10, "n", "z");
  without.entry_count = uint64_t{1} << 40;
  VersionEdit edit;
  edit.add_file(0, with_blobs);
  edit.add_file(1, without);
  std::string encoded;
  edit.encode_to(&encoded);

  VersionEdit decoded;
  ASSERT_TRUE(decoded.decode_from(encoded).is_ok());
  ASSERT_EQ(decoded.added_files().size(), 2u);
  const FileMetaData& first = decoded.added_files()[0].second;
  EXPECT_EQ(first.blob_files, with_blobs.blob_files);
  EXPECT_EQ(first.largest_key, with_blobs.largest_key);
  EXPECT_EQ(first.entry_count, 1000u);
  EXPECT_EQ(first.deletion_count, 999u);
  const FileMetaData& second = decoded.added_files()[1].second;
  EXPECT_TRUE(second.blob_files.empty());
  EXPECT_EQ(second.entry_count, uint64_t{1} << 40);
  EXPECT_EQ(second.deletion_count, 0u);
  auto version = Version().apply(decoded);
  ASSERT_TRUE(version.is_ok());
  EXPECT_EQ((*version)->files(0)[0]->blob_files, with_blobs.blob_files);
  EXPECT_EQ((*version)->files(0)[0]->deletion_count, 999u);
}

// More tombstones than entries is damage.
TEST(VersionEditTest, DeletionCountAboveEntryCountIsCorruption) {
  FileMetaData meta = file(9, "a", "m");
  std::string encoded = old_format_added_file(0, meta).substr(1);  // the fields, without tag 5
  std::string bad;
  put_varint32(&bad, 7);
  bad += encoded;
  put_varint64(&bad, 3);  // entries
  put_varint64(&bad, 4);  // tombstones
  put_varint32(&bad, 0);  // blob files
  VersionEdit decoded;
  EXPECT_TRUE(decoded.decode_from(bad).is_corruption());
}

// A tag-6 record (blob files, no counts), as written before the counts, still decodes.
TEST(VersionEditTest, TagSixAddedFileStillDecodes) {
  std::string encoded;
  put_varint32(&encoded, 6);
  encoded += old_format_added_file(3, file(9, "a", "m")).substr(1);
  put_varint32(&encoded, 1);
  put_varint64(&encoded, 42);
  put_varint64(&encoded, 5000);
  VersionEdit decoded;
  ASSERT_TRUE(decoded.decode_from(encoded).is_ok());
  ASSERT_EQ(decoded.added_files().size(), 1u);
  EXPECT_EQ(decoded.added_files()[0].first, 3);
  EXPECT_EQ(decoded.added_files()[0].second.blob_files, (std::vector<BlobFileUse>{{42, 5000}}));
  EXPECT_EQ(decoded.added_files()[0].second.entry_count, 0u);
}

// A record written before blob file lists existed still decodes, as a table naming none.
TEST(VersionEditTest, OldFormatAddedFileStillDecodes) {
  const FileMetaData meta = file(9, "a", "m");
  VersionEdit decoded;
  ASSERT_TRUE(decoded.decode_from(old_format_added_file(2, meta)).is_ok());
  ASSERT_EQ(decoded.added_files().size(), 1u);
  EXPECT_EQ(decoded.added_files()[0].first, 2);
  EXPECT_EQ(decoded.added_files()[0].second.number, 9u);
  EXPECT_EQ(decoded.added_files()[0].second.smallest_key, meta.smallest_key);
  EXPECT_TRUE(decoded.added_files()[0].second.blob_files.empty());
}

// Every truncation of a blob file list, an empty list, a repeat or a descending number is
// Corruption, never a crash.
TEST(VersionEditTest, BadBlobFileListsAreCorruption) {
  FileMetaData with_blobs = file(9, "a", "m");
  with_blobs.blob_files = {{7, 100000}, {300, 5}};
  VersionEdit edit;
  edit.add_file(0, with_blobs);
  std::string encoded;
  edit.encode_to(&encoded);
  for (size_t length = 1; length < encoded.size(); length++) {
    VersionEdit decoded;
    EXPECT_TRUE(decoded.decode_from(std::string_view(encoded).substr(0, length)).is_corruption())
        << "length " << length;
  }
  const std::string fields = old_format_added_file(0, with_blobs).substr(1);  // without tag 5
  for (const std::vector<uint64_t>& list :
       {std::vector<uint64_t>{}, std::vector<uint64_t>{5, 5}, std::vector<uint64_t>{6, 2}}) {
    std::string bad;
    put_varint32(&bad, 6);
    bad += fields;
    put_varint32(&bad, static_cast<uint32_t>(list.size()));
    for (const uint64_t number : list) {
      put_varint64(&bad, number);
      put_varint64(&bad, 1000);  // record bytes
    }
    VersionEdit decoded;
    EXPECT_TRUE(decoded.decode_from(bad).is_corruption()) << list.size();
  }
  std::string huge_count;
  put_varint32(&huge_count, 6);
  huge_count += fields;
  put_varint32(&huge_count, 1u << 30);
  VersionEdit decoded;
  EXPECT_TRUE(decoded.decode_from(huge_count).is_corruption());
}

TEST(VersionEditTest, EveryTruncationAndBadFieldIsCorruption) {
  VersionEdit edit;
  edit.set_log_number(7);
  edit.add_file(0, file(9, "a", "m"));
  std::string encoded;
  edit.encode_to(&encoded);
  for (size_t length = 1; length < encoded.size(); length++) {
    VersionEdit decoded;
    const Status status = decoded.decode_from(std::string_view(encoded).substr(0, length));
    // Cutting exactly after the log number leaves a valid, shorter edit.
    if (length == 2) continue;
    EXPECT_TRUE(status.is_corruption()) << "length " << length;
  }
  VersionEdit decoded;
  EXPECT_TRUE(decoded.decode_from("\x63").is_corruption());          // unknown tag 99
  EXPECT_TRUE(decoded.decode_from("\x04\x09\x01").is_corruption());  // level 9 of 7
}

TEST(VersionTest, ApplyOrdersLevelsAndRejectsOverlapAndDuplicates) {
  const Version empty;
  VersionEdit edit;
  edit.add_file(0, file(3, "a", "z"));
  edit.add_file(0, file(8, "b", "c"));
  edit.add_file(1, file(5, "m", "p"));
  edit.add_file(1, file(4, "a", "f"));
  auto applied = empty.apply(edit);
  ASSERT_TRUE(applied.is_ok());
  const Version& version = **applied;
  ASSERT_EQ(version.files(0).size(), 2u);
  EXPECT_EQ(version.files(0)[0]->number, 8u);  // newest first
  EXPECT_EQ(version.files(1)[0]->number, 4u);  // by smallest key
  EXPECT_EQ(version.file_count(), 4u);

  VersionEdit overlap;
  overlap.add_file(1, file(9, "e", "g"));
  EXPECT_TRUE(version.apply(overlap).status().is_corruption());
  VersionEdit duplicate;
  duplicate.add_file(2, file(8, "x", "y"));
  EXPECT_TRUE(version.apply(duplicate).status().is_corruption());
  VersionEdit removal;
  removal.remove_file(0, 3);
  auto removed = version.apply(removal);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ((*removed)->file_count(), 3u);
}

TEST(FileNamesTest, NamesParseBack) {
  uint64_t number = 0;
  FileKind kind;
  ASSERT_TRUE(parse_file_name(log_file_name("/d", 12).substr(3), &number, &kind));
  EXPECT_EQ(number, 12u);
  EXPECT_EQ(kind, FileKind::kLog);
  ASSERT_TRUE(parse_file_name(table_file_name("/d", 1234567).substr(3), &number, &kind));
  EXPECT_EQ(number, 1234567u);
  EXPECT_EQ(kind, FileKind::kTable);
  ASSERT_TRUE(parse_file_name(manifest_file_name("/d", 5).substr(3), &number, &kind));
  EXPECT_EQ(kind, FileKind::kManifest);
  ASSERT_TRUE(parse_file_name("CURRENT", &number, &kind));
  EXPECT_EQ(kind, FileKind::kCurrent);
  ASSERT_TRUE(parse_file_name("000009.tmp", &number, &kind));
  EXPECT_EQ(kind, FileKind::kTemp);
  for (const char* name : {"", "x.log", "12.txt", "MANIFEST-", "MANIFEST-1x", ".sst",
                           "99999999999999999999.log", "LOCKED"}) {
    EXPECT_FALSE(parse_file_name(name, &number, &kind)) << name;
  }
}

}  // namespace
}  // namespace cairn
