// Random elements of a set, hash or sorted set (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER),
// drawn through the collection's sample index (model/engine_key.h, kSampleTag;
// docs/keyspace-format.md, "Sample index") in one seek and a few steps, whatever its size.
//
// The index holds one record per member at a position that is a keyed hash of the member. A
// draw seeks to a random position r, takes the first record at or after it (wrapping past the
// end to the first), and from there steps a random t in [0, kSampleWindow) records further.
// A member's chance is thus the mean of the kSampleWindow gaps between positions that end at the
// records before it (itself included): near-uniform, not exact. With positions uniform over
// 2^64 a member's chance relative to 1/N follows about a Gamma(16, 1/16) law: mean 1, standard
// deviation 0.25, about 1% of members below half their fair share and 1% above 1.7 times it.
// (Taking the first record alone, t = 0, would leave each member its one gap, Exp(1): a tenth of
// the members drawn at under a tenth of their share.) Redis's dictGetFairRandomKey is not exact
// either. Collections of at most kSampleWindow members, and counts that are a large part of the
// collection, are drawn exactly by one pass over the elements instead.
//
// Thread-safety: as collection.h: readers draw at a snapshot, writers under the key's lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "server/collection.h"
#include "server/keyspace.h"

namespace cairn {

// The records a draw may step past its landing record, and so the number of gaps a member's
// chance averages; a collection with no more members than this is drawn by a pass over them.
constexpr uint64_t kSampleWindow = 16;
// A count is drawn by seeks when count * kDrawRatioMin <= size, by one pass otherwise. A seek and
// its steps cost about as much as walking a few dozen elements, so a pass is cheaper past about
// size / 25 draws; and with count <= size / 16, distinct draws rarely repeat (about count / 32
// repeats, birthday bound).
constexpr uint64_t kDrawRatioMin = 16;

// Draws members of one collection through its sample index.
// REQUIRES: has_sample_index(collection.type()), collection.meta().count > kSampleWindow; the
// keyspace, the collection and the snapshot outlive it.
class SampleDrawer {
 public:
  SampleDrawer(Keyspace& keyspace, const Collection& collection, const KeyspaceSnapshot* snapshot);

  // A member, near-uniformly (above). Corruption when the index holds fewer than
  // kSampleWindow records (it must hold the collection's members).
  Result<std::string> draw();
  // A draw, then up to `count` - 1 members that follow it in the index (wrapping past its end
  // once at most): distinct when `count` is at most the collection's size. Each member of the
  // run is as likely as a draw to be in its place (it follows a draw's landing record at a
  // fixed distance), and the members after the first add no seek (SPOP's pop-ahead runs).
  Result<std::vector<std::string>> draw_run(size_t count);

 private:
  // Whether the iterator is on one of the index's records; past the end, wraps to the first
  // once per draw (*wrapped records it).
  Result<bool> settle(bool* wrapped);
  // Positions the iterator on a drawn record (*wrapped: whether it wrapped to get there).
  Status land(bool* wrapped);
  // The member of the record the iterator is on.
  Result<std::string> member() const;

  Keyspace& keyspace_;
  std::unique_ptr<Iterator> iterator_;
  std::string prefix_;  // collection.element_prefix(kSampleTag)
  std::string target_;
};

// Random elements, with their values when `with_values` (otherwise a value may be empty): with
// `distinct`, min(count, size) different elements (all of them, in element order, when count >=
// size); otherwise exactly `count`, repeats allowed, in draw order. By seeks (SampleDrawer) when
// the collection is sampled, larger than kSampleWindow and count * kDrawRatioMin <= size; by one
// exact pass otherwise, or when distinct draws keep repeating. A value is read with one lookup
// per drawn element, which also checks that the element exists: Corruption otherwise.
Result<ElementValues> random_elements(Keyspace& keyspace, const Collection& collection,
                                      const KeyspaceSnapshot& snapshot, uint64_t count,
                                      bool distinct, bool with_values);

}  // namespace cairn
