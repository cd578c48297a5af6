// BlobStore: the blob files of one database (docs/blob-format.md) — where values larger than
// Options::blob_value_threshold_bytes live, so that the tree holds only a small BlobReference.
//
// Writing goes through *lanes*. A lane is one blob file open for appending. A writer (a whole
// value, or a stream) takes an idle lane for itself for the duration of one record, or creates a
// new lane when none is idle, so a slow upload of a 1 GiB value never blocks other large writes.
// When the record is finished the lane goes back to the idle pool, unless its file has reached
// file_size_bytes, or the record failed or was abandoned (its file then ends in an incomplete
// record, which must stay the last thing in it): then the lane is *retired* — it takes no more
// records, and its file is closed once what it holds is durable.
//
// File numbers come from the database's counter (VersionSet::new_file_number) and files are
// named NNNNNN.blob; a new file's directory entry is synced before the file takes its first
// record, so every reference handed out names a file whose entry is durable. Files written
// before the store was created (by an earlier open) are only read, never appended to: one may
// end in a torn record.
//
// Durability of a finished record, per FsyncPolicy:
//   kAlways  synced before finish returns its reference (the WAL record comes after);
//   kBatch, kNever  flushed to the OS before finish returns; sync() makes every finished record
//            durable. The database calls it before each WAL sync (kBatch), before a memtable
//            switch syncs the old log, before a flush makes a table — which may refer to the
//            records — durable (every policy), and at close.
// So a reference in a synced WAL record or in a table always names a durable record; one in an
// unsynced WAL record may dangle after a power loss, which recovery treats as that log's end.
//
// Reading: a cache of BlobFileReader by file number, opened on first use and bounded by
// open_readers_max (least recently used closed first). A file still being written is read up to
// its last finished record, and re-opened when a reference lies past what its reader covers.
//
// Thread-safety: every method may be called from any thread. A BlobStreamWriter is used by one
// thread at a time. Locks: mutex_ (the pools and the reader cache) is never held together with
// a lane's mutex, nor during file I/O.
// Liveness (docs/blob-format.md): the database deletes a blob file once nothing can reach it.
// The store's share of that: a file is *pinned* from the moment a writer takes its lane until
// the caller hands the reference back with unpin() (after the write landed in the memtable, or
// failed), so a reference on its way from add()/finish() to the memtable always names a file
// that live_file_numbers() reports. A failed or abandoned record unpins by itself. Garbage — a
// record whose reference was overwritten, deleted or never committed — stays in its file until
// the whole file is unreachable; relocating live records out of mostly-dead files comes next.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "io/env.h"
#include "storage/blob_file_reader.h"
#include "storage/blob_file_writer.h"
#include "storage/blob_format.h"
#include "storage/options.h"

namespace cairn {

class BlobStreamWriter;

struct BlobStoreOptions {
  Env* env = nullptr;
  std::string directory;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  // A lane is retired once its file reaches this size. REQUIRES: 1 <= it <= kBlobFileBytesMax.
  uint64_t file_size_bytes = uint64_t{256} << 20;
  // Blob files kept open for reading. REQUIRES: >= 1.
  size_t open_readers_max = 1000;
  // Returns a file number never used before in the database.
  std::function<uint64_t()> new_file_number;
};

// At most this many idle lanes stay open; a lane released beyond it is retired. Busy lanes are
// bounded by the writers in progress.
constexpr size_t kBlobIdleLanesMax = 16;

class BlobStore {
 public:
  // `existing_file_bytes`: the blob files already in the directory and their sizes, by number
  // (sealed: new records always go to new files).
  BlobStore(BlobStoreOptions options, std::map<uint64_t, uint64_t> existing_file_bytes);
  // REQUIRES: no BlobStreamWriter of this store is alive. Closes the files without syncing them
  // (close() syncs).
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // Writes one record holding `key` and `value` and returns its reference, durable per the
  // policy (see above), its file pinned (call unpin once the reference is in the memtable).
  // InvalidArgument (nothing written) if the key or the value is over the limits of
  // blob_format.h or the store is closed; the file's error otherwise (nothing stays pinned).
  Result<BlobReference> add(std::string_view key, std::string_view value);
  // Starts a streamed record of exactly `value_size_bytes` bytes on a lane of its own. Errors as
  // add(). The lane is held until the writer finishes or is destroyed; a reference finish()
  // returns has its file pinned, as add()'s.
  Result<std::unique_ptr<BlobStreamWriter>> begin(std::string_view key, uint64_t value_size_bytes);

  // Makes every record finished so far durable, and closes the retired files it synced. A no-op
  // under FsyncPolicy::kAlways, where finish already synced. On error, what the failed file
  // holds is unknown (the caller stops writing).
  Status sync();
  // Syncs every finished record (whatever the policy) and closes every file; later writes are
  // refused with InvalidArgument. Reads keep working. REQUIRES: no record is being streamed.
  Status close();

  // The whole value. Corruption naming the file if the reference or the record is damaged, or
  // the file is missing.
  Result<std::string> read_value(const BlobReference& reference);
  // Bytes [offset, offset + length) of the value, streamed (one chunk in memory).
  // InvalidArgument if the range does not lie within the value; otherwise errors as read_value.
  Result<std::unique_ptr<BlobValueReader>> open_value_range(const BlobReference& reference,
                                                            uint64_t offset, uint64_t length);
  // Checks that the record is there and intact as far as a cheap check goes: the reference, the
  // record header, the key and the last chunk of the value (the last bytes written). Errors as
  // read_value; Corruption means a dangling or damaged reference.
  Status check(const BlobReference& reference);

  // Drops one pin add() or BlobStreamWriter::finish() left on `file_number`.
  // REQUIRES: such a pin is held.
  void unpin(uint64_t file_number);
  // The files the store itself keeps live: open for writing (idle, busy or retired but not yet
  // closed) or pinned. Every file number handed out before this call and not reported is
  // reachable only through the tree (tables and memtables).
  std::set<uint64_t> live_file_numbers() const;
  // Forgets a file the database deleted: closes its cached reader and uncounts it.
  // REQUIRES: not in live_file_numbers().
  void forget_file(uint64_t file_number);
  // The sizes of the sealed files (no record will be added) not in live_file_numbers(), by
  // number: what blob garbage collection may choose from.
  std::map<uint64_t, uint64_t> sealed_file_bytes() const;

  struct Stats {
    uint64_t bytes_written = 0;  // bytes appended to blob files since the store was created
    uint64_t file_count = 0;     // blob files in the directory: existing ones and new ones
  };
  Stats stats() const;

 private:
  friend class BlobStreamWriter;
  struct Lane;
  struct CachedReader {
    std::shared_ptr<BlobFileReader> reader;
    // Opened after the file stopped being written: it covers every record the file will hold.
    bool final = false;
    std::list<uint64_t>::iterator recency;  // in recency_
  };

  // An idle lane, or a new one, its file pinned. InvalidArgument once closed.
  Result<std::shared_ptr<Lane>> acquire_lane();
  // Creates the file of a new lane and syncs its directory entry.
  Result<std::shared_ptr<Lane>> create_lane(uint64_t number);
  // Returns a lane whose record is over: `usable` if it finished with success (the reference
  // then keeps the pin acquire_lane took; otherwise the pin is dropped).
  void release_lane(const std::shared_ptr<Lane>& lane, bool usable);
  // Completes the record in progress on `lane`: finish, then sync or flush per the policy.
  // REQUIRES: lane.mutex held.
  Result<BlobReference> finish_record(Lane& lane);
  // Adds the lane's bytes appended since last counted to the statistics. REQUIRES: lane.mutex.
  void count_bytes(Lane& lane);
  // A reader of the file `reference` names that covers the record.
  Result<std::shared_ptr<BlobFileReader>> reader_for(const BlobReference& reference);
  Result<std::shared_ptr<BlobFileReader>> open_reader(uint64_t number, bool writing,
                                                      uint64_t readable_bytes);
  // Records `reader` in the cache. REQUIRES: mutex_ held.
  void cache_reader_locked(uint64_t number, std::shared_ptr<BlobFileReader> reader, bool final);
  // REQUIRES: mutex_ held.
  void unpin_locked(uint64_t file_number);

  const BlobStoreOptions options_;

  mutable std::mutex mutex_;
  bool closed_ = false;
  std::map<uint64_t, std::shared_ptr<Lane>> open_lanes_;  // idle and busy, by file number
  std::vector<std::shared_ptr<Lane>> idle_lanes_;         // most recently released last
  std::vector<std::shared_ptr<Lane>> retired_lanes_;      // closed once synced
  std::map<uint64_t, CachedReader> readers_;
  std::list<uint64_t> recency_;  // file numbers of readers_, least recently used first
  // Pins by file number: records being written plus references not yet unpinned. Bounded by
  // the writes in flight.
  std::map<uint64_t, uint64_t> pins_;
  // Sizes of the files that take no more records: existing at open, or of retired lanes.
  std::map<uint64_t, uint64_t> sealed_file_bytes_;
  uint64_t file_count_ = 0;

  std::atomic<uint64_t> bytes_written_{0};
};

// The pins (BlobStore::unpin) held by the references of one write on its way to the memtable;
// dropped when the write is over. Used by one thread.
class BlobPins {
 public:
  explicit BlobPins(BlobStore* store) : store_(store) {}
  ~BlobPins() {
    for (const uint64_t number : numbers_) store_->unpin(number);
  }
  BlobPins(const BlobPins&) = delete;
  BlobPins& operator=(const BlobPins&) = delete;

  // Takes over the pin of a reference add() or finish() returned.
  void add(uint64_t file_number) { numbers_.push_back(file_number); }
  // Keeps the pins for good (until the store is destroyed): for a write that failed after its
  // WAL record may have reached the disk, so that the files it names stay for the next open.
  void keep() { numbers_.clear(); }

 private:
  BlobStore* const store_;
  std::vector<uint64_t> numbers_;
};

// One streamed record on a lane held for it (BlobStore::begin). Exactly the announced number of
// bytes must be appended before finish. Destroying the writer before finish returned OK abandons
// the record: its lane is retired, and the incomplete record stays behind as garbage.
// REQUIRES: the store outlives the writer.
class BlobStreamWriter {
 public:
  ~BlobStreamWriter();
  BlobStreamWriter(const BlobStreamWriter&) = delete;
  BlobStreamWriter& operator=(const BlobStreamWriter&) = delete;

  // InvalidArgument if the bytes exceed the announced size; then, as after any error, the
  // record is abandoned and every later call returns that error.
  Status append(std::string_view bytes);
  // The record's reference, durable per the policy. InvalidArgument if fewer bytes than
  // announced were appended. REQUIRES: called once.
  Result<BlobReference> finish();

 private:
  friend class BlobStore;
  BlobStreamWriter(BlobStore* store, std::shared_ptr<BlobStore::Lane> lane);
  Status fail(Status status);

  BlobStore* const store_;
  std::shared_ptr<BlobStore::Lane> lane_;  // null once released
  Status failure_;
};

}  // namespace cairn
