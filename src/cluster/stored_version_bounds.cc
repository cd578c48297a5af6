#include "cluster/stored_version_bounds.h"

#include <algorithm>

#include "common/checksum.h"

namespace cairn {

static_assert((kStoredVersionBucketCount & (kStoredVersionBucketCount - 1)) == 0,
              "the bucket count is a power of two: a mask picks the bucket");

void StoredVersionBounds::note_stored(std::string_view key, HlcTimestamp timestamp) {
  HlcTimestamp& bound = bounds_[bucket(key)];
  bound = std::max(bound, timestamp);
}

void StoredVersionBounds::note_stored_everywhere(HlcTimestamp timestamp) {
  for (HlcTimestamp& bound : bounds_) bound = std::max(bound, timestamp);
}

size_t StoredVersionBounds::bucket(std::string_view key) {
  return hash64(key) & (kStoredVersionBucketCount - 1);
}

}  // namespace cairn
