// MemTable: the in-memory buffer of recent writes, before they are flushed to a table.
// Each add() is one entry, encoded in an Arena as
//
//   varint32 internal-key length, internal key (internal_key.h), varint32 value length, value
//
// Two structures find entries:
// - a PointIndex maps each user key to its newest entry, so that get() at the latest sequence
//   (the common case) costs a hash probe;
// - sorted runs give internal-key order (user key ascending, newest first) to iterators, to
//   get() at an older sequence, and to keys a full point index refused. add() only appends the
//   entry to an unsorted pending list; whoever next needs order (an iterator, usually the flush,
//   or the database's background sort-ahead once many are pending) sorts the pending entries into
//   a new run and merges it into runs at most 8 times its size, so that about log8(entries) runs
//   exist. Sorting a batch of pointers costs a small fraction of
//   inserting each entry into a skiplist, whose descent is a cache miss per step.
// Entries are never removed or changed; a delete is an entry of type kDeletion (a tombstone), and
// a value kept in a blob file is an entry of type kBlobReference whose value is the reference.
//
// Thread-safety: add() by ONE writer at a time (external synchronization); get(), iterators,
// memory_usage_bytes(), entry_count() and blob_file_numbers() from any thread, concurrently
// with the writer. Sorting happens on the thread that asks for order, outside the lock add()
// takes, so a writer waits at most for a vector swap.
// Ownership: owns its arena; keys and values it hands out point into the arena and stay valid
// as long as the memtable.
// Invariants: no two entries have the same internal key (sequence numbers are unique per write);
// every entry is in exactly one of the pending list and the runs; each run is sorted; the point
// index holds, for every user key it has, the entry with the highest sequence; a user key it
// lacks while point_index_complete_ is true has no entry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/arena.h"
#include "storage/internal_key.h"
#include "storage/iterator.h"
#include "storage/point_index.h"

namespace cairn {

struct MemTableOptions {
  // Slots of the point index (rounded up to a power of two, 8 bytes each); 0 for none, as for a
  // memtable that is only ever flushed. memtable_point_index_slots() sizes it for a write buffer.
  size_t point_index_slot_count = 1 << 12;
};

// Point index slots for a memtable of `write_buffer_bytes`: one per 32 bytes, so that entries of
// a few dozen bytes fill the memtable before they fill the index.
size_t memtable_point_index_slots(size_t write_buffer_bytes);

class MemTable {
 public:
  explicit MemTable(const MemTableOptions& options = {});
  ~MemTable();
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // REQUIRES: one writer at a time; sequence <= kSequenceNumberMax; type <= kValueTypeMax; no
  // earlier add() with the same (user_key, sequence, type); user_key.size() + 8 and value.size()
  // fit in a u32; the value of a kBlobReference entry is a well-formed encoded reference (its
  // blob file is noted before the entry becomes visible).
  void add(SequenceNumber sequence, ValueType type, std::string_view user_key,
           std::string_view value);

  // The newest entry for user_key with sequence <= `sequence`: kFound with *value set to its
  // value, kBlobReference with *value set to the encoded reference, kDeleted for a tombstone,
  // kAbsent when there is none (*value untouched but for kFound and kBlobReference).
  // REQUIRES: sequence <= kSequenceNumberMax.
  LookupResult get(std::string_view user_key, SequenceNumber sequence, std::string* value) const;

  // An iterator over the entries added before this call, in internal-key order (both ways):
  // key() is the internal key, value() the value. seek() and seek_for_prev() take an internal
  // key. REQUIRES: the memtable outlives the iterator (the engine can tie them with
  // Iterator::keep_alive).
  std::unique_ptr<Iterator> new_iterator() const;

  // Bytes held by the arena (the entries) plus the sorted runs' share (one EntryKey per entry);
  // not the point index, whose size is fixed at creation.
  size_t memory_usage_bytes() const {
    return arena_.memory_usage_bytes() + entry_count() * sizeof(EntryKey);
  }
  // True once the point index may refuse new keys: the memtable should be switched, or its
  // lookups of new keys fall back to the sorted runs.
  bool point_index_full() const { return point_index_.at_load_limit(); }
  // For a prefetch of the index slot an add() of a key will probe (PointIndex::prefetch).
  PointIndex::PrefetchTarget point_index_prefetch_target() const {
    return point_index_.prefetch_target();
  }
  uint64_t entry_count() const { return entry_count_.load(std::memory_order_relaxed); }
  // Entries added and not yet sorted into a run.
  uint64_t pending_count() const { return pending_count_.load(std::memory_order_relaxed); }
  // Sorts the pending entries into the runs now, as the next iterator would: for a background
  // thread, so that an iterator created after a burst of writes (often a command's, on an event
  // loop) does not sort the whole burst first.
  void sort_pending() const { sorted_runs(); }
  // The blob files the kBlobReference entries added so far name (they stay live while this
  // memtable does), ascending.
  std::vector<uint64_t> blob_file_numbers() const;

 private:
  friend class MemTableIterator;

  // An entry of a run: the encoded entry (a pointer to its length-prefixed internal key) and the
  // first 8 bytes of its user key, big-endian and zero-padded. Entries whose prefixes differ
  // compare by them alone, without touching the entry, which saves a cache miss at most steps of
  // a sort, merge or search.
  struct EntryKey {
    const char* entry = nullptr;
    uint64_t user_key_prefix = 0;
  };
  // Orders entry keys by internal key.
  struct EntryKeyLess {
    bool operator()(const EntryKey& a, const EntryKey& b) const;
  };
  using Run = std::vector<EntryKey>;
  // The runs at one moment, largest (oldest) first; immutable once published, so iterators share
  // them without locks.
  using Runs = std::vector<std::shared_ptr<const Run>>;

  // Sorts `run` by EntryKeyLess.
  static void sort_entry_keys(Run* run);
  // Sorts [first, last) by EntryKey::user_key_prefix alone.
  static void sort_by_prefix(EntryKey* first, EntryKey* last);
  // Sorts by EntryKeyLess a group of entries whose user keys, zero-padded, agree on their first
  // `depth` bytes, of which the first 8 are `prefix`; leaves `prefix` in their prefix fields.
  // REQUIRES: depth >= 8.
  static void sort_tied_entry_keys(EntryKey* first, EntryKey* last, size_t depth, uint64_t prefix);
  // As sort_tied_entry_keys, but leaves anything in the prefix fields (the caller restores them).
  static void sort_tied_chunks(EntryKey* first, EntryKey* last, size_t depth, uint64_t prefix);
  // Appends to *out the entries of two sorted runs, in order.
  static void merge_runs(const Run& first, const Run& second, Run* out);
  // Sorts the pending entries into the runs and returns them: every entry added before the call
  // is in them.
  std::shared_ptr<const Runs> sorted_runs() const;
  // The runs' answer, for lookups the point index cannot give.
  LookupResult get_from_runs(std::string_view user_key, SequenceNumber sequence,
                             std::string* value) const;

  // Destroyed last, after the arena and runs have freed their memory: when that was much, gives
  // the freed pages back to the OS, so that a flushed memtable leaves no resident memory behind.
  struct FreedMemoryReturner {
    size_t freed_bytes = 0;  // set by ~MemTable
    ~FreedMemoryReturner();
  };
  FreedMemoryReturner freed_memory_returner_;

  Arena arena_;
  PointIndex point_index_;
  // False once the point index refused a key: from then on a key it lacks may still be here.
  std::atomic<bool> point_index_complete_{true};
  std::atomic<uint64_t> entry_count_{0};

  mutable std::mutex pending_mutex_;  // guards pending_; held by add() for one push_back
  mutable Run pending_;               // added, not yet in a run; in add() order
  mutable std::atomic<uint64_t> pending_count_{0};  // pending_.size(), for any thread
  mutable std::mutex runs_mutex_;     // serializes sorted_runs(); guards runs_
  mutable std::shared_ptr<const Runs> runs_;

  mutable std::mutex blob_files_mutex_;  // guards blob_file_numbers_
  std::set<uint64_t> blob_file_numbers_;
};

}  // namespace cairn
