#include "storage/block_builder.h"

#include <algorithm>

#include "common/assert.h"
#include "common/coding.h"
#include "storage/internal_key.h"
#include "storage/table_format.h"

namespace cairn {

BlockBuilder::BlockBuilder(int restart_interval) : restart_interval_(restart_interval) {
  CAIRN_ASSERT(restart_interval_ >= 1);
  restart_offsets_.push_back(0);
}

void BlockBuilder::add(std::string_view key, std::string_view value) {
  CAIRN_ASSERT(!finished_);
  CAIRN_ASSERT(key.size() >= kInternalKeyTrailerBytes);
  CAIRN_ASSERT(empty() || compare_internal_keys(last_key_, key) < 0);
  // The worst-case growth: three varints, the key, the value and one more restart offset.
  CAIRN_ASSERT(size_estimate_bytes() + 3 * kVarint32LengthMax + key.size() + value.size() + 4 <
               kBlockContentsBytesMax);

  size_t shared = 0;
  if (entries_since_restart_ == restart_interval_) {
    restart_offsets_.push_back(static_cast<uint32_t>(buffer_.size()));
    entries_since_restart_ = 0;
  } else {
    const size_t limit = std::min(last_key_.size(), key.size());
    while (shared < limit && last_key_[shared] == key[shared]) shared++;
  }
  const size_t unshared = key.size() - shared;
  put_varint32(&buffer_, static_cast<uint32_t>(shared));
  put_varint32(&buffer_, static_cast<uint32_t>(unshared));
  put_varint32(&buffer_, static_cast<uint32_t>(value.size()));
  buffer_.append(key.substr(shared));
  buffer_.append(value);

  last_key_.resize(shared);
  last_key_.append(key.substr(shared));
  entries_since_restart_++;
}

std::string_view BlockBuilder::finish() {
  CAIRN_ASSERT(!finished_);
  for (const uint32_t offset : restart_offsets_) put_fixed32(&buffer_, offset);
  put_fixed32(&buffer_, static_cast<uint32_t>(restart_offsets_.size()));
  finished_ = true;
  return buffer_;
}

void BlockBuilder::reset() {
  buffer_.clear();
  restart_offsets_.assign(1, 0);
  entries_since_restart_ = 0;
  finished_ = false;
  last_key_.clear();
}

size_t BlockBuilder::size_estimate_bytes() const {
  if (finished_) return buffer_.size();
  return buffer_.size() + restart_offsets_.size() * sizeof(uint32_t) + sizeof(uint32_t);
}

}  // namespace cairn
