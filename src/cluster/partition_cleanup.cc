#include "cluster/partition_cleanup.h"

#include <algorithm>

#include "common/assert.h"

namespace cairn {

void PartitionCleanup::tick(NodeTime now) {
  const Ring& ring = view_->ring();
  if (ring.empty() || ring.transition() != Ring::Transition::kNone || !ring.contains(self_)) {
    epoch_ = 0;
    planned_ = false;
    partitions_.clear();
    return;
  }
  if (ring.epoch() != epoch_) {
    epoch_ = ring.epoch();
    start_ms_ = now.monotonic_ms + settle_ms_;
    const int64_t before_ms = std::max<int64_t>(0, now.unix_ms - static_cast<int64_t>(settle_ms_));
    older_than_ = HlcTimestamp::of(static_cast<uint64_t>(before_ms), 0);
    planned_ = false;
    partitions_.clear();
    return;
  }
  if (now.monotonic_ms < start_ms_) return;
  if (!planned_) plan();
  step();
}

void PartitionCleanup::plan() {
  const Ring& ring = view_->ring();
  for (uint32_t partition = kPartitionCount; partition-- > 0;) {
    const std::span<const NodeId> list = ring.preference_list(partition);
    if (std::find(list.begin(), list.end(), self_) == list.end()) partitions_.push_back(partition);
  }
  planned_ = true;
  if (!partitions_.empty()) slot_ = static_cast<uint16_t>(partitions_.back() * kSlotsPerPartition);
  cursor_ = {};
}

void PartitionCleanup::step() {
  size_t budget = kStatesPerTickMax;
  while (budget > 0 && !partitions_.empty()) {
    const uint64_t looked_before = cursor_.looked;
    const uint64_t dropped_before = cursor_.dropped;
    const Status status = store_->drop_states_older_than(slot_, older_than_, budget, &cursor_);
    if (!status.is_ok()) {
      stats_.errors++;
      return;
    }
    stats_.states_dropped += cursor_.dropped - dropped_before;
    budget -= std::min<uint64_t>(budget, cursor_.looked - looked_before + 1);
    if (!cursor_.done) continue;
    cursor_ = {};
    const uint32_t partition = partitions_.back();
    if (slot_ + 1u < (partition + 1) * kSlotsPerPartition) {
      slot_++;
      continue;
    }
    partitions_.pop_back();
    stats_.partitions_walked++;
    if (!partitions_.empty()) {
      slot_ = static_cast<uint16_t>(partitions_.back() * kSlotsPerPartition);
    }
  }
  CAIRN_ASSERT(partitions_.empty() || slot_ / kSlotsPerPartition == partitions_.back());
}

}  // namespace cairn
