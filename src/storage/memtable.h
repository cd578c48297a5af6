// MemTable: the in-memory, sorted buffer of recent writes, before they are flushed to a table.
// Each add() is one entry, encoded in an Arena as
//
//   varint32 internal-key length, internal key (internal_key.h), varint32 value length, value
//
// and indexed by a SkipList ordered by compare_internal_keys: user key ascending, newest first.
// Entries are never removed or changed; a delete is an entry of type kDeletion (a tombstone), and
// a value kept in a blob file is an entry of type kBlobReference whose value is the reference.
//
// Thread-safety: add() by ONE writer at a time (external synchronization); get(), iterators,
// memory_usage_bytes(), entry_count() and blob_file_numbers() from any thread, concurrently
// with the writer.
// Ownership: owns its arena; keys and values it hands out point into the arena and stay valid
// as long as the memtable.
// Invariant: no two entries have the same internal key (sequence numbers are unique per write).
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
#include "storage/skiplist.h"

namespace cairn {

// Node heights affect speed only, never results, so a fixed default seed is fine; tests and the
// simulator may pass their own.
constexpr uint64_t kMemTableSkipListSeedDefault = 0xca1b5eed;

class MemTable {
 public:
  explicit MemTable(uint64_t skiplist_seed = kMemTableSkipListSeedDefault);
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

  // An iterator over the entries in internal-key order: key() is the internal key, value() the
  // value. seek() takes an internal key. REQUIRES: the memtable outlives the iterator (the engine
  // can tie them with Iterator::keep_alive).
  std::unique_ptr<Iterator> new_iterator() const;

  // Bytes held by the arena, entries and index together.
  size_t memory_usage_bytes() const { return arena_.memory_usage_bytes(); }
  uint64_t entry_count() const { return entry_count_.load(std::memory_order_relaxed); }
  // The blob files the kBlobReference entries added so far name (they stay live while this
  // memtable does), ascending.
  std::vector<uint64_t> blob_file_numbers() const;

 private:
  friend class MemTableIterator;

  // Orders encoded entries (pointers to their length-prefixed internal key) by internal key.
  struct EntryComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, EntryComparator>;

  Arena arena_;  // before table_, which allocates from it
  Table table_;
  std::atomic<uint64_t> entry_count_{0};
  mutable std::mutex blob_files_mutex_;  // guards blob_file_numbers_
  std::set<uint64_t> blob_file_numbers_;
};

}  // namespace cairn
