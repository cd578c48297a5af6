#include "storage/database_iterator.h"

#include <string>

#include "common/assert.h"

namespace cairn {
namespace {

class DatabaseIterator final : public Iterator {
 public:
  DatabaseIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence)
      : internal_(std::move(internal)), sequence_(sequence) {}

  bool valid() const override { return valid_; }

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
    return internal_->value();
  }

  Status status() const override { return status_.is_ok() ? internal_->status() : status_; }

 private:
  // Advances the internal iterator to the newest visible value of the next user key, skipping
  // entries newer than the sequence, entries of skip_key_ (when `skipping`), and keys whose
  // newest visible entry is a tombstone.
  void find_next_visible(bool skipping) {
    valid_ = false;
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
      valid_ = true;
      return;
    }
  }

  std::unique_ptr<Iterator> internal_;
  const SequenceNumber sequence_;
  std::string skip_key_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_database_iterator(std::unique_ptr<Iterator> internal,
                                                SequenceNumber sequence) {
  return std::make_unique<DatabaseIterator>(std::move(internal), sequence);
}

}  // namespace cairn
