// Proves the blob file writer and reader agree: values of every size round-trip whole, streamed
// in and streamed out in pieces of any size, and by byte range; the writer enforces the size it
// was promised and its limits; iteration returns every record in order and treats a file cut
// short as a quiet end; concurrent readers see their own values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/blob_file_reader.h"
#include "storage/blob_file_writer.h"
#include "storage/blob_format.h"
#include "support/string_file.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr char kFileName[] = "db/000042.blob";
constexpr uint64_t kFileNumber = 42;
// A chunk size small enough that tests cross many chunk boundaries with small values.
constexpr uint32_t kSmallChunkBytes = kBlobChunkBytesMin;

// The value, or a description of the error (so a failed read fails the comparison, not the run).
std::string value_or_error(const Result<std::string>& value) {
  return value.is_ok() ? *value : "<error: " + value.status().to_string() + ">";
}

std::string random_bytes(std::mt19937_64& random, size_t size) {
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

uint64_t uniform(std::mt19937_64& random, uint64_t low, uint64_t high) {
  return low + random() % (high - low + 1);
}

std::shared_ptr<BlobFileReader> open_reader(const std::string& contents) {
  Result<std::shared_ptr<BlobFileReader>> reader = BlobFileReader::open(
      std::make_unique<test::StringRandomAccessFile>(contents), contents.size(), kFileName);
  EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
  return reader.is_ok() ? *reader : nullptr;
}

// Reads the whole of `value_reader` with buffers of random sizes in [1, buffer_bytes_max].
std::string read_all(BlobValueReader* value_reader, std::mt19937_64& random,
                     size_t buffer_bytes_max) {
  std::string out;
  std::string buffer(buffer_bytes_max, '\0');
  while (true) {
    const size_t n = static_cast<size_t>(uniform(random, 1, buffer_bytes_max));
    const Result<size_t> read = value_reader->read(buffer.data(), n);
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    if (!read.is_ok() || *read == 0) break;
    EXPECT_LE(*read, n);
    out.append(buffer.data(), *read);
  }
  EXPECT_EQ(value_reader->remaining_bytes(), 0u);
  return out;
}

std::string stream_value(const BlobFileReader& reader, const BlobReference& reference,
                         std::mt19937_64& random, size_t buffer_bytes_max) {
  Result<std::unique_ptr<BlobValueReader>> value_reader = reader.open_value(reference);
  EXPECT_TRUE(value_reader.is_ok()) << value_reader.status().to_string();
  if (!value_reader.is_ok()) return "<error>";
  return read_all(value_reader->get(), random, buffer_bytes_max);
}

struct Record {
  std::string key;
  std::string value;
  BlobReference reference;
};

// Writes records of the given value sizes with random keys and values.
std::string write_records(std::vector<Record>* records, const std::vector<uint64_t>& value_sizes,
                          uint32_t chunk_bytes, std::mt19937_64& random) {
  std::string contents;
  test::StringWritableFile file(&contents);
  BlobFileWriter writer(&file, kFileNumber, chunk_bytes);
  for (const uint64_t value_size : value_sizes) {
    Record record;
    record.key = "key" + std::to_string(records->size()) + random_bytes(random, random() % 8);
    record.value = random_bytes(random, value_size);
    Result<BlobReference> reference = writer.add(record.key, record.value);
    EXPECT_TRUE(reference.is_ok()) << reference.status().to_string();
    if (!reference.is_ok()) break;
    record.reference = *reference;
    records->push_back(std::move(record));
    EXPECT_EQ(writer.file_size_bytes(), contents.size());
  }
  return contents;
}

// Proves values of 0, 1, chunk-1, chunk, chunk+1 up to several MiB read back whole and streamed.
TEST(BlobFileTest, AddThenReadRoundTripsEdgeSizes) {
  std::mt19937_64 random(1);
  const uint64_t chunk = kBlobChunkBytesDefault;
  std::vector<Record> records;
  const std::string contents = write_records(
      &records, {0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, (5 << 20) + 3, 0, 7}, chunk, random);
  ASSERT_EQ(records.size(), 9u);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->file_number(), kFileNumber);
  for (const Record& record : records) {
    const Result<std::string> value = reader->read_value(record.reference);
    ASSERT_TRUE(value.is_ok()) << value.status().to_string();
    EXPECT_TRUE(*value == record.value) << record.value.size();
    EXPECT_TRUE(stream_value(*reader, record.reference, random, 3 * chunk) == record.value);
  }
}

// Proves begin/append/finish in random pieces writes byte for byte what add writes.
TEST(BlobFileTest, StreamedWriteInRandomPiecesEqualsAdd) {
  for (const uint64_t seed : test::test_seeds(100, 5, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    const uint32_t chunk = static_cast<uint32_t>(uniform(random, kBlobChunkBytesMin, 4096));
    std::string added;
    std::string streamed;
    test::StringWritableFile added_file(&added);
    test::StringWritableFile streamed_file(&streamed);
    BlobFileWriter add_writer(&added_file, kFileNumber, chunk);
    BlobFileWriter stream_writer(&streamed_file, kFileNumber, chunk);
    for (int i = 0; i < 10; i++) {
      const std::string key = random_bytes(random, random() % 20);
      const std::string value = random_bytes(random, random() % (5 * chunk));
      const Result<BlobReference> by_add = add_writer.add(key, value);
      ASSERT_TRUE(by_add.is_ok());

      ASSERT_TRUE(stream_writer.begin(key, value.size()).is_ok());
      EXPECT_TRUE(stream_writer.record_in_progress());
      size_t offset = 0;
      while (offset < value.size()) {
        const size_t piece = std::min<size_t>(value.size() - offset, random() % (3 * chunk));
        ASSERT_TRUE(stream_writer.append(std::string_view(value).substr(offset, piece)).is_ok());
        offset += piece;
      }
      const Result<BlobReference> by_stream = stream_writer.finish();
      ASSERT_TRUE(by_stream.is_ok()) << by_stream.status().to_string();
      EXPECT_FALSE(stream_writer.record_in_progress());
      EXPECT_EQ(*by_stream, *by_add);
    }
    EXPECT_TRUE(streamed == added);
    EXPECT_EQ(stream_writer.file_size_bytes(), add_writer.file_size_bytes());
  }
}

// Proves streaming reads with random buffer sizes return the value, never more than asked.
TEST(BlobFileTest, StreamingReadInRandomBufferSizesReturnsTheValue) {
  for (const uint64_t seed : test::test_seeds(200, 5, 100)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    const uint32_t chunk = static_cast<uint32_t>(uniform(random, kBlobChunkBytesMin, 2048));
    std::vector<uint64_t> sizes;
    for (int i = 0; i < 8; i++) sizes.push_back(random() % (6 * chunk));
    std::vector<Record> records;
    const std::string contents = write_records(&records, sizes, chunk, random);
    const auto reader = open_reader(contents);
    ASSERT_NE(reader, nullptr);
    for (const Record& record : records) {
      Result<std::unique_ptr<BlobValueReader>> value_reader = reader->open_value(record.reference);
      ASSERT_TRUE(value_reader.is_ok());
      EXPECT_EQ((*value_reader)->value_size_bytes(), record.value.size());
      EXPECT_TRUE(read_all(value_reader->get(), random, 3 * chunk) == record.value);
      char byte = 0;
      const Result<size_t> again = (*value_reader)->read(&byte, 1);
      ASSERT_TRUE(again.is_ok());
      EXPECT_EQ(*again, 0u);
    }
  }
}

// Proves range reads on and around chunk boundaries return exactly the bytes of the range.
TEST(BlobFileTest, RangeReadsAtChunkBoundariesReturnTheRange) {
  std::mt19937_64 random(3);
  const uint64_t chunk = kSmallChunkBytes;
  const uint64_t size = 5 * chunk + 17;
  std::vector<Record> records;
  const std::string contents =
      write_records(&records, {size}, static_cast<uint32_t>(chunk), random);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  const Record& record = records[0];
  const std::vector<uint64_t> offsets = {0,         1,         chunk - 1, chunk, chunk + 1,
                                         2 * chunk, 5 * chunk, size - 1,  size};
  for (const uint64_t offset : offsets) {
    std::vector<uint64_t> lengths = {0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, size - offset};
    for (const uint64_t length : lengths) {
      if (length > size - offset) continue;
      SCOPED_TRACE("offset " + std::to_string(offset) + " length " + std::to_string(length));
      Result<std::unique_ptr<BlobValueReader>> range =
          reader->open_value_range(record.reference, offset, length);
      ASSERT_TRUE(range.is_ok()) << range.status().to_string();
      EXPECT_EQ((*range)->position(), offset);
      EXPECT_EQ((*range)->range_end(), offset + length);
      EXPECT_TRUE(read_all(range->get(), random, 2 * chunk) == record.value.substr(offset, length));
    }
  }
}

// Proves a range of a large value with the default chunk size starts at the right chunk.
TEST(BlobFileTest, RangeReadOfALargeValueSeeksToItsChunk) {
  std::mt19937_64 random(4);
  const uint64_t chunk = kBlobChunkBytesDefault;
  std::vector<Record> records;
  const std::string contents = write_records(&records, {20 * chunk + 5}, chunk, random);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  for (const uint64_t offset : {uint64_t{0}, 13 * chunk - 1, 13 * chunk, 20 * chunk}) {
    Result<std::unique_ptr<BlobValueReader>> range =
        reader->open_value_range(records[0].reference, offset, 5);
    ASSERT_TRUE(range.is_ok());
    EXPECT_EQ(read_all(range->get(), random, 3), records[0].value.substr(offset, 5));
  }
}

// Proves a range that does not lie within the value is InvalidArgument.
TEST(BlobFileTest, RangeOutsideTheValueIsInvalidArgument) {
  std::mt19937_64 random(5);
  std::vector<Record> records;
  const std::string contents = write_records(&records, {100}, kSmallChunkBytes, random);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  const BlobReference& reference = records[0].reference;
  EXPECT_TRUE(reader->open_value_range(reference, 101, 0).status().is_invalid_argument());
  EXPECT_TRUE(reader->open_value_range(reference, 100, 1).status().is_invalid_argument());
  EXPECT_TRUE(reader->open_value_range(reference, 50, 51).status().is_invalid_argument());
  EXPECT_TRUE(reader->open_value_range(reference, 1, UINT64_MAX).status().is_invalid_argument());
  EXPECT_TRUE(reader->open_value_range(reference, 100, 0).is_ok());
}

// Proves a short streamed record is InvalidArgument, closes the writer, reads as a torn tail.
TEST(BlobFileTest, FinishWithFewerBytesThanAnnouncedIsInvalidArgument) {
  for (const uint64_t appended :
       {uint64_t{0}, uint64_t{1}, uint64_t{63}, uint64_t{64}, uint64_t{199}}) {
    SCOPED_TRACE("appended " + std::to_string(appended));
    std::string contents;
    test::StringWritableFile file(&contents);
    BlobFileWriter writer(&file, kFileNumber, kSmallChunkBytes);
    const Result<BlobReference> first = writer.add("first", "value");
    ASSERT_TRUE(first.is_ok());

    ASSERT_TRUE(writer.begin("second", 200).is_ok());
    ASSERT_TRUE(writer.append(std::string(appended, 'x')).is_ok());
    const Result<BlobReference> finished = writer.finish();
    EXPECT_TRUE(finished.status().is_invalid_argument()) << finished.status().to_string();
    EXPECT_FALSE(writer.record_in_progress());
    EXPECT_TRUE(writer.add("third", "value").status().is_invalid_argument());
    EXPECT_TRUE(writer.begin("third", 1).is_invalid_argument());

    const auto reader = open_reader(contents);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(value_or_error(reader->read_value(*first)), "value");
    const auto iterator = reader->new_record_iterator();
    Result<bool> next = iterator->next();
    ASSERT_TRUE(next.is_ok() && *next);
    EXPECT_EQ(iterator->key(), "first");
    next = iterator->next();
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    EXPECT_FALSE(*next);
    EXPECT_TRUE(iterator->torn_tail());
    EXPECT_EQ(iterator->valid_bytes(),
              first->record_offset + kBlobRecordHeaderBytes + 5 + 4 + 5 + 4);
  }
}

// Proves appending past the announced size is InvalidArgument at append and finish.
TEST(BlobFileTest, AppendingMoreThanAnnouncedIsInvalidArgument) {
  for (const bool exact_first : {false, true}) {
    std::string contents;
    test::StringWritableFile file(&contents);
    BlobFileWriter writer(&file, kFileNumber, kSmallChunkBytes);
    ASSERT_TRUE(writer.begin("key", 100).is_ok());
    if (exact_first) {
      ASSERT_TRUE(writer.append(std::string(100, 'a')).is_ok());
    }
    const uint64_t size_before = writer.file_size_bytes();
    EXPECT_TRUE(writer.append(std::string(exact_first ? 1 : 101, 'b')).is_invalid_argument());
    EXPECT_EQ(writer.file_size_bytes(), size_before);
    EXPECT_EQ(contents.size(), size_before);
    EXPECT_TRUE(writer.finish().status().is_invalid_argument());
    EXPECT_TRUE(writer.add("other", "v").status().is_invalid_argument());
  }
}

// Proves oversized keys and values are InvalidArgument, nothing written, the writer usable.
TEST(BlobFileTest, OversizedKeyOrValueIsRefusedAndTheWriterStaysUsable) {
  std::string contents;
  test::StringWritableFile file(&contents);
  BlobFileWriter writer(&file, kFileNumber);
  EXPECT_EQ(writer.file_size_bytes(), 0u);
  EXPECT_TRUE(writer.add(std::string(kKeyBytesMax + 1, 'k'), "v").status().is_invalid_argument());
  EXPECT_TRUE(writer.begin("k", kBlobValueBytesMax + 1).is_invalid_argument());
  EXPECT_FALSE(writer.record_in_progress());
  EXPECT_EQ(writer.file_size_bytes(), 0u);
  EXPECT_TRUE(contents.empty());

  const Result<BlobReference> reference = writer.add("k", "v");
  ASSERT_TRUE(reference.is_ok());
  EXPECT_EQ(reference->record_offset, kBlobFileHeaderBytes);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(value_or_error(reader->read_value(*reference)), "v");
}

// A file that fails its n-th append (counting from 1) with an IOError, and every one after.
class FailingWritableFile final : public WritableFile {
 public:
  FailingWritableFile(std::string* contents, int fail_at_append)
      : contents_(contents), fail_at_append_(fail_at_append) {}
  Status append(std::string_view data) override {
    if (++appends_ >= fail_at_append_) return Status::io_error("injected append failure");
    contents_->append(data);
    return Status::ok();
  }
  Status flush() override { return Status::ok(); }
  Status sync() override { return Status::ok(); }
  Status close() override { return Status::ok(); }

 private:
  std::string* contents_;
  const int fail_at_append_;
  int appends_ = 0;
};

// Proves a failed append fails every later call alike, and the records before it still read.
TEST(BlobFileTest, WriteErrorsAreSticky) {
  std::mt19937_64 random(6);
  for (int fail_at = 1; fail_at <= 12; fail_at++) {
    SCOPED_TRACE("fail at append " + std::to_string(fail_at));
    std::string contents;
    FailingWritableFile file(&contents, fail_at);
    BlobFileWriter writer(&file, kFileNumber, kSmallChunkBytes);
    std::vector<std::pair<std::string, BlobReference>> written;
    Status failure;
    for (int i = 0; i < 6 && failure.is_ok(); i++) {
      const std::string value = random_bytes(random, 150);
      const Result<BlobReference> reference = writer.add("k" + std::to_string(i), value);
      if (reference.is_ok()) {
        written.emplace_back(value, *reference);
      } else {
        failure = reference.status();
      }
    }
    ASSERT_TRUE(failure.is_io_error()) << failure.to_string();
    EXPECT_EQ(writer.add("later", "v").status().to_string(), failure.to_string());
    EXPECT_EQ(writer.begin("later", 1).to_string(), failure.to_string());
    if (contents.size() < kBlobFileHeaderBytes) continue;
    const auto reader = open_reader(contents);
    ASSERT_NE(reader, nullptr);
    for (const auto& [value, reference] : written)
      EXPECT_EQ(value_or_error(reader->read_value(reference)), value);
    const auto iterator = reader->new_record_iterator();
    size_t count = 0;
    Result<bool> next = iterator->next();
    while (next.is_ok() && *next) {
      count++;
      next = iterator->next();
    }
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    EXPECT_EQ(count, written.size());
  }
}

// Proves iteration returns every record in order with the writer's keys and references.
TEST(BlobFileTest, IterationReturnsEveryRecordInOrder) {
  std::mt19937_64 random(7);
  std::vector<uint64_t> sizes;
  for (int i = 0; i < 300; i++) sizes.push_back(random() % 4 == 0 ? 0 : random() % 300);
  std::vector<Record> records;
  const std::string contents = write_records(&records, sizes, kSmallChunkBytes, random);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  const auto iterator = reader->new_record_iterator();
  EXPECT_EQ(iterator->valid_bytes(), kBlobFileHeaderBytes);
  for (const Record& record : records) {
    const Result<bool> next = iterator->next();
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    ASSERT_TRUE(*next);
    EXPECT_EQ(iterator->key(), record.key);
    EXPECT_EQ(iterator->reference(), record.reference);
    EXPECT_EQ(value_or_error(reader->read_value(iterator->reference())), record.value);
  }
  for (int i = 0; i < 2; i++) {
    const Result<bool> next = iterator->next();
    ASSERT_TRUE(next.is_ok());
    EXPECT_FALSE(*next);
  }
  EXPECT_FALSE(iterator->torn_tail());
  EXPECT_EQ(iterator->valid_bytes(), contents.size());
}

// Proves a file with a header and no records iterates as empty.
TEST(BlobFileTest, IterationOfAnEmptyFileEndsCleanly) {
  char header[kBlobFileHeaderBytes];
  encode_blob_file_header(kFileNumber, header);
  const auto reader = open_reader(std::string(header, sizeof(header)));
  ASSERT_NE(reader, nullptr);
  const auto iterator = reader->new_record_iterator();
  const Result<bool> next = iterator->next();
  ASSERT_TRUE(next.is_ok());
  EXPECT_FALSE(*next);
  EXPECT_FALSE(iterator->torn_tail());
}

// Proves a file cut at any offset of its last record iterates the others, then ends quietly.
TEST(BlobFileTest, FileCutAtEveryOffsetOfItsLastRecordEndsQuietly) {
  std::mt19937_64 random(8);
  std::vector<Record> records;
  const std::string contents =
      write_records(&records, {10, 0, 200, 3 * kSmallChunkBytes + 5}, kSmallChunkBytes, random);
  const uint64_t last_offset = records.back().reference.record_offset;
  for (uint64_t cut = last_offset; cut < contents.size(); cut++) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const auto reader = open_reader(contents.substr(0, cut));
    ASSERT_NE(reader, nullptr);
    const auto iterator = reader->new_record_iterator();
    for (size_t i = 0; i + 1 < records.size(); i++) {
      const Result<bool> next = iterator->next();
      ASSERT_TRUE(next.is_ok() && *next);
      EXPECT_EQ(iterator->reference(), records[i].reference);
    }
    const Result<bool> next = iterator->next();
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    EXPECT_FALSE(*next);
    EXPECT_EQ(iterator->torn_tail(), cut != last_offset);
    EXPECT_EQ(iterator->valid_bytes(), last_offset);
  }
}

// Proves concurrent readers of one BlobFileReader, whole and streaming, each see their values.
TEST(BlobFileTest, ConcurrentReadersSeeTheirValues) {
  std::mt19937_64 random(9);
  std::vector<uint64_t> sizes;
  for (int i = 0; i < 40; i++) sizes.push_back(random() % 5000);
  std::vector<Record> records;
  const std::string contents = write_records(&records, sizes, 512, random);
  const auto reader = open_reader(contents);
  ASSERT_NE(reader, nullptr);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 thread_random(100 + t);
      for (int round = 0; round < 5; round++) {
        for (const Record& record : records) {
          const Result<std::string> value = reader->read_value(record.reference);
          if (!value.is_ok() || *value != record.value) mismatches[t]++;
          Result<std::unique_ptr<BlobValueReader>> value_reader =
              reader->open_value(record.reference);
          if (!value_reader.is_ok()) {
            mismatches[t]++;
            continue;
          }
          std::string streamed;
          char buffer[700];
          while (true) {
            const Result<size_t> read = (*value_reader)->read(buffer, 1 + thread_random() % 700);
            if (!read.is_ok() || *read == 0) break;
            streamed.append(buffer, *read);
          }
          if (streamed != record.value) mismatches[t]++;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// Proves value readers and iterators keep their file reader alive after the caller drops it.
TEST(BlobFileTest, ValueReaderAndIteratorKeepTheFileReaderAlive) {
  std::mt19937_64 random(10);
  std::vector<Record> records;
  const std::string contents = write_records(&records, {300}, kSmallChunkBytes, random);
  std::unique_ptr<BlobValueReader> value_reader;
  std::unique_ptr<BlobRecordIterator> iterator;
  {
    auto reader = open_reader(contents);
    ASSERT_NE(reader, nullptr);
    Result<std::unique_ptr<BlobValueReader>> opened = reader->open_value(records[0].reference);
    ASSERT_TRUE(opened.is_ok());
    value_reader = std::move(*opened);
    iterator = reader->new_record_iterator();
  }
  EXPECT_EQ(read_all(value_reader.get(), random, 100), records[0].value);
  const Result<bool> next = iterator->next();
  ASSERT_TRUE(next.is_ok() && *next);
  EXPECT_EQ(iterator->reference(), records[0].reference);
}

}  // namespace
}  // namespace cairn
