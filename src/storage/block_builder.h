// BlockBuilder: lays out the entries of one table block (data or index) with prefix-compressed
// keys and restart points (docs/sstable-format.md):
//
//   entry    = varint32 shared ++ varint32 unshared ++ varint32 value_length
//              ++ key bytes [shared, shared + unshared) ++ value bytes
//   block    = entry* ++ fixed32 restart_offset * restart_count ++ fixed32 restart_count
//
// Every restart_interval-th entry is a restart point: it stores its whole key (shared = 0), so a
// reader can binary-search the restart offsets and decode forward from any of them.
//
// Ownership: owns its buffer; the view returned by finish() stays valid until reset() or
// destruction. Thread-safety: one thread at a time.
// Invariants: keys are internal keys in strictly increasing internal-key order; the restart
// array is never empty and starts at offset 0; the block stays below kBlockContentsBytesMax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

class BlockBuilder {
 public:
  // REQUIRES: restart_interval >= 1.
  explicit BlockBuilder(int restart_interval);

  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // REQUIRES: finish() not called since the last reset(); key is an internal key that sorts
  // strictly after the previous key added; the entry keeps the block under
  // kBlockContentsBytesMax.
  void add(std::string_view key, std::string_view value);

  // Appends the restart array and returns the finished block, valid until reset() or destruction.
  std::string_view finish();

  // Starts an empty block, as if newly constructed.
  void reset();

  // The size of the block finish() would return now.
  size_t size_estimate_bytes() const;

  bool empty() const { return buffer_.empty(); }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restart_offsets_;
  int entries_since_restart_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace cairn
