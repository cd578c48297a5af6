// Collections as the data-type commands use them (hash_commands.cc and the like): a key's
// collection found under Redis's type rules, its elements read with one lookup each or walked
// in order, and its record written back through the command's KeyspaceWrite.
//
// A collection's record holds its metadata (model/collection_meta.h): the live generation, the
// element count and, for a list, its head. Its elements are records at
// [slot][tag][key length][key][generation][element] (model/engine_key.h), so one generation's
// elements are one contiguous, ordered range.
//
// Thread-safety: a Collection is a value owned by one command. Writers hold the key's lock from
// find_collection to the commit; readers that make more than one lookup read at a
// KeyspaceSnapshot so that they see one state of the collection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "server/keyspace.h"
#include "storage/write_batch.h"

namespace cairn {

// A point-in-time view of the keyspace, released when destroyed. REQUIRES: the keyspace
// outlives it.
class KeyspaceSnapshot {
 public:
  explicit KeyspaceSnapshot(Keyspace& keyspace)
      : keyspace_(keyspace), snapshot_(keyspace.get_snapshot()) {}
  ~KeyspaceSnapshot() { keyspace_.database().release_snapshot(snapshot_); }
  KeyspaceSnapshot(const KeyspaceSnapshot&) = delete;
  KeyspaceSnapshot& operator=(const KeyspaceSnapshot&) = delete;

  const Snapshot* get() const { return snapshot_; }

 private:
  Keyspace& keyspace_;
  const Snapshot* snapshot_;
};

// One collection as a command sees and changes it.
class Collection {
 public:
  Collection(std::string_view key, RecordType type, const CollectionMeta& meta,
             uint64_t expiry_ms);

  std::string_view key() const { return key_; }
  RecordType type() const { return type_; }
  const CollectionMeta& meta() const { return meta_; }
  CollectionMeta& meta() { return meta_; }
  uint64_t expiry_ms() const { return expiry_ms_; }
  // The engine key of `element` in this generation, under kElementTag or kScoreTag.
  std::string element_key(std::string_view element, char tag = kElementTag) const;
  // What every element key of this generation under `tag` begins with.
  std::string element_prefix(char tag = kElementTag) const;
  // The sample index record of `member` (REQUIRES: has_sample_index(type())).
  std::string sample_key(std::string_view member) const;

  // Every write of an element goes through these three, which keep the sample index of a set,
  // hash or sorted set holding exactly its members (has_sample_index; a list has none):
  // - put_element: `element` (new or not) gets `value`, and its sample record is written;
  // - overwrite_element: as put_element for an element that exists in this generation (read under
  //   the key's lock, or put earlier in the same batch): its sample record is already there;
  // - remove_element: the element and its sample record go (an absent element: harmless).
  // `tag` kScoreTag writes a sorted set's score index entry instead, which is not sampled.
  // The command still writes the record (write_collection) with the count it changed.
  void put_element(KeyspaceWrite& batch, std::string_view element, std::string_view value,
                   char tag = kElementTag) const;
  void overwrite_element(KeyspaceWrite& batch, std::string_view element,
                         std::string_view value) const;
  void remove_element(KeyspaceWrite& batch, std::string_view element,
                      char tag = kElementTag) const;

 private:
  friend class CollectionBuilder;
  bool sampled() const { return has_sample_index(type_); }

  std::string key_;
  RecordType type_;
  CollectionMeta meta_;
  uint64_t expiry_ms_;
  std::string prefix_;  // element_prefix(kElementTag)
  // Set by CollectionBuilder: its generation is held as being built while any copy of this
  // collection lives (building_generations.h).
  BuildingGenerations::Hold build_hold_;
};

// What a collection command found at its key.
struct FoundCollection {
  std::optional<KeyEntry> entry;         // the key's live record, of any type
  std::optional<Collection> collection;  // set when `entry` is a collection of the asked type

  // The key holds another type: the command answers WRONGTYPE.
  bool wrong_type() const { return entry.has_value() && !collection.has_value(); }
};

// Looks `key` up expecting a collection of `type`. `locked` as Keyspace::find (a writer holds
// the key's lock). Corruption if the record's metadata cannot be decoded.
Result<FoundCollection> find_collection(Keyspace& keyspace, std::string_view key,
                                        RecordType type, bool locked);
// As find_collection, read at `snapshot` (a reader).
Result<FoundCollection> find_collection_at(Keyspace& keyspace, std::string_view key,
                                           RecordType type, const KeyspaceSnapshot& snapshot);
// The collection a write of `type` to `key` changes: the one found, or a new empty one with a
// fresh generation when the key is absent. REQUIRES: !found.wrong_type().
Result<Collection> collection_for_write(Keyspace& keyspace, std::string_view key, RecordType type,
                                        const FoundCollection& found);
// Writes `collection`'s record (removing the key when it has no elements) into `write`;
// `found` is what find_collection returned for it.
Status write_collection(KeyspaceWrite& write, const Collection& collection,
                        const FoundCollection& found);

// Builds a new generation of a collection under one key, for commands that replace a key with a
// collection of any size (RENAME, COPY, SUNIONSTORE, ...). Elements are written in batches of
// their own (kBatchBytes) as they are added, with their sample records; until the command writes
// the returned collection's record (write_collection) they are unreachable. Compaction keeps them
// while the builder or a copy of the collection it returned lives (building_generations.h), and
// drops them if the command gives up without the record or the process stops first.
// REQUIRES: the key's lock held from start to the record's commit, and the returned collection
// kept until then; each element added once per tag.
class CollectionBuilder {
 public:
  static constexpr size_t kBatchBytes = 4 << 20;

  static Result<CollectionBuilder> start(Keyspace& keyspace, std::string_view key,
                                         RecordType type, uint64_t expiry_ms);
  // Adds an element (counted, and sampled as Collection::put_element does, when its tag is
  // kElementTag) or a score index entry.
  Status add(std::string_view element, std::string_view value, char tag = kElementTag);
  // Writes what is buffered and returns the collection, its count the elements added.
  Result<Collection> finish();

 private:
  CollectionBuilder(Keyspace& keyspace, Collection collection)
      : keyspace_(&keyspace), collection_(std::move(collection)) {}

  Keyspace* keyspace_;
  Collection collection_;
  WriteBatch batch_;
};

// RENAME and COPY of a collection: copies `source`'s elements (and a sorted set's score index)
// to a new generation of `target_key` through a CollectionBuilder, which writes the target's
// sample index (its positions depend on the generation, so the source's is not copied).
Result<Collection> copy_collection(Keyspace& keyspace, const Collection& source,
                                   std::string_view target_key, uint64_t expiry_ms);

// Walks the elements of one collection generation in element order, either way, at a snapshot
// or now.
// REQUIRES: the keyspace and the collection outlive it.
class ElementIterator {
 public:
  ElementIterator(Keyspace& keyspace, const Collection& collection,
                  const KeyspaceSnapshot* snapshot, char tag = kElementTag);

  // Positions at the first element >= `element` ("" = the first).
  void seek(std::string_view element);
  // Positions at the last element <= `element`.
  void seek_for_prev(std::string_view element);
  // Positions at the last element.
  void seek_to_last();
  bool valid() const { return valid_; }
  // REQUIRES: valid().
  void next();
  void prev();
  std::string_view element() const;
  std::string_view value() const;
  Status status() const { return iterator_->status(); }

 private:
  void settle();

  std::unique_ptr<Iterator> iterator_;
  std::string prefix_;
  std::string prefix_end_;  // the first key after every key that begins with prefix_
  std::string target_;
  bool valid_ = false;
};

// One page of HSCAN / SSCAN / ZSCAN: about `count` elements examined from `cursor` (0 = the
// first), those whose element bytes match the glob `pattern` returned with their values. The
// cursor is a SCAN cursor (scan_cursors.h) naming the element key to resume after; a cursor the
// table no longer holds starts the collection over. Guarantee as SCAN's: every element present
// for the whole scan is returned at least once.
using ElementValues = std::vector<std::pair<std::string, std::string>>;

// Every element of the collection with its value, in element order (HGETALL, SMEMBERS...).
// Corruption when the elements found are not as many as its metadata counts.
Result<ElementValues> all_elements(Keyspace& keyspace, const Collection& collection,
                                   const KeyspaceSnapshot& snapshot);

struct ElementScanPage {
  uint64_t cursor = 0;  // 0 when the scan is complete
  ElementValues elements;
};
Result<ElementScanPage> scan_elements(Keyspace& keyspace, const Collection& collection,
                                      const KeyspaceSnapshot& snapshot, uint64_t cursor,
                                      std::string_view pattern, uint64_t count);

}  // namespace cairn
