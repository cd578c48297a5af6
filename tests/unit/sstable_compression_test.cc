// Proves block compression: lz4 and zstd blocks round-trip, blocks that do not shrink by 1/8 are
// stored raw, readers follow each block's type whatever their own options say, and a damaged or
// lying compressed block is a Corruption naming the file and offset, refused before any
// allocation of an absurd recorded size.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "storage/block.h"
#include "storage/compression.h"
#include "storage/internal_key.h"
#include "storage/table.h"
#include "storage/table_builder.h"
#include "storage/table_format.h"
#include "support/string_file.h"

namespace cairn {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

const std::string kFileName = "000077.sst";
constexpr CompressionType kCodecs[] = {CompressionType::kLz4, CompressionType::kZstd};

std::string random_bytes(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

// Text-like bytes: a few words over and over, as keys and values often are.
std::string compressible_bytes(size_t size, uint64_t seed) {
  static const char* const kWords[] = {"user:", "session/", "alpha", "beta", "0000", "cart-item"};
  std::mt19937_64 random(seed);
  std::string bytes;
  while (bytes.size() < size) bytes += kWords[random() % 6];
  bytes.resize(size);
  return bytes;
}

bool mentions(const Status& status, std::string_view words) {
  return status.message().find(words) != std::string_view::npos;
}

// `stored` as it sits in a file at `offset`, after a prefix, with a valid trailer for `type`.
std::string file_with_block(std::string_view stored, CompressionType type, BlockHandle* handle) {
  std::string file = "prefix";
  *handle = BlockHandle{file.size(), stored.size()};
  file.append(stored);
  append_block_trailer(&file, stored, type);
  return file;
}

Result<std::string> read_stored(std::string_view stored, CompressionType type) {
  BlockHandle handle;
  const std::string file = file_with_block(stored, type, &handle);
  return read_block(test::StringRandomAccessFile(file), handle, kFileName);
}

// Proves each codec round-trips empty, tiny, text-like, random and large inputs exactly.
TEST(CompressionTest, CodecsRoundTrip) {
  const std::vector<std::string> inputs = {"",
                                           "x",
                                           compressible_bytes(4096, 1),
                                           random_bytes(4096, 2),
                                           std::string(1 << 20, '\0'),
                                           compressible_bytes(3 << 20, 3)};
  for (const CompressionType type : kCodecs) {
    BlockCompressor compressor(3);
    for (const std::string& input : inputs) {
      std::string stored;
      ASSERT_TRUE(compressor.compress(type, input, &stored)) << compression_type_name(type);
      const Result<std::string> output = uncompress_block(type, stored);
      ASSERT_TRUE(output.is_ok()) << output.status().to_string();
      EXPECT_EQ(*output, input);
    }
  }
}

// Proves text-like blocks shrink by far more than 1/8 and random ones do not, so the builder's
// policy keeps the first compressed and stores the second raw.
TEST(CompressionTest, TextShrinksRandomDoesNot) {
  for (const CompressionType type : kCodecs) {
    BlockCompressor compressor(3);
    std::string stored;
    ASSERT_TRUE(compressor.compress(type, compressible_bytes(4096, 4), &stored));
    EXPECT_LT(stored.size(), 4096u / 2);
    const std::string noise = random_bytes(4096, 5);
    if (compressor.compress(type, noise, &stored)) {
      EXPECT_GE(stored.size(), noise.size() - noise.size() / 8);
    }
  }
}

// Proves zstd levels (fast, default, high) all produce what the reader accepts.
TEST(CompressionTest, ZstdLevelsRoundTrip) {
  const std::string input = compressible_bytes(64 << 10, 6);
  for (const int level : {-5, 1, 3, 19}) {
    BlockCompressor compressor(level);
    std::string stored;
    ASSERT_TRUE(compressor.compress(CompressionType::kZstd, input, &stored));
    const auto output = uncompress_block(CompressionType::kZstd, stored);
    ASSERT_TRUE(output.is_ok());
    EXPECT_EQ(*output, input);
  }
}

// Proves the reader's size bound follows each codec's best ratio and never passes the block
// limit, and that a codec's real output for its best case stays inside it.
TEST(CompressionTest, UncompressedBoundFollowsCodecRatio) {
  EXPECT_EQ(uncompressed_bytes_max(CompressionType::kLz4, 10), 2550u);
  EXPECT_EQ(uncompressed_bytes_max(CompressionType::kZstd, 10), 327680u);
  for (const CompressionType type : kCodecs) {
    EXPECT_LE(uncompressed_bytes_max(type, UINT64_MAX), kBlockContentsBytesMax);
    EXPECT_EQ(uncompressed_bytes_max(type, 0), 0u);
  }
}

// Proves recorded sizes that are absurd — past the block limit, past the codec's best ratio, or
// not even a varint — are Corruption naming the file and offset. Allocating any of the first
// three would throw or abort this test, so passing shows nothing of that size was allocated.
TEST(CompressionTest, AbsurdRecordedSizeIsRefusedBeforeAllocating) {
  for (const CompressionType type : kCodecs) {
    BlockCompressor compressor(3);
    std::string stored;
    ASSERT_TRUE(compressor.compress(type, compressible_bytes(1000, 7), &stored));
    std::string_view codec = stored;
    uint64_t recorded = 0;
    ASSERT_TRUE(get_varint64(&codec, &recorded));
    ASSERT_EQ(recorded, 1000u);

    const uint64_t beyond_ratio = uncompressed_bytes_max(type, codec.size()) + 1;
    for (const uint64_t absurd :
         {UINT64_MAX, uint64_t{1} << 62, kBlockContentsBytesMax + 1, beyond_ratio}) {
      std::string lying;
      put_varint64(&lying, absurd);
      lying.append(codec);
      const Result<std::string> direct = uncompress_block(type, lying);
      ASSERT_FALSE(direct.is_ok());
      EXPECT_TRUE(direct.status().is_corruption() && mentions(direct.status(), "absurd"))
          << direct.status().to_string();
      const Result<std::string> read = read_stored(lying, type);
      ASSERT_FALSE(read.is_ok());
      EXPECT_TRUE(read.status().is_corruption() && mentions(read.status(), kFileName) &&
                  mentions(read.status(), "offset 6") && mentions(read.status(), "absurd"))
          << read.status().to_string();
    }
    const std::string not_a_varint(11, '\xff');
    const Result<std::string> malformed = read_stored(not_a_varint, type);
    EXPECT_TRUE(malformed.status().is_corruption() && mentions(malformed.status(), "size"));
  }
}

// Proves a recorded size one off from what the codec produces is Corruption, never a short or
// padded block: the codec's own view of the size is not trusted.
TEST(CompressionTest, RecordedSizeMustMatchCodecOutput) {
  for (const CompressionType type : kCodecs) {
    BlockCompressor compressor(3);
    std::string stored;
    ASSERT_TRUE(compressor.compress(type, compressible_bytes(1000, 8), &stored));
    std::string_view codec = stored;
    uint64_t recorded = 0;
    ASSERT_TRUE(get_varint64(&codec, &recorded));
    for (const uint64_t wrong : {recorded - 1, recorded + 1, uint64_t{0}}) {
      std::string lying;
      put_varint64(&lying, wrong);
      lying.append(codec);
      const Result<std::string> read = read_stored(lying, type);
      ASSERT_FALSE(read.is_ok()) << compression_type_name(type) << " " << wrong;
      EXPECT_TRUE(read.status().is_corruption() && mentions(read.status(), kFileName) &&
                  mentions(read.status(), "offset 6"))
          << read.status().to_string();
    }
  }
}

// Proves codec garbage behind a valid checksum (a writer bug, or a checksum collision) never
// crashes: each input is Corruption or decodes to exactly its recorded size.
TEST(CompressionTest, GarbagePayloadIsCorruptionNotCrash) {
  std::mt19937_64 random(9);
  for (const CompressionType type : kCodecs) {
    BlockCompressor compressor(3);
    std::string valid;
    ASSERT_TRUE(compressor.compress(type, compressible_bytes(2000, 10), &valid));
    for (int round = 0; round < 2000; round++) {
      std::string stored;
      if (round % 2 == 0) {
        // A valid block with a few bytes of its codec output changed.
        stored = valid;
        for (int flips = 0; flips < 1 + round % 4; flips++) {
          const size_t at = 2 + random() % (stored.size() - 2);
          stored[at] = static_cast<char>(stored[at] ^ (1 + random() % 255));
        }
      } else {
        put_varint64(&stored, random() % 5000);
        const size_t garbage_bytes = random() % 64;
        stored += random_bytes(garbage_bytes, random());
      }
      const Result<std::string> read = read_stored(stored, type);
      if (read.is_ok()) {
        std::string_view prefix = stored;
        uint64_t recorded = 0;
        ASSERT_TRUE(get_varint64(&prefix, &recorded));
        EXPECT_EQ(read->size(), recorded);
      } else {
        EXPECT_TRUE(read.status().is_corruption() && mentions(read.status(), kFileName))
            << read.status().to_string();
      }
    }
  }
}

// Proves the type byte is checked against the known codecs: a checksum-valid block of type 3 is
// Corruption naming the type, and kNone blocks come back as stored.
TEST(CompressionTest, TypeByteSelectsDecoding) {
  EXPECT_FALSE(is_known_compression_type(3));
  EXPECT_FALSE(is_known_compression_type(255));
  const Result<std::string> unknown = read_stored("abc", static_cast<CompressionType>(3));
  EXPECT_TRUE(unknown.status().is_corruption() && mentions(unknown.status(), "unknown block type"));
  const Result<std::string> raw = read_stored("abc", CompressionType::kNone);
  ASSERT_TRUE(raw.is_ok());
  EXPECT_EQ(*raw, "abc");
  // A raw block labelled lz4 is refused, not passed through.
  const Result<std::string> mislabelled = read_stored("plain block bytes", CompressionType::kLz4);
  EXPECT_TRUE(mislabelled.status().is_corruption());
}

// ---- Tables: which blocks get compressed, and that readers follow the blocks.

std::string build_table(const TableOptions& options, const Entries& entries) {
  std::string contents;
  test::StringWritableFile file(&contents);
  TableBuilder builder(options, &file);
  for (const auto& [key, value] : entries) builder.add(key, value);
  EXPECT_TRUE(builder.finish().is_ok());
  return contents;
}

Result<std::shared_ptr<Table>> open_table(const TableOptions& options, std::string contents) {
  const uint64_t size = contents.size();
  return Table::open(options, std::make_unique<test::StringRandomAccessFile>(std::move(contents)),
                     size, kFileName);
}

// 600 entries, one version each; values are text-like, random, or alternate per block-sized run.
enum class ValueKind { kCompressible, kRandom, kMixed };
Entries make_entries(ValueKind kind) {
  Entries entries;
  for (int i = 0; i < 600; i++) {
    const std::string key =
        make_internal_key("key/" + std::to_string(100000 + i), 1 + i, ValueType::kValue);
    const bool random = kind == ValueKind::kRandom || (kind == ValueKind::kMixed && i / 20 % 2);
    entries.emplace_back(key, random ? random_bytes(100, i) : compressible_bytes(100, i));
  }
  return entries;
}

// The trailer type byte of every data block, found through the index, then the index's own.
std::vector<uint8_t> block_types(const std::string& contents) {
  const std::string_view tail = std::string_view(contents).substr(contents.size() - kFooterBytes);
  const Result<Footer> footer = decode_footer(tail, kFileName);
  EXPECT_TRUE(footer.is_ok());
  const test::StringRandomAccessFile file(contents);
  Result<std::string> index_contents = read_block(file, footer->index_handle, kFileName);
  EXPECT_TRUE(index_contents.is_ok());
  const auto index = Block::parse(std::move(index_contents).value(),
                                  std::make_shared<const std::string>(kFileName));
  EXPECT_TRUE(index.is_ok());
  std::vector<uint8_t> types;
  const auto iterator = (*index)->new_iterator();
  for (iterator->seek_to_first(); iterator->valid(); iterator->next()) {
    std::string_view encoded = iterator->value();
    BlockHandle handle;
    EXPECT_TRUE(decode_block_handle(&encoded, &handle));
    types.push_back(static_cast<uint8_t>(contents[handle.offset + handle.size]));
  }
  const BlockHandle& index_handle = footer->index_handle;
  types.push_back(static_cast<uint8_t>(contents[index_handle.offset + index_handle.size]));
  return types;
}

Entries scan_all(const Table& table) {
  Entries result;
  const auto iterator = table.new_iterator();
  for (iterator->seek_to_first(); iterator->valid(); iterator->next()) {
    result.emplace_back(iterator->key(), iterator->value());
  }
  EXPECT_TRUE(iterator->status().is_ok());
  return result;
}

struct TableCase {
  CompressionType compression;
  ValueKind values;
};

class CompressedTableTest : public ::testing::TestWithParam<TableCase> {};

// Proves a table round-trips for each codec and kind of value, that data and index blocks are
// stored as the codec exactly when it saves 1/8, and that the filter is never compressed.
TEST_P(CompressedTableTest, RoundTripAndBlockTypes) {
  TableOptions options;
  options.block_size_bytes = 1024;
  options.compression = GetParam().compression;
  const Entries entries = make_entries(GetParam().values);
  const std::string contents = build_table(options, entries);
  const auto table = open_table(options, contents);
  ASSERT_TRUE(table.is_ok()) << table.status().to_string();
  EXPECT_EQ(scan_all(**table), entries);
  for (const auto& [key, value] : entries) {
    const auto found = (*table)->find_first_at_or_after(key);
    ASSERT_TRUE(found.is_ok() && found->has_value());
    EXPECT_EQ((*found)->value, value);
  }

  const std::vector<uint8_t> types = block_types(contents);
  ASSERT_GT(types.size(), 20u);
  const auto codec = static_cast<uint8_t>(GetParam().compression);
  const std::vector<uint8_t> data_types(types.begin(), types.end() - 1);
  const size_t raw_count = std::count(data_types.begin(), data_types.end(), 0);
  if (GetParam().compression == CompressionType::kNone) {
    EXPECT_EQ(raw_count, types.size() - 1);
    EXPECT_EQ(types.back(), 0);
    return;
  }
  const size_t compressed_count = std::count(data_types.begin(), data_types.end(), codec);
  EXPECT_EQ(compressed_count + raw_count, data_types.size());
  switch (GetParam().values) {
    case ValueKind::kCompressible:
      EXPECT_EQ(raw_count, 0u);
      break;
    case ValueKind::kRandom:  // 100 random bytes per entry: nothing to gain, all stored raw
      EXPECT_EQ(compressed_count, 0u);
      break;
    case ValueKind::kMixed:
      EXPECT_GT(raw_count, 0u);
      EXPECT_GT(compressed_count, 0u);
      break;
  }
  EXPECT_EQ(types.back(), codec);  // the index's keys share long prefixes

  // The filter block is the one between the last data block and the index.
  const Footer footer =
      *decode_footer(std::string_view(contents).substr(contents.size() - kFooterBytes), kFileName);
  ASSERT_GT(footer.filter_handle.size, 0u);
  EXPECT_EQ(contents[footer.filter_handle.offset + footer.filter_handle.size], '\0');
}

std::string case_name(const ::testing::TestParamInfo<TableCase>& param_info) {
  static const char* const kValueNames[] = {"compressible", "random", "mixed"};
  return std::string(compression_type_name(param_info.param.compression)) + "_" +
         kValueNames[static_cast<int>(param_info.param.values)];
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CompressedTableTest,
    ::testing::Values(TableCase{CompressionType::kNone, ValueKind::kCompressible},
                      TableCase{CompressionType::kLz4, ValueKind::kCompressible},
                      TableCase{CompressionType::kLz4, ValueKind::kRandom},
                      TableCase{CompressionType::kLz4, ValueKind::kMixed},
                      TableCase{CompressionType::kZstd, ValueKind::kCompressible},
                      TableCase{CompressionType::kZstd, ValueKind::kRandom},
                      TableCase{CompressionType::kZstd, ValueKind::kMixed}),
    case_name);

// Proves reading never depends on the reader's compression option: a table written with each
// codec reads back identically with every setting.
TEST(CompressedTableTest, ReaderFollowsBlocksNotOptions) {
  const Entries entries = make_entries(ValueKind::kMixed);
  for (const CompressionType written :
       {CompressionType::kNone, CompressionType::kLz4, CompressionType::kZstd}) {
    TableOptions write_options;
    write_options.compression = written;
    const std::string contents = build_table(write_options, entries);
    for (const CompressionType reading :
         {CompressionType::kNone, CompressionType::kLz4, CompressionType::kZstd}) {
      TableOptions read_options;
      read_options.compression = reading;
      const auto table = open_table(read_options, contents);
      ASSERT_TRUE(table.is_ok());
      EXPECT_EQ(scan_all(**table), entries);
    }
  }
}

}  // namespace
}  // namespace cairn
