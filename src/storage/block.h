// Block: a parsed table block (the format is in block_builder.h and docs/sstable-format.md) and
// the cursor over its entries in internal-key order.
//
// Ownership: a Block owns its contents; its iterators point into them, so the Block must outlive
// every iterator it made. Thread-safety: a Block is immutable after parse(), so any number of
// threads may create and use their own iterators at once; one iterator is used by one thread.
// Invariants: parse() checked that the restart array lies inside the block, starts at offset 0
// and strictly increases. Entries are checked as they are decoded: a malformed entry makes the
// iterator invalid with a Corruption status naming the file, and the error is final. The
// contents are untrusted; nothing in them can make this code read out of bounds or assert.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/iterator.h"

namespace cairn {

class Block {
 public:
  // Takes the contents of one block (trailer already removed). Corruption naming `file_name` if
  // the restart array is malformed.
  static Result<std::unique_ptr<Block>> parse(std::string contents, std::string file_name);

  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // An unpositioned iterator over the entries. Seek uses a binary search over the restart points,
  // then a linear scan. REQUIRES: this Block outlives the iterator.
  std::unique_ptr<Iterator> new_iterator() const;

  size_t size_bytes() const { return contents_.size(); }

 private:
  Block(std::string contents, std::string file_name, uint32_t restarts_offset,
        uint32_t restart_count);

  const std::string contents_;
  const std::string file_name_;
  // Where the restart array begins, i.e. the end of the entries.
  const uint32_t restarts_offset_;
  const uint32_t restart_count_;
};

}  // namespace cairn
