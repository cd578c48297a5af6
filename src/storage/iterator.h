// Iterator: an ordered cursor over (key, value) entries, the one interface shared by memtables,
// blocks, tables, merges and the database. Internal iterators yield internal keys in
// internal-key order (internal_key.h); the database iterator yields user keys in bytewise order.
// Every iterator goes both ways: prev() and next() may alternate freely, and each is the exact
// inverse of the other (sorted sets walk keys backwards: ZREVRANGE, ZPOPMAX, ...).
//
// Thread-safety: one thread at a time. Keys and values returned stay valid until the iterator
// moves or is destroyed. An error (say, a corrupt block) makes valid() false and status() tell.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn {

class Iterator {
 public:
  Iterator() = default;
  virtual ~Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  virtual bool valid() const = 0;
  // Positions at the first entry (invalid if there is none).
  virtual void seek_to_first() = 0;
  // Positions at the last entry (invalid if there is none).
  virtual void seek_to_last() = 0;
  // Positions at the first entry whose key is >= target (invalid if none).
  virtual void seek(std::string_view target) = 0;
  // Positions at the last entry whose key is <= target (invalid if none).
  virtual void seek_for_prev(std::string_view target) = 0;
  // Moves to the following entry; invalid after the last. REQUIRES: valid().
  virtual void next() = 0;
  // Moves to the preceding entry; invalid before the first. REQUIRES: valid().
  virtual void prev() = 0;
  // REQUIRES: valid().
  virtual std::string_view key() const = 0;
  // REQUIRES: valid().
  virtual std::string_view value() const = 0;
  // OK unless iteration stopped because of an error.
  virtual Status status() const = 0;

  // Keeps `owner` alive as long as this iterator (e.g. the memtable or table it reads).
  void keep_alive(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }

 private:
  std::vector<std::shared_ptr<const void>> owners_;
};

// An iterator with no entries whose status() is `status`.
std::unique_ptr<Iterator> new_empty_iterator(Status status = Status::ok());

}  // namespace cairn
