#include "storage/blob_store.h"

#include <algorithm>

#include "common/assert.h"
#include "storage/file_names.h"
#include "storage/limits.h"

namespace cairn {

struct BlobStore::Lane {
  Lane(uint64_t file_number, std::unique_ptr<WritableFile> writable)
      : number(file_number), file(std::move(writable)), writer(file.get(), file_number) {}

  const uint64_t number;
  // Held by the lane's writer for each call and by sync(); guards every field below but
  // finished_bytes and closed, which BlobStore::mutex_ holders read too.
  std::mutex mutex;
  const std::unique_ptr<WritableFile> file;
  BlobFileWriter writer;
  uint64_t synced_bytes = 0;   // the durable prefix of the file
  uint64_t counted_bytes = 0;  // appended bytes already in the statistics
  // Where the last finished record ends: what references may name. Written under `mutex`.
  std::atomic<uint64_t> finished_bytes{0};
  // Set (under BlobStore::mutex_) when the lane stops taking records.
  std::atomic<bool> retired{false};
  // Set (under `mutex`) once the retired lane's file is closed.
  std::atomic<bool> closed{false};
};

namespace {

Status refuse_closed() { return Status::invalid_argument("the blob store is closed"); }

Status check_limits(std::string_view key, uint64_t value_size_bytes) {
  if (key.size() > kKeyBytesMax) {
    return Status::invalid_argument("key of " + std::to_string(key.size()) +
                                    " bytes exceeds the limit of " + std::to_string(kKeyBytesMax));
  }
  if (value_size_bytes > kBlobValueBytesMax) {
    return Status::invalid_argument("value of " + std::to_string(value_size_bytes) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(kBlobValueBytesMax));
  }
  return Status::ok();
}

// A blob file a reference names but that is not there is damage, not a passing condition.
Status missing_is_corruption(const Status& status, const std::string& name) {
  if (!status.is_not_found()) return status;
  return Status::corruption("blob file " + name + ": referenced, but missing");
}

}  // namespace

BlobStore::BlobStore(BlobStoreOptions options, std::map<uint64_t, uint64_t> existing_file_bytes)
    : options_(std::move(options)),
      sealed_file_bytes_(std::move(existing_file_bytes)),
      file_count_(sealed_file_bytes_.size()) {
  CAIRN_ASSERT(options_.env != nullptr && options_.new_file_number != nullptr);
  CAIRN_ASSERT(options_.file_size_bytes >= 1 && options_.file_size_bytes <= kBlobFileBytesMax);
  CAIRN_ASSERT(options_.open_readers_max >= 1);
}

BlobStore::~BlobStore() = default;

// ---- Writing ------------------------------------------------------------------------------

Result<BlobReference> BlobStore::add(std::string_view key, std::string_view value) {
  CAIRN_RETURN_IF_ERROR(check_limits(key, value.size()));
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Lane> lane, acquire_lane());
  Result<BlobReference> reference = [&]() -> Result<BlobReference> {
    std::lock_guard lane_lock(lane->mutex);
    Status status = lane->writer.begin(key, value.size());
    if (status.is_ok()) status = lane->writer.append(value);
    if (!status.is_ok()) {
      count_bytes(*lane);
      return status;
    }
    return finish_record(*lane);
  }();
  release_lane(lane, reference.is_ok());
  return reference;
}

Result<std::unique_ptr<BlobStreamWriter>> BlobStore::begin(std::string_view key,
                                                           uint64_t value_size_bytes) {
  CAIRN_RETURN_IF_ERROR(check_limits(key, value_size_bytes));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Lane> lane, acquire_lane());
  Status status;
  {
    std::lock_guard lane_lock(lane->mutex);
    status = lane->writer.begin(key, value_size_bytes);
    if (!status.is_ok()) count_bytes(*lane);
  }
  if (!status.is_ok()) {
    release_lane(lane, /*usable=*/false);
    return status;
  }
  return std::unique_ptr<BlobStreamWriter>(new BlobStreamWriter(this, std::move(lane)));
}

Result<std::shared_ptr<BlobStore::Lane>> BlobStore::acquire_lane() {
  uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return refuse_closed();
    if (!idle_lanes_.empty()) {
      std::shared_ptr<Lane> lane = std::move(idle_lanes_.back());
      idle_lanes_.pop_back();
      pins_[lane->number]++;
      return lane;
    }
    // Numbered and pinned at once: the number is live from the moment it exists, so a deleter
    // that saw an older counter value sees the pin (live_file_numbers).
    number = options_.new_file_number();
    pins_[number]++;
  }
  Result<std::shared_ptr<Lane>> lane = create_lane(number);
  std::lock_guard lock(mutex_);
  if (!lane.is_ok()) {
    unpin_locked(number);
    return lane.status();
  }
  file_count_++;
  open_lanes_.emplace(number, *lane);  // released into retirement if the store closed meanwhile
  return lane;
}

Result<std::shared_ptr<BlobStore::Lane>> BlobStore::create_lane(uint64_t number) {
  const std::string name = blob_file_name(options_.directory, number);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, options_.env->new_writable_file(name));
  // Durable before any reference to the file can be acknowledged, whatever the fsync policy:
  // recovery must find every file a surviving reference names.
  CAIRN_RETURN_IF_ERROR(options_.env->sync_dir(options_.directory));
  return std::make_shared<Lane>(number, std::move(file));
}

void BlobStore::release_lane(const std::shared_ptr<Lane>& lane, bool usable) {
  uint64_t file_size_bytes = 0;
  {
    std::lock_guard lane_lock(lane->mutex);
    CAIRN_ASSERT(!usable || !lane->writer.record_in_progress());
    file_size_bytes = lane->writer.file_size_bytes();
  }
  {
    std::lock_guard lock(mutex_);
    if (!usable) unpin_locked(lane->number);  // a usable record's reference keeps the pin
    const bool retire = !usable || closed_ || file_size_bytes >= options_.file_size_bytes ||
                        idle_lanes_.size() >= kBlobIdleLanesMax;
    if (!retire) {
      idle_lanes_.push_back(lane);
      return;
    }
    open_lanes_.erase(lane->number);
    retired_lanes_.push_back(lane);
    lane->retired.store(true);
    sealed_file_bytes_[lane->number] = file_size_bytes;
  }
  // Closed now if nothing in it awaits a sync; otherwise by the next sync().
  bool closed = false;
  {
    std::lock_guard lane_lock(lane->mutex);
    if (lane->closed.load()) {
      closed = true;
    } else if (lane->finished_bytes.load() <= lane->synced_bytes) {
      (void)lane->file->close();  // what a reference names was flushed or synced already
      lane->closed.store(true);
      closed = true;
    }
  }
  if (closed) {
    std::lock_guard lock(mutex_);
    std::erase(retired_lanes_, lane);
  }
}

Result<BlobReference> BlobStore::finish_record(Lane& lane) {
  Result<BlobReference> reference = lane.writer.finish();
  Status status = reference.status();
  if (status.is_ok()) {
    // Flushed at least, so that this process's readers see the record.
    status = options_.fsync == FsyncPolicy::kAlways ? lane.file->sync() : lane.file->flush();
  }
  count_bytes(lane);
  if (!status.is_ok()) return status;
  const uint64_t end = lane.writer.file_size_bytes();
  if (options_.fsync == FsyncPolicy::kAlways) lane.synced_bytes = end;
  lane.finished_bytes.store(end);
  return reference;
}

void BlobStore::count_bytes(Lane& lane) {
  const uint64_t appended = lane.writer.file_size_bytes();
  CAIRN_ASSERT(appended >= lane.counted_bytes);
  bytes_written_.fetch_add(appended - lane.counted_bytes, std::memory_order_relaxed);
  lane.counted_bytes = appended;
}

Status BlobStore::sync() {
  if (options_.fsync == FsyncPolicy::kAlways) return Status::ok();
  std::vector<std::shared_ptr<Lane>> lanes;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [number, lane] : open_lanes_) lanes.push_back(lane);
    lanes.insert(lanes.end(), retired_lanes_.begin(), retired_lanes_.end());
  }
  bool any_closed = false;
  for (const std::shared_ptr<Lane>& lane : lanes) {
    std::lock_guard lane_lock(lane->mutex);
    if (lane->closed.load()) continue;
    const uint64_t finished = lane->finished_bytes.load();
    if (finished > lane->synced_bytes) {
      CAIRN_RETURN_IF_ERROR(lane->file->sync());
      lane->synced_bytes = finished;
    }
    // A retired lane is closed once durable.
    if (lane->retired.load()) {
      (void)lane->file->close();
      lane->closed.store(true);
      any_closed = true;
    }
  }
  if (any_closed) {
    std::lock_guard lock(mutex_);
    std::erase_if(retired_lanes_, [](const auto& lane) { return lane->closed.load(); });
  }
  return Status::ok();
}

Status BlobStore::close() {
  std::vector<std::shared_ptr<Lane>> lanes;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (const std::shared_ptr<Lane>& lane : idle_lanes_) {
      open_lanes_.erase(lane->number);
      lane->retired.store(true);
    }
    retired_lanes_.insert(retired_lanes_.end(), idle_lanes_.begin(), idle_lanes_.end());
    idle_lanes_.clear();
    for (const auto& [number, lane] : open_lanes_) lanes.push_back(lane);
    lanes.insert(lanes.end(), retired_lanes_.begin(), retired_lanes_.end());
    retired_lanes_.clear();
  }
  Status status;
  for (const std::shared_ptr<Lane>& lane : lanes) {
    std::lock_guard lane_lock(lane->mutex);
    if (lane->closed.load()) continue;
    if (status.is_ok() && lane->finished_bytes.load() > lane->synced_bytes) {
      status = lane->file->sync();
      if (status.is_ok()) lane->synced_bytes = lane->finished_bytes.load();
    }
    // A lane still open is being streamed into (a caller broke the REQUIRES): left to its writer.
    if (lane->writer.record_in_progress()) continue;
    const Status closed = lane->file->close();
    if (status.is_ok()) status = closed;
    lane->closed.store(true);
  }
  return status;
}

// ---- BlobStreamWriter ---------------------------------------------------------------------

BlobStreamWriter::BlobStreamWriter(BlobStore* store, std::shared_ptr<BlobStore::Lane> lane)
    : store_(store), lane_(std::move(lane)) {}

BlobStreamWriter::~BlobStreamWriter() {
  if (lane_ == nullptr) return;
  {
    std::lock_guard lane_lock(lane_->mutex);
    store_->count_bytes(*lane_);
  }
  store_->release_lane(lane_, /*usable=*/false);  // the record was abandoned
}

Status BlobStreamWriter::append(std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(failure_);
  CAIRN_ASSERT(lane_ != nullptr);
  Status status;
  {
    std::lock_guard lane_lock(lane_->mutex);
    status = lane_->writer.append(bytes);
  }
  return status.is_ok() ? status : fail(status);
}

Result<BlobReference> BlobStreamWriter::finish() {
  CAIRN_RETURN_IF_ERROR(failure_);
  CAIRN_ASSERT(lane_ != nullptr);
  Result<BlobReference> reference = [&] {
    std::lock_guard lane_lock(lane_->mutex);
    return store_->finish_record(*lane_);
  }();
  if (!reference.is_ok()) return fail(reference.status());
  store_->release_lane(lane_, /*usable=*/true);
  lane_.reset();
  return reference;
}

Status BlobStreamWriter::fail(Status status) {
  failure_ = status;
  if (lane_ != nullptr) {
    {
      std::lock_guard lane_lock(lane_->mutex);
      store_->count_bytes(*lane_);
    }
    store_->release_lane(lane_, /*usable=*/false);
    lane_.reset();
  }
  return status;
}

// ---- Reading ------------------------------------------------------------------------------

Result<std::string> BlobStore::read_value(const BlobReference& reference) {
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<BlobFileReader> reader, reader_for(reference));
  return reader->read_value(reference);
}

Result<std::unique_ptr<BlobValueReader>> BlobStore::open_value_range(const BlobReference& reference,
                                                                     uint64_t offset,
                                                                     uint64_t length) {
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<BlobFileReader> reader, reader_for(reference));
  return reader->open_value_range(reference, offset, length);
}

Status BlobStore::check(const BlobReference& reference) {
  // Opening a reader verifies the reference, the header, the key and the record's extent; the
  // last byte brings in the last chunk, the end of what was written.
  const uint64_t size = reference.value_size_bytes;
  const uint64_t last = size == 0 ? 0 : size - 1;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobValueReader> reader,
                         open_value_range(reference, last, size - last));
  char byte = 0;
  return reader->read(&byte, 1).status();
}

Result<std::shared_ptr<BlobFileReader>> BlobStore::reader_for(const BlobReference& reference) {
  const uint64_t number = reference.file_number;
  bool writing = false;
  uint64_t readable_bytes = 0;
  {
    std::lock_guard lock(mutex_);
    const auto lane = open_lanes_.find(number);
    if (lane != open_lanes_.end()) {
      writing = true;
      readable_bytes = lane->second->finished_bytes.load();
    }
    const auto cached = readers_.find(number);
    if (cached != readers_.end()) {
      const CachedReader& entry = cached->second;
      // A file being written grows: its reader covers only the records finished when it opened.
      const bool covers = writing ? entry.reader->file_size_bytes() >= readable_bytes : entry.final;
      if (covers) {
        recency_.splice(recency_.end(), recency_, entry.recency);
        return entry.reader;
      }
    }
  }
  return open_reader(number, writing, readable_bytes);
}

Result<std::shared_ptr<BlobFileReader>> BlobStore::open_reader(uint64_t number, bool writing,
                                                               uint64_t readable_bytes) {
  const std::string name = blob_file_name(options_.directory, number);
  uint64_t size_bytes = readable_bytes;
  if (!writing) {
    // No longer written (files are never reopened for writing): its size is final.
    Result<uint64_t> size = options_.env->file_size(name);
    if (!size.is_ok()) return missing_is_corruption(size.status(), name);
    size_bytes = *size;
  }
  Result<std::unique_ptr<RandomAccessFile>> file = options_.env->new_random_access_file(name);
  if (!file.is_ok()) return missing_is_corruption(file.status(), name);
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<BlobFileReader> reader,
                         BlobFileReader::open(std::move(file).value(), size_bytes, name));
  std::lock_guard lock(mutex_);
  cache_reader_locked(number, reader, /*final=*/!writing);
  return reader;
}

void BlobStore::cache_reader_locked(uint64_t number, std::shared_ptr<BlobFileReader> reader,
                                    bool final) {
  const auto existing = readers_.find(number);
  if (existing != readers_.end()) {
    recency_.erase(existing->second.recency);
    readers_.erase(existing);
  }
  recency_.push_back(number);
  readers_.emplace(number, CachedReader{std::move(reader), final, std::prev(recency_.end())});
  while (readers_.size() > options_.open_readers_max) {
    readers_.erase(recency_.front());  // a reader in use stays alive with its user
    recency_.pop_front();
  }
}

// ---- Liveness -----------------------------------------------------------------------------

void BlobStore::unpin(uint64_t file_number) {
  std::lock_guard lock(mutex_);
  unpin_locked(file_number);
}

void BlobStore::unpin_locked(uint64_t file_number) {
  const auto pin = pins_.find(file_number);
  CAIRN_ASSERT(pin != pins_.end() && pin->second > 0);
  if (--pin->second == 0) pins_.erase(pin);
}

std::set<uint64_t> BlobStore::live_file_numbers() const {
  std::lock_guard lock(mutex_);
  std::set<uint64_t> live;
  for (const auto& [number, lane] : open_lanes_) live.insert(number);
  for (const auto& lane : retired_lanes_) live.insert(lane->number);
  for (const auto& [number, count] : pins_) live.insert(number);
  return live;
}

void BlobStore::forget_file(uint64_t file_number) {
  std::lock_guard lock(mutex_);
  CAIRN_ASSERT(!open_lanes_.contains(file_number) && !pins_.contains(file_number));
  const auto cached = readers_.find(file_number);
  if (cached != readers_.end()) {
    recency_.erase(cached->second.recency);
    readers_.erase(cached);  // a reader in use stays alive (and readable) with its user
  }
  sealed_file_bytes_.erase(file_number);
  if (file_count_ > 0) file_count_--;
}

std::map<uint64_t, uint64_t> BlobStore::sealed_file_bytes() const {
  std::lock_guard lock(mutex_);
  std::map<uint64_t, uint64_t> sealed = sealed_file_bytes_;
  for (const auto& lane : retired_lanes_) sealed.erase(lane->number);  // not yet durable
  for (const auto& [number, count] : pins_) sealed.erase(number);
  return sealed;
}

BlobStore::Stats BlobStore::stats() const {
  Stats stats;
  stats.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  stats.file_count = file_count_;
  return stats;
}

}  // namespace cairn
