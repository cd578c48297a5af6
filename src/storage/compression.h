// Block compression: the glue between table blocks and the lz4 and zstd codecs
// (docs/sstable-format.md, "Compressed blocks"). Which blocks get compressed, and whether a
// compressed form is worth keeping, is the TableBuilder's policy; this file only encodes and
// decodes.
//
// Stored form of a compressed block:   varint64 uncompressed_bytes ++ codec output
// The size is recorded by Cairn rather than taken from the codec, so a reader refuses an absurd
// size before it allocates and checks that the codec produced exactly that many bytes.
//
// Ownership: a BlockCompressor owns its codec state (a zstd context, made on first use).
// Thread-safety: a BlockCompressor is used by one thread at a time. uncompress_block may be
// called from any number of threads at once (zstd decompression contexts are per thread).
// Invariants: compress() only produces what uncompress_block() accepts — in particular an
// uncompressed size within uncompressed_bytes_max() of the codec output — so every block a
// writer compresses reads back. Stored bytes are untrusted on read: anything malformed is a
// Corruption status, never an assert, a crash or an oversized allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/options.h"

namespace cairn {

// Whether a trailer's type byte names a CompressionType this build can read.
bool is_known_compression_type(uint8_t type_byte);
// "none", "lz4", "zstd"; "unknown" for other values.
std::string_view compression_type_name(CompressionType type);

// The largest uncompressed size a reader accepts for a block whose codec output (the stored
// bytes after the size prefix) is `codec_bytes` long: the codec's best possible ratio times
// codec_bytes, capped by kBlockContentsBytesMax and by what the codec can handle at all.
// REQUIRES: type is kLz4 or kZstd.
uint64_t uncompressed_bytes_max(CompressionType type, uint64_t codec_bytes);

class BlockCompressor {
 public:
  // zstd_level is passed to zstd as is (it clamps out-of-range levels).
  explicit BlockCompressor(int zstd_level);
  ~BlockCompressor();

  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;

  // Replaces *stored with `raw` in the stored form of `type`. False when the codec cannot take
  // the input (lz4 accepts at most LZ4_MAX_INPUT_SIZE bytes), fails, or compresses beyond what
  // a reader would accept; the caller then stores the block uncompressed. The caller decides
  // whether the result is small enough to be worth keeping.
  // REQUIRES: type is kLz4 or kZstd; raw.size() <= kBlockContentsBytesMax.
  [[nodiscard]] bool compress(CompressionType type, std::string_view raw, std::string* stored);

 private:
  struct ZstdContext;

  const int zstd_level_;
  std::unique_ptr<ZstdContext> zstd_;  // made on the first zstd block
};

// The uncompressed contents of a block stored as `type` (`stored` excludes the trailer).
// Corruption, without the file name (the caller adds it and the offset), when the size prefix is
// malformed or above uncompressed_bytes_max(), when the codec fails, or when it produces another
// size than recorded. kNone returns a copy of `stored`.
Result<std::string> uncompress_block(CompressionType type, std::string_view stored);

}  // namespace cairn
