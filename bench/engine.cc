// Helpers shared by the adapters (engine.h).
#include "engine.h"

#include <algorithm>

namespace cairn::bench {

std::string materialize_large_value(uint64_t size_bytes, const ChunkSource& source) {
  std::string value(size_bytes, '\0');
  for (uint64_t offset = 0; offset < size_bytes; offset += kLargeValueChunkBytes) {
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(kLargeValueChunkBytes, size_bytes - offset));
    source(offset, std::span<char>(value.data() + offset, length));
  }
  return value;
}

Status feed_large_value(std::string_view value, const ChunkSink& sink) {
  for (size_t offset = 0; offset < value.size(); offset += kLargeValueChunkBytes) {
    CAIRN_RETURN_IF_ERROR(sink(value.substr(offset, kLargeValueChunkBytes)));
  }
  return Status::ok();
}

std::string format_bytes(uint64_t bytes) {
  constexpr uint64_t kKiB = 1024;
  constexpr uint64_t kMiB = kKiB * 1024;
  constexpr uint64_t kGiB = kMiB * 1024;
  if (bytes >= kGiB && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + " GiB";
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " B";
}

}  // namespace cairn::bench
