// The physical layout shared by the SSTable writer and reader (docs/sstable-format.md): block
// handles, the block trailer (type byte + checksum) and the fixed-size footer at the file's end.
//
// Ownership: value types and free functions only; read_block returns a string the caller owns.
// Thread-safety: everything here is stateless; read_block is safe to call concurrently because
// RandomAccessFile::read is.
// Invariants: every block on disk is followed by a trailer whose checksum covers the block's
// stored (possibly compressed) contents and its type byte; the footer's checksum covers every
// footer byte before it except the magic number, which is compared exactly. Nothing decoded from a
// file is trusted: malformed bytes give a Corruption status naming the file, never an assert.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/coding.h"
#include "common/result.h"
#include "common/status.h"
#include "io/env.h"
#include "storage/options.h"

namespace cairn {

// Where a block lives in a table file. `size` counts the stored (possibly compressed) contents
// only, not the trailer.
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
};

constexpr size_t kBlockHandleEncodedBytesMax = 2 * kVarint64LengthMax;

// Appends offset then size, each as a varint64.
void encode_block_handle(std::string* destination, const BlockHandle& handle);
// Consumes an encoded handle from the front of *input; false if truncated or malformed.
[[nodiscard]] bool decode_block_handle(std::string_view* input, BlockHandle* handle);

// Every block trailer starts with a type byte, the block's CompressionType (options.h): how its
// stored contents encode the block. A reader refuses values it does not know.
// trailer = type (1 byte) ++ fixed32 checksum32(stored contents ++ type)
constexpr size_t kBlockTrailerBytes = 1 + 4;

// The largest block contents a reader accepts (before allocating) and a writer may produce, both
// stored and uncompressed. It must hold one entry of the largest key (64 KiB) and value (1 GiB)
// while blob files do not yet take large values, and it must stay below 4 GiB because block
// offsets are stored as fixed32.
constexpr uint64_t kBlockContentsBytesMax = uint64_t{1} << 31;
static_assert(kBlockContentsBytesMax > (uint64_t{1} << 30) + (uint64_t{64} << 10));
static_assert(kBlockContentsBytesMax < UINT32_MAX);

// Appends the trailer of `stored`, the block's contents as encoded by `type`.
void append_block_trailer(std::string* destination, std::string_view stored, CompressionType type);

// The footer, the last kFooterBytes of every table file:
//   [0, 40)  filter handle, index handle (varints), zero padding
//   [40, 44) fixed32 format version
//   [44, 48) fixed32 checksum32 of bytes [0, 44)
//   [48, 56) fixed64 magic number (the ASCII bytes "CAIRNSST")
// A filter handle of size 0 means the table has no filter.
struct Footer {
  BlockHandle filter_handle;
  BlockHandle index_handle;
};

constexpr uint64_t kTableMagicNumber = 0x5453534e52494143;  // "CAIRNSST" as fixed64_le
constexpr uint32_t kTableFormatVersion = 1;
constexpr size_t kFooterHandlesBytes = 2 * kBlockHandleEncodedBytesMax;
constexpr size_t kFooterBytes = kFooterHandlesBytes + 4 + 4 + 8;
static_assert(kFooterBytes == 56, "the footer size is part of the on-disk format");

// Appends exactly kFooterBytes.
void encode_footer(std::string* destination, const Footer& footer);
// REQUIRES nothing of `input`: anything but a well-formed footer of exactly kFooterBytes gives
// Corruption naming `file_name`.
Result<Footer> decode_footer(std::string_view input, const std::string& file_name);

// Corruption unless the block and its trailer lie within [0, region_end_bytes) of the file.
// Called before reading so that an absurd handle never causes a huge allocation.
Status check_block_handle(const BlockHandle& handle, uint64_t region_end_bytes,
                          const std::string& file_name);

// Reads the block at `handle`, verifies its trailer and returns its uncompressed contents
// (trailer removed), whatever compression the table was written with. Corruption naming the file
// and offset on a short read, a checksum mismatch, an unknown block type, a size above
// kBlockContentsBytesMax, or a compressed block that does not decompress to its recorded size
// (an absurd recorded size is refused before allocating); the file's own errors pass through with
// the file name as context.
Result<std::string> read_block(const RandomAccessFile& file, const BlockHandle& handle,
                               const std::string& file_name);

}  // namespace cairn
