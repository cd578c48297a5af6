// MemTable: the in-memory, sorted buffer of recent writes, before they are flushed to a table.
// Each add() is one entry, encoded in an Arena as
//
//   varint32 internal-key length, internal key (internal_key.h), varint32 value length, value
//
// and indexed by SkipLists ordered by compare_internal_keys: user key ascending, newest first.
// There is one list per first byte of the user key (an empty key goes with 0x00): every key of
// list b sorts before every key of list b + 1, so the lists in turn are the whole table in order,
// and an insert descends a list a fraction of the table's size. Engine keys begin with their
// slot, so cairnd's keys spread over 64 lists.
// A PointIndex beside it maps each user key to its newest entry, so that get() at the latest
// sequence (the common case) skips the skiplist descent.
// Entries are never removed or changed; a delete is an entry of type kDeletion (a tombstone), and
// a value kept in a blob file is an entry of type kBlobReference whose value is the reference.
//
// Thread-safety: add() by ONE writer at a time (external synchronization); get(), iterators,
// memory_usage_bytes(), entry_count() and blob_file_numbers() from any thread, concurrently
// with the writer.
// Ownership: owns its arena; keys and values it hands out point into the arena and stay valid
// as long as the memtable.
// Invariants: no two entries have the same internal key (sequence numbers are unique per write);
// the point index holds, for every user key it has, the entry with the highest sequence; a user
// key it lacks while point_index_complete_ is true has no entry.
#pragma once

#include <array>
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
#include "storage/skiplist.h"

namespace cairn {

// Node heights affect speed only, never results, so a fixed default seed is fine; tests and the
// simulator may pass their own.
constexpr uint64_t kMemTableSkipListSeedDefault = 0xca1b5eed;

struct MemTableOptions {
  // Slots of the point index (rounded up to a power of two, 8 bytes each); 0 for none, as for a
  // memtable that is only ever flushed. memtable_point_index_slots() sizes it for a write buffer.
  size_t point_index_slot_count = 1 << 12;
  uint64_t skiplist_seed = kMemTableSkipListSeedDefault;
};

// Point index slots for a memtable of `write_buffer_bytes`: one per 32 bytes, so that entries of
// a few dozen bytes fill the memtable before they fill the index.
size_t memtable_point_index_slots(size_t write_buffer_bytes);

class MemTable {
 public:
  explicit MemTable(const MemTableOptions& options = {});
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

  // Bytes held by the arena: entries and skiplists together (not the point index, whose size is
  // fixed at creation).
  size_t memory_usage_bytes() const { return arena_.memory_usage_bytes(); }
  // True once the point index may refuse new keys: the memtable should be switched, or its
  // lookups of new keys fall back to the skiplist.
  bool point_index_full() const { return point_index_.at_load_limit(); }
  uint64_t entry_count() const { return entry_count_.load(std::memory_order_relaxed); }
  // The blob files the kBlobReference entries added so far name (they stay live while this
  // memtable does), ascending.
  std::vector<uint64_t> blob_file_numbers() const;

 private:
  friend class MemTableIterator;

  // A skiplist key: an encoded entry (a pointer to its length-prefixed internal key) and the first
  // 8 bytes of its user key, big-endian and zero-padded. Keys whose prefixes differ compare by
  // them alone, without touching the entry, which saves a cache miss at most steps of a search.
  struct EntryKey {
    const char* entry = nullptr;
    uint64_t user_key_prefix = 0;
  };
  // Orders entry keys by internal key.
  struct EntryComparator {
    int operator()(const EntryKey& a, const EntryKey& b) const;
  };
  using Table = SkipList<EntryKey, EntryComparator>;
  static constexpr size_t kTableCount = 256;

  static size_t table_index(std::string_view user_key) {
    return user_key.empty() ? 0 : static_cast<unsigned char>(user_key[0]);
  }
  // List `index`, or null while no entry has gone there (lists are made on first use).
  const Table* table(size_t index) const { return tables_[index].load(std::memory_order_acquire); }
  // The skiplist's answer, for lookups the point index cannot give.
  LookupResult get_from_skiplist(std::string_view user_key, SequenceNumber sequence,
                                 std::string* value) const;

  Arena arena_;                                            // before tables_, which allocate from it
  std::array<std::atomic<Table*>, kTableCount> tables_{};  // published once made
  std::array<std::unique_ptr<Table>, kTableCount> owned_tables_;  // the writer's
  const uint64_t skiplist_seed_;
  PointIndex point_index_;
  // False once the point index refused a key: from then on a key it lacks may still be in tables_.
  std::atomic<bool> point_index_complete_{true};
  std::atomic<uint64_t> entry_count_{0};
  mutable std::mutex blob_files_mutex_;  // guards blob_file_numbers_
  std::set<uint64_t> blob_file_numbers_;
};

}  // namespace cairn
