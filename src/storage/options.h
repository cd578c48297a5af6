// Options of the storage engine: how a database is opened, how its tables are laid out, and
// what a read sees. Every size is in bytes and every interval in milliseconds, as the names say.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace cairn {

class BlockCache;
class Env;
class Clock;
class Scheduler;
class Snapshot;

// When the write-ahead log is made durable.
enum class FsyncPolicy {
  // A write returns only after an fsync that covers it; concurrent writers share one fsync
  // (group commit).
  kAlways,
  // The log is fsynced as part of a write when fsync_batch_interval_ms has passed since the
  // last fsync, and by Database::sync_wal(); a power loss may lose the writes of that interval.
  kBatch,
  // The log is never fsynced by the engine (the OS writes it back when it likes).
  kNever,
};

// How a table block is stored. The values are the type byte of every block trailer on disk
// (docs/sstable-format.md), so they never change; new codecs get new values.
enum class CompressionType : uint8_t {
  kNone = 0,
  kLz4 = 1,
  kZstd = 2,
};

struct TableOptions {
  // Uncompressed size at which a data block is closed.
  size_t block_size_bytes = 4096;
  // Keys between restart points, where prefix compression starts over.
  int block_restart_interval = 16;
  // Bloom filter bits per key; 0 writes no filter.
  int bloom_bits_per_key = 10;

  // How new tables compress their data and index blocks (filters are never compressed). A block
  // that compression shrinks by less than 1/8 is stored uncompressed. Readers ignore this: each
  // block says how it is stored, so tables written with any setting stay readable.
  CompressionType compression = CompressionType::kLz4;
  // The zstd level when compression == kZstd; zstd clamps it to [ZSTD_minCLevel(),
  // ZSTD_maxCLevel()] (negative levels are its fast modes).
  int zstd_level = 3;

  // Uncompressed, parsed data blocks shared by every table opened with these options. A Database
  // given none makes its own of 8 MiB; callers may share one between databases. Index and filter
  // blocks are not cached here: each open Table pins its own, so their memory is bounded by
  // Options::max_open_tables.
  std::shared_ptr<BlockCache> block_cache;
};

// Decides, during compaction, whether an entry may be dropped (e.g. a value whose TTL expired,
// or an element of a collection that was deleted). Called for the newest version of a key when
// no snapshot can see that version; a dropped value becomes absent (a tombstone where older
// versions may exist below). Must be thread-safe and deterministic. A value kept in a blob file
// (Options::blob_value_threshold_bytes) is offered without its bytes (`value` is nullopt):
// reading it would cost a blob read per key, so the filter decides from the key alone or keeps
// it; a dropped one becomes garbage of its blob file.
class CompactionFilter {
 public:
  virtual ~CompactionFilter() = default;
  virtual bool should_drop(std::string_view user_key,
                           std::optional<std::string_view> value) const = 0;

  // The questions of one compaction job: its keys in order, from one thread. A filter whose
  // answers for neighbouring keys rest on one lookup (a collection's record, for its elements)
  // may remember it for the job, whose inputs were all written before it began.
  class Job {
   public:
    virtual ~Job() = default;
    virtual bool should_drop(std::string_view user_key, std::optional<std::string_view> value) = 0;
  };
  // By default a job asks should_drop each time.
  virtual std::unique_ptr<Job> start_job() const {
    struct Asking final : Job {
      explicit Asking(const CompactionFilter& asked) : filter(asked) {}
      bool should_drop(std::string_view user_key,
                       std::optional<std::string_view> value) override {
        return filter.should_drop(user_key, value);
      }
      const CompactionFilter& filter;
    };
    return std::make_unique<Asking>(*this);
  }
};

// The shape of the leveled LSM tree and the limits that keep reads and memory bounded.
struct CompactionOptions {
  // Level 0 is compacted into level 1 once it holds this many tables.
  int level0_compaction_trigger = 4;
  // Each write is delayed a little (once) while level 0 holds at least this many tables...
  int level0_slowdown_writes_trigger = 20;
  // ...and waits for compaction while it holds this many. RocksDB's defaults, as the slowdown
  // above: with 8 and 12, a burst of MSETs at pipeline 16 outran the level-0 compaction (which
  // runs at a lower priority than the event loop) and waited, p99 about 480 ms; with 20 and 36
  // the same burst never stalled (p99 about 100 ms, 30% more MSETs/s). Each level-0 table costs
  // a lookup one filter probe (one cache line), so a longer level 0 costs reads little.
  int level0_stop_writes_trigger = 36;
  // Level 1's target size; each deeper level's is level_size_ratio times the one above.
  uint64_t level1_size_bytes = 16 << 20;
  int level_size_ratio = 10;
  // Compaction output files are cut at this size.
  uint64_t target_file_size_bytes = 4 << 20;
  // Writes slow down, then stop, while the bytes levels hold above their targets (the work
  // compaction still has to do) exceed these.
  uint64_t pending_compaction_bytes_slowdown = uint64_t{1} << 30;
  uint64_t pending_compaction_bytes_stop = uint64_t{4} << 30;
  // How long one delayed write waits.
  uint64_t slowdown_delay_micros = 1000;
  // Not owned; null drops nothing.
  const CompactionFilter* filter = nullptr;
};

struct Options {
  // Null means the process-wide defaults: Env::posix(), Clock::real(), and a scheduler with two
  // background threads owned by the database (a flush need not wait for a compaction).
  Env* env = nullptr;
  Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;

  bool create_if_missing = true;
  bool error_if_exists = false;

  // A memtable that grows past this size becomes immutable and is flushed to an L0 table.
  size_t write_buffer_size_bytes = 4 << 20;

  FsyncPolicy fsync = FsyncPolicy::kAlways;
  uint64_t fsync_batch_interval_ms = 1000;
  // True: a write hands its WAL record to the operating system before it returns, so a process
  // crash loses nothing written. False: records may wait in a user-space buffer until
  // Database::flush_wal() (or a sync, or a memtable switch), saving a system call per write; the
  // caller flushes before it acknowledges the writes, as cairnd does once per event-loop
  // iteration (Redis writes its AOF buffer the same way, before its replies go out).
  bool flush_wal_per_write = true;

  // The most tables kept open (file descriptor, index and filter in memory) at once; the least
  // recently used is closed beyond it. REQUIRES: >= 1. Open blob files for reading are bounded by
  // the same number.
  size_t max_open_tables = 1000;

  // Large values, WiscKey-style (docs/blob-format.md): a value strictly larger than this goes to
  // a blob file and the tree stores a small reference to it, so compactions do not rewrite it.
  // 0 keeps every value in the tree. REQUIRES: below 1 GiB (kBlobValueBytesMax), the largest
  // value a blob file holds; with blob files on, larger values are refused. The default is
  // kBlobValueThresholdBytesDefault.
  uint64_t blob_value_threshold_bytes = uint64_t{64} << 10;
  // A blob file is sealed (no more records) once it grows past this size, and a new one started;
  // a file may pass it by one record. REQUIRES: 1 <= it <= 1 TiB (kBlobFileBytesMax).
  uint64_t blob_file_size_bytes = uint64_t{256} << 20;
  // Blob garbage collection (blob_gc.h): a sealed blob file whose live values take less than
  // this fraction of it has them copied to new files and is deleted, so dead values take at most
  // about as much room as live ones. 0 turns it off. REQUIRES: 0 <= it <= 1.
  double blob_gc_live_fraction_min = 0.5;

  // The row cache (row_cache.h): newest values of keys that point lookups found in the tables,
  // kept current by writes, answered without touching the tables again. 0 turns it off. Values over
  // RowCache::kValueBytesMax and values in blob files are not cached. With a compaction filter,
  // a value the filter drops may still be answered from the row cache until it is written or
  // evicted: use both only when the filter drops values readers treat as absent anyway (as
  // cairnd's expired records are).
  size_t row_cache_bytes = 0;
  // The keys the row cache may hold; null: every key. A key refused is never cached, so its
  // writes skip the cache's probe: for keys never looked up by point, only walked by iterators
  // (cairnd's sorted-set score index, sample index and expiry index). REQUIRES: a pure function
  // of the key, callable from any thread.
  bool (*row_cache_admits)(std::string_view user_key) = nullptr;

  TableOptions table;
  CompactionOptions compaction;
};

struct ReadOptions {
  // Read as of this snapshot; null reads the latest state.
  const Snapshot* snapshot = nullptr;
  // The caller writes the key next (a read-modify-write, such as INCR): the row cache keeps the
  // value wherever it was found, or that there was none, and the write keeps the entry current,
  // so the next such read is a hit. Other reads cache only what the tables answered: a memtable answers them fast
  // already, and caching those would crowd out the keys that need the cache.
  bool before_write = false;
  // False: what the tables answer is not added to the row cache (a hit is still used). For
  // scans that read every key once (DBSIZE, INFO, KEYS, SCAN), which would otherwise push out
  // the keys that point reads come back to.
  bool fill_row_cache = true;
};

}  // namespace cairn
