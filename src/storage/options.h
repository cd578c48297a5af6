// Options of the storage engine: how a database is opened, how its tables are laid out, and
// what a read sees. Every size is in bytes and every interval in milliseconds, as the names say.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn {

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

struct TableOptions {
  // Uncompressed size at which a data block is closed.
  size_t block_size_bytes = 4096;
  // Keys between restart points, where prefix compression starts over.
  int block_restart_interval = 16;
  // Bloom filter bits per key; 0 writes no filter.
  int bloom_bits_per_key = 10;
};

struct Options {
  // Null means the process-wide defaults: Env::posix(), Clock::real(), and a scheduler with one
  // background thread owned by the database.
  Env* env = nullptr;
  Clock* clock = nullptr;
  Scheduler* scheduler = nullptr;

  bool create_if_missing = true;
  bool error_if_exists = false;

  // A memtable that grows past this size becomes immutable and is flushed to an L0 table.
  size_t write_buffer_size_bytes = 4 << 20;

  FsyncPolicy fsync = FsyncPolicy::kAlways;
  uint64_t fsync_batch_interval_ms = 1000;

  TableOptions table;
};

struct ReadOptions {
  // Read as of this snapshot; null reads the latest state.
  const Snapshot* snapshot = nullptr;
};

}  // namespace cairn
