#include "storage/database_iterator.h"

#include <string>

#include "common/assert.h"

namespace cairn {
namespace {

// Forward, the internal iterator stands on the current entry (the newest visible one of its user
// key). Backward it cannot: the newest entry of a user key is the last one met going backward,
// and knowing it is the last takes a step onto the previous key. So, as in LevelDB's DBIter,
// backward the internal iterator stands just before the current key's entries and the current
// key and value are copies (saved_key_, saved_value_).
class DatabaseIterator final : public Iterator {
 public:
  DatabaseIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence, BlobStore* blobs)
      : internal_(std::move(internal)), sequence_(sequence), blobs_(blobs) {}

  // False after a failed blob read too, so loops end there and status() tells.
  bool valid() const override { return valid_ && status_.is_ok(); }

  void seek_to_first() override {
    forward_ = true;
    internal_->seek_to_first();
    find_next_visible(/*skipping=*/false);
  }

  void seek_to_last() override {
    forward_ = false;
    internal_->seek_to_last();
    find_prev_visible();
  }

  void seek(std::string_view target) override {
    forward_ = true;
    internal_->seek(make_internal_key(target, sequence_, kValueTypeForSeek));
    find_next_visible(/*skipping=*/false);
  }

  // (target, sequence 0, the lowest type) is the last internal key of user key target.
  void seek_for_prev(std::string_view target) override {
    forward_ = false;
    internal_->seek_for_prev(make_internal_key(target, 0, ValueType::kDeletion));
    find_prev_visible();
  }

  void next() override {
    CAIRN_ASSERT(valid_);
    if (!forward_) {
      // The internal iterator stands before the current key's entries: step into them, then skip
      // them as below.
      forward_ = true;
      skip_key_.assign(saved_key_);
      if (internal_->valid()) {
        internal_->next();
      } else {
        internal_->seek_to_first();
      }
      find_next_visible(/*skipping=*/true);
      return;
    }
    // The current key's older entries follow it; skip them.
    skip_key_.assign(key());
    internal_->next();
    find_next_visible(/*skipping=*/true);
  }

  void prev() override {
    CAIRN_ASSERT(valid_);
    if (forward_) {
      // Step back over the current key's entries, newer ones invisible at sequence_ included.
      saved_key_.assign(key());
      do {
        internal_->prev();
      } while (internal_->valid() &&
               extract_user_key(internal_->key()) >= std::string_view(saved_key_));
      forward_ = false;
    }
    find_prev_visible();
  }

  std::string_view key() const override {
    CAIRN_ASSERT(valid_);
    return forward_ ? extract_user_key(internal_->key()) : std::string_view(saved_key_);
  }

  std::string_view value() const override {
    CAIRN_ASSERT(valid_);
    const std::string_view raw = forward_ ? internal_->value() : std::string_view(saved_value_);
    if (type_ != ValueType::kBlobReference) return raw;
    if (!blob_value_loaded_) {
      blob_value_.clear();
      Result<std::string> value = read_blob_value(raw);
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

  // Moves the internal iterator back over the entries of the previous user key that has a
  // visible value, leaving it just before them, with that key's newest visible entry saved.
  // Going backward a user key's entries come oldest first, so each visible one replaces the
  // saved one, until a smaller user key shows the saved one was the newest. A tombstone clears
  // it: the key is hidden unless a newer value follows (LevelDB's FindPrevUserEntry).
  void find_prev_visible() {
    valid_ = false;
    blob_value_loaded_ = false;
    bool have_value = false;  // saved_key_ and saved_value_ hold a visible value
    for (; internal_->valid(); internal_->prev()) {
      ParsedInternalKey parsed;
      if (!parse_internal_key(internal_->key(), &parsed)) {
        status_ = Status::corruption("malformed internal key during iteration");
        return;
      }
      if (parsed.sequence > sequence_) continue;
      if (have_value && parsed.user_key < std::string_view(saved_key_)) break;
      if (parsed.type == ValueType::kDeletion) {
        have_value = false;
        continue;
      }
      saved_key_.assign(parsed.user_key);
      saved_value_.assign(internal_->value());
      type_ = parsed.type;
      have_value = true;
    }
    valid_ = have_value;
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
  // The direction of the last move: forward, the internal iterator stands on the current entry;
  // backward, before the current key's entries, which saved_key_ and saved_value_ copy.
  bool forward_ = true;
  std::string saved_key_;
  std::string saved_value_;
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
