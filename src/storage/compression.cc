#include "storage/compression.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <limits>

#include "common/assert.h"
#include "common/coding.h"
#include "storage/table_format.h"

namespace cairn {
namespace {

// The best ratio each codec can reach. lz4: each input byte yields at most 255 output bytes (a
// match-length byte adds at most 255 to a match; a 3-byte token and offset yield at most 19).
// zstd: its densest unit is an RLE block, a 3-byte header plus 1 byte that yields up to
// ZSTD_BLOCKSIZE_MAX (128 KiB), i.e. under 32768 output bytes per input byte.
constexpr uint64_t kLz4RatioMax = 255;
constexpr uint64_t kZstdRatioMax = 32768;
static_assert(kZstdRatioMax * 4 >= ZSTD_BLOCKSIZE_MAX);

// lz4 takes int sizes and refuses inputs above LZ4_MAX_INPUT_SIZE.
constexpr uint64_t kLz4UncompressedBytesMax = LZ4_MAX_INPUT_SIZE;
static_assert(kLz4UncompressedBytesMax <= kBlockContentsBytesMax);
static_assert(kLz4UncompressedBytesMax <= std::numeric_limits<int>::max());

Status corrupt(CompressionType type, const std::string& what) {
  return Status::corruption(std::string(compression_type_name(type)) + " block: " + what);
}

// One decompression context per thread: making one per block would allocate for every read.
ZSTD_DCtx* thread_zstd_decompression_context() {
  struct Holder {
    ZSTD_DCtx* context = ZSTD_createDCtx();
    ~Holder() { ZSTD_freeDCtx(context); }
  };
  thread_local Holder holder;
  CAIRN_ASSERT(holder.context != nullptr);
  return holder.context;
}

// Decodes exactly `output->size()` bytes from `codec` into *output; false on any codec error or
// any other size.
bool lz4_uncompress(std::string_view codec, std::string* output) {
  // Both sizes fit in int: uncompressed_bytes_max() caps the output, and the codec output of a
  // block is at most kBlockContentsBytesMax, checked by the caller against int below.
  if (codec.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  const int produced =
      LZ4_decompress_safe(codec.data(), output->data(), static_cast<int>(codec.size()),
                          static_cast<int>(output->size()));
  return produced >= 0 && static_cast<size_t>(produced) == output->size();
}

bool zstd_uncompress(std::string_view codec, std::string* output) {
  const size_t produced = ZSTD_decompressDCtx(thread_zstd_decompression_context(), output->data(),
                                              output->size(), codec.data(), codec.size());
  return ZSTD_isError(produced) == 0 && produced == output->size();
}

}  // namespace

bool is_known_compression_type(uint8_t type_byte) {
  return type_byte == static_cast<uint8_t>(CompressionType::kNone) ||
         type_byte == static_cast<uint8_t>(CompressionType::kLz4) ||
         type_byte == static_cast<uint8_t>(CompressionType::kZstd);
}

std::string_view compression_type_name(CompressionType type) {
  switch (type) {
    case CompressionType::kNone:
      return "none";
    case CompressionType::kLz4:
      return "lz4";
    case CompressionType::kZstd:
      return "zstd";
  }
  return "unknown";
}

uint64_t uncompressed_bytes_max(CompressionType type, uint64_t codec_bytes) {
  CAIRN_ASSERT(type == CompressionType::kLz4 || type == CompressionType::kZstd);
  // Both products stay far from overflow: codec_bytes is capped first.
  const uint64_t codec_bytes_capped = std::min(codec_bytes, kBlockContentsBytesMax);
  if (type == CompressionType::kLz4) {
    return std::min(kLz4UncompressedBytesMax, codec_bytes_capped * kLz4RatioMax);
  }
  return std::min(kBlockContentsBytesMax, codec_bytes_capped * kZstdRatioMax);
}

struct BlockCompressor::ZstdContext {
  ZstdContext() : context(ZSTD_createCCtx()) { CAIRN_ASSERT(context != nullptr); }
  ~ZstdContext() { ZSTD_freeCCtx(context); }
  ZSTD_CCtx* const context;
};

BlockCompressor::BlockCompressor(int zstd_level) : zstd_level_(zstd_level) {}

BlockCompressor::~BlockCompressor() = default;

bool BlockCompressor::compress(CompressionType type, std::string_view raw, std::string* stored) {
  CAIRN_ASSERT(type == CompressionType::kLz4 || type == CompressionType::kZstd);
  CAIRN_ASSERT(raw.size() <= kBlockContentsBytesMax);
  stored->clear();
  put_varint64(stored, raw.size());
  const size_t prefix_bytes = stored->size();
  size_t codec_bytes = 0;
  if (type == CompressionType::kLz4) {
    if (raw.size() > kLz4UncompressedBytesMax) return false;
    const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
    stored->resize(prefix_bytes + static_cast<size_t>(bound));
    const int written = LZ4_compress_default(raw.data(), stored->data() + prefix_bytes,
                                             static_cast<int>(raw.size()), bound);
    if (written <= 0) return false;
    codec_bytes = static_cast<size_t>(written);
  } else {
    if (zstd_ == nullptr) zstd_ = std::make_unique<ZstdContext>();
    const size_t bound = ZSTD_compressBound(raw.size());
    stored->resize(prefix_bytes + bound);
    // ZSTD_compressCCtx records the content size in the frame header; the reader checks it.
    const size_t written = ZSTD_compressCCtx(zstd_->context, stored->data() + prefix_bytes, bound,
                                             raw.data(), raw.size(), zstd_level_);
    if (ZSTD_isError(written) != 0) return false;
    codec_bytes = written;
  }
  stored->resize(prefix_bytes + codec_bytes);
  // Paired with the reader's check in uncompress_block: never write what cannot be read back.
  return raw.size() <= uncompressed_bytes_max(type, codec_bytes);
}

Result<std::string> uncompress_block(CompressionType type, std::string_view stored) {
  if (type == CompressionType::kNone) return std::string(stored);
  if (type != CompressionType::kLz4 && type != CompressionType::kZstd) {
    return corrupt(type, "unknown compression type " + std::to_string(static_cast<int>(type)));
  }
  std::string_view codec = stored;
  uint64_t uncompressed_bytes = 0;
  if (!get_varint64(&codec, &uncompressed_bytes)) {
    return corrupt(type, "malformed uncompressed size");
  }
  // Before allocating anything of the recorded size.
  const uint64_t bytes_max = uncompressed_bytes_max(type, codec.size());
  if (uncompressed_bytes > bytes_max) {
    return corrupt(type, "absurd uncompressed size " + std::to_string(uncompressed_bytes) +
                             " for " + std::to_string(codec.size()) + " compressed bytes (max " +
                             std::to_string(bytes_max) + ")");
  }
  if (type == CompressionType::kZstd) {
    // The frame header's own size must agree before the codec writes a byte.
    const unsigned long long frame_bytes = ZSTD_getFrameContentSize(codec.data(), codec.size());
    if (frame_bytes != uncompressed_bytes) {
      return corrupt(type, "frame header disagrees with the recorded uncompressed size " +
                               std::to_string(uncompressed_bytes));
    }
  }
  std::string output(static_cast<size_t>(uncompressed_bytes), '\0');
  const bool ok = type == CompressionType::kLz4 ? lz4_uncompress(codec, &output)
                                                : zstd_uncompress(codec, &output);
  if (!ok) {
    return corrupt(type, "does not decompress to the recorded " +
                             std::to_string(uncompressed_bytes) + " bytes");
  }
  return output;
}

}  // namespace cairn
