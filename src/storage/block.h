// Block: a parsed table block (the format is in block_builder.h and docs/sstable-format.md) and
// the cursors over its entries in internal-key order: BlockCursor, a plain value the table's point
// lookups keep on the stack, and the Iterator that wraps it for scans and merges.
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

class Block;

// A cursor over one Block's entries without virtual calls. A key stored whole (every restart
// point's) is returned as a view into the block; only a prefix-compressed key is assembled, in a
// buffer the cursor reuses. Seek uses a binary search over the restart points, then a linear scan.
// Entries can only be decoded forward (each key is relative to the one before), so prev() goes
// back to the last restart point before the current entry and decodes forward from there, as
// LevelDB's Block::Iter::Prev does: at most restart_interval entries per step.
// Keys and values stay valid until the cursor moves; the Block must outlive the cursor.
// Errors are final, as for an Iterator.
class BlockCursor {
 public:
  explicit BlockCursor(const Block& block);
  // Not copyable: key() may point into the cursor's own buffer.
  BlockCursor(const BlockCursor&) = delete;
  BlockCursor& operator=(const BlockCursor&) = delete;

  bool valid() const { return valid_; }
  void seek_to_first();
  void seek_to_last();
  // Positions at the first entry whose key is >= target. REQUIRES: target is an internal key.
  void seek(std::string_view target);
  // Positions at the last entry whose key is <= target. REQUIRES: target is an internal key.
  void seek_for_prev(std::string_view target);
  // REQUIRES: valid().
  void next();
  // Invalid (with an OK status) before the first entry. REQUIRES: valid().
  void prev();
  // REQUIRES: valid().
  std::string_view key() const;
  std::string_view value() const;
  const Status& status() const { return status_; }

 private:
  uint32_t restart_offset(uint32_t index) const;
  // The last restart point whose offset is < offset. REQUIRES: offset > 0.
  uint32_t restart_before(size_t offset) const;
  void start_at_restart(uint32_t index);
  // Decodes forward from the current position up to the entry that ends at `end_offset` (a
  // corrupt block that has no such entry fails).
  void decode_up_to(size_t end_offset);
  // Decodes the entry at next_offset_, or becomes invalid at the end of the entries.
  void decode_next_entry();
  // The full key stored at restart point `index`; false (and failed) if malformed.
  bool decode_restart_key(uint32_t index, std::string_view* key);
  void fail(size_t offset);

  std::string_view entries_;  // the entries, up to the restart array
  const char* restarts_;      // restart_count_ fixed32 offsets, each < entries_.size() (or 0)
  uint32_t restart_count_;
  const std::string* file_name_;
  size_t current_offset_ = 0;  // where the current entry starts (for prev)
  size_t next_offset_ = 0;
  std::string_view key_;    // into entries_ or key_buffer_
  std::string key_buffer_;  // a prefix-compressed key, assembled
  std::string_view value_;
  bool valid_ = false;
  Status status_;  // once an error, always an error: the block is corrupt
};

class Block {
 public:
  // Takes the contents of one block (trailer already removed). Corruption naming `file_name` if
  // the restart array is malformed. The name is shared, not copied: a table reads many blocks.
  // One allocation holds the Block and its shared_ptr's count.
  static Result<std::shared_ptr<const Block>> parse(std::string contents,
                                                    std::shared_ptr<const std::string> file_name);

  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // An unpositioned iterator over the entries. Seek uses a binary search over the restart points,
  // then a linear scan. REQUIRES: this Block outlives the iterator.
  std::unique_ptr<Iterator> new_iterator() const;

  size_t size_bytes() const { return contents_.size(); }

 private:
  friend class BlockCursor;

  // What lets parse() call make_shared on a constructor no one else may call.
  struct ParsedTag {};

 public:
  Block(ParsedTag, std::string contents, std::shared_ptr<const std::string> file_name,
        uint32_t restarts_offset, uint32_t restart_count);

 private:
  const std::string contents_;
  const std::shared_ptr<const std::string> file_name_;
  // Where the restart array begins, i.e. the end of the entries.
  const uint32_t restarts_offset_;
  const uint32_t restart_count_;
};

}  // namespace cairn
