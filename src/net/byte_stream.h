// ByteSink and ByteSource: how a value too large to buffer crosses between the network layer and
// the server. A streamed SET argument goes from the socket into a ByteSink chunk by chunk as it
// arrives; a streamed GET reply body comes out of a ByteSource chunk by chunk as the socket
// drains. Either side holds one chunk, never the whole value.
//
// Thread-safety: each object is used by one thread at a time (its connection's event loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace cairn {

// Receives the bytes of one bulk argument in order. The connection appends exactly the announced
// length, in pieces of any size, then executes the command the argument belongs to.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // An error abandons the value: the connection drains and discards the rest of the argument
  // and the command then replies with that error (the session remembers it).
  virtual Status append(std::string_view bytes) = 0;
};

// Yields the bytes of one reply body in order, size_bytes() of them in all, that the connection
// sends after the reply bytes buffered before it.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size_bytes() const = 0;
  // Copies up to n next bytes into `buffer` and returns how many; 0 only at the end. An error
  // means the body cannot be completed: the connection is closed, since the client has already
  // been promised size_bytes() bytes.
  virtual Result<size_t> read(char* buffer, size_t n) = 0;
};

}  // namespace cairn
