// Hybrid logical clock (Kulkarni et al.): timestamps that follow physical time where clocks
// agree and still order causally related events where they do not. A timestamp packs physical
// milliseconds (48 bits) over a logical counter (16 bits) into a u64, so timestamps compare as
// integers. Every write gets one from its coordinator; replicas order writes by (timestamp, node).
//
// HybridClock never goes backwards: a physical clock that jumps back leaves the physical part
// where it was and advances the counter; a timestamp seen in a message from a node whose clock
// is ahead pulls this clock up to it (it absorbs the skew), so anything this node writes after
// reading that message orders after it.
//
// The physical time comes in as an argument (common/ reads no clock): the node passes its
// Clock's wall time, the simulator its skewed, drifting one.
//
// Thread-safety: HlcTimestamp is a value; HybridClock needs external synchronization.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace cairn {

struct HlcTimestamp {
  static constexpr int kLogicalBits = 16;
  static constexpr uint64_t kLogicalMax = (uint64_t{1} << kLogicalBits) - 1;
  static constexpr uint64_t kPhysicalMsMax = (uint64_t{1} << (64 - kLogicalBits)) - 1;

  uint64_t value = 0;

  static HlcTimestamp of(uint64_t physical_ms, uint64_t logical) {
    return HlcTimestamp{(physical_ms << kLogicalBits) | logical};
  }
  uint64_t physical_ms() const { return value >> kLogicalBits; }
  uint64_t logical() const { return value & kLogicalMax; }

  auto operator<=>(const HlcTimestamp&) const = default;
};

// "<physical_ms>.<logical>", for traces and test messages.
std::string to_string(HlcTimestamp timestamp);

class HybridClock {
 public:
  // A timestamp for a local event (a write this node coordinates): greater than every timestamp
  // this clock returned or absorbed before. REQUIRES: physical_ms <= kPhysicalMsMax.
  HlcTimestamp now(uint64_t physical_ms);
  // Absorbs a timestamp received in a message, then returns now(physical_ms): greater than both.
  HlcTimestamp update(HlcTimestamp received, uint64_t physical_ms);
  // The latest timestamp returned or absorbed.
  HlcTimestamp last() const { return last_; }

 private:
  HlcTimestamp last_;
};

}  // namespace cairn
