// Large values in blob files, the database's side (blob_store.h holds the files): moving a
// batch's large values out before it is queued, streaming values in and out, resolving
// references on reads, and checking references while the WAL is replayed.
#include <algorithm>

#include "common/assert.h"
#include "storage/database.h"
#include "storage/file_names.h"
#include "storage/limits.h"

namespace cairn {
namespace {

// [offset, offset + length) clipped to a value of `size` bytes.
struct Range {
  uint64_t offset = 0;
  uint64_t length = 0;
};
Range clip(uint64_t size, uint64_t offset, uint64_t length) {
  const uint64_t begin = std::min(offset, size);
  return {begin, std::min(length, size - begin)};
}

// A value kept in the tree: it was read whole, so this reader just hands out (a range of) it.
class InlineValueReader final : public ValueReader {
 public:
  InlineValueReader(const std::string& value, Range range)
      : bytes_(value.substr(range.offset, range.length)), value_size_bytes_(value.size()) {}

  uint64_t size_bytes() const override { return bytes_.size(); }
  uint64_t value_size_bytes() const override { return value_size_bytes_; }
  Result<size_t> read(char* buffer, size_t n) override {
    const size_t count = std::min(n, bytes_.size() - position_);
    std::copy_n(bytes_.data() + position_, count, buffer);
    position_ += count;
    return count;
  }

 private:
  const std::string bytes_;
  const uint64_t value_size_bytes_;
  size_t position_ = 0;
};

// A value in a blob file, streamed one verified chunk at a time.
class BlobStreamValueReader final : public ValueReader {
 public:
  explicit BlobStreamValueReader(std::unique_ptr<BlobValueReader> reader)
      : reader_(std::move(reader)), size_bytes_(reader_->remaining_bytes()) {}

  uint64_t size_bytes() const override { return size_bytes_; }
  uint64_t value_size_bytes() const override { return reader_->value_size_bytes(); }
  Result<size_t> read(char* buffer, size_t n) override { return reader_->read(buffer, n); }

 private:
  const std::unique_ptr<BlobValueReader> reader_;
  const uint64_t size_bytes_;
};

// Decodes a reference read from the memtable or a table (untrusted: tables come from disk).
Result<BlobReference> decode_reference(std::string_view encoded) {
  BlobReference reference;
  if (!decode_blob_reference(encoded, &reference)) {
    return Status::corruption("malformed blob reference (" + std::to_string(encoded.size()) +
                              " bytes)");
  }
  return reference;
}

}  // namespace

// ---- Streaming writes ---------------------------------------------------------------------

// A value over the threshold goes straight into a blob record on a lane of its own; a smaller
// one is buffered (at most the threshold) and written whole at commit.
class Database::StreamedValueWriter final : public ValueWriter {
 public:
  StreamedValueWriter(Database* database, std::string_view key, uint64_t value_size_bytes,
                      std::unique_ptr<BlobStreamWriter> stream)
      : database_(database),
        key_(key),
        value_size_bytes_(value_size_bytes),
        stream_(std::move(stream)) {}

  Status append(std::string_view bytes) override {
    CAIRN_RETURN_IF_ERROR(failure_);
    CAIRN_ASSERT(!committed_);
    if (bytes.size() > value_size_bytes_ - appended_bytes_) {
      return fail(Status::invalid_argument(
          "value of " + std::to_string(value_size_bytes_) + " bytes announced, but " +
          std::to_string(appended_bytes_ + bytes.size()) + " bytes appended"));
    }
    appended_bytes_ += bytes.size();
    if (stream_ == nullptr) {
      buffer_.append(bytes);
      return Status::ok();
    }
    const Status status = stream_->append(bytes);
    return status.is_ok() ? status : fail(database_->blob_write_failed(status));
  }

  Status commit() override {
    CAIRN_RETURN_IF_ERROR(failure_);
    CAIRN_ASSERT(!committed_);
    if (appended_bytes_ != value_size_bytes_) {
      return fail(Status::invalid_argument(
          "value of " + std::to_string(value_size_bytes_) + " bytes announced, but only " +
          std::to_string(appended_bytes_) + " bytes appended before commit"));
    }
    Status status;
    if (stream_ == nullptr) {
      status = database_->put(key_, buffer_);  // at most the threshold: stays inline
    } else {
      Result<BlobReference> reference = stream_->finish();
      stream_.reset();
      if (!reference.is_ok()) return fail(database_->blob_write_failed(reference.status()));
      BlobPins pins(database_->blobs_.get());
      pins.add(reference->file_number);
      WriteBatch batch;
      batch.put_blob_reference(key_, *reference);
      status = database_->write_with_blob_values(batch, value_size_bytes_, pins);
    }
    if (!status.is_ok()) return fail(status);
    committed_ = true;
    buffer_ = std::string();
    return status;
  }

 private:
  // Abandons the value: a blob record in progress stays incomplete, its lane retired.
  Status fail(Status status) {
    failure_ = status;
    stream_.reset();
    buffer_ = std::string();
    return status;
  }

  Database* const database_;
  const std::string key_;
  const uint64_t value_size_bytes_;
  std::unique_ptr<BlobStreamWriter> stream_;  // null for a buffered value, or once done
  std::string buffer_;                        // the buffered value
  uint64_t appended_bytes_ = 0;
  bool committed_ = false;
  Status failure_;
};

Result<std::unique_ptr<ValueWriter>> Database::put_stream(std::string_view key,
                                                          uint64_t value_size_bytes) {
  if (key.size() > kKeyBytesMax) {
    return Status::invalid_argument("key of " + std::to_string(key.size()) +
                                    " bytes exceeds the limit of " + std::to_string(kKeyBytesMax));
  }
  const uint64_t threshold_bytes = options_.blob_value_threshold_bytes;
  const bool to_blob = threshold_bytes != 0 && value_size_bytes > threshold_bytes;
  const uint64_t limit_bytes = to_blob ? kBlobValueBytesMax : kWriteBatchBytesMax;
  if (value_size_bytes > limit_bytes) {
    return Status::invalid_argument("value of " + std::to_string(value_size_bytes) +
                                    " bytes exceeds the limit of " + std::to_string(limit_bytes));
  }
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Status::invalid_argument("the database is closed");
    CAIRN_RETURN_IF_ERROR(sticky_error_);
  }
  std::unique_ptr<BlobStreamWriter> stream;
  if (to_blob) {
    Result<std::unique_ptr<BlobStreamWriter>> begun = blobs_->begin(key, value_size_bytes);
    if (!begun.is_ok()) return blob_write_failed(begun.status());
    stream = std::move(begun).value();
  }
  return std::unique_ptr<ValueWriter>(
      new StreamedValueWriter(this, key, value_size_bytes, std::move(stream)));
}

// ---- Whole writes -------------------------------------------------------------------------

Result<WriteBatch> Database::move_large_values(const WriteBatch& batch, uint64_t* blob_value_bytes,
                                               BlobPins* pins) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Status::invalid_argument("the database is closed");
    CAIRN_RETURN_IF_ERROR(sticky_error_);  // no blob write for a batch that would be refused
  }
  struct Mover final : WriteBatch::Handler {
    BlobStore* blobs = nullptr;
    BlobPins* pins = nullptr;
    uint64_t threshold_bytes = 0;
    WriteBatch result;
    uint64_t moved_bytes = 0;
    Status failure;
    void put(std::string_view key, std::string_view value) override {
      if (!failure.is_ok()) return;
      if (value.size() <= threshold_bytes) {
        result.put(key, value);
        return;
      }
      Result<BlobReference> reference = blobs->add(key, value);
      if (!reference.is_ok()) {
        failure = reference.status();
        return;
      }
      pins->add(reference->file_number);
      result.put_blob_reference(key, *reference);
      moved_bytes += value.size();
    }
    void remove(std::string_view key) override {
      if (failure.is_ok()) result.remove(key);
    }
    void put_blob_reference(std::string_view, std::string_view) override {
      CAIRN_ASSERT(false);  // write() refuses callers' references
    }
  } mover;
  mover.blobs = blobs_.get();
  mover.pins = pins;
  mover.threshold_bytes = options_.blob_value_threshold_bytes;
  CAIRN_ASSERT(mover.threshold_bytes != 0);
  CAIRN_RETURN_IF_ERROR(batch.iterate(mover));
  // Records already written for this batch stay behind as garbage.
  if (!mover.failure.is_ok()) return blob_write_failed(mover.failure);
  *blob_value_bytes = mover.moved_bytes;
  return std::move(mover.result);
}

Status Database::write_with_blob_values(const WriteBatch& batch, uint64_t blob_value_bytes,
                                        BlobPins& pins) {
  const Status status = write_checked(batch);
  // Past the checks, a failed write may have left its WAL record on disk: recovery will look
  // for the blob records it names, so their files stay until the next open.
  if (!status.is_ok() && !status.is_invalid_argument()) pins.keep();
  CAIRN_RETURN_IF_ERROR(status);
  std::lock_guard lock(mutex_);
  stats_.user_bytes_written += blob_value_bytes;
  return Status::ok();
}

Status Database::blob_write_failed(const Status& status) {
  CAIRN_ASSERT(!status.is_ok());
  // InvalidArgument wrote nothing (a limit, a wrong stream size, a closed store). Any other
  // error leaves a blob file's tail unknown, and a failed sync may have dropped records that
  // acknowledged writes name: stop writing, as for the WAL.
  if (status.is_invalid_argument()) return status;
  std::lock_guard lock(mutex_);
  if (sticky_error_.is_ok()) sticky_error_ = status;
  return status;
}

// ---- Reads --------------------------------------------------------------------------------

Result<std::string> Database::read_blob_value(std::string_view encoded_reference) {
  CAIRN_ASSIGN_OR_RETURN(const BlobReference reference, decode_reference(encoded_reference));
  return blobs_->read_value(reference);
}

Result<std::unique_ptr<ValueReader>> Database::get_stream(const ReadOptions& options,
                                                          std::string_view key) {
  return get_stream_range(options, key, 0, UINT64_MAX);
}

Result<std::unique_ptr<ValueReader>> Database::get_stream_range(const ReadOptions& options,
                                                                std::string_view key,
                                                                uint64_t offset, uint64_t length) {
  ReadState state;  // kept while the reader opens the blob file
  std::string value;
  CAIRN_ASSIGN_OR_RETURN(const LookupResult result, lookup(options, key, &value, &state));
  return open_value_reader(result, std::move(value), offset, length);
}

Result<StoredValue> Database::get_value(const ReadOptions& options, std::string_view key) {
  ReadState state;  // nothing here reads the blob: StoredValue::open_range may find it collected
  StoredValue stored;
  CAIRN_ASSIGN_OR_RETURN(const LookupResult result, lookup(options, key, &stored.bytes_, &state));
  stored.database_ = this;
  switch (result) {
    case LookupResult::kAbsent:
    case LookupResult::kDeleted:
      stored.bytes_.clear();
      return stored;
    case LookupResult::kFound:
      stored.kind_ = StoredValue::Kind::kInline;
      stored.size_bytes_ = stored.bytes_.size();
      return stored;
    case LookupResult::kBlobReference:
      break;
  }
  CAIRN_ASSIGN_OR_RETURN(const BlobReference reference, decode_reference(stored.bytes_));
  stored.kind_ = StoredValue::Kind::kBlob;
  stored.size_bytes_ = reference.value_size_bytes;
  return stored;
}

StoredValue Database::inline_value(std::string bytes) {
  StoredValue stored;
  stored.kind_ = StoredValue::Kind::kInline;
  stored.size_bytes_ = bytes.size();
  stored.bytes_ = std::move(bytes);
  stored.database_ = this;
  return stored;
}

std::string_view StoredValue::inline_bytes() const {
  CAIRN_ASSERT(kind_ == Kind::kInline);
  return bytes_;
}

std::string StoredValue::take_inline_bytes() && {
  CAIRN_ASSERT(kind_ == Kind::kInline);
  return std::move(bytes_);
}

Result<std::unique_ptr<ValueReader>> StoredValue::open_range(uint64_t offset,
                                                             uint64_t length) const {
  CAIRN_ASSERT(found() && database_ != nullptr);
  const LookupResult result =
      kind_ == Kind::kBlob ? LookupResult::kBlobReference : LookupResult::kFound;
  return database_->open_value_reader(result, bytes_, offset, length);
}

Status StoredValue::append_prefix_to(uint64_t length, ValueWriter& writer) const {
  constexpr size_t kChunkBytes = 64 * 1024;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueReader> reader, open_range(0, length));
  std::string chunk(kChunkBytes, '\0');
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const size_t n, reader->read(chunk.data(), chunk.size()));
    if (n == 0) return Status::ok();
    CAIRN_RETURN_IF_ERROR(writer.append(std::string_view(chunk.data(), n)));
  }
}

Result<std::unique_ptr<ValueReader>> Database::open_value_reader(LookupResult result,
                                                                 std::string value, uint64_t offset,
                                                                 uint64_t length) {
  switch (result) {
    case LookupResult::kAbsent:
    case LookupResult::kDeleted:
      return std::unique_ptr<ValueReader>();
    case LookupResult::kFound:
      return std::unique_ptr<ValueReader>(
          new InlineValueReader(value, clip(value.size(), offset, length)));
    case LookupResult::kBlobReference:
      break;
  }
  CAIRN_ASSIGN_OR_RETURN(const BlobReference reference, decode_reference(value));
  const Range range = clip(reference.value_size_bytes, offset, length);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobValueReader> reader,
                         blobs_->open_value_range(reference, range.offset, range.length));
  return std::unique_ptr<ValueReader>(new BlobStreamValueReader(std::move(reader)));
}

// ---- Recovery -----------------------------------------------------------------------------

void Database::open_blob_store(const std::vector<std::string>& names) {
  std::map<uint64_t, uint64_t> existing_file_bytes;
  for (const std::string& name : names) {
    uint64_t number = 0;
    FileKind kind;
    if (!parse_file_name(name, &number, &kind) || kind != FileKind::kBlob) continue;
    // A size that cannot be read only keeps the file out of garbage collection's reach.
    const Result<uint64_t> size = options_.env->file_size(directory_ + "/" + name);
    existing_file_bytes[number] = size.is_ok() ? *size : 0;
  }
  BlobStoreOptions blob_options;
  blob_options.env = options_.env;
  blob_options.directory = directory_;
  blob_options.fsync = options_.fsync;
  blob_options.file_size_bytes = options_.blob_file_size_bytes;
  blob_options.open_readers_max = options_.max_open_tables;
  blob_options.new_file_number = [this] { return versions_.new_file_number(); };
  blobs_ = std::make_unique<BlobStore>(std::move(blob_options), std::move(existing_file_bytes));
}

Result<std::string> Database::relocate_blob_value(std::string_view user_key,
                                                  const BlobReference& reference, BlobPins* pins) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobValueReader> reader,
                         blobs_->open_value_range(reference, 0, reference.value_size_bytes));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobStreamWriter> writer,
                         blobs_->begin(user_key, reference.value_size_bytes));
  std::string buffer(kBlobChunkBytesMax, '\0');
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const size_t read, reader->read(buffer.data(), buffer.size()));
    if (read == 0) break;
    CAIRN_RETURN_IF_ERROR(writer->append(std::string_view(buffer.data(), read)));
  }
  CAIRN_ASSIGN_OR_RETURN(const BlobReference relocated, writer->finish());
  pins->add(relocated.file_number);
  std::string encoded;
  encode_blob_reference(&encoded, relocated);
  return encoded;
}

Result<bool> Database::blob_references_intact(const WriteBatch& batch) {
  struct Checker final : WriteBatch::Handler {
    BlobStore* blobs = nullptr;
    bool intact = true;
    Status failure;  // an error that says nothing about the record (say, EIO)
    void put(std::string_view, std::string_view) override {}
    void remove(std::string_view) override {}
    void put_blob_reference(std::string_view, std::string_view encoded) override {
      if (!intact || !failure.is_ok()) return;
      BlobReference reference;
      const bool decoded = decode_blob_reference(encoded, &reference);
      CAIRN_ASSERT(decoded);  // WriteBatch::from_contents checked it
      const Status status = blobs->check(reference);
      if (status.is_corruption()) {
        intact = false;
      } else if (!status.is_ok()) {
        failure = status;
      }
    }
  } checker;
  checker.blobs = blobs_.get();
  CAIRN_RETURN_IF_ERROR(batch.iterate(checker));
  CAIRN_RETURN_IF_ERROR(checker.failure);
  return checker.intact;
}

}  // namespace cairn
