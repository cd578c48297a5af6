// TableIndex: a table's index block decoded once, at open, into the form a point lookup searches
// fastest (docs/sstable-format.md, "Reading").
//
// The index block stores, per data block, the block's last internal key and its handle. Searching
// it directly costs two cache misses per binary-search step (the restart offset, then the
// entry), which made the index seek the largest single cost of a GET served from the block cache.
// Here every index key is reduced to a fence: the 8 bytes of its user key that follow the prefix
// every index key shares, as a big-endian integer (zero-padded when shorter). The fences sit in
// one contiguous array, so the binary search touches a few cache lines, and it compares whole keys
// only among the entries whose fence equals the target's, usually none or one.
//
// Why fences alone can decide: internal keys order by user key first, and if the 8 zero-padded
// bytes at the same position of two user keys with a common prefix differ, the user keys differ
// in the same direction (a shorter key is padded with zeros, which no longer key's byte is below).
//
// Ownership: owns copies of the keys, the fences and the decoded handles; the index block is not
// needed after build(). Thread-safety: immutable after build(); any number of threads may search at once.
// Invariants: build() checked that every handle decodes and lies within the table's blocks and
// that the keys strictly increase, so a corrupt index is a Corruption status at open, never a
// wrong answer later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/block.h"
#include "storage/table_format.h"

namespace cairn {

class TableIndex {
 public:
  TableIndex() = default;  // an index of no blocks

  // Decodes `index_block`, whose entries are (internal key, encoded BlockHandle) at restart
  // interval 1. Corruption naming `file_name` if an entry is malformed, a key is not a valid
  // internal key, the keys do not strictly increase, or a handle reaches past blocks_end_bytes.
  static Result<TableIndex> build(const Block& index_block, uint64_t blocks_end_bytes,
                                  const std::string& file_name);

  // The position of the first index entry whose key is >= target, or block_count() if none;
  // the block at that position is the only one that can hold the first entry >= target.
  // REQUIRES: target is an internal key.
  size_t find(std::string_view target) const;

  size_t block_count() const { return handles_.size(); }
  // REQUIRES: position < block_count().
  const BlockHandle& handle(size_t position) const { return handles_[position]; }

 private:
  // The fence of `user_key`: its 8 bytes after the shared prefix, big-endian, zero-padded.
  // REQUIRES: user_key begins with the shared prefix.
  uint64_t fence_of(std::string_view user_key) const;

  // The index key at `position`. REQUIRES: position < block_count().
  std::string_view key(size_t position) const {
    return std::string_view(key_bytes_).substr(key_starts_[position],
                                               key_starts_[position + 1] - key_starts_[position]);
  }

  std::string key_bytes_;           // the index keys, concatenated
  std::vector<size_t> key_starts_;  // key i is key_bytes_[key_starts_[i], key_starts_[i + 1])
  std::vector<uint64_t> fences_;    // fences_[i] = fence_of(the user key of key i)
  std::vector<BlockHandle> handles_;
  std::string shared_prefix_;  // the prefix every index key's user key begins with
};

}  // namespace cairn
