#include "storage/block.h"

#include "common/assert.h"
#include "common/coding.h"
#include "storage/internal_key.h"
#include "storage/table_format.h"

namespace cairn {
namespace {

// One entry as stored, its key relative to the previous key.
struct EntryRecord {
  uint32_t shared = 0;
  std::string_view key_suffix;
  std::string_view value;
  size_t end_offset = 0;  // where the next entry starts
};

// Decodes the entry at `offset`; false if its header is malformed or its key or value would
// overrun the entries. REQUIRES: offset < entries.size().
inline bool decode_entry(std::string_view entries, size_t offset, EntryRecord* entry) {
  std::string_view input = entries.substr(offset);
  uint32_t unshared = 0;
  uint32_t value_length = 0;
  const auto* header = reinterpret_cast<const uint8_t*>(input.data());
  if (input.size() >= 3 && (header[0] | header[1] | header[2]) < 0x80) {
    // The common case: three one-byte varints (every length below 128).
    entry->shared = header[0];
    unshared = header[1];
    value_length = header[2];
    input.remove_prefix(3);
  } else if (!get_varint32(&input, &entry->shared) || !get_varint32(&input, &unshared) ||
             !get_varint32(&input, &value_length)) {
    return false;
  }
  if (unshared > input.size() || value_length > input.size() - unshared) return false;
  entry->key_suffix = input.substr(0, unshared);
  entry->value = input.substr(unshared, value_length);
  entry->end_offset = entries.size() - (input.size() - unshared - value_length);
  return true;
}

// The Iterator over a block: a BlockCursor behind the virtual interface.
class BlockIterator final : public Iterator {
 public:
  explicit BlockIterator(const Block& block) : cursor_(block) {}

  bool valid() const override { return cursor_.valid(); }
  void seek_to_first() override { cursor_.seek_to_first(); }
  void seek_to_last() override { cursor_.seek_to_last(); }
  void seek(std::string_view target) override { cursor_.seek(target); }
  void seek_for_prev(std::string_view target) override { cursor_.seek_for_prev(target); }
  void next() override { cursor_.next(); }
  void prev() override { cursor_.prev(); }
  std::string_view key() const override { return cursor_.key(); }
  std::string_view value() const override { return cursor_.value(); }
  Status status() const override { return cursor_.status(); }

 private:
  BlockCursor cursor_;
};

}  // namespace

BlockCursor::BlockCursor(const Block& block)
    : entries_(std::string_view(block.contents_).substr(0, block.restarts_offset_)),
      restarts_(block.contents_.data() + block.restarts_offset_),
      restart_count_(block.restart_count_),
      file_name_(block.file_name_.get()) {}

void BlockCursor::seek_to_first() {
  if (!status_.is_ok()) return;
  start_at_restart(0);
  decode_next_entry();
}

void BlockCursor::seek(std::string_view target) {
  if (!status_.is_ok()) return;
  CAIRN_ASSERT(target.size() >= kInternalKeyTrailerBytes);
  // Find the last restart point whose key is < target; the answer is at or after it.
  uint32_t left = 0;
  uint32_t right = restart_count_ - 1;
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

void BlockCursor::seek_to_last() {
  if (!status_.is_ok()) return;
  start_at_restart(restart_count_ - 1);
  decode_up_to(entries_.size());
}

// A seek, then one step back unless it landed on target itself: the step back costs at most a
// restart interval of decoding, and keeps one search routine.
void BlockCursor::seek_for_prev(std::string_view target) {
  seek(target);
  if (valid_) {
    if (compare_internal_keys(key_, target) > 0) prev();
  } else if (status_.is_ok()) {
    seek_to_last();  // every entry is < target
  }
}

void BlockCursor::next() {
  CAIRN_ASSERT(valid_);
  decode_next_entry();
}

void BlockCursor::prev() {
  CAIRN_ASSERT(valid_);
  const size_t current = current_offset_;
  if (current == 0) {
    valid_ = false;  // the first entry: restart point 0 is at offset 0
    return;
  }
  start_at_restart(restart_before(current));
  decode_up_to(current);
}

std::string_view BlockCursor::key() const {
  CAIRN_ASSERT(valid_);
  return key_;
}

std::string_view BlockCursor::value() const {
  CAIRN_ASSERT(valid_);
  return value_;
}

uint32_t BlockCursor::restart_offset(uint32_t index) const {
  CAIRN_ASSERT(index < restart_count_);
  return decode_fixed32(restarts_ + sizeof(uint32_t) * index);
}

uint32_t BlockCursor::restart_before(size_t offset) const {
  CAIRN_ASSERT(offset > 0);
  uint32_t left = 0;  // restart_offset(0) == 0 < offset
  uint32_t right = restart_count_ - 1;
  while (left < right) {
    const uint32_t middle = left + (right - left + 1) / 2;
    if (restart_offset(middle) < offset) {
      left = middle;
    } else {
      right = middle - 1;
    }
  }
  return left;
}

void BlockCursor::decode_up_to(size_t end_offset) {
  CAIRN_ASSERT(end_offset <= entries_.size());
  do {
    decode_next_entry();
  } while (valid_ && next_offset_ < end_offset);
  // Entries decoded from a restart point that step over end_offset: the block lies about where
  // its entries start.
  if (valid_ && next_offset_ != end_offset) fail(current_offset_);
}

void BlockCursor::start_at_restart(uint32_t index) {
  key_ = {};
  valid_ = false;
  next_offset_ = restart_offset(index);
}

void BlockCursor::decode_next_entry() {
  if (next_offset_ >= entries_.size()) {
    valid_ = false;
    return;
  }
  EntryRecord entry;
  // shared > key_.size() also catches a restart point that does not store its whole key.
  if (!decode_entry(entries_, next_offset_, &entry) || entry.shared > key_.size() ||
      entry.shared + entry.key_suffix.size() < kInternalKeyTrailerBytes) {
    fail(next_offset_);
    return;
  }
  if (entry.shared == 0) {
    key_ = entry.key_suffix;  // stored whole: no copy
  } else {
    // The shared prefix is the previous key's, which is either in the block or already the
    // buffer's own prefix.
    if (key_.data() != key_buffer_.data()) key_buffer_.assign(key_.data(), entry.shared);
    key_buffer_.resize(entry.shared);
    key_buffer_.append(entry.key_suffix);
    key_ = key_buffer_;
  }
  value_ = entry.value;
  current_offset_ = next_offset_;
  next_offset_ = entry.end_offset;
  valid_ = true;
}

bool BlockCursor::decode_restart_key(uint32_t index, std::string_view* key) {
  const uint32_t offset = restart_offset(index);
  EntryRecord entry;
  if (!decode_entry(entries_, offset, &entry) || entry.shared != 0 ||
      entry.key_suffix.size() < kInternalKeyTrailerBytes) {
    fail(offset);
    return false;
  }
  *key = entry.key_suffix;
  return true;
}

void BlockCursor::fail(size_t offset) {
  valid_ = false;
  status_ = Status::corruption(*file_name_ + ": malformed block entry at offset " +
                               std::to_string(offset) + " within its block");
}

Result<std::shared_ptr<const Block>> Block::parse(std::string contents,
                                                  std::shared_ptr<const std::string> file_name) {
  CAIRN_ASSERT(file_name != nullptr);
  const auto corrupt = [&](std::string_view what) {
    return Status::corruption(*file_name + ": malformed block: " + std::string(what));
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
  return std::make_shared<const Block>(ParsedTag{}, std::move(contents), std::move(file_name),
                                       restarts_offset, restart_count);
}

Block::Block(ParsedTag, std::string contents, std::shared_ptr<const std::string> file_name,
             uint32_t restarts_offset, uint32_t restart_count)
    : contents_(std::move(contents)),
      file_name_(std::move(file_name)),
      restarts_offset_(restarts_offset),
      restart_count_(restart_count) {
  CAIRN_ASSERT(restart_count_ >= 1);
  CAIRN_ASSERT(size_t{restarts_offset_} + 4 * size_t{restart_count_} + 4 == contents_.size());
}

std::unique_ptr<Iterator> Block::new_iterator() const {
  return std::make_unique<BlockIterator>(*this);
}

}  // namespace cairn
