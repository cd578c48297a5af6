#include "storage/database_iterator.h"

#include <string>

#include "common/assert.h"

namespace cairn {
namespace {

class DatabaseIterator final : public Iterator {
 public:
  DatabaseIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence, BlobStore* blobs)
      : internal_(std::move(internal)), sequence_(sequence), blobs_(blobs) {}

  // False after a failed blob read too, so loops end there and status() tells.
  bool valid() const override { return valid_ && status_.is_ok(); }

  void seek_to_first() override {
    internal_->seek_to_first();
    find_next_visible(/*skipping=*/false);
  }

  void seek(std::string_view target) override {
    internal_->seek(make_internal_key(target, sequence_, kValueTypeForSeek));
    find_next_visible(/*skipping=*/false);
  }

  void next() override {
    CAIRN_ASSERT(valid_);
    // The current key's older entries follow it; skip them.
    skip_key_.assign(key());
    internal_->next();
    find_next_visible(/*skipping=*/true);
  }

  std::string_view key() const override {
    CAIRN_ASSERT(valid_);
    return extract_user_key(internal_->key());
  }

  std::string_view value() const override {
    CAIRN_ASSERT(valid_);
    if (type_ != ValueType::kBlobReference) return internal_->value();
    if (!blob_value_loaded_) {
      blob_value_.clear();
      Result<std::string> value = read_blob_value(internal_->value());
      if (!value.is_ok()) {
        status_ = value.status();
        return std::string_view();
      }
      blob_value_ = std::move(value).value();
      blob_value_loaded_ = true;
    }
    return blob_value_;
  }

  Status status() const override { return status_.is_ok() ? internal_->status() : status_; }

 private:
  // Advances the internal iterator to the newest visible value of the next user key, skipping
  // entries newer than the sequence, entries of skip_key_ (when `skipping`), and keys whose
  // newest visible entry is a tombstone.
  void find_next_visible(bool skipping) {
    valid_ = false;
    blob_value_loaded_ = false;
    for (; internal_->valid(); internal_->next()) {
      ParsedInternalKey parsed;
      if (!parse_internal_key(internal_->key(), &parsed)) {
        status_ = Status::corruption("malformed internal key during iteration");
        return;
      }
      if (parsed.sequence > sequence_) continue;
      if (skipping && parsed.user_key <= std::string_view(skip_key_)) continue;
      if (parsed.type == ValueType::kDeletion) {
        // Hide this key's older entries too.
        skip_key_.assign(parsed.user_key);
        skipping = true;
        continue;
      }
      type_ = parsed.type;
      valid_ = true;
      return;
    }
  }

  // The value a blob reference (untrusted: it was read from a table or the WAL) names.
  Result<std::string> read_blob_value(std::string_view encoded_reference) const {
    BlobReference reference;
    if (!decode_blob_reference(encoded_reference, &reference)) {
      return Status::corruption("malformed blob reference for key " + std::string(key()));
    }
    return blobs_->read_value(reference);
  }

  std::unique_ptr<Iterator> internal_;
  const SequenceNumber sequence_;
  BlobStore* const blobs_;
  std::string skip_key_;
  bool valid_ = false;
  ValueType type_ = ValueType::kValue;  // of the current entry
  // The current entry's blob value, read on the first value() call.
  mutable bool blob_value_loaded_ = false;
  mutable std::string blob_value_;
  mutable Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_database_iterator(std::unique_ptr<Iterator> internal,
                                                SequenceNumber sequence, BlobStore* blobs) {
  CAIRN_ASSERT(blobs != nullptr);
  return std::make_unique<DatabaseIterator>(std::move(internal), sequence, blobs);
}

}  // namespace cairn
