// NodeTime: the two clocks a node's state machines are driven with. Timeouts and retries use the
// monotonic clock, which never jumps; write versions (through the HLC), expiry and hint ages use
// wall time, which may be skewed, drift, or jump. The driver (the simulator, or the event loop)
// passes both on every call, so the state machines read no clock of their own.
//
// Thread-safety: a value.
#pragma once

#include <cstdint>

namespace cairn {

struct NodeTime {
  uint64_t monotonic_ms = 0;
  int64_t unix_ms = 0;
};

}  // namespace cairn
