// LogWriter: appends records in the log format (log_format.h) to a WritableFile, for the WAL and
// the MANIFEST. It does not flush or sync: durability is the caller's (the file's sync()).
//
// Ownership: borrows the file, which must outlive the writer.
// Thread-safety: one thread at a time (the file's own contract).
// Invariant: size_bytes() is the sum of the header and payload sizes of every record whose
// append returned OK. After a failed append the file's tail is unknown (a partial record may
// sit there), so the writer fails every later call with the same error rather than write a good
// record behind a torn one, which recovery would report as corruption in the middle of the log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "io/env.h"

namespace cairn {

class LogWriter {
 public:
  // Does not own `file`. Records start at the file's current end, which is taken as offset 0.
  explicit LogWriter(WritableFile* file);
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one record. InvalidArgument (and nothing written) if payload.size() exceeds
  // kLogRecordBytesMax; otherwise the file's error, which is then sticky (see above).
  Status add_record(std::string_view payload);

  // Bytes of records written so far (headers included).
  uint64_t size_bytes() const { return size_bytes_; }

 private:
  WritableFile* const file_;
  uint64_t size_bytes_ = 0;
  Status failure_;       // the first append error; OK while healthy
  std::string scratch_;  // header + small payload, to write both with one append
};

}  // namespace cairn
