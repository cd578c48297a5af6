// Collection metadata: the payload of a hash's, set's, list's or sorted set's key record
// (docs/keyspace-format.md, "Collections"). Its elements are records of their own, keyed by
// (user key, generation, element) (engine_key.h); the metadata says which generation is live,
// so deleting or replacing a collection of any size rewrites this one record, and the elements
// of every other generation are unreachable (and dropped by compaction).
//   hash, set:  [generation: u64 LE][element count: u64 LE]
//   list:       [generation: u64 LE][element count: u64 LE][head position: u64 LE]
//   sorted set: [generation: u64 LE][element count: u64 LE]
//               [floor length: u16 LE][floor][ceiling length: u16 LE][ceiling]
// A list's elements sit at positions head .. head + count - 1. A sorted set's floor and ceiling
// are bounds on its score index (sorted_set_score.h) that ZPOPMIN and ZPOPMAX leave behind, so
// that the next pop seeks past the deletions of the last ones instead of stepping over them.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "model/key_record.h"

namespace cairn {

struct CollectionMeta {
  uint64_t generation = 0;
  uint64_t count = 0;      // live elements; a collection with none does not exist
  uint64_t list_head = 0;  // lists only: the position of the first element
  // Sorted sets only: every live score-index element sorts after `index_floor` and before
  // `index_ceiling`; empty when no such bound is known. At most kIndexBoundBytesMax each.
  std::string index_floor;
  std::string index_ceiling;
};

constexpr size_t kIndexBoundBytesMax = 256;

// The first list's head: the middle of the position space, so that both ends have room to grow.
constexpr uint64_t kListInitialHead = uint64_t{1} << 63;

// A list element's element bytes: its position, big-endian, so that positions sort in order.
constexpr size_t kListPositionBytes = 8;
std::string encode_list_position(uint64_t position);
// False unless `element` is exactly kListPositionBytes long.
bool decode_list_position(std::string_view element, uint64_t* position);

// Whether the collections of `type` keep a sample index (engine_key.h, kSampleTag): one record
// per member of a set, hash or sorted set, written and removed with the member, so that a
// random member is one seek away (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER). Lists have none.
inline bool has_sample_index(RecordType type) {
  return type == RecordType::kSet || type == RecordType::kHash || type == RecordType::kSortedSet;
}

// REQUIRES: is_collection(type).
std::string encode_collection_meta(RecordType type, const CollectionMeta& meta);
// Corruption if the payload's size is not the type's. REQUIRES: is_collection(type).
Result<CollectionMeta> decode_collection_meta(RecordType type, std::string_view payload);

}  // namespace cairn
