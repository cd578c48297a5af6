// Keyspace: the single node's Redis keyspace (db 0) on the storage engine: the key records
// (model/key_record.h: a string's value, or a collection's metadata) and their expiry, the
// element records of collections (collection.h reads and writes them for the commands), lazy
// and active expiry, per-key locks for read-modify-write commands, and the hook that tells WATCH
// which keys changed. The on-disk layout is docs/keyspace-format.md: a key's record at
// [slot u16 BE][0x00][user key] = [payload][expiry ms u64 LE][flags u8][type u8], elements at
// [slot][0x01|0x02][key length][user key][generation][element], and an expiry index
// [0xFF]['E'][ms BE][key].
//
// Thread-safety: every method may be called from any thread. Read-modify-write commands hold
// the locks of their keys (lock_keys) so that two clients' INCRs never lose an update; plain
// reads (find with locked = false) take no lock. Expiry compares against the wall clock in ms
// (KeyspaceOptions::wall_clock, injectable for tests).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "io/clock.h"
#include "io/scheduler.h"
#include "model/collection_meta.h"
#include "model/key_record.h"
#include "net/byte_stream.h"
#include "server/building_generations.h"
#include "server/key_locks.h"
#include "server/pop_ahead.h"
#include "server/server_config.h"
#include "storage/database.h"

namespace cairn {

class Env;
class FusedWrites;
class GenerationAllocator;
class KeyspaceCompactionFilter;
class ScanCursors;

// Told of every key a command modifies (set, deleted, expired, renamed), before the command's
// reply is sent: WATCH uses it (watch_registry.h).
class KeyspaceObserver {
 public:
  virtual ~KeyspaceObserver() = default;
  virtual void key_modified(std::string_view key) = 0;
  // FLUSHDB/FLUSHALL: every key changed.
  virtual void all_keys_modified() = 0;
};

struct KeyspaceCounts {
  uint64_t keys = 0;
  uint64_t keys_with_expiry = 0;
};

// What OBJECT and TYPE report of a key.
struct KeyDescription {
  std::string_view type;      // "string", "hash", "set", "list", "zset"
  std::string_view encoding;  // Redis's names: "int", "embstr", "raw"; one per collection type
};

struct KeyspaceStats {
  uint64_t expired_keys = 0;     // removed because their TTL passed (lazily or actively)
  uint64_t keyspace_hits = 0;    // key lookups that found a live key
  uint64_t keyspace_misses = 0;  // key lookups that found nothing
};

// Test seams; production leaves them null.
struct KeyspaceOptions {
  // Unix time in microseconds (now_micros()); null: the system's wall clock.
  Clock* wall_clock = nullptr;
  Env* env = nullptr;  // null: Env::posix()
};

// The live record of a key as find() read it: its trailer and its value, inline or in a blob.
// A collection's payload is its metadata (collection.h decodes it).
struct KeyEntry {
  RecordTrailer trailer;
  uint64_t payload_bytes = 0;
  StoredValue stored;  // the whole engine value (payload + trailer)

  RecordType type() const { return trailer.type; }
  bool is_inline() const { return stored.kind() == StoredValue::Kind::kInline; }
  // REQUIRES: is_inline().
  std::string_view inline_payload() const { return stored.inline_bytes().substr(0, payload_bytes); }
};

class Keyspace;

// The modifications of one command, applied as one engine WriteBatch by commit(); each key
// written or removed is reported to the observer after the commit. A value that lives in a blob
// file and is copied (RENAME, COPY, EXPIRE of a large value) is streamed to its new record
// before the batch (its expiry index entry rides in the batch).
// REQUIRES: the caller holds the locks of every key it touches, from find() to commit().
class KeyspaceWrite {
 public:
  explicit KeyspaceWrite(Keyspace& keyspace) : keyspace_(keyspace) {}

  // Sets `key` to a string. `old` is its live entry (nullopt if absent) as read under the lock:
  // its expiry index entry is replaced. InvalidArgument if the key is over kUserKeyBytesMax.
  Status put_string(std::string_view key, std::string_view payload, uint64_t expiry_ms,
                    const std::optional<KeyEntry>& old);
  // Sets `key` to `source`'s record (its type and payload) with expiry `expiry_ms` (the payload
  // copied chunk by chunk when it lives in a blob file). `old` as in put_string. For a
  // collection only the record is written: use it to change the expiry, not to copy.
  Status put_entry(std::string_view key, const KeyEntry& source, uint64_t expiry_ms,
                   const std::optional<KeyEntry>& old);
  // Writes a collection's record: `type`, `meta` and `expiry_ms`; or, when meta.count is 0,
  // removes the key (empty collections do not exist). `old` as in put_string.
  Status put_collection(std::string_view key, RecordType type, const CollectionMeta& meta,
                        uint64_t expiry_ms, const std::optional<KeyEntry>& old);
  // Removes `key`, whose live entry is `old`: for a collection, its record only (its elements
  // are unreachable at once; compaction drops them).
  void remove(std::string_view key, const KeyEntry& old);
  // After a successful commit, keeps `run` for the next pop of `key` (pop_ahead.h): after the
  // commit's own notification, which drops the key's earlier run. At most one per command.
  void keep_pop_run(std::string_view key, PopRun run);
  Status commit();

 private:
  // An element record of a collection whose record this command writes too (put_collection).
  // Only Collection writes them (collection.h), so that a member never goes without its sample
  // index record.
  // `key` is the collection's: its watchers and its pop-ahead run are told of the change.
  friend class Collection;
  void put_element(std::string_view key, std::string_view engine_key, std::string_view value);
  void remove_element(std::string_view key, std::string_view engine_key);
  void note_modified(std::string_view key);

  Status put_record(std::string_view key, std::string_view payload, RecordType type,
                    uint64_t expiry_ms, const std::optional<KeyEntry>& old);
  void replace_index(std::string_view key, uint64_t expiry_ms, const std::optional<KeyEntry>& old);

  Keyspace& keyspace_;
  WriteBatch batch_;
  std::vector<std::string> modified_;
  std::optional<std::pair<std::string, PopRun>> pop_run_;  // keep_pop_run
  uint64_t earliest_index_expiry_ms_ = UINT64_MAX;  // of the index entries batch_ puts
};

class Keyspace {
 public:
  // How much lower than the event loops the engine's background threads run (nice 10: about a
  // tenth of the CPU share of a loop that wants the same core); CAIRN COMPACT's thread too.
  static constexpr int kBackgroundNiceIncrement = 10;

  // Opens the engine in config.dir (Busy if another process holds it).
  static Result<std::unique_ptr<Keyspace>> open(const ServerConfig& config,
                                                const KeyspaceOptions& options = {});
  ~Keyspace();
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  Database& database();
  // Adds an observer, told of every modification after those added before it.
  // REQUIRES: called before any command runs; the observer outlives the keyspace.
  void add_observer(KeyspaceObserver* observer);

  // DBSIZE: live keys (a scan of the keyspace, O(keys)).
  Result<uint64_t> key_count();
  // INFO keyspace (a scan, O(keys)).
  Result<KeyspaceCounts> counts();
  // FLUSHDB/FLUSHALL: removes every key.
  Status remove_all();
  // SAVE/BGSAVE: writes the memtable to tables (Database::flush).
  Status save();
  // CAIRN COMPACT: a manual compaction of the whole engine (Database::compact_range), so that the
  // compaction filter removes the elements of deleted collections and expired records from disk
  // now. Blocks until done (minutes for a large node): call it off the event loops.
  Status compact();
  // OBJECT/TYPE: nullopt when the key is absent or expired.
  Result<std::optional<KeyDescription>> describe(std::string_view key);
  KeyspaceStats stats() const;

  // One pass of active expiry: removes keys whose TTL passed, spending at most `budget_ms`
  // (and at most kExpireCycleEntriesMax index entries). Returns how many it removed. Called by
  // the server's maintenance thread.
  // A pass when no index entry can be due yet returns at once without reading the engine (see
  // next_expiry_due_ms_).
  Result<uint64_t> expire_cycle(uint64_t budget_ms);
  static constexpr uint64_t kExpireCycleEntriesMax = 10000;
  // No index entry expires before this (unix ms); 0 when unknown. For tests.
  uint64_t next_expiry_due_ms() const { return next_expiry_due_ms_.load(); }

  // ---- For the string, key and TTL commands ------------------------------------------------

  // Wall-clock unix time in ms, as expiry uses it.
  uint64_t now_ms() const;
  // Locks the stripes of `keys` (see key_locks.h) until the guard is destroyed. Under a
  // FusedScope, the run's own key is locked once for the whole run and the guard is empty.
  KeyLockGuard lock_keys(std::span<const std::string_view> keys);
  KeyLockGuard lock_key(std::string_view key);

  // While a FusedScope lives, this thread's calls to the keyspace are those of one command of a
  // run whose writes `fused` holds (fused_writes.h): reads see the held writes, commits are held,
  // and whatever cannot be answered from them flushes them first. Scopes do not nest.
  class FusedScope {
   public:
    explicit FusedScope(FusedWrites& fused);
    ~FusedScope();
    FusedScope(const FusedScope&) = delete;
    FusedScope& operator=(const FusedScope&) = delete;
  };

  // The live entry of `key`, or nullopt when it is absent or expired. `locked`: the caller holds
  // the key's lock, and an expired record is deleted now (counted in expired_keys and told to the
  // observer); otherwise it is deleted under the lock taken here. A locked find precedes a write
  // of the key, which the engine's row cache is told (ReadOptions::before_write). Counts a hit
  // or a miss when `count_lookup`.
  Result<std::optional<KeyEntry>> find(std::string_view key, bool locked,
                                          bool count_lookup = true);
  // A hint that `keys` will be read soon (a pipeline's commands): starts loading what their
  // lookups will touch (Database::prefetch). Keys over kPrefetchKeyBytesMax are skipped: the
  // hint is offered arguments that may not be keys at all.
  static constexpr size_t kPrefetchKeyBytesMax = 256;
  void prefetch(std::span<const std::string_view> keys);
  // A hint that point lookups of `elements` of the collection at `key` come soon (a pipeline's
  // SADDs or HGETs on one key): reads the key's record now for its generation, then starts
  // loading what the lookups of those element records will touch. Changes nothing.
  void prefetch_elements(std::string_view key, std::span<const std::string_view> elements);
  // The whole payload (a value in a blob file is read whole: callers bound its size).
  Result<std::string> read_payload(const KeyEntry& entry);
  // Bytes [offset, offset + length) of the payload, clipped to it.
  Result<std::string> read_payload_range(const KeyEntry& entry, uint64_t offset,
                                         uint64_t length);
  // The payload followed by "\r\n", streamed one chunk at a time (GET of a large value).
  Result<std::unique_ptr<ByteSource>> payload_body(const KeyEntry& entry);

  // KEYS: every live key matching the glob `pattern`, in engine order.
  Result<std::vector<std::string>> keys(std::string_view pattern);
  struct ScanPage {
    uint64_t cursor = 0;  // 0 when the scan is complete
    std::vector<std::string> keys;
  };
  // SCAN: about `count` keys examined from `cursor` (0 = the beginning), those matching
  // the glob `pattern` ("*" = all; "" matches only the empty key) and `type` (empty = all) returned. Guarantee: every key present for
  // the whole scan is returned at least once (docs/keyspace-format.md, "SCAN cursors").
  Result<ScanPage> scan(uint64_t cursor, std::string_view pattern, uint64_t count,
                        std::string_view type);
  // RANDOMKEY: a live key, or nullopt when the keyspace is empty.
  Result<std::optional<std::string>> random_key();
  // A pseudo-random number for sampling (RANDOMKEY, HRANDFIELD, SPOP...): a shared splitmix64
  // sequence, not for anything that needs unpredictability.
  uint64_t random_u64();

  // ---- For the collection commands (collection.h) -----------------------------------------

  // A generation number never used before (generation_allocator.h).
  Result<uint64_t> new_generation();
  // The generations of collections being built before their record (building_generations.h).
  BuildingGenerations& building_generations() { return building_generations_; }
  // The live entry of `key` as of `snapshot`, or nullopt when absent or expired then; deletes
  // nothing. Counts a hit or a miss.
  Result<std::optional<KeyEntry>> find_at(std::string_view key, const Snapshot* snapshot);
  // The value of an element record (at `snapshot`, or now when null), or nullopt.
  // `before_write` as in find().
  Result<std::optional<std::string>> read_element(std::string_view engine_key,
                                                  const Snapshot* snapshot = nullptr,
                                                  bool before_write = false);
  // An engine iterator at `snapshot` (or now when null), to walk a generation's elements.
  std::unique_ptr<Iterator> new_iterator(const Snapshot* snapshot);
  // A snapshot of the engine now (KeyspaceSnapshot); release it with the database.
  const Snapshot* get_snapshot();
  // Writes what a FusedScope of this thread holds, and fuses nothing more in this command: for
  // a caller about to read or write the engine past the keyspace's reads (CollectionBuilder).
  // The run's key stays locked. A failure is also kept in the FusedWrites for its session.
  Status end_fusion();
  // The resume points of SCAN and of HSCAN/SSCAN/ZSCAN.
  ScanCursors& scan_cursors() { return *cursors_; }
  // The runs of elements read ahead for repeated pops (pop_ahead.h); every change of a key
  // drops its run.
  PopAhead& pop_ahead() { return pop_ahead_; }

  // The largest string a command may build (APPEND, SETRANGE): proto-max-bulk-len.
  uint64_t string_bytes_max() const { return string_bytes_max_; }
  void set_string_bytes_max(uint64_t bytes) { string_bytes_max_ = bytes; }

 private:
  friend class KeyspaceWrite;
  friend class StreamedValue;
  friend class FusedWrites;

  // The FusedWrites of this thread's FusedScope when it is this keyspace's (scope_fused), and
  // when the command still fuses (fused).
  FusedWrites* scope_fused() const;
  FusedWrites* fused() const;
  // A held record, decoded as read_record would.
  Result<KeyEntry> held_entry(std::string_view record);
  // FusedWrites::flush: writes `batch`; the held writes were of `key`.
  Status write_fused(const WriteBatch& batch, std::string_view key,
                     uint64_t earliest_index_expiry_ms);

  Keyspace() = default;
  // Reads and decodes the record of an engine key (no expiry check).
  Result<std::optional<KeyEntry>> read_record(std::string_view engine_key,
                                              const ReadOptions& options);
  // Deletes `key`'s expired record (expiry `expiry_ms`) and its index entry. REQUIRES: lock held.
  Status delete_expired(std::string_view key, uint64_t expiry_ms);
  void notify(std::string_view key);
  // Lowers next_expiry_due_ms_ to `expiry_ms`. Called after an index entry is written.
  void note_expiry_due(uint64_t expiry_ms);
  // The body of expire_cycle, scanning from the start of the index; sets *next_due_ms to when
  // the first entry it left behind is due (UINT64_MAX if none) unless it fails.
  Result<uint64_t> expire_due_entries(uint64_t budget_ms, uint64_t* next_due_ms);
  // Visits every live data key in order from `start_engine_key`; `visit` returns false to stop.
  template <typename Visit>
  Status for_each_live_key(std::string_view start_engine_key, Visit&& visit);

  BuildingGenerations building_generations_;  // read by filter_, so declared before it
  std::unique_ptr<Scheduler> background_;  // the engine's flushes and compactions; outlives it
  std::unique_ptr<Database> database_;
  std::unique_ptr<KeyspaceCompactionFilter> filter_;
  std::unique_ptr<GenerationAllocator> generations_;
  std::unique_ptr<ScanCursors> cursors_;
  std::unique_ptr<Clock> owned_clock_;
  Clock* clock_ = nullptr;
  std::vector<KeyspaceObserver*> observers_;
  KeyLocks locks_;
  PopAhead pop_ahead_;
  std::atomic<uint64_t> string_bytes_max_{512u << 20};
  std::atomic<uint64_t> expired_keys_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> random_state_{0x9E3779B97F4A7C15ull};
  std::mutex expire_cycle_mutex_;  // one active expiry pass at a time
  // A lower bound of every expiry in the index, so that expire_cycle skips the engine while
  // nothing is due: creating an iterator sorts the memtable, which cost a tenth of the CPU of a
  // write load that sets no TTL at all. A cycle sets it to UINT64_MAX before it takes its
  // snapshot and lowers it to the first entry it left behind; writers lower it after their index
  // entry is in the engine, so an entry either is in the cycle's snapshot or lowers the bound
  // after it was reset. 0 (unknown) at open: the first cycle scans.
  std::atomic<uint64_t> next_expiry_due_ms_{0};
};

}  // namespace cairn
