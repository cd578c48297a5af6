// TableBuilder: writes a sorted run of internal-key entries as an SSTable (docs/sstable-format.md):
// data blocks, then one bloom filter block over the user keys, then the index block, then the
// footer. Data and index blocks are compressed with options.compression when that saves at least
// 1/8 of the block, and stored uncompressed otherwise; the filter (random bits) never is.
//
// Ownership: the caller owns the file and must keep it alive until finish() or abandon(); the
// builder never syncs or closes it. Thread-safety: one thread at a time.
// Invariants: keys are added in strictly increasing internal-key order; each data block is closed
// once its uncompressed size reaches block_size_bytes; the index has one entry per data block whose
// key is the block's last internal key and whose value is the block's encoded BlockHandle. The
// first error from the file is sticky: later calls do nothing and status()/finish() return it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "io/env.h"
#include "storage/block_builder.h"
#include "storage/bloom_filter.h"
#include "storage/compression.h"
#include "storage/options.h"
#include "storage/table_format.h"

namespace cairn {

class TableBuilder {
 public:
  // REQUIRES: options.block_size_bytes >= 1, options.block_restart_interval >= 1,
  // options.bloom_bits_per_key >= 0 (0 writes no filter), options.compression is a
  // CompressionType enumerator; `file` is empty and outlives the builder.
  TableBuilder(const TableOptions& options, WritableFile* file);
  // Destroying a builder before finish() abandons the table (a caller's early error return).
  ~TableBuilder() = default;

  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // REQUIRES: neither finish() nor abandon() called; internal_key is a valid internal key that
  // sorts strictly after every key added before. An entry too large for one block
  // (kBlockContentsBytesMax) makes status() InvalidArgument.
  void add(std::string_view internal_key, std::string_view value);

  // Writes the last data block, the filter block, the index block and the footer. Does not sync
  // or close the file. REQUIRES: neither finish() nor abandon() called.
  Status finish();

  // Gives up on the table: nothing more is written; the caller deletes the file.
  // REQUIRES: neither finish() nor abandon() called.
  void abandon();

  uint64_t entry_count() const { return entry_count_; }
  // Bytes appended to the file so far; after a successful finish(), the file's size.
  uint64_t file_size_bytes() const { return offset_bytes_; }
  Status status() const { return status_; }
  // The first and last internal keys added; empty while entry_count() == 0.
  const std::string& smallest_key() const { return smallest_key_; }
  const std::string& largest_key() const { return largest_key_; }

 private:
  // Closes the pending data block early if the next entry would overflow it; false (with
  // status_ set) if the entry is too large even for an empty block.
  bool make_room_for(uint64_t key_and_value_bytes);
  // Writes the pending data block, if any, and indexes it.
  void flush_data_block();
  // Appends the block, compressed as `compression` if that saves at least 1/8 of it, and its
  // trailer; returns where it went. Records any error in status_.
  BlockHandle write_block(std::string_view contents, CompressionType compression);

  const TableOptions options_;
  WritableFile* const file_;
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  std::optional<BloomFilterBuilder> filter_;
  BlockCompressor compressor_;
  std::string compressed_;  // scratch for write_block, kept to reuse its allocation
  uint64_t offset_bytes_ = 0;
  uint64_t entry_count_ = 0;
  std::string smallest_key_;
  std::string largest_key_;
  Status status_;
  bool closed_ = false;
};

}  // namespace cairn
