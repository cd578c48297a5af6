// BlobFileWriter: appends records in the blob format (blob_format.h, docs/blob-format.md) to one
// blob file and returns a BlobReference for each. A value is given whole (add) or streamed
// (begin, append..., finish); either way the writer holds at most one chunk of it, so memory is
// O(chunk size + key size), never O(value size).
//
// Ownership: borrows the file, which must outlive the writer. It never flushes, syncs or closes
// it: durability is the caller's, who must sync before publishing a reference.
// Thread-safety: none; the caller serializes every call (the file's own contract).
// Invariants: file_size_bytes() is the number of bytes appended with success, starting with the
// file header, which is written on first use. After a failed append the file's tail is unknown,
// and after a streamed record ends with the wrong size it holds an incomplete record; in both
// cases the writer fails every later call with that first error, so no good record is ever
// written behind a broken one (readers take a broken last record as a torn tail and stop there).
// The caller then starts a new file; the records before the failure remain readable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "io/env.h"
#include "storage/blob_format.h"

namespace cairn {

class BlobFileWriter {
 public:
  // Does not own `file`, which must be empty: the file header goes at offset 0 on first use.
  // REQUIRES: kBlobChunkBytesMin <= chunk_bytes <= kBlobChunkBytesMax.
  BlobFileWriter(WritableFile* file, uint64_t file_number,
                 uint32_t chunk_bytes = kBlobChunkBytesDefault);
  BlobFileWriter(const BlobFileWriter&) = delete;
  BlobFileWriter& operator=(const BlobFileWriter&) = delete;

  // Appends one record holding `key` and the whole `value`. REQUIRES: no record is in progress.
  // InvalidArgument (nothing written, the writer stays usable) if the key exceeds kKeyBytesMax,
  // the value kBlobValueBytesMax, or the record would start past kBlobFileBytesMax.
  Result<BlobReference> add(std::string_view key, std::string_view value);

  // Starts a streamed record of `value_size_bytes` bytes: exactly that many must then be given
  // to append, in pieces of any size, before finish. REQUIRES: no record is in progress.
  // InvalidArgument on the limits of add (nothing written, the writer stays usable).
  Status begin(std::string_view key, uint64_t value_size_bytes);
  // Appends the next bytes of the value. REQUIRES: a record is in progress. InvalidArgument if
  // they would exceed the size given to begin (then nothing of them is written and the writer
  // has failed, see above).
  Status append(std::string_view bytes);
  // Completes the record and returns its reference. REQUIRES: a record is in progress.
  // InvalidArgument if fewer bytes than announced were appended, or more were offered (the
  // writer has then failed, see above).
  Result<BlobReference> finish();

  bool record_in_progress() const { return in_progress_; }
  uint64_t file_number() const { return file_number_; }
  uint32_t chunk_bytes() const { return chunk_bytes_; }
  // Bytes appended to the file so far, the file header included (0 before first use).
  uint64_t file_size_bytes() const { return file_size_bytes_; }

 private:
  Status check_limits(std::string_view key, uint64_t value_size_bytes) const;
  // Appends to the file; the first failure becomes failure_.
  Status write(std::string_view data);
  // Writes chunk `chunk_index_` (the chunk's value bytes) and its checksum.
  Status write_chunk(std::string_view chunk);
  Status fail(Status status);

  WritableFile* const file_;
  const uint64_t file_number_;
  const uint32_t chunk_bytes_;
  uint64_t file_size_bytes_ = 0;
  Status failure_;  // the first error that broke the file's tail; OK while healthy

  // The record in progress.
  bool in_progress_ = false;
  BlobReference reference_;      // of the record in progress
  uint64_t appended_bytes_ = 0;  // value bytes given to append so far
  uint64_t chunk_index_ = 0;     // the next chunk to write
  std::string chunk_;            // value bytes of the next chunk not yet written
  std::string scratch_;          // record header ++ key ++ key checksum
};

}  // namespace cairn
