#include "common/hlc.h"

#include "common/assert.h"

namespace cairn {

std::string to_string(HlcTimestamp timestamp) {
  return std::to_string(timestamp.physical_ms()) + "." + std::to_string(timestamp.logical());
}

HlcTimestamp HybridClock::now(uint64_t physical_ms) {
  CAIRN_ASSERT(physical_ms <= HlcTimestamp::kPhysicalMsMax);
  if (physical_ms > last_.physical_ms()) {
    last_ = HlcTimestamp::of(physical_ms, 0);
  } else if (last_.logical() < HlcTimestamp::kLogicalMax) {
    last_ = HlcTimestamp{last_.value + 1};
  } else {
    // 65536 events in one millisecond, or a clock stuck behind: borrow the next millisecond.
    CAIRN_ASSERT(last_.physical_ms() < HlcTimestamp::kPhysicalMsMax);
    last_ = HlcTimestamp::of(last_.physical_ms() + 1, 0);
  }
  return last_;
}

HlcTimestamp HybridClock::update(HlcTimestamp received, uint64_t physical_ms) {
  if (received > last_) last_ = received;
  return now(physical_ms);
}

}  // namespace cairn
