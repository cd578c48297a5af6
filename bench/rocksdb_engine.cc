// The Engine adapter for RocksDB (7.8 as Debian ships it, or the build ROCKSDB_ROOT names).
//
// Options: the shared ones (engine.h) mapped one to one; the level shape is sized for the 4 MiB
// write buffer by RocksDB's own tuning rule (level-1 target = L0 compaction trigger x write
// buffer, 2 MiB target files as LevelDB); everything else is RocksDB's default.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "engine.h"

namespace cairn::bench {
namespace {

constexpr size_t kTargetFileBytes = size_t{2} << 20;
// settle() gives up after this long: a compaction backlog that does not drain is a failure.
constexpr auto kSettleTimeoutMax = std::chrono::minutes(10);
constexpr auto kSettlePollInterval = std::chrono::milliseconds(20);

Status from_rocksdb(const rocksdb::Status& status) {
  if (status.ok()) return Status::ok();
  if (status.IsNotFound()) return Status::not_found("rocksdb: " + status.ToString());
  return Status::io_error("rocksdb: " + status.ToString());
}

bool lz4_supported() {
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
}

class RocksDbEngine final : public Engine {
 public:
  std::string_view name() const override { return "rocksdb"; }
  std::string version() const override {
    return rocksdb::GetRocksVersionAsString(true) + " (" CAIRN_BENCH_ROCKSDB_LIBRARY ")";
  }

  std::string describe_options(const EngineOptions& options) const override {
    const rocksdb::Options defaults;
    return "write buffer " + format_bytes(options.write_buffer_bytes) + " (x" +
           std::to_string(defaults.max_write_buffer_number) + "), bloom " +
           std::to_string(options.bloom_bits_per_key) + " bits/key, block " +
           format_bytes(options.block_size_bytes) + ", LRU block cache " +
           format_bytes(options.block_cache_bytes) + ", compression " +
           compression_name(options.compression) + "; L1 target " +
           format_bytes(level1_target_bytes(options)) + ", files " +
           format_bytes(kTargetFileBytes) + ", " + std::to_string(defaults.max_background_jobs) +
           " background jobs; sync=false / true (fillsync rows); settle = Flush + poll until no "
           "flush or compaction is pending or running";
  }

  Status open(const std::string& directory, const EngineOptions& options) override {
    CAIRN_ASSERT(database_ == nullptr);
    rocksdb::Options engine_options;
    engine_options.create_if_missing = true;
    engine_options.error_if_exists = true;
    engine_options.write_buffer_size = options.write_buffer_bytes;
    engine_options.target_file_size_base = kTargetFileBytes;
    engine_options.max_bytes_for_level_base = level1_target_bytes(options);
    engine_options.compression = options.compression == Compression::kFast && lz4_supported()
                                     ? rocksdb::kLZ4Compression
                                     : rocksdb::kNoCompression;
    rocksdb::BlockBasedTableOptions table_options;
    table_options.block_size = options.block_size_bytes;
    table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
    engine_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

    write_options_.sync = options.sync_every_write;
    rocksdb::DB* database = nullptr;
    CAIRN_RETURN_IF_ERROR(from_rocksdb(rocksdb::DB::Open(engine_options, directory, &database)));
    database_.reset(database);
    return Status::ok();
  }

  Status put(std::string_view key, std::string_view value) override {
    return from_rocksdb(database_->Put(write_options_, slice(key), slice(value)));
  }

  Status write_batch(std::span<const KeyValue> entries) override {
    rocksdb::WriteBatch batch;
    for (const KeyValue& entry : entries) {
      CAIRN_RETURN_IF_ERROR(from_rocksdb(batch.Put(slice(entry.key), slice(entry.value))));
    }
    return from_rocksdb(database_->Write(write_options_, &batch));
  }

  Status get(std::string_view key, std::string* value) override {
    return from_rocksdb(database_->Get(rocksdb::ReadOptions(), slice(key), value));
  }

  Result<size_t> scan(std::string_view start, size_t count) override {
    std::unique_ptr<rocksdb::Iterator> iterator(database_->NewIterator(rocksdb::ReadOptions()));
    size_t read = 0;
    size_t bytes = 0;
    for (iterator->Seek(slice(start)); read < count && iterator->Valid(); iterator->Next()) {
      bytes += iterator->key().size() + iterator->value().size();
      read++;
    }
    CAIRN_RETURN_IF_ERROR(from_rocksdb(iterator->status()));
    CAIRN_ASSERT(read == 0 || bytes > 0);
    return read;
  }

  // RocksDB takes and returns a value whole (its BlobDB also buffers the whole value).
  Status put_large(std::string_view key, uint64_t size_bytes, const ChunkSource& source) override {
    const std::string value = materialize_large_value(size_bytes, source);
    return put(key, value);
  }

  Status get_large(std::string_view key, const ChunkSink& sink) override {
    rocksdb::PinnableSlice value;
    CAIRN_RETURN_IF_ERROR(from_rocksdb(database_->Get(
        rocksdb::ReadOptions(), database_->DefaultColumnFamily(), slice(key), &value)));
    return feed_large_value(std::string_view(value.data(), value.size()), sink);
  }

  Status sync() override { return from_rocksdb(database_->SyncWAL()); }

  // RocksDB 7.8 has no WaitForCompact, so poll the properties that say whether background work
  // is queued or running.
  Status settle() override {
    rocksdb::FlushOptions flush_options;
    flush_options.wait = true;
    CAIRN_RETURN_IF_ERROR(from_rocksdb(database_->Flush(flush_options)));
    const auto deadline = std::chrono::steady_clock::now() + kSettleTimeoutMax;
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(const bool pending, background_work_pending());
      if (!pending) return Status::ok();
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::io_error("rocksdb: compactions did not settle within the time limit");
      }
      std::this_thread::sleep_for(kSettlePollInterval);
    }
  }

  Status close() override {
    CAIRN_ASSERT(database_ != nullptr);
    const Status status = from_rocksdb(database_->Close());
    database_.reset();
    return status;
  }

 private:
  static rocksdb::Slice slice(std::string_view bytes) {
    return rocksdb::Slice(bytes.data(), bytes.size());
  }

  static size_t level1_target_bytes(const EngineOptions& options) {
    const rocksdb::Options defaults;
    return options.write_buffer_bytes *
           static_cast<size_t>(defaults.level0_file_num_compaction_trigger);
  }

  static std::string compression_name(Compression compression) {
    if (compression == Compression::kNone) return "none";
    return lz4_supported() ? "lz4" : "none (this build lacks lz4)";
  }

  Result<bool> background_work_pending() {
    for (const char* property : {"rocksdb.mem-table-flush-pending", "rocksdb.num-running-flushes",
                                 "rocksdb.compaction-pending", "rocksdb.num-running-compactions"}) {
      uint64_t value = 0;
      if (!database_->GetIntProperty(property, &value)) {
        return Status::not_supported(std::string("rocksdb: no property ") + property);
      }
      if (value != 0) return true;
    }
    return false;
  }

  std::unique_ptr<rocksdb::DB> database_;
  rocksdb::WriteOptions write_options_;
};

}  // namespace

std::unique_ptr<Engine> make_rocksdb_engine() { return std::make_unique<RocksDbEngine>(); }

}  // namespace cairn::bench
