// StoredVersionBounds: for each of a fixed number of buckets of user keys, an upper bound on the
// timestamps of every state the replica store holds for the keys in that bucket. It lets the
// store apply a write that replaces a key (SET, DEL, a list written whole) without first reading
// the key: when the write is newer than the bound of its key's bucket, it is newer than
// everything stored for the key, so merging it into the stored state gives the same result as
// merging it into nothing (KeyState::replaces_older_states()).
//
// Invariant: for every stored state s of a key k, s.newest_version().timestamp <= bound(k).
// The bounds start at one value the caller knows to bound everything stored (the store keeps it
// durable: replica_store.h), and each write raises its bucket to the newest version it stored.
// They live in memory only, so a bound is never lower than it must be after a restart.
//
// Thread-safety: none; the replica store's one thread.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/hlc.h"

namespace cairn {

// 64 K buckets (512 KiB): with a million keys about 16 keys share a bucket, so a write rarely
// finds its bucket raised by another key's write that arrived just before it out of HLC order.
constexpr size_t kStoredVersionBucketCount = size_t{1} << 16;

class StoredVersionBounds {
 public:
  // REQUIRES: `initial` bounds every state stored now.
  explicit StoredVersionBounds(HlcTimestamp initial)
      : bounds_(kStoredVersionBucketCount, initial) {}

  // Whether `timestamp` is newer than every state stored for `key`.
  bool newer_than_stored(std::string_view key, HlcTimestamp timestamp) const {
    return bounds_[bucket(key)] < timestamp;
  }
  // Records that a state with newest timestamp `timestamp` is stored for `key`.
  void note_stored(std::string_view key, HlcTimestamp timestamp);
  // Records that states up to `timestamp` may be stored for any key (a FLUSHALL's rewrite).
  void note_stored_everywhere(HlcTimestamp timestamp);

 private:
  static size_t bucket(std::string_view key);

  std::vector<HlcTimestamp> bounds_;
};

}  // namespace cairn
