// StreamedValue: a SET value too large to buffer, written from the socket straight into the
// engine (Database::put_stream, a blob file for values over the threshold) as it arrives. The
// session creates it when SET's value argument (argv[2]) is streamed, appends the payload, then
// runs SET, whose handler decides NX/XX/GET under the key's lock and either commits (appending
// the record trailer, docs/keyspace-format.md) or drops it, which abandons the value.
//
// Thread-safety: one thread at a time (the connection's loop). REQUIRES: the keyspace outlives it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/byte_stream.h"
#include "server/keyspace.h"

namespace cairn {

class StreamedValue : public ByteSink {
 public:
  // InvalidArgument if the key is over kUserKeyBytesMax; engine errors as put_stream.
  static Result<std::unique_ptr<StreamedValue>> start(Keyspace& keyspace, std::string_view key,
                                                      uint64_t payload_bytes);

  // The next payload bytes. InvalidArgument past payload_bytes; the first error sticks.
  Status append(std::string_view bytes) override;

  const std::string& key() const { return key_; }
  uint64_t payload_bytes() const { return payload_bytes_; }
  uint64_t received_bytes() const { return received_bytes_; }
  // The first append error (OK if none).
  const Status& error() const { return error_; }

  // Appends the trailer (expiry `expiry_ms`, 0 = none) and writes the key, replacing `old`, its
  // live entry read under the key's lock. REQUIRES: the caller holds key()'s lock; every payload
  // byte was appended (else InvalidArgument); called at most once.
  Status commit(uint64_t expiry_ms, const std::optional<KeyEntry>& old);

 private:
  StreamedValue(Keyspace& keyspace, std::string key, uint64_t payload_bytes,
                std::unique_ptr<ValueWriter> writer)
      : keyspace_(keyspace),
        key_(std::move(key)),
        payload_bytes_(payload_bytes),
        writer_(std::move(writer)) {}

  Keyspace& keyspace_;
  const std::string key_;
  const uint64_t payload_bytes_;
  uint64_t received_bytes_ = 0;
  std::unique_ptr<ValueWriter> writer_;
  Status error_;
  bool committed_ = false;
};

}  // namespace cairn
