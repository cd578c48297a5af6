#include "storage/table_index.h"

#include <algorithm>

#include "common/assert.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

constexpr size_t kFenceBytes = sizeof(uint64_t);

size_t common_prefix_bytes(std::string_view a, std::string_view b) {
  const size_t limit = std::min(a.size(), b.size());
  size_t length = 0;
  while (length < limit && a[length] == b[length]) length++;
  return length;
}

}  // namespace

Result<TableIndex> TableIndex::build(const Block& index_block, uint64_t blocks_end_bytes,
                                     const std::string& file_name) {
  const auto corrupt = [&](std::string_view what) {
    return Status::corruption(file_name + ": index block: " + std::string(what));
  };
  TableIndex index;
  index.key_starts_.push_back(0);
  BlockCursor cursor(index_block);
  for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
    const std::string_view key = cursor.key();  // the cursor checked it holds a trailer
    const size_t count = index.handles_.size();
    if (count > 0 && compare_internal_keys(index.key(count - 1), key) >= 0) {
      return corrupt("keys out of order at entry " + std::to_string(count));
    }
    std::string_view encoded = cursor.value();
    BlockHandle handle;
    if (!decode_block_handle(&encoded, &handle) || !encoded.empty()) {
      return corrupt("malformed block handle at entry " + std::to_string(count));
    }
    CAIRN_RETURN_IF_ERROR(check_block_handle(handle, blocks_end_bytes, file_name));
    index.key_bytes_.append(key);
    index.key_starts_.push_back(index.key_bytes_.size());
    index.handles_.push_back(handle);
  }
  CAIRN_RETURN_IF_ERROR(cursor.status());

  const size_t count = index.handles_.size();
  if (count > 0) {
    // The keys are sorted, so every user key between the first and the last shares their prefix.
    const std::string_view first = extract_user_key(index.key(0));
    const std::string_view last = extract_user_key(index.key(count - 1));
    index.shared_prefix_ = std::string(first.substr(0, common_prefix_bytes(first, last)));
  }
  index.fences_.reserve(count);
  for (size_t i = 0; i < count; i++) {
    index.fences_.push_back(index.fence_of(extract_user_key(index.key(i))));
  }
  return index;
}

size_t TableIndex::find(std::string_view target) const {
  CAIRN_ASSERT(target.size() >= kInternalKeyTrailerBytes);
  const std::string_view user_key = extract_user_key(target);
  // A target that does not share the prefix is below or above every key.
  const int versus_prefix = user_key.substr(0, shared_prefix_.size()).compare(shared_prefix_);
  if (versus_prefix < 0) return 0;
  if (versus_prefix > 0) return block_count();

  // Fences below the target's belong to smaller keys and fences above it to larger ones; only
  // keys with an equal fence need a whole comparison.
  const auto [equal_begin, equal_end] =
      std::equal_range(fences_.begin(), fences_.end(), fence_of(user_key));
  auto low = static_cast<size_t>(equal_begin - fences_.begin());
  auto high = static_cast<size_t>(equal_end - fences_.begin());
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    if (compare_internal_keys(key(middle), target) < 0) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

uint64_t TableIndex::fence_of(std::string_view user_key) const {
  CAIRN_ASSERT(user_key.size() >= shared_prefix_.size());
  const std::string_view bytes = user_key.substr(shared_prefix_.size(), kFenceBytes);
  uint64_t fence = 0;
  for (size_t i = 0; i < kFenceBytes; i++) {
    fence = (fence << 8) | (i < bytes.size() ? static_cast<uint8_t>(bytes[i]) : 0);
  }
  return fence;
}

}  // namespace cairn
