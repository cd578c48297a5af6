// ScanCursors: SCAN's server-side table of resume points. A cursor is a positive integer
// (clients such as redis-py parse it as one): (sequence << 14) | slot, where slot is the slot of
// the last key a page examined and sequence numbers pages from 1. The table maps a cursor to the
// exact engine key to resume after. It is bounded (kEntriesMax cursors, kBytesMax key bytes;
// the oldest go first); a cursor no longer in it (evicted, or the server restarted) resumes
// from the start of its slot, so no key is skipped, at worst some are returned again.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace cairn {

class ScanCursors {
 public:
  static constexpr size_t kEntriesMax = 16384;
  static constexpr size_t kBytesMax = 64u << 20;
  static constexpr int kSlotBits = 14;

  // Where to resume `cursor` (not 0): *after is true when the scan resumes strictly after the
  // returned engine key, false when it starts at it (a slot's start).
  std::string resume_point(uint64_t cursor, bool* after);
  // A new cursor that resumes after `engine_key` (a data key of slot `slot`).
  uint64_t remember(std::string_view engine_key, uint16_t slot);

 private:
  std::mutex mutex_;
  uint64_t next_sequence_ = 1;
  std::map<uint64_t, std::string> resume_keys_;
  std::deque<uint64_t> order_;  // oldest first
  size_t bytes_ = 0;
};

}  // namespace cairn
