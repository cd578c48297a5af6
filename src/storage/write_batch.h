// WriteBatch: an atomic group of puts and removes. Its contents() is the WAL record payload, so
// a batch is logged, recovered and applied to the memtable as one unit.
//
//   contents = fixed64 sequence       the sequence number of the first operation
//              fixed32 count          the number of operations
//              operation*             count of them, in the order they were added
//   operation = u8 ValueType, varint32-length-prefixed key, and for kValue a length-prefixed
//               value, for kBlobReference a length-prefixed encoded BlobReference
//
// A blob reference operation puts a value that lives in a blob file (blob_format.h); the
// database writes them in place of large values, and its public write() refuses them from
// callers (a reference must name a record the database wrote).
//
// Operation i gets sequence number sequence() + i. docs/log-format.md describes the format.
//
// Thread-safety: a value type; one thread at a time per object.
// Invariant: contents_ is always well-formed (it is built by put/remove or validated by
// from_contents), and its count field equals the number of operations in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "storage/internal_key.h"

namespace cairn {

struct BlobReference;

class MemTable;

constexpr size_t kWriteBatchHeaderBytes = 12;  // fixed64 sequence + fixed32 count
static_assert(kWriteBatchHeaderBytes == sizeof(uint64_t) + sizeof(uint32_t));

class WriteBatch {
 public:
  WriteBatch();  // empty, sequence 0

  // REQUIRES: key and value sizes fit in a u32 (the edge enforces the far smaller key and value
  // limits); count() < UINT32_MAX.
  void put(std::string_view key, std::string_view value);
  // As put(key, value) with the key and the value each given as pieces laid end to end, so the
  // caller need not join them into a buffer of its own first.
  void put_parts(std::span<const std::string_view> key_parts,
                 std::span<const std::string_view> value_parts);
  void remove(std::string_view key);
  // Puts `key` with a value kept in a blob file. REQUIRES: as put(); the reference is within the
  // limits of blob_format.h (as every reference a BlobFileWriter returns is).
  void put_blob_reference(std::string_view key, const BlobReference& reference);
  // Removes every operation and resets the sequence to 0.
  void clear();

  uint32_t count() const;
  size_t size_bytes() const { return contents_.size(); }
  // Valid until this batch is next modified or destroyed.
  std::string_view contents() const { return contents_; }

  // Appends other's operations after this batch's, keeping this batch's sequence.
  // REQUIRES: count() + other.count() <= UINT32_MAX; &other != this.
  void append(const WriteBatch& other);

  SequenceNumber sequence() const;
  // REQUIRES: sequence <= kSequenceNumberMax.
  void set_sequence(SequenceNumber sequence);

  // A batch whose contents are a copy of `contents` (untrusted, e.g. a WAL record). Corruption if
  // the header is short, an operation is malformed or of unknown type, a blob reference operation's
  // value does not decode as a reference, the count does not match the operations, bytes trail the
  // last operation, or the sequences would pass kSequenceNumberMax.
  static Result<WriteBatch> from_contents(std::string_view contents);

  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void put(std::string_view key, std::string_view value) = 0;
    virtual void remove(std::string_view key) = 0;
    // A put whose value is in a blob file; `encoded_reference` decodes (decode_blob_reference).
    // The default passes it to put() as an opaque value, which suits handlers that look only at
    // keys and sizes; a handler that applies or interprets values must override it.
    virtual void put_blob_reference(std::string_view key, std::string_view encoded_reference) {
      put(key, encoded_reference);
    }
  };
  // Calls `handler` for each operation in order. Corruption if the contents are malformed (which
  // the invariant rules out), after the operations before the damage were passed on.
  Status iterate(Handler& handler) const;

 private:
  void set_count(uint32_t count);

  std::string contents_;
};

// Inserts the batch's operations into `memtable` with sequence numbers sequence(),
// sequence() + 1, ... (a blob reference operation as a kBlobReference entry), and passes each to
// `then`, if given, once it is in the memtable (the row cache's update: one walk of the batch
// serves both). REQUIRES: the memtable's single-writer contract (memtable.h); the last sequence
// is <= kSequenceNumberMax.
Status insert_into_memtable(const WriteBatch& batch, MemTable* memtable,
                            WriteBatch::Handler* then = nullptr);

}  // namespace cairn
