// Keyspace: the single node's Redis keyspace (db 0) on the storage engine: the string records
// and their expiry (model/string_record.h), lazy and active expiry, per-key locks for
// read-modify-write commands, and the hook that tells WATCH which keys changed.
//
// Thread-safety: every method may be called from any thread. Read-modify-write commands hold
// the locks of their keys (lock_keys) so that two clients' INCRs never lose an update.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "server/server_config.h"
#include "storage/database.h"

namespace cairn {

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
  std::string_view type;      // "string" (later "hash", "set", "list", "zset")
  std::string_view encoding;  // Redis's names: "int", "embstr", "raw"
};

struct KeyspaceStats {
  uint64_t expired_keys = 0;     // removed because their TTL passed (lazily or actively)
  uint64_t keyspace_hits = 0;    // key lookups that found a live key
  uint64_t keyspace_misses = 0;  // key lookups that found nothing
};

class Keyspace {
 public:
  // Opens the engine in config.dir (Busy if another process holds it).
  static Result<std::unique_ptr<Keyspace>> open(const ServerConfig& config);
  ~Keyspace();

  Database& database();
  // REQUIRES: called before any command runs; the observer outlives the keyspace.
  void set_observer(KeyspaceObserver* observer);

  // DBSIZE: live keys (a scan of the keyspace, O(keys)).
  Result<uint64_t> key_count();
  // INFO keyspace (a scan, O(keys)).
  Result<KeyspaceCounts> counts();
  // FLUSHDB/FLUSHALL: removes every key.
  Status remove_all();
  // SAVE/BGSAVE: writes the memtable to tables (Database::flush).
  Status save();
  // OBJECT/TYPE: nullopt when the key is absent or expired.
  Result<std::optional<KeyDescription>> describe(std::string_view key);
  KeyspaceStats stats() const;

  // One pass of active expiry: removes keys whose TTL passed, spending at most `budget_ms`.
  // Returns how many it removed. Called by the server's maintenance thread.
  Result<uint64_t> expire_cycle(uint64_t budget_ms);

  // (The string, key and TTL commands use further methods declared by the implementation.)
};

}  // namespace cairn
