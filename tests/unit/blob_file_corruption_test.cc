// Proves the blob file reader never returns damaged data: a flipped byte anywhere in a record is
// Corruption from read_value and from a streaming reader before any byte of the damaged chunk;
// a reference that does not match its record is Corruption; a damaged file header is refused;
// iteration stops with Corruption at damage but ends quietly at a zero-filled tail.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/blob_file_reader.h"
#include "storage/blob_file_writer.h"
#include "storage/blob_format.h"
#include "support/string_file.h"

namespace cairn {
namespace {

constexpr char kFileName[] = "db/000042.blob";
constexpr uint64_t kFileNumber = 42;
constexpr uint32_t kChunkBytes = kBlobChunkBytesMin;

// The value, or a description of the error (so a failed read fails the comparison, not the run).
std::string value_or_error(const Result<std::string>& value) {
  return value.is_ok() ? *value : "<error: " + value.status().to_string() + ">";
}

std::string random_bytes(std::mt19937_64& random, size_t size) {
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

Result<std::shared_ptr<BlobFileReader>> open_reader(const std::string& contents) {
  return BlobFileReader::open(std::make_unique<test::StringRandomAccessFile>(contents),
                              contents.size(), kFileName);
}

struct Record {
  std::string key;
  std::string value;
  BlobReference reference;
};

// A file of records with the given value sizes, chunked at kChunkBytes.
struct TestFile {
  std::string contents;
  std::vector<Record> records;

  // The record's layout, from the writer's reference and the known chunk size.
  BlobRecordLayout layout(size_t index) const {
    const BlobReference& reference = records[index].reference;
    return blob_record_layout(reference.record_offset,
                              {reference.key_size_bytes, reference.value_size_bytes, kChunkBytes},
                              reference.header_checksum);
  }
};

TestFile make_file(const std::vector<uint64_t>& value_sizes, uint64_t seed) {
  std::mt19937_64 random(seed);
  TestFile file;
  test::StringWritableFile writable(&file.contents);
  BlobFileWriter writer(&writable, kFileNumber, kChunkBytes);
  for (const uint64_t value_size : value_sizes) {
    Record record;
    record.key = "key" + std::to_string(file.records.size());
    record.value = random_bytes(random, value_size);
    Result<BlobReference> reference = writer.add(record.key, record.value);
    EXPECT_TRUE(reference.is_ok());
    record.reference = *reference;
    file.records.push_back(std::move(record));
  }
  return file;
}

bool names_record(const Status& status, uint64_t record_offset) {
  const std::string_view message = status.message();
  return message.find(kFileName) != std::string_view::npos &&
         message.find("offset " + std::to_string(record_offset)) != std::string_view::npos;
}

// Proves a flipped byte anywhere in a record makes read_value Corruption naming file and offset.
TEST(BlobCorruptionTest, FlippedByteAnywhereInARecordIsCorruptionFromReadValue) {
  const TestFile file = make_file({100, 3 * kChunkBytes + 10, 50}, 1);
  const Record& target = file.records[1];
  const BlobRecordLayout layout = file.layout(1);
  for (uint64_t position = layout.record_offset; position < layout.end_offset(); position++) {
    for (const int mask : {0x01, 0x80}) {
      SCOPED_TRACE("byte " + std::to_string(position) + " mask " + std::to_string(mask));
      std::string damaged = file.contents;
      damaged[position] = static_cast<char>(damaged[position] ^ mask);
      const auto reader = open_reader(damaged);
      ASSERT_TRUE(reader.is_ok());
      const Result<std::string> value = (*reader)->read_value(target.reference);
      ASSERT_FALSE(value.is_ok());
      EXPECT_TRUE(value.status().is_corruption()) << value.status().to_string();
      EXPECT_TRUE(names_record(value.status(), layout.record_offset)) << value.status().to_string();
      EXPECT_EQ(value_or_error((*reader)->read_value(file.records[0].reference)),
                file.records[0].value);
      EXPECT_EQ(value_or_error((*reader)->read_value(file.records[2].reference)),
                file.records[2].value);
    }
  }
}

// Proves a streaming reader returns only good bytes before a damaged chunk, then Corruption.
TEST(BlobCorruptionTest, StreamingReaderNeverReturnsBytesOfADamagedChunk) {
  const TestFile file = make_file({3 * kChunkBytes + 10}, 2);
  const Record& target = file.records[0];
  const BlobRecordLayout layout = file.layout(0);
  std::mt19937_64 random(3);
  for (uint64_t position = layout.record_offset; position < layout.end_offset(); position++) {
    SCOPED_TRACE("byte " + std::to_string(position));
    std::string damaged = file.contents;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x20);
    const auto reader = open_reader(damaged);
    ASSERT_TRUE(reader.is_ok());
    Result<std::unique_ptr<BlobValueReader>> value_reader = (*reader)->open_value(target.reference);
    if (position < layout.value_offset()) {
      ASSERT_FALSE(value_reader.is_ok());
      EXPECT_TRUE(value_reader.status().is_corruption());
      continue;
    }
    ASSERT_TRUE(value_reader.is_ok()) << value_reader.status().to_string();
    const uint64_t damaged_chunk = (position - layout.value_offset()) / (kChunkBytes + 4);
    std::string returned;
    Status failure;
    char buffer[16];
    while (true) {
      const Result<size_t> read = (*value_reader)->read(buffer, 1 + random() % sizeof(buffer));
      if (!read.is_ok()) {
        failure = read.status();
        break;
      }
      ASSERT_NE(*read, 0u) << "the damaged value was read to its end";
      returned.append(buffer, *read);
    }
    EXPECT_TRUE(failure.is_corruption()) << failure.to_string();
    EXPECT_TRUE(names_record(failure, layout.record_offset));
    EXPECT_EQ(returned.size(), damaged_chunk * kChunkBytes);
    EXPECT_EQ(returned, target.value.substr(0, returned.size()));
    const Result<size_t> again = (*value_reader)->read(buffer, 1);
    EXPECT_TRUE(again.status().is_corruption());

    Result<std::unique_ptr<BlobValueReader>> range =
        (*reader)->open_value_range(target.reference, damaged_chunk * kChunkBytes + 1, 1);
    ASSERT_TRUE(range.is_ok());
    EXPECT_TRUE((*range)->read(buffer, 1).status().is_corruption());
  }
}

// Proves a reference with a wrong file, offset, size or checksum is Corruption, never data.
TEST(BlobCorruptionTest, ReferenceThatDoesNotMatchItsRecordIsCorruption) {
  const TestFile file = make_file({100, 200, 100}, 4);
  const auto reader = open_reader(file.contents);
  ASSERT_TRUE(reader.is_ok());
  const BlobReference good = file.records[1].reference;
  std::vector<BlobReference> wrong;
  const auto with = [&](auto change) {
    BlobReference reference = good;
    change(reference);
    wrong.push_back(reference);
  };
  with([](BlobReference& r) { r.file_number++; });
  with([](BlobReference& r) { r.record_offset++; });
  with([](BlobReference& r) { r.record_offset--; });
  with([&](BlobReference& r) { r.record_offset = file.layout(1).value_offset() + 8; });
  // Record 2 is real and has the same key size but another value size; then its own sizes
  // with record 1's header checksum.
  with([&](BlobReference& r) { r.record_offset = file.records[2].reference.record_offset; });
  with([&](BlobReference& r) {
    r = file.records[2].reference;
    r.header_checksum = good.header_checksum;
  });
  with([&](BlobReference& r) { r.record_offset = file.contents.size(); });
  with([&](BlobReference& r) { r.record_offset = file.contents.size() + 1000; });
  with([](BlobReference& r) { r.record_offset = 0; });
  with([](BlobReference& r) { r.record_offset = UINT64_MAX; });
  with([](BlobReference& r) { r.key_size_bytes++; });
  with([](BlobReference& r) { r.key_size_bytes--; });
  with([](BlobReference& r) { r.key_size_bytes = UINT32_MAX; });
  with([](BlobReference& r) { r.value_size_bytes++; });
  with([](BlobReference& r) { r.value_size_bytes--; });
  with([](BlobReference& r) { r.value_size_bytes = UINT64_MAX; });
  with([](BlobReference& r) { r.header_checksum ^= 1; });
  for (size_t i = 0; i < wrong.size(); i++) {
    SCOPED_TRACE("case " + std::to_string(i));
    EXPECT_TRUE((*reader)->read_value(wrong[i]).status().is_corruption());
    EXPECT_TRUE((*reader)->open_value(wrong[i]).status().is_corruption());
    EXPECT_TRUE((*reader)->open_value_range(wrong[i], 0, 0).status().is_corruption());
  }
  EXPECT_TRUE((*reader)->read_value(good).is_ok());
}

// Proves a header verifies only at its own offset, even when a value embeds a copy of it.
TEST(BlobCorruptionTest, ReferenceIntoAValueHoldingACopiedRecordIsCorruption) {
  std::string inner;
  test::StringWritableFile inner_file(&inner);
  BlobFileWriter inner_writer(&inner_file, kFileNumber);
  const Result<BlobReference> inner_reference = inner_writer.add("key", "embedded value");
  ASSERT_TRUE(inner_reference.is_ok());
  const std::string inner_record = inner.substr(inner_reference->record_offset);

  std::string outer;
  test::StringWritableFile outer_file(&outer);
  BlobFileWriter outer_writer(&outer_file, kFileNumber);
  const Result<BlobReference> outer_reference = outer_writer.add("k", "pad" + inner_record);
  ASSERT_TRUE(outer_reference.is_ok());
  const uint64_t embedded_offset = outer.find(inner_record);
  ASSERT_NE(embedded_offset, std::string::npos);

  const auto reader = open_reader(outer);
  ASSERT_TRUE(reader.is_ok());
  BlobReference misdirected = *inner_reference;
  misdirected.record_offset = embedded_offset;
  EXPECT_TRUE((*reader)->read_value(misdirected).status().is_corruption());
  EXPECT_TRUE((*reader)->read_value(*outer_reference).is_ok());
}

// Proves a file shorter than the size it was opened with is Corruption, not a quiet end.
TEST(BlobCorruptionTest, FileShorterThanItsStatedSizeIsCorruption) {
  const TestFile file = make_file({100, 100}, 5);
  const auto reader =
      BlobFileReader::open(std::make_unique<test::StringRandomAccessFile>(file.contents),
                           file.contents.size() + 100, kFileName);
  ASSERT_TRUE(reader.is_ok());
  EXPECT_TRUE((*reader)->read_value(file.records[1].reference).is_ok());
  const auto iterator = (*reader)->new_record_iterator();
  for (int i = 0; i < 2; i++) {
    const Result<bool> next = iterator->next();
    ASSERT_TRUE(next.is_ok() && *next);
  }
  EXPECT_TRUE(iterator->next().status().is_corruption());
}

// Proves a reference to a record the file was cut inside of is Corruption.
TEST(BlobCorruptionTest, ReferenceIntoACutFileIsCorruption) {
  const TestFile file = make_file({100, 3 * kChunkBytes}, 6);
  const BlobRecordLayout layout = file.layout(1);
  for (uint64_t cut = layout.record_offset; cut < layout.end_offset(); cut += 7) {
    const auto reader = open_reader(file.contents.substr(0, cut));
    ASSERT_TRUE(reader.is_ok());
    EXPECT_TRUE((*reader)->read_value(file.records[1].reference).status().is_corruption()) << cut;
    EXPECT_TRUE((*reader)->read_value(file.records[0].reference).is_ok());
  }
}

// Proves open refuses a file header that is short or has any flipped byte, naming the file.
TEST(BlobCorruptionTest, OpenRefusesADamagedFileHeader) {
  const TestFile file = make_file({10}, 7);
  for (size_t length = 0; length < kBlobFileHeaderBytes; length++) {
    const auto reader = open_reader(file.contents.substr(0, length));
    EXPECT_TRUE(reader.status().is_corruption()) << length;
  }
  for (size_t position = 0; position < kBlobFileHeaderBytes; position++) {
    std::string damaged = file.contents;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x04);
    const auto reader = open_reader(damaged);
    ASSERT_FALSE(reader.is_ok()) << position;
    EXPECT_TRUE(reader.status().is_corruption()) << reader.status().to_string();
    EXPECT_NE(reader.status().message().find(kFileName), std::string_view::npos);
  }
}

// Counts the records an iterator returns and reports how it stopped.
struct IterationOutcome {
  size_t records = 0;
  Status status;
  bool torn_tail = false;
  uint64_t valid_bytes = 0;
};

IterationOutcome iterate(const std::string& contents) {
  IterationOutcome outcome;
  const auto reader = open_reader(contents);
  EXPECT_TRUE(reader.is_ok());
  if (!reader.is_ok()) return outcome;
  const auto iterator = (*reader)->new_record_iterator();
  while (true) {
    const Result<bool> next = iterator->next();
    if (!next.is_ok()) {
      outcome.status = next.status();
      EXPECT_EQ(iterator->next().status().to_string(), outcome.status.to_string());
      break;
    }
    if (!*next) break;
    outcome.records++;
  }
  outcome.torn_tail = iterator->torn_tail();
  outcome.valid_bytes = iterator->valid_bytes();
  return outcome;
}

// Proves a flipped byte in any record, the last included, stops iteration with Corruption.
TEST(BlobCorruptionTest, DamagedRecordStopsIterationWithCorruption) {
  const TestFile file = make_file({30, 2 * kChunkBytes + 3, 0, kChunkBytes + 1}, 8);
  for (size_t index : {size_t{1}, size_t{2}, size_t{3}}) {
    const BlobRecordLayout layout = file.layout(index);
    for (uint64_t position = layout.record_offset; position < layout.end_offset(); position++) {
      SCOPED_TRACE("record " + std::to_string(index) + " byte " + std::to_string(position));
      std::string damaged = file.contents;
      damaged[position] = static_cast<char>(damaged[position] ^ 0x08);
      const IterationOutcome outcome = iterate(damaged);
      EXPECT_EQ(outcome.records, index);
      EXPECT_TRUE(outcome.status.is_corruption()) << outcome.status.to_string();
      EXPECT_TRUE(names_record(outcome.status, layout.record_offset));
      EXPECT_EQ(outcome.valid_bytes, layout.record_offset);
    }
  }
}

// Proves a zero-filled tail ends iteration quietly unless the zeros start inside a checksum.
TEST(BlobCorruptionTest, ZeroFilledTailEndsQuietly) {
  const TestFile file = make_file({50, 2 * kChunkBytes + 3}, 9);
  const BlobRecordLayout layout = file.layout(1);
  std::vector<uint64_t> checksum_offsets = {layout.record_offset + kBlobRecordHeaderFieldsBytes,
                                            layout.key_checksum_offset()};
  for (uint64_t index = 0; index < layout.chunk_count; index++) {
    checksum_offsets.push_back(layout.chunk_offset(index) + layout.chunk_value_bytes(index));
  }
  const auto inside_checksum = [&](uint64_t position) {
    for (const uint64_t offset : checksum_offsets) {
      if (position > offset && position < offset + 4) return true;
    }
    return false;
  };
  for (uint64_t start = layout.record_offset; start < layout.end_offset(); start++) {
    SCOPED_TRACE("zeros from " + std::to_string(start));
    std::string zeroed = file.contents.substr(0, start) + std::string(8192, '\0');
    const IterationOutcome outcome = iterate(zeroed);
    EXPECT_EQ(outcome.records, 1u);
    if (inside_checksum(start)) {
      EXPECT_TRUE(outcome.status.is_corruption());
    } else {
      EXPECT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
      EXPECT_TRUE(outcome.torn_tail);
    }
    EXPECT_EQ(outcome.valid_bytes, layout.record_offset);
  }
  for (const size_t zeros : {size_t{1}, size_t{19}, size_t{20}, size_t{5000}}) {
    const IterationOutcome outcome = iterate(file.contents + std::string(zeros, '\0'));
    EXPECT_EQ(outcome.records, 2u);
    EXPECT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
    EXPECT_TRUE(outcome.torn_tail);
    EXPECT_EQ(outcome.valid_bytes, file.contents.size());
  }
}

// Proves garbage after the last record that is not zeros is Corruption, not a torn tail.
TEST(BlobCorruptionTest, GarbageAfterTheLastRecordIsCorruption) {
  const TestFile file = make_file({50}, 10);
  std::mt19937_64 random(11);
  const IterationOutcome outcome = iterate(file.contents + random_bytes(random, 100));
  EXPECT_EQ(outcome.records, 1u);
  EXPECT_TRUE(outcome.status.is_corruption()) << outcome.status.to_string();
}

}  // namespace
}  // namespace cairn
