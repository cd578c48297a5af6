// Proves streaming is bounded by the chunk size, not the value size: a 256 MiB value goes
// through the writer and back out of a streaming reader with peak RSS growth under 16 MiB.
// Neither side's file holds the value: the reader's file generates the expected blob file on
// demand, and the writer's file compares each appended byte with it and keeps nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "common/coding.h"
#include "storage/blob_file_reader.h"
#include "storage/blob_file_writer.h"
#include "storage/blob_format.h"
#include "support/process_memory.h"

namespace cairn {
namespace {

using test::proc_status_bytes;
using test::reset_peak_rss;

constexpr uint64_t kFileNumber = 7;
constexpr char kKey[] = "big:value";
constexpr uint64_t kValueBytes = uint64_t{256} << 20;
constexpr uint64_t kRssGrowthBytesMax = uint64_t{16} << 20;

// The value's bytes [offset, offset + n): each aligned 8-byte word is a multiplicative hash of
// its index, so the bytes differ in every chunk and cost one multiply per 8 of them.
uint64_t value_word(uint64_t word_index) { return (word_index + 1) * 0x9E3779B97F4A7C15ull; }

void generate_value(uint64_t offset, char* destination, size_t n) {
  const auto byte_at = [](uint64_t position) {
    return static_cast<char>(value_word(position / 8) >> (8 * (position % 8)));
  };
  size_t done = 0;
  for (; done < n && (offset + done) % 8 != 0; done++) destination[done] = byte_at(offset + done);
  static_assert(std::endian::native == std::endian::little, "byte_at reads words little-endian");
  for (; done + 8 <= n; done += 8) {
    const uint64_t word = value_word((offset + done) / 8);
    std::memcpy(destination + done, &word, sizeof(word));
  }
  for (; done < n; done++) destination[done] = byte_at(offset + done);
}

// The blob file holding one record of kKey and the generated value, produced on demand from
// the format's encoders, one chunk at a time: never held in memory.
class GeneratedBlobFile final : public RandomAccessFile {
 public:
  GeneratedBlobFile(uint64_t value_size_bytes, uint32_t chunk_bytes) {
    prefix_.resize(kBlobFileHeaderBytes + kBlobRecordHeaderBytes);
    encode_blob_file_header(kFileNumber, prefix_.data());
    const BlobRecordHeader header{static_cast<uint32_t>(std::strlen(kKey)), value_size_bytes,
                                  chunk_bytes};
    const uint32_t header_checksum = encode_blob_record_header(
        header, kFileNumber, kBlobFileHeaderBytes, prefix_.data() + kBlobFileHeaderBytes);
    prefix_.append(kKey);
    put_fixed32(&prefix_, blob_key_checksum(kKey, header_checksum));
    layout_ = blob_record_layout(kBlobFileHeaderBytes, header, header_checksum);
  }

  uint64_t size_bytes() const { return layout_.end_offset(); }

  BlobReference reference() const {
    return {kFileNumber, layout_.record_offset, layout_.value_size_bytes, layout_.key_size_bytes,
            layout_.header_checksum};
  }

  Status read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t copied = 0;
    while (copied < n && offset + copied < size_bytes()) {
      const uint64_t position = offset + copied;
      std::string_view source;
      if (position < prefix_.size()) {
        source = std::string_view(prefix_).substr(position);
      } else {
        const uint64_t stride = uint64_t{layout_.chunk_bytes} + kBlobChecksumBytes;
        const uint64_t index = (position - layout_.value_offset()) / stride;
        load_chunk(index);
        source = std::string_view(chunk_).substr(position - layout_.chunk_offset(index));
      }
      const size_t take = std::min(n - copied, source.size());
      std::memcpy(scratch + copied, source.data(), take);
      copied += take;
    }
    *result = std::string_view(scratch, copied);
    return Status::ok();
  }

 private:
  // Makes chunk_ hold chunk `index` and its checksum. REQUIRES: mutex_ held.
  void load_chunk(uint64_t index) const {
    if (index == chunk_index_) return;
    const uint32_t value_bytes = layout_.chunk_value_bytes(index);
    chunk_.resize(value_bytes);
    generate_value(index * layout_.chunk_bytes, chunk_.data(), value_bytes);
    put_fixed32(&chunk_, blob_chunk_checksum(chunk_, layout_.header_checksum, index));
    chunk_index_ = index;
  }

  std::string prefix_;  // file header, record header, key, key checksum
  BlobRecordLayout layout_;
  mutable std::mutex mutex_;
  mutable std::string chunk_;
  mutable uint64_t chunk_index_ = UINT64_MAX;
};

// Compares every appended byte with the generated file's and keeps none of them.
class CheckingWritableFile final : public WritableFile {
 public:
  explicit CheckingWritableFile(const GeneratedBlobFile* expected) : expected_(expected) {}

  Status append(std::string_view data) override {
    scratch_.resize(data.size());
    std::string_view expected;
    EXPECT_TRUE(expected_->read(size_bytes_, data.size(), &expected, scratch_.data()).is_ok());
    if (expected != data) mismatched_appends_++;
    size_bytes_ += data.size();
    return Status::ok();
  }
  Status flush() override { return Status::ok(); }
  Status sync() override { return Status::ok(); }
  Status close() override { return Status::ok(); }

  uint64_t size_bytes() const { return size_bytes_; }
  int mismatched_appends() const { return mismatched_appends_; }

 private:
  const GeneratedBlobFile* const expected_;
  std::string scratch_;
  uint64_t size_bytes_ = 0;
  int mismatched_appends_ = 0;
};

// Proves a 256 MiB value streams through writer and reader with peak RSS growth under 16 MiB.
TEST(BlobMemoryTest, StreamingA256MiBValueKeepsMemoryBounded) {
  const bool reset = reset_peak_rss();
  const uint64_t baseline_bytes = reset ? proc_status_bytes("VmRSS") : proc_status_bytes("VmHWM");
  ASSERT_GT(baseline_bytes, 0u);

  const auto generated = std::make_unique<GeneratedBlobFile>(kValueBytes, kBlobChunkBytesDefault);
  const uint64_t file_size_bytes = generated->size_bytes();
  CheckingWritableFile checking(generated.get());
  BlobFileWriter writer(&checking, kFileNumber);
  ASSERT_TRUE(writer.begin(kKey, kValueBytes).is_ok());
  // Pieces of an odd size, so that they straddle chunk boundaries.
  std::string piece(200 * 1024 + 17, '\0');
  for (uint64_t offset = 0; offset < kValueBytes;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(piece.size(), kValueBytes - offset));
    generate_value(offset, piece.data(), n);
    ASSERT_TRUE(writer.append(std::string_view(piece.data(), n)).is_ok());
    offset += n;
  }
  const Result<BlobReference> written = writer.finish();
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  EXPECT_EQ(*written, generated->reference());
  EXPECT_EQ(checking.size_bytes(), file_size_bytes);
  EXPECT_EQ(checking.mismatched_appends(), 0);

  Result<std::shared_ptr<BlobFileReader>> reader =
      BlobFileReader::open(std::make_unique<GeneratedBlobFile>(kValueBytes, kBlobChunkBytesDefault),
                           file_size_bytes, "generated.blob");
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  Result<std::unique_ptr<BlobValueReader>> value_reader = (*reader)->open_value(*written);
  ASSERT_TRUE(value_reader.is_ok()) << value_reader.status().to_string();
  std::string buffer(100 * 1000, '\0');
  std::string expected(buffer.size(), '\0');
  uint64_t read_bytes = 0;
  int mismatched_reads = 0;
  while (true) {
    const Result<size_t> read = (*value_reader)->read(buffer.data(), buffer.size());
    ASSERT_TRUE(read.is_ok()) << read.status().to_string();
    if (*read == 0) break;
    generate_value(read_bytes, expected.data(), *read);
    if (std::memcmp(buffer.data(), expected.data(), *read) != 0) mismatched_reads++;
    read_bytes += *read;
  }
  EXPECT_EQ(read_bytes, kValueBytes);
  EXPECT_EQ(mismatched_reads, 0);

  const uint64_t peak_bytes = proc_status_bytes("VmHWM");
  const uint64_t growth_bytes = peak_bytes > baseline_bytes ? peak_bytes - baseline_bytes : 0;
  std::printf("peak RSS growth %llu KiB (%s) for a %llu MiB value\n",
              static_cast<unsigned long long>(growth_bytes >> 10),
              reset ? "VmHWM reset through clear_refs" : "against the previous VmHWM",
              static_cast<unsigned long long>(kValueBytes >> 20));
  EXPECT_LT(growth_bytes, kRssGrowthBytesMax);
}

}  // namespace
}  // namespace cairn
