#include "cluster/lifeguard.h"

#include <algorithm>
#include <cmath>

#include "common/assert.h"

namespace cairn {

LocalHealth::LocalHealth(uint32_t multiplier_max) : score_max_(multiplier_max - 1) {
  CAIRN_ASSERT(multiplier_max >= 1);
}

void LocalHealth::apply(int delta) {
  const int64_t next = static_cast<int64_t>(score_) + delta;
  score_ = static_cast<uint32_t>(std::clamp<int64_t>(next, 0, score_max_));
}

SuspicionTimeouts suspicion_timeouts(uint32_t multiplier, uint32_t max_multiplier,
                                     size_t member_count, uint64_t probe_interval_ms) {
  CAIRN_ASSERT(max_multiplier >= 1);
  // The logarithms here and in deadline_ms() are the only floating point of the protocol; each
  // result is truncated to whole milliseconds at once, so a run is still a function of its seed.
  const double scale =
      std::max(1.0, std::log10(static_cast<double>(std::max<size_t>(member_count, 1))));
  const auto min_ms = static_cast<uint64_t>(static_cast<double>(multiplier) * scale *
                                            static_cast<double>(probe_interval_ms));
  return SuspicionTimeouts{min_ms, min_ms * max_multiplier};
}

Suspicion::Suspicion(uint64_t incarnation, NodeId accuser, uint64_t start_ms,
                     uint32_t confirmations_wanted, SuspicionTimeouts timeouts)
    : incarnation_(incarnation),
      start_ms_(start_ms),
      confirmations_wanted_(confirmations_wanted),
      timeouts_(timeouts) {
  CAIRN_ASSERT(timeouts.min_ms <= timeouts.max_ms);
  accusers_.push_back(accuser);
}

bool Suspicion::confirm(NodeId accuser) {
  if (confirmations() >= confirmations_wanted_) return false;
  if (std::find(accusers_.begin(), accusers_.end(), accuser) != accusers_.end()) return false;
  accusers_.push_back(accuser);
  return true;
}

uint64_t Suspicion::deadline_ms() const {
  if (confirmations_wanted_ == 0) return start_ms_ + timeouts_.min_ms;
  const double fraction = std::log(static_cast<double>(confirmations()) + 1.0) /
                          std::log(static_cast<double>(confirmations_wanted_) + 1.0);
  const double span = static_cast<double>(timeouts_.max_ms - timeouts_.min_ms);
  const auto shrink = static_cast<uint64_t>(span * fraction);
  return start_ms_ +
         std::max(timeouts_.min_ms, timeouts_.max_ms - std::min(shrink, timeouts_.max_ms));
}

}  // namespace cairn
