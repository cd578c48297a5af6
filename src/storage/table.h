// Table: an open, immutable SSTable file (docs/sstable-format.md) answering point lookups and
// scans over its internal-key entries.
//
// Ownership: a Table owns its file, its decoded index (TableIndex) and its filter, which stay
// pinned in memory for the table's life (bounded by the table cache's capacity). Data blocks are read on
// demand, decompressed, and shared: through TableOptions::block_cache when there is one, else
// held only by the iterator that read them (one block at a time).
// Thread-safety: immutable after open(); any number of threads may call its const methods at
// once (RandomAccessFile::read is thread-safe). Each iterator is used by one thread.
// Invariants: the footer, index block and filter were read and checksum-verified by open(), and
// the index was checked whole (sorted keys, handles within the file). Every
// data block is checksum-verified (and decompressed) each time it is read from the file; the
// block cache holds only blocks that passed. How blocks are stored is read from each block's
// trailer, never from the reader's options. Corruption anywhere surfaces as a
// Corruption status naming the file, never as wrong data and never as a crash or assert.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/env.h"
#include "storage/block.h"
#include "storage/bloom_filter.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"
#include "storage/options.h"
#include "storage/table_format.h"
#include "storage/table_index.h"

namespace cairn {

// Whether a read adds the blocks it reads to the block cache.
enum class BlockCacheFill { kFill, kSkip };

struct TableEntry {
  std::string internal_key;
  std::string value;
};

class Table {
 public:
  // Reads and verifies the footer, index block and filter, and decodes the index. Corruption
  // names file_name.
  // REQUIRES: file_size_bytes is the size of `file`.
  static Result<std::shared_ptr<Table>> open(const TableOptions& options,
                                             std::unique_ptr<RandomAccessFile> file,
                                             uint64_t file_size_bytes, std::string file_name);

  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // The first entry whose internal key >= target, or nullopt if none — or if the bloom filter
  // says the user key of `target` is absent (so the caller must check the returned user key
  // equals its own). REQUIRES: target is an internal key.
  Result<std::optional<TableEntry>> find_first_at_or_after(std::string_view target) const;

  // The point lookup: the newest entry of key.user_key() at or below the lookup's sequence,
  // reported as MemTable::get reports it (kAbsent when the table holds none, or its filter says
  // so). `filter_hash` is bloom_filter_hash(key.user_key()), computed once per lookup. Reads at
  // most one data block for a present key and allocates nothing beyond *value.
  Result<LookupResult> get(const LookupKey& key, uint64_t filter_hash, std::string* value) const;
  // Starts loading the part of the filter get() reads for `filter_hash`: a lookup that probes
  // several tables prefetches all their filters first, so that their cache misses overlap.
  void prefetch_filter(uint64_t filter_hash) const {
    if (filter_.has_value()) bloom_filter_prefetch(*filter_, filter_hash);
  }

  // An unpositioned iterator over all entries in internal-key order; it reads data blocks lazily
  // through the index, one at a time. With BlockCacheFill::kSkip the blocks it reads are used
  // from the block cache when there but not added to it, so that a compaction reading whole
  // tables once does not evict the blocks readers keep coming back to. An error is final: the
  // iterator stays invalid with it. REQUIRES: the Table outlives the iterator (callers use
  // Iterator::keep_alive with the shared_ptr).
  std::unique_ptr<Iterator> new_iterator(BlockCacheFill fill = BlockCacheFill::kFill) const;

  const std::string& file_name() const { return *file_name_; }
  uint64_t file_size_bytes() const { return file_size_bytes_; }

 private:
  // Walks the index block and, through it, one data block at a time (table.cc).
  class TableIterator;

  // Calls visit(key, value) with the first entry whose internal key >= target, if any, while
  // its block is held; the filter is not consulted.
  template <typename Visit>
  Status visit_first_at_or_after(std::string_view target, Visit&& visit) const;

  Table(const TableOptions& options, std::unique_ptr<RandomAccessFile> file,
        uint64_t file_size_bytes, std::string file_name);

  // Reads the index block and the filter named by `footer`.
  Status read_metadata(const Footer& footer);
  // The data block at `handle` from the block cache, or else read, verified, decompressed and
  // parsed (and then cached, with kFill). The handle must lie before the footer.
  Result<std::shared_ptr<const Block>> read_data_block(
      const BlockHandle& handle, BlockCacheFill fill = BlockCacheFill::kFill) const;

  // Holds the block cache (if any) alive for the table's life.
  const TableOptions options_;
  // This table's keys in options_.block_cache; 0 without a cache.
  const uint64_t cache_id_;
  const std::unique_ptr<RandomAccessFile> file_;
  const uint64_t file_size_bytes_;
  const std::shared_ptr<const std::string> file_name_;  // shared with every block read
  TableIndex index_;
  std::optional<std::string> filter_;  // absent when the table was written without one
};

}  // namespace cairn
