// Pop-ahead: the elements the next pops of one collection will take, read in one walk.
//
// In the engine a pop from a large collection costs an iterator and a seek: SPOP seeks into the
// sample index and steps a few records, ZPOPMIN seeks to the score index's floor. Redis follows a
// pointer. A client that pops again and again from one collection (a work queue, a draw of
// winners) would pay the seek for every pop, and SPOP would also step over the tombstones of the
// members popped before, scattered through the index. Instead a pop reads the elements that come
// next as well (a run: none the first time, then one, then twice as many each time a run is used
// up, up to kRunElementsMax) and keeps them; the next pop of the same kind takes from them
// without reading the index at all. The first pop after a change reads exactly what it takes, so
// a workload that changes the collection between pops pays no more than before.
//
// What a run holds:
// - SPOP: the consecutive sample-index records after a draw's landing record
//   (collection_sample.h). The first pop of a run is thus a draw, and each next pop the member
//   that follows the previous one in the index, whose position is a keyed hash of the member: to
//   a client each pop is as near-uniform as a draw, and a run's members are as good as a random
//   subset.
// - ZPOPMIN / ZPOPMAX: the next score-index elements from the low (high) end.
// - LPOP / RPOP without a count: the next elements from the list's head (tail), read by one walk
//   where each pop would otherwise look its element up in the tables, cold.
//
// A run is true only while nothing else changes its collection. Every committed write of a key,
// its expiry and FLUSHDB drop the key's run (Keyspace::notify); a run also names the generation
// and element count its collection has after the pop that kept it, and is ignored when they
// differ. A pop keeps what is left of its run only after its own commit (KeyspaceWrite).
//
// Bounds: kRunElementsMax elements and about kRunBytesMax bytes per run, runs for at most
// kRunsMax keys (a pop whose key finds no room keeps nothing and reads one element each time).
//
// Thread-safety: every method may be called from any thread. A key's run is taken and kept by
// pops that hold the key's lock, and dropped by writers of the key, who hold it too.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/collection_meta.h"

namespace cairn {

// Which pops a run serves.
enum class PopKind : uint8_t {
  kRandom,  // SPOP: members of a set, from its sample index
  kMin,     // ZPOPMIN and the like: score-index elements from the low end
  kMax,     // ZPOPMAX and the like: from the high end
  kHead,    // LPOP: a list's elements from its head
  kTail,    // RPOP: from its tail
};

// Elements read ahead for the next pops of one collection.
class PopRun {
 public:
  // A run refill creates an engine iterator, which merges the memtable's sorted runs: with 4096
  // rather than 512 elements a run, SPOP on a large set cost 0.92x the CPU per request
  // (bench/cairnd_ab.py). Memory: kRunsMax runs of kRunBytesMax, 16 MiB at most.
  static constexpr size_t kRunElementsMax = 4096;
  static constexpr size_t kRunBytesMax = 256 << 10;

  PopRun(PopKind kind, uint64_t generation) : kind_(kind), generation_(generation) {}

  PopKind kind() const { return kind_; }
  uint64_t generation() const { return generation_; }
  // The collection's element count once the pop that keeps this run has committed.
  uint64_t count() const { return count_; }
  void set_count(uint64_t count) { count_ = count; }

  bool empty() const { return next_ == elements_.size(); }
  // How many elements a read for this run should bring beyond those its pop takes at once: none
  // the first time, then 1, 2, 4, ... up to kRunElementsMax, so that a run is read ahead only
  // for a client that used up the one before.
  size_t elements_ahead() const { return elements_ahead_; }
  // Whether elements read ahead so far fill a run (`bytes` their size): stop reading when true.
  bool full(size_t elements, size_t bytes) const {
    return elements >= elements_ahead_ || bytes >= kRunBytesMax;
  }
  // Elements left.
  size_t size() const { return elements_.size() - next_; }
  // Holds `elements`, read ahead of the pop that read them, for the next pops, in place of what
  // the run held.
  void refill(std::vector<std::string> elements);
  // Takes the first of `read` (what a pop read: the element it pops, then those after it in pop
  // order) and refills the run with as many of the rest as fill it. REQUIRES: !read.empty().
  std::string take_first_and_refill(std::vector<std::string> read);
  // The next element; REQUIRES: !empty().
  std::string take();

 private:
  PopKind kind_;
  uint64_t generation_;
  uint64_t count_ = 0;
  size_t elements_ahead_ = 0;
  std::vector<std::string> elements_;
  size_t next_ = 0;
};

// The runs kept between pops, one per key at most.
class PopAhead {
 public:
  static constexpr size_t kRunsMax = 64;

  // Removes and returns `key`'s run if it serves `kind` pops of the collection described by
  // `meta` (same generation, same count); nullopt otherwise (a stale run is dropped).
  // REQUIRES: the key's lock held.
  std::optional<PopRun> take(std::string_view key, PopKind kind, const CollectionMeta& meta);
  // Keeps `run` for `key`'s next pop, unless kRunsMax runs are kept already.
  // REQUIRES: the key's lock held, and the pop that read it committed.
  void keep(std::string_view key, PopRun run);
  // `key` was changed: its run, if any, is dropped.
  void forget(std::string_view key);
  // Every key was changed (FLUSHDB).
  void clear();
  // Runs kept now (for tests).
  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, PopRun> runs;
  };
  Shard& shard_of(std::string_view key);

  std::array<Shard, kShards> shards_;
  // Runs kept: writers skip the shard lock while there are none, as there are unless a client is
  // popping from a large collection.
  std::atomic<size_t> size_{0};
};

}  // namespace cairn
