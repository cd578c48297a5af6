// FusedWrites: the writes of a run of pipelined commands on one key, held back and written as one
// engine batch after the run's last command. A client that pipelines 16 LPUSHes to one list
// otherwise pays for 16 record lookups, 16 batches and 16 rewrites of the list's record; held
// together, the record is read once, rewritten once, and the run costs one trip through the
// engine's write queue.
//
// Who does what: ServerSession decides which commands form a run (consecutive fusable commands
// on one key that are all complete in the connection's input) and puts each one's keyspace calls
// under a Keyspace::FusedScope. Keyspace then
// - lets the run hold the key's lock from its first command to the flush (lock_key),
// - answers the run's reads of records and elements from the held writes first (lookup), so a
//   command sees the writes of the commands before it,
// - absorbs each command's committed KeyspaceWrite here instead of writing it, and
// - flushes before anything it cannot answer from the held writes (iterators, snapshots, another
//   key's lock, an expired record, a value streamed to a blob file), so such a command sees the
//   engine whole.
// No reply of the run is sent before the flush: the connection writes replies only after the
// run's last command ran. A failed flush makes the session replace the run's replies by errors.
//
// Thread-safety: owned by one session and used on its loop thread only. While it holds writes it
// holds the key's lock, so no other command reads or writes the key in between.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/key_locks.h"
#include "storage/write_batch.h"

namespace cairn {

class Keyspace;

class FusedWrites {
 public:
  // Held bytes and writes beyond which a run stops absorbing and flushes: they bound the memory
  // a pipeline may pin, and the linear searches of the held writes.
  static constexpr size_t kHeldBytesMax = 256 << 10;
  static constexpr size_t kHeldWritesMax = 256;
  // A command whose batch is larger is not held: large values take the engine's blob path.
  static constexpr size_t kHeldBatchBytesMax = 16 << 10;
  static_assert(kHeldBatchBytesMax <= kHeldBytesMax);

  explicit FusedWrites(Keyspace& keyspace) : keyspace_(keyspace) {}
  // REQUIRES: nothing held (the owner flushed).
  ~FusedWrites();
  FusedWrites(const FusedWrites&) = delete;
  FusedWrites& operator=(const FusedWrites&) = delete;

  Keyspace& keyspace() const { return keyspace_; }
  // The key of the run. REQUIRES: empty() when changing it.
  void set_key(std::string_view key);
  std::string_view key() const { return key_; }
  // Nothing held: no write, no lock.
  bool empty() const { return writes_.empty() && !lock_.owns(); }
  bool holds_writes() const { return !writes_.empty(); }
  // How many flushes wrote something: a command that ended its fusion moved it on.
  uint64_t flushes() const { return flushes_; }

  // The run keeps `guard` (the key's lock) until release_lock(), after its last command.
  void adopt_lock(KeyLockGuard guard);
  bool holds_lock() const { return lock_.owns(); }
  // REQUIRES: nothing held but the lock (flushed).
  void release_lock();

  // The held write of `engine_key`: nullopt when there is none. `value` is valid until the next
  // absorb or flush.
  struct Held {
    bool removed = false;
    std::string_view value;  // what it puts, unless removed
  };
  std::optional<Held> lookup(std::string_view engine_key) const;

  // Whether a command's batch may be held: the run holds the key's lock, the command changed no
  // other key (`modified_keys`), and it stays within the byte bounds.
  bool can_absorb(const WriteBatch& batch, const std::vector<std::string>& modified_keys) const;
  // Holds `batch`'s writes, each replacing any held write of the same engine key.
  // `earliest_index_expiry_ms`: the earliest expiry index entry it puts (UINT64_MAX: none).
  // REQUIRES: can_absorb(batch, ...).
  Status absorb(const WriteBatch& batch, uint64_t earliest_index_expiry_ms);

  // Writes what is held as one batch; the lock stays. A failure is also kept for the owner
  // (failure()); the held writes are dropped either way.
  Status flush();
  // The first flush failure since clear_failure().
  const Status& failure() const { return failure_; }
  void clear_failure() { failure_ = Status::ok(); }

 private:
  Keyspace& keyspace_;
  std::string key_;
  KeyLockGuard lock_;
  // The held writes in command order, their keys and values in bytes_. A write replaced by a
  // later one of the same key is no longer live. A run holds a few dozen writes: linear searches,
  // with the key's hash compared first, beat a map's allocations.
  struct Write {
    uint64_t key_hash = 0;
    uint32_t key_offset = 0;
    uint32_t key_size = 0;
    uint32_t value_size = 0;  // the value follows the key in bytes_
    bool removed = false;
    bool live = true;
  };
  std::string_view key_of(const Write& write) const {
    return std::string_view(bytes_).substr(write.key_offset, write.key_size);
  }
  std::string_view value_of(const Write& write) const {
    return std::string_view(bytes_).substr(write.key_offset + write.key_size, write.value_size);
  }
  void hold(std::string_view engine_key, bool removed, std::string_view value);

  std::vector<Write> writes_;
  std::string bytes_;
  uint64_t earliest_index_expiry_ms_ = UINT64_MAX;
  uint64_t flushes_ = 0;
  Status failure_;
};

}  // namespace cairn
