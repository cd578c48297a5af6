// The Engine adapter for Cairn's own storage engine (src/storage/database.h). Large values are
// streamed through Database::put_stream/get_stream, chunk by chunk, never whole in memory.
#include <algorithm>
#include <memory>
#include <optional>

#include "engine.h"
#include "storage/block_cache.h"
#include "storage/database.h"

namespace cairn::bench {
namespace {

class CairnEngine final : public Engine {
 public:
  std::string_view name() const override { return "cairn"; }
  std::string version() const override { return "this tree (" CAIRN_BENCH_GIT_VERSION ")"; }

  std::string describe_options(const EngineOptions& options) const override {
    return "write buffer " + format_bytes(options.write_buffer_bytes) + ", bloom " +
           std::to_string(options.bloom_bits_per_key) + " bits/key, block " +
           format_bytes(options.block_size_bytes) + ", LRU block cache " +
           format_bytes(options.block_cache_bytes) + ", compression " +
           (options.compression == Compression::kFast ? "lz4" : "none") +
           "; WAL fsync policy never / always (fillsync rows); engine defaults for compaction "
           "and background threads; settle = flush + wait_for_compactions";
  }

  Status open(const std::string& directory, const EngineOptions& options) override {
    CAIRN_ASSERT(database_ == nullptr);
    Options engine_options;
    engine_options.create_if_missing = true;
    engine_options.error_if_exists = true;
    engine_options.write_buffer_size_bytes = options.write_buffer_bytes;
    engine_options.table.bloom_bits_per_key = options.bloom_bits_per_key;
    engine_options.table.block_size_bytes = options.block_size_bytes;
    engine_options.fsync = options.sync_every_write ? FsyncPolicy::kAlways : FsyncPolicy::kNever;
    engine_options.table.block_cache = std::make_shared<BlockCache>(options.block_cache_bytes);
    engine_options.table.compression =
        options.compression == Compression::kFast ? CompressionType::kLz4 : CompressionType::kNone;
    CAIRN_ASSIGN_OR_RETURN(database_, Database::open(engine_options, directory));
    return Status::ok();
  }

  Status put(std::string_view key, std::string_view value) override {
    return database_->put(key, value);
  }

  Status write_batch(std::span<const KeyValue> entries) override {
    WriteBatch batch;
    for (const KeyValue& entry : entries) batch.put(entry.key, entry.value);
    return database_->write(batch);
  }

  Status get(std::string_view key, std::string* value) override {
    CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> found, database_->get(ReadOptions{}, key));
    if (!found.has_value()) return Status::not_found("cairn: key absent");
    *value = std::move(*found);
    return Status::ok();
  }

  Result<size_t> scan(std::string_view start, size_t count) override {
    std::unique_ptr<Iterator> iterator = database_->new_iterator(ReadOptions{});
    size_t read = 0;
    size_t bytes = 0;
    for (iterator->seek(start); read < count && iterator->valid(); iterator->next()) {
      bytes += iterator->key().size() + iterator->value().size();
      read++;
    }
    CAIRN_RETURN_IF_ERROR(iterator->status());
    CAIRN_ASSERT(read == 0 || bytes > 0);
    return read;
  }

  // Chunks from `source` go straight into a blob file.
  Status put_large(std::string_view key, uint64_t size_bytes, const ChunkSource& source) override {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueWriter> writer,
                           database_->put_stream(key, size_bytes));
    std::string chunk(kLargeValueChunkBytes, '\0');
    for (uint64_t offset = 0; offset < size_bytes; offset += kLargeValueChunkBytes) {
      const size_t length =
          static_cast<size_t>(std::min<uint64_t>(kLargeValueChunkBytes, size_bytes - offset));
      source(offset, std::span<char>(chunk.data(), length));
      CAIRN_RETURN_IF_ERROR(writer->append(std::string_view(chunk.data(), length)));
    }
    return writer->commit();
  }

  // Verified chunks from the blob file go straight to `sink`.
  Status get_large(std::string_view key, const ChunkSink& sink) override {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueReader> reader,
                           database_->get_stream(ReadOptions{}, key));
    if (reader == nullptr) return Status::not_found("cairn: large value absent");
    std::string chunk(kLargeValueChunkBytes, '\0');
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(const size_t length, reader->read(chunk.data(), chunk.size()));
      if (length == 0) return Status::ok();
      CAIRN_RETURN_IF_ERROR(sink(std::string_view(chunk.data(), length)));
    }
  }

  Status sync() override { return database_->sync_wal(); }

  Status settle() override {
    CAIRN_RETURN_IF_ERROR(database_->flush());
    return database_->wait_for_compactions();
  }

  Status close() override {
    CAIRN_ASSERT(database_ != nullptr);
    const Status status = database_->close();
    database_.reset();
    return status;
  }

 private:
  std::unique_ptr<Database> database_;
};

}  // namespace

std::unique_ptr<Engine> make_cairn_engine() { return std::make_unique<CairnEngine>(); }

}  // namespace cairn::bench
