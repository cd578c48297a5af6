// Engine: the one interface the engine benchmark drives. There is one adapter per engine
// (cairn_engine.cc, rocksdb_engine.cc, leveldb_engine.cc), so every row of the comparison is
// written once, in workload.cc, and runs the same calls against each engine.
//
// Thread-safety: between open() and close(), put, write_batch, get, scan, put_large, get_large
// and sync may be called from many threads at once (each engine allows it). open, settle and
// close REQUIRE that no other call is in progress.
// Errors: every fallible call returns a cairn::Status; adapters translate their engine's status
// into IOError (or NotFound for an absent key) with the engine's message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace cairn::bench {

// Block compression. kFast is lz4 for Cairn and RocksDB and snappy for LevelDB (LevelDB has no
// lz4); an engine without compression says so in describe_options().
enum class Compression { kNone, kFast };

// The options every engine gets, the same for all; each adapter maps them to its own.
struct EngineOptions {
  size_t write_buffer_bytes = size_t{4} << 20;
  int bloom_bits_per_key = 10;
  size_t block_cache_bytes = size_t{8} << 20;
  size_t block_size_bytes = 4096;
  Compression compression = Compression::kNone;
  // Every write returns only after an fsync of the WAL that covers it (concurrent writers share
  // one where the engine has group commit). Off: the WAL is written but not fsynced.
  bool sync_every_write = false;
};

struct KeyValue {
  std::string_view key;
  std::string_view value;
};

// Fills `out` with the bytes of a large value that start at `offset`. Pure: the same arguments
// give the same bytes, so a reader can check what it gets back.
using ChunkSource = std::function<void(uint64_t offset, std::span<char> out)>;
// Receives a large value's bytes in order, in chunks of at most kLargeValueChunkBytes. An error
// (say, the bytes differ from what was written) stops the read and is returned by get_large().
using ChunkSink = std::function<Status(std::string_view chunk)>;

constexpr size_t kLargeValueChunkBytes = size_t{1} << 20;

class Engine {
 public:
  virtual ~Engine() = default;

  // The column header: "cairn", "rocksdb", "leveldb".
  virtual std::string_view name() const = 0;
  // The version of the library linked, for the output header.
  virtual std::string version() const = 0;
  // What the adapter sets for `options`, in words, including what the engine lacks.
  virtual std::string describe_options(const EngineOptions& options) const = 0;

  // Creates a database in `directory`, which exists and is empty. REQUIRES: not open.
  virtual Status open(const std::string& directory, const EngineOptions& options) = 0;

  virtual Status put(std::string_view key, std::string_view value) = 0;
  // Applies all of `entries` atomically.
  virtual Status write_batch(std::span<const KeyValue> entries) = 0;
  // Copies the value of `key` into *value; NotFound if the key is absent.
  virtual Status get(std::string_view key, std::string* value) = 0;
  // Seeks to the first key >= `start` and reads up to `count` entries in order, touching each
  // key and value; returns how many it read (fewer than `count` only at the end of the keys).
  virtual Result<size_t> scan(std::string_view start, size_t count) = 0;

  // Writes a value of `size_bytes` bytes taken from `source`. Each adapter isolates in these two
  // functions how its engine takes a large value, so the large-value rows never change.
  virtual Status put_large(std::string_view key, uint64_t size_bytes,
                           const ChunkSource& source) = 0;
  // Passes the value of `key` to `sink` in order; NotFound if the key is absent.
  virtual Status get_large(std::string_view key, const ChunkSink& sink) = 0;

  // Makes every acknowledged write durable now.
  virtual Status sync() = 0;
  // Writes the memtables to tables and waits until background compaction has nothing left to
  // do, so the next row starts from the shape the engine settles in by itself (no forced full
  // compaction).
  virtual Status settle() = 0;
  // Closes the database; open() may be called again (on another directory).
  virtual Status close() = 0;
};

std::unique_ptr<Engine> make_cairn_engine();
std::unique_ptr<Engine> make_rocksdb_engine();
std::unique_ptr<Engine> make_leveldb_engine();

// Helpers for adapters whose engine takes and returns a large value whole.
// A string holding the whole value read from `source`.
std::string materialize_large_value(uint64_t size_bytes, const ChunkSource& source);
// Passes `value` to `sink` in chunks of kLargeValueChunkBytes; stops at the sink's first error.
Status feed_large_value(std::string_view value, const ChunkSink& sink);

// "4 MiB", "256 MiB", "512 KiB", "100 B": sizes as the output header prints them.
std::string format_bytes(uint64_t bytes);

}  // namespace cairn::bench
