// Proves the blob format's codecs: BlobReference encodings round-trip and malformed ones are
// refused; the file and record headers round-trip, verify only where they were written, and
// a record's bytes are exactly the layout docs/blob-format.md documents.
#include "storage/blob_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "storage/blob_file_writer.h"
#include "support/string_file.h"

namespace cairn {
namespace {

constexpr char kFileName[] = "db/000042.blob";

std::vector<BlobReference> sample_references() {
  std::vector<BlobReference> references;
  references.push_back({1, kBlobFileHeaderBytes, 0, 0, 0});
  references.push_back({7, 12345, 65537, 16, 0xdeadbeef});
  references.push_back({UINT64_MAX, kBlobFileBytesMax - 1, kBlobValueBytesMax,
                        static_cast<uint32_t>(kKeyBytesMax), UINT32_MAX});
  references.push_back({0, 1 << 20, 1, 1, 1});
  return references;
}

std::string encode(const BlobReference& reference) {
  std::string encoded;
  encode_blob_reference(&encoded, reference);
  return encoded;
}

// Proves every sample reference, the largest fields included, decodes to itself.
TEST(BlobFormatTest, ReferenceRoundTrips) {
  for (const BlobReference& reference : sample_references()) {
    BlobReference decoded;
    ASSERT_TRUE(decode_blob_reference(encode(reference), &decoded));
    EXPECT_EQ(decoded, reference);
  }
}

// Proves the encoding stays below 32 bytes, even with every field at its largest.
TEST(BlobFormatTest, ReferenceEncodingIsSmall) {
  for (const BlobReference& reference : sample_references()) {
    EXPECT_LE(encode(reference).size(), kBlobReferenceEncodedBytesMax);
  }
  EXPECT_EQ(encode(sample_references()[2]).size(), kBlobReferenceEncodedBytesMax);
  EXPECT_LT(kBlobReferenceEncodedBytesMax, 32u);
}

// Proves the encoding is appended after what the destination already holds.
TEST(BlobFormatTest, ReferenceEncodingAppends) {
  std::string destination = "prefix";
  encode_blob_reference(&destination, sample_references()[1]);
  EXPECT_EQ(destination, "prefix" + encode(sample_references()[1]));
}

// Proves every proper prefix and every extension by a byte of an encoding is refused.
TEST(BlobFormatTest, ReferenceDecodeRefusesTruncationAndTrailingBytes) {
  for (const BlobReference& reference : sample_references()) {
    const std::string encoded = encode(reference);
    BlobReference decoded;
    for (size_t length = 0; length < encoded.size(); length++) {
      EXPECT_FALSE(decode_blob_reference(encoded.substr(0, length), &decoded)) << length;
    }
    EXPECT_FALSE(decode_blob_reference(encoded + '\0', &decoded));
    EXPECT_FALSE(decode_blob_reference(encoded + encoded, &decoded));
  }
}

// Proves an unknown version byte is refused.
TEST(BlobFormatTest, ReferenceDecodeRefusesUnknownVersion) {
  std::string encoded = encode(sample_references()[1]);
  BlobReference decoded;
  for (const int version : {0, 2, 0x81, 0xff}) {
    encoded[0] = static_cast<char>(version);
    EXPECT_FALSE(decode_blob_reference(encoded, &decoded)) << version;
  }
}

// Proves a non-canonical (overlong) varint is refused, so each reference has one encoding.
TEST(BlobFormatTest, ReferenceDecodeRefusesOverlongVarints) {
  const BlobReference reference = sample_references()[1];
  std::string overlong;
  overlong.push_back(static_cast<char>(kBlobReferenceEncodingVersion));
  overlong.push_back(static_cast<char>(0x80 | reference.file_number));  // 7 as two bytes
  overlong.push_back(0);
  put_varint64(&overlong, reference.record_offset);
  put_varint32(&overlong, reference.key_size_bytes);
  put_varint64(&overlong, reference.value_size_bytes);
  put_fixed32(&overlong, reference.header_checksum);
  BlobReference decoded;
  EXPECT_FALSE(decode_blob_reference(overlong, &decoded));
}

// Proves decoding refuses fields beyond limits (offset in the file header or past 1 TiB, sizes).
TEST(BlobFormatTest, ReferenceDecodeRefusesFieldsBeyondLimits) {
  // Encoded by hand, since the encoder asserts its input is within limits.
  const auto raw = [](uint64_t offset, uint64_t key_size, uint64_t value_size) {
    std::string encoded;
    encoded.push_back(static_cast<char>(kBlobReferenceEncodingVersion));
    put_varint64(&encoded, 3);
    put_varint64(&encoded, offset);
    put_varint64(&encoded, key_size);
    put_varint64(&encoded, value_size);
    put_fixed32(&encoded, 0x12345678);
    return encoded;
  };
  BlobReference decoded;
  EXPECT_TRUE(decode_blob_reference(raw(kBlobFileHeaderBytes, 4, 100), &decoded));
  EXPECT_FALSE(decode_blob_reference(raw(0, 4, 100), &decoded));
  EXPECT_FALSE(decode_blob_reference(raw(kBlobFileHeaderBytes - 1, 4, 100), &decoded));
  EXPECT_FALSE(decode_blob_reference(raw(kBlobFileBytesMax, 4, 100), &decoded));
  EXPECT_FALSE(decode_blob_reference(raw(100, kKeyBytesMax + 1, 100), &decoded));
  EXPECT_FALSE(decode_blob_reference(raw(100, uint64_t{1} << 33, 100), &decoded));
  EXPECT_FALSE(decode_blob_reference(raw(100, 4, kBlobValueBytesMax + 1), &decoded));
}

// Proves the file header round-trips; damage is Corruption naming the file, versions NotSupported.
TEST(BlobFormatTest, FileHeaderRoundTripsAndRefusesDamage) {
  char header[kBlobFileHeaderBytes];
  encode_blob_file_header(42, header);
  const std::string good(header, sizeof(header));
  Result<uint64_t> decoded = decode_blob_file_header(good, kFileName);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, 42u);
  EXPECT_EQ(good.substr(0, 8), "CAIRNBLB");

  for (size_t i = 0; i < good.size(); i++) {
    std::string damaged = good;
    damaged[i] ^= 0x10;
    const Result<uint64_t> result = decode_blob_file_header(damaged, kFileName);
    ASSERT_FALSE(result.is_ok()) << i;
    EXPECT_TRUE(result.status().is_corruption()) << i;
    EXPECT_NE(result.status().message().find(kFileName), std::string_view::npos);
  }
  EXPECT_TRUE(decode_blob_file_header(good.substr(0, 23), kFileName).status().is_corruption());
  EXPECT_TRUE(decode_blob_file_header(good + "x", kFileName).status().is_corruption());

  std::string next_version = good;
  encode_fixed32(next_version.data() + 8, kBlobFormatVersion + 1);
  encode_fixed32(next_version.data() + 20,
                 checksum32(std::string_view(next_version).substr(0, 20)));
  EXPECT_TRUE(decode_blob_file_header(next_version, kFileName).status().is_not_supported());
}

// Proves a record header verifies only at its own file number and offset; any bit flip fails it.
TEST(BlobFormatTest, RecordHeaderVerifiesOnlyAtItsOwnPlace) {
  const BlobRecordHeader header{5, 1000, 256};
  char encoded[kBlobRecordHeaderBytes];
  const uint32_t checksum = encode_blob_record_header(header, 9, 4096, encoded);

  BlobRecordHeader decoded;
  uint32_t decoded_checksum = 0;
  ASSERT_TRUE(decode_blob_record_header(encoded, 9, 4096, &decoded, &decoded_checksum));
  EXPECT_EQ(decoded.key_size_bytes, 5u);
  EXPECT_EQ(decoded.value_size_bytes, 1000u);
  EXPECT_EQ(decoded.chunk_bytes, 256u);
  EXPECT_EQ(decoded_checksum, checksum);

  EXPECT_FALSE(decode_blob_record_header(encoded, 10, 4096, &decoded, &decoded_checksum));
  EXPECT_FALSE(decode_blob_record_header(encoded, 9, 4097, &decoded, &decoded_checksum));
  for (size_t bit = 0; bit < 8 * kBlobRecordHeaderBytes; bit++) {
    char damaged[kBlobRecordHeaderBytes];
    std::copy(encoded, encoded + kBlobRecordHeaderBytes, damaged);
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(decode_blob_record_header(damaged, 9, 4096, &decoded, &decoded_checksum)) << bit;
  }
}

// Proves the header limits: chunk sizes outside [min, max], oversized keys and values.
TEST(BlobFormatTest, RecordHeaderValidityFollowsTheLimits) {
  EXPECT_TRUE(blob_record_header_is_valid({0, 0, kBlobChunkBytesMin}));
  EXPECT_TRUE(blob_record_header_is_valid(
      {static_cast<uint32_t>(kKeyBytesMax), kBlobValueBytesMax, kBlobChunkBytesMax}));
  EXPECT_FALSE(blob_record_header_is_valid({0, 0, 0}));
  EXPECT_FALSE(blob_record_header_is_valid({0, 0, kBlobChunkBytesMin - 1}));
  EXPECT_FALSE(blob_record_header_is_valid({0, 0, kBlobChunkBytesMax + 1}));
  EXPECT_FALSE(blob_record_header_is_valid({static_cast<uint32_t>(kKeyBytesMax) + 1, 0, 64}));
  EXPECT_FALSE(blob_record_header_is_valid({0, kBlobValueBytesMax + 1, 64}));
}

// Proves the layout arithmetic: chunk counts and sizes at 0, 1, chunk-1, chunk, chunk+1.
TEST(BlobFormatTest, RecordLayoutCountsChunks) {
  const uint32_t chunk = 100;
  struct Case {
    uint64_t value_size;
    uint64_t chunk_count;
    uint32_t last_chunk_bytes;
  };
  for (const Case& c : {Case{0, 0, 0}, Case{1, 1, 1}, Case{99, 1, 99}, Case{100, 1, 100},
                        Case{101, 2, 1}, Case{250, 3, 50}}) {
    const BlobRecordLayout layout = blob_record_layout(1000, {3, c.value_size, chunk}, 7);
    EXPECT_EQ(layout.chunk_count, c.chunk_count) << c.value_size;
    EXPECT_EQ(layout.key_offset(), 1000 + kBlobRecordHeaderBytes);
    EXPECT_EQ(layout.value_offset(), 1000 + kBlobRecordHeaderBytes + 3 + 4);
    EXPECT_EQ(layout.end_offset(), layout.value_offset() + c.value_size + 4 * c.chunk_count);
    if (c.chunk_count > 0) {
      EXPECT_EQ(layout.chunk_value_bytes(c.chunk_count - 1), c.last_chunk_bytes);
      EXPECT_EQ(layout.chunk_value_bytes(0), std::min<uint64_t>(chunk, c.value_size));
    }
  }
}

// Proves the writer's bytes equal the documented layout, rebuilt by hand from checksum32.
TEST(BlobFormatTest, WrittenRecordMatchesTheDocumentedBytes) {
  const uint64_t file_number = 77;
  const uint32_t chunk = 64;
  const std::string key = "user:1";
  std::string value;
  for (int i = 0; i < 150; i++) value.push_back(static_cast<char>('a' + i % 26));

  std::string contents;
  test::StringWritableFile file(&contents);
  BlobFileWriter writer(&file, file_number, chunk);
  const Result<BlobReference> reference = writer.add(key, value);
  ASSERT_TRUE(reference.is_ok()) << reference.status().to_string();

  std::string expected;
  put_fixed64(&expected, 0x424c424e52494143);  // "CAIRNBLB"
  put_fixed32(&expected, 1);
  put_fixed64(&expected, file_number);
  put_fixed32(&expected, checksum32(expected));
  ASSERT_EQ(expected.size(), 24u);

  const uint64_t record_offset = expected.size();
  std::string fields;
  put_fixed32(&fields, static_cast<uint32_t>(key.size()));
  put_fixed64(&fields, value.size());
  put_fixed32(&fields, chunk);
  std::string place;
  put_fixed64(&place, file_number);
  put_fixed64(&place, record_offset);
  const uint32_t header_checksum = checksum32(fields + place);
  expected += fields;
  put_fixed32(&expected, header_checksum);

  std::string seed;
  put_fixed32(&seed, header_checksum);
  expected += key;
  put_fixed32(&expected, checksum32(key + seed));
  for (uint32_t index = 0; index * chunk < value.size(); index++) {
    const std::string piece = value.substr(index * chunk, chunk);
    std::string chunk_seed = seed;
    put_fixed32(&chunk_seed, index);
    expected += piece;
    put_fixed32(&expected, checksum32(piece + chunk_seed));
  }
  EXPECT_EQ(contents, expected);

  EXPECT_EQ(reference->file_number, file_number);
  EXPECT_EQ(reference->record_offset, record_offset);
  EXPECT_EQ(reference->key_size_bytes, key.size());
  EXPECT_EQ(reference->value_size_bytes, value.size());
  EXPECT_EQ(reference->header_checksum, header_checksum);
  EXPECT_EQ(writer.file_size_bytes(), contents.size());
}

}  // namespace
}  // namespace cairn
