#include "cluster/repair_horizons.h"

#include <algorithm>

#include "common/assert.h"

namespace cairn {

void RepairHorizons::record(uint32_t partition, const ExchangeRecord& record) {
  CAIRN_ASSERT(partition < kPartitionCount);
  CAIRN_ASSERT(record.first < record.second);
  uint64_t& started = pairs_[partition][{record.first, record.second}];
  started = std::max(started, record.started_unix_ms);
}

std::vector<ExchangeRecord> RepairHorizons::records(uint32_t partition) const {
  CAIRN_ASSERT(partition < kPartitionCount);
  std::vector<ExchangeRecord> out;
  const Ring& ring = view_->ring();
  if (ring.empty()) return out;
  const std::span<const NodeId> replicas = ring.preference_list(partition);
  for (const auto& [pair, started] : pairs_[partition]) {
    const auto in_list = [&](NodeId id) {
      return std::find(replicas.begin(), replicas.end(), id) != replicas.end();
    };
    if (in_list(pair.first) && in_list(pair.second)) {
      out.push_back(ExchangeRecord{pair.first, pair.second, started});
    }
  }
  CAIRN_ASSERT(out.size() <= kExchangeRecordsMax);
  return out;
}

uint64_t RepairHorizons::repaired_since_unix_ms(uint32_t partition) const {
  CAIRN_ASSERT(partition < kPartitionCount);
  const Ring& ring = view_->ring();
  if (ring.empty()) return kNoPeers;
  const std::span<const NodeId> replicas = ring.preference_list(partition);
  const auto& pairs = pairs_[partition];
  uint64_t oldest = kNoPeers;
  for (size_t i = 0; i < replicas.size(); i++) {
    for (size_t j = i + 1; j < replicas.size(); j++) {
      const auto pair = std::minmax(replicas[i], replicas[j]);
      const auto it = pairs.find({pair.first, pair.second});
      if (it == pairs.end()) return 0;
      oldest = std::min(oldest, it->second);
    }
  }
  return oldest;
}

}  // namespace cairn
