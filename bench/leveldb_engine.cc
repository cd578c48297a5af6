// The Engine adapter for LevelDB (1.23 as Debian ships it, or the build LEVELDB_ROOT names).
//
// Options: the shared ones (engine.h) mapped one to one, except compression: LevelDB has no lz4,
// so Compression::kFast means snappy. Everything else is LevelDB's default (2 MiB files, 10 MiB
// level 1, one background thread).
//
// LevelDB has no public flush and no "compaction pending" property, so settle() flushes with a
// manual compaction of an empty key range (which writes the memtable first and then compacts
// nothing) and then waits until the level sizes in "leveldb.sstables" need no compaction.
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

#include "engine.h"

namespace cairn::bench {
namespace {

// LevelDB 1.23's compaction triggers (db/dbformat.h, db/version_set.cc), which its public headers
// do not export: level 0 compacts at 4 files; level L >= 1 above 10 MiB x 10^(L-1); the last of
// the 7 levels never.
constexpr int kLevelCount = 7;
constexpr int kLevel0FileTrigger = 4;
constexpr double kLevel1TargetBytes = 10.0 * 1048576.0;

constexpr auto kSettleTimeoutMax = std::chrono::minutes(10);
constexpr auto kSettlePollInterval = std::chrono::milliseconds(20);
// A key above every key the benchmark writes (its keys are decimal digits), so a manual
// compaction of [kAboveAllKeys, kAboveAllKeys] flushes the memtable and compacts nothing else.
constexpr std::string_view kAboveAllKeys = "\xff\xff\xff\xff";

Status from_leveldb(const leveldb::Status& status) {
  if (status.ok()) return Status::ok();
  if (status.IsNotFound()) return Status::not_found("leveldb: " + status.ToString());
  return Status::io_error("leveldb: " + status.ToString());
}

leveldb::Slice slice(std::string_view bytes) { return leveldb::Slice(bytes.data(), bytes.size()); }

// Whether the version that "leveldb.sstables" describes has a level that LevelDB would compact.
// The text lists "--- level N ---" and then one " number:size[smallest .. largest]" per file.
bool needs_compaction(const std::string& sstables) {
  std::istringstream lines(sstables);
  std::string line;
  int level = -1;
  int level_files[kLevelCount] = {};
  double level_bytes[kLevelCount] = {};
  while (std::getline(lines, line)) {
    if (line.rfind("--- level ", 0) == 0) {
      level = std::stoi(line.substr(10));
    } else if (level >= 0 && level < kLevelCount && line.size() > 1 && line[0] == ' ') {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      level_files[level]++;
      level_bytes[level] += std::stod(line.substr(colon + 1));
    }
  }
  if (level_files[0] >= kLevel0FileTrigger) return true;
  double target_bytes = kLevel1TargetBytes;
  for (int deeper = 1; deeper < kLevelCount - 1; deeper++, target_bytes *= 10) {
    if (level_bytes[deeper] >= target_bytes) return true;
  }
  return false;
}

class LevelDbEngine final : public Engine {
 public:
  std::string_view name() const override { return "leveldb"; }
  std::string version() const override {
    return std::to_string(leveldb::kMajorVersion) + "." + std::to_string(leveldb::kMinorVersion) +
           " (" CAIRN_BENCH_LEVELDB_LIBRARY ")";
  }

  std::string describe_options(const EngineOptions& options) const override {
    return "write buffer " + format_bytes(options.write_buffer_bytes) + ", bloom " +
           std::to_string(options.bloom_bits_per_key) + " bits/key, block " +
           format_bytes(options.block_size_bytes) + ", LRU block cache " +
           format_bytes(options.block_cache_bytes) + ", compression " +
           (options.compression == Compression::kFast ? "snappy (no lz4 in LevelDB)" : "none") +
           "; L1 target 10 MiB, files 2 MiB, 1 background thread; sync=false / true (fillsync "
           "rows); settle = flush + poll the level sizes until none needs compaction";
  }

  Status open(const std::string& directory, const EngineOptions& options) override {
    CAIRN_ASSERT(database_ == nullptr);
    block_cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));
    filter_policy_.reset(leveldb::NewBloomFilterPolicy(options.bloom_bits_per_key));
    leveldb::Options engine_options;
    engine_options.create_if_missing = true;
    engine_options.error_if_exists = true;
    engine_options.write_buffer_size = options.write_buffer_bytes;
    engine_options.block_size = options.block_size_bytes;
    engine_options.block_cache = block_cache_.get();
    engine_options.filter_policy = filter_policy_.get();
    engine_options.compression = options.compression == Compression::kFast
                                     ? leveldb::kSnappyCompression
                                     : leveldb::kNoCompression;
    write_options_.sync = options.sync_every_write;
    leveldb::DB* database = nullptr;
    CAIRN_RETURN_IF_ERROR(from_leveldb(leveldb::DB::Open(engine_options, directory, &database)));
    database_.reset(database);
    return Status::ok();
  }

  Status put(std::string_view key, std::string_view value) override {
    return from_leveldb(database_->Put(write_options_, slice(key), slice(value)));
  }

  Status write_batch(std::span<const KeyValue> entries) override {
    leveldb::WriteBatch batch;
    for (const KeyValue& entry : entries) batch.Put(slice(entry.key), slice(entry.value));
    return from_leveldb(database_->Write(write_options_, &batch));
  }

  Status get(std::string_view key, std::string* value) override {
    return from_leveldb(database_->Get(leveldb::ReadOptions(), slice(key), value));
  }

  Result<size_t> scan(std::string_view start, size_t count) override {
    std::unique_ptr<leveldb::Iterator> iterator(database_->NewIterator(leveldb::ReadOptions()));
    size_t read = 0;
    size_t bytes = 0;
    for (iterator->Seek(slice(start)); read < count && iterator->Valid(); iterator->Next()) {
      bytes += iterator->key().size() + iterator->value().size();
      read++;
    }
    CAIRN_RETURN_IF_ERROR(from_leveldb(iterator->status()));
    CAIRN_ASSERT(read == 0 || bytes > 0);
    return read;
  }

  // LevelDB takes and returns a value whole.
  Status put_large(std::string_view key, uint64_t size_bytes, const ChunkSource& source) override {
    const std::string value = materialize_large_value(size_bytes, source);
    return put(key, value);
  }

  Status get_large(std::string_view key, const ChunkSink& sink) override {
    std::string value;
    CAIRN_RETURN_IF_ERROR(get(key, &value));
    return feed_large_value(value, sink);
  }

  // An empty batch written with sync=true fsyncs the log, covering every earlier write.
  Status sync() override {
    leveldb::WriteOptions sync_options;
    sync_options.sync = true;
    leveldb::WriteBatch empty;
    return from_leveldb(database_->Write(sync_options, &empty));
  }

  Status settle() override {
    const leveldb::Slice above_all = slice(kAboveAllKeys);
    database_->CompactRange(&above_all, &above_all);
    // Done when the level sizes need no compaction and two polls in a row see the same files
    // (so a compaction LevelDB started for its own reasons, e.g. seeks, has finished too).
    const auto deadline = std::chrono::steady_clock::now() + kSettleTimeoutMax;
    std::string previous;
    while (true) {
      std::string sstables;
      if (!database_->GetProperty("leveldb.sstables", &sstables)) {
        return Status::not_supported("leveldb: no property leveldb.sstables");
      }
      if (!needs_compaction(sstables) && sstables == previous) return Status::ok();
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::io_error("leveldb: compactions did not settle within the time limit");
      }
      previous = std::move(sstables);
      std::this_thread::sleep_for(kSettlePollInterval);
    }
  }

  Status close() override {
    CAIRN_ASSERT(database_ != nullptr);
    database_.reset();  // LevelDB closes in its destructor, after its background work
    return Status::ok();
  }

 private:
  // Declared before database_ so they outlive it.
  std::unique_ptr<leveldb::Cache> block_cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_policy_;
  std::unique_ptr<leveldb::DB> database_;
  leveldb::WriteOptions write_options_;
};

}  // namespace

std::unique_ptr<Engine> make_leveldb_engine() { return std::make_unique<LevelDbEngine>(); }

}  // namespace cairn::bench
