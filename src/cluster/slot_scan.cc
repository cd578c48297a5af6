#include "cluster/slot_scan.h"

namespace cairn {

std::strong_ordering ScanPosition::operator<=>(const ScanPosition& other) const {
  if (slot != other.slot) return slot <=> other.slot;
  if (!after.has_value() || !other.after.has_value()) {
    return after.has_value() <=> other.after.has_value();
  }
  // std::string compares its chars as unsigned bytes (char_traits<char>), the engine's order.
  const int compared = after->compare(*other.after);
  return compared <=> 0;
}

bool slot_scan_is_valid(const SlotScan& scan) {
  if (scan.ranges.empty() || scan.ranges.size() > kSlotScanRangesMax) return false;
  if (scan.pattern.size() > kScanPatternBytesMax) return false;
  for (size_t i = 0; i < scan.ranges.size(); i++) {
    const ScanRange& range = scan.ranges[i];
    if (range.first > range.last || range.last >= kSlotCount) return false;
    if (i > 0 && range.first <= scan.ranges[i - 1].last) return false;
  }
  return scan.start.slot >= scan.ranges.front().first &&
         scan.start.slot <= scan.ranges.front().last;
}

}  // namespace cairn
