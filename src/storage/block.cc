#include "storage/block.h"

#include "common/assert.h"
#include "common/coding.h"
#include "storage/internal_key.h"
#include "storage/table_format.h"

namespace cairn {
namespace {

// What an iterator needs of its Block, which outlives it.
struct BlockView {
  std::string_view entries;   // the entries, up to the restart array
  std::string_view restarts;  // restart_count fixed32 offsets, each < entries.size() (or 0)
  uint32_t restart_count = 0;
  const std::string* file_name = nullptr;
};

// One entry as stored, its key relative to the previous key.
struct EntryRecord {
  uint32_t shared = 0;
  std::string_view key_suffix;
  std::string_view value;
  size_t end_offset = 0;  // where the next entry starts
};

// Decodes the entry at `offset`; false if its header is malformed or its key or value would
// overrun the entries. REQUIRES: offset < entries.size().
bool decode_entry(std::string_view entries, size_t offset, EntryRecord* entry) {
  std::string_view input = entries.substr(offset);
  uint32_t unshared = 0;
  uint32_t value_length = 0;
  if (!get_varint32(&input, &entry->shared) || !get_varint32(&input, &unshared) ||
      !get_varint32(&input, &value_length)) {
    return false;
  }
  if (unshared > input.size() || value_length > input.size() - unshared) return false;
  entry->key_suffix = input.substr(0, unshared);
  entry->value = input.substr(unshared, value_length);
  entry->end_offset = entries.size() - (input.size() - unshared - value_length);
  return true;
}

class BlockIterator final : public Iterator {
 public:
  explicit BlockIterator(BlockView block) : block_(block) {}

  bool valid() const override { return valid_; }
  void seek_to_first() override;
  void seek(std::string_view target) override;
  void next() override {
    CAIRN_ASSERT(valid_);
    decode_next_entry();
  }
  std::string_view key() const override {
    CAIRN_ASSERT(valid_);
    return key_;
  }
  std::string_view value() const override {
    CAIRN_ASSERT(valid_);
    return value_;
  }
  Status status() const override { return status_; }

 private:
  uint32_t restart_offset(uint32_t index) const {
    CAIRN_ASSERT(index < block_.restart_count);
    return decode_fixed32(block_.restarts.data() + sizeof(uint32_t) * index);
  }
  void start_at_restart(uint32_t index) {
    key_.clear();
    valid_ = false;
    next_offset_ = restart_offset(index);
  }
  // Decodes the entry at next_offset_, or becomes invalid at the end of the entries.
  void decode_next_entry();
  // The full key stored at restart point `index`; false (and failed) if malformed.
  bool decode_restart_key(uint32_t index, std::string_view* key);
  void fail(size_t offset);

  const BlockView block_;
  size_t next_offset_ = 0;
  std::string key_;
  std::string_view value_;
  bool valid_ = false;
  Status status_;  // once an error, always an error: the block is corrupt
};

void BlockIterator::seek_to_first() {
  if (!status_.is_ok()) return;
  start_at_restart(0);
  decode_next_entry();
}

void BlockIterator::seek(std::string_view target) {
  if (!status_.is_ok()) return;
  CAIRN_ASSERT(target.size() >= kInternalKeyTrailerBytes);
  // Find the last restart point whose key is < target; the answer is at or after it.
  uint32_t left = 0;
  uint32_t right = block_.restart_count - 1;
  while (left < right) {
    const uint32_t middle = left + (right - left + 1) / 2;
    std::string_view middle_key;
    if (!decode_restart_key(middle, &middle_key)) return;
    if (compare_internal_keys(middle_key, target) < 0) {
      left = middle;
    } else {
      right = middle - 1;
    }
  }
  start_at_restart(left);
  do {
    decode_next_entry();
  } while (valid_ && compare_internal_keys(key_, target) < 0);
}

void BlockIterator::decode_next_entry() {
  if (next_offset_ >= block_.entries.size()) {
    valid_ = false;
    return;
  }
  EntryRecord entry;
  // shared > key_.size() also catches a restart point that does not store its whole key.
  if (!decode_entry(block_.entries, next_offset_, &entry) || entry.shared > key_.size() ||
      entry.shared + entry.key_suffix.size() < kInternalKeyTrailerBytes) {
    fail(next_offset_);
    return;
  }
  key_.resize(entry.shared);
  key_.append(entry.key_suffix);
  value_ = entry.value;
  next_offset_ = entry.end_offset;
  valid_ = true;
}

bool BlockIterator::decode_restart_key(uint32_t index, std::string_view* key) {
  const uint32_t offset = restart_offset(index);
  EntryRecord entry;
  if (!decode_entry(block_.entries, offset, &entry) || entry.shared != 0 ||
      entry.key_suffix.size() < kInternalKeyTrailerBytes) {
    fail(offset);
    return false;
  }
  *key = entry.key_suffix;
  return true;
}

void BlockIterator::fail(size_t offset) {
  valid_ = false;
  status_ = Status::corruption(*block_.file_name + ": malformed block entry at offset " +
                               std::to_string(offset) + " within its block");
}

}  // namespace

Result<std::unique_ptr<Block>> Block::parse(std::string contents, std::string file_name) {
  const auto corrupt = [&](std::string_view what) {
    return Status::corruption(file_name + ": malformed block: " + std::string(what));
  };
  if (contents.size() > kBlockContentsBytesMax) return corrupt("too large");
  if (contents.size() < sizeof(uint32_t)) return corrupt("too short for a restart count");
  const uint32_t restart_count = decode_fixed32(contents.data() + contents.size() - 4);
  const size_t restart_count_max = (contents.size() - sizeof(uint32_t)) / sizeof(uint32_t);
  if (restart_count == 0 || restart_count > restart_count_max) {
    return corrupt("restart count " + std::to_string(restart_count) + " out of range");
  }
  const auto restarts_offset = static_cast<uint32_t>(contents.size() - sizeof(uint32_t) -
                                                     sizeof(uint32_t) * size_t{restart_count});
  uint32_t previous = 0;
  for (uint32_t i = 0; i < restart_count; i++) {
    const uint32_t offset = decode_fixed32(contents.data() + restarts_offset + 4 * size_t{i});
    const bool in_order = i == 0 ? offset == 0 : offset > previous && offset < restarts_offset;
    if (!in_order) return corrupt("restart point " + std::to_string(i) + " out of order");
    previous = offset;
  }
  return std::unique_ptr<Block>(
      new Block(std::move(contents), std::move(file_name), restarts_offset, restart_count));
}

Block::Block(std::string contents, std::string file_name, uint32_t restarts_offset,
             uint32_t restart_count)
    : contents_(std::move(contents)),
      file_name_(std::move(file_name)),
      restarts_offset_(restarts_offset),
      restart_count_(restart_count) {
  CAIRN_ASSERT(restart_count_ >= 1);
  CAIRN_ASSERT(size_t{restarts_offset_} + 4 * size_t{restart_count_} + 4 == contents_.size());
}

std::unique_ptr<Iterator> Block::new_iterator() const {
  BlockView view;
  const std::string_view contents = contents_;
  view.entries = contents.substr(0, restarts_offset_);
  view.restarts = contents.substr(restarts_offset_, sizeof(uint32_t) * size_t{restart_count_});
  view.restart_count = restart_count_;
  view.file_name = &file_name_;
  return std::make_unique<BlockIterator>(view);
}

}  // namespace cairn
