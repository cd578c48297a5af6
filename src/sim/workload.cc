#include "sim/workload.h"

#include "common/assert.h"

namespace cairn::sim {

namespace {

constexpr std::string_view kGroups = "scthe";

char key_group(std::string_view key) { return key.empty() ? '?' : key.front(); }

}  // namespace

Workload::Workload(uint64_t seed, WorkloadOptions options) : random_(seed), options_(options) {
  CAIRN_ASSERT(options.keys_per_type > 0 && options.members_per_set > 0);
  CAIRN_ASSERT(options.one_percent + options.all_percent <= 100);
}

std::vector<std::string> Workload::keys() const {
  std::vector<std::string> keys;
  for (const char group : {'s', 'c', 't', 'h', 'e'}) {
    for (size_t i = 0; i < options_.keys_per_type; i++) {
      keys.push_back(std::string(1, group) + ":" + std::to_string(i));
    }
  }
  return keys;
}

RequestKind Workload::final_read_kind(std::string_view key) {
  switch (key_group(key)) {
    case 't':
      return RequestKind::kSetMembers;
    case 'h':
      return RequestKind::kHashGetAll;
    default:
      return RequestKind::kGet;
  }
}

std::string Workload::member() {
  return "m" + std::to_string(random_.uniform(options_.members_per_set));
}

std::pair<ClusterRequest, Consistency> Workload::next(int64_t now_unix_ms) {
  const char group = kGroups[random_.uniform(kGroups.size())];
  const std::string key =
      std::string(1, group) + ":" + std::to_string(random_.uniform(options_.keys_per_type));
  ClusterRequest request = next_request(group, key, now_unix_ms);
  Consistency consistency;
  const uint64_t level = random_.uniform(100);
  consistency.level = level < options_.one_percent ? ConsistencyLevel::kOne
                      : level < options_.one_percent + options_.all_percent
                          ? ConsistencyLevel::kAll
                          : ConsistencyLevel::kQuorum;
  // Increments need their leader, and SREM its read: neither takes stand-ins.
  consistency.sloppy = is_write(request.kind) && request.kind != RequestKind::kIncrBy &&
                       request.kind != RequestKind::kSetRemove &&
                       random_.uniform(100) < options_.sloppy_write_percent;
  return {std::move(request), consistency};
}

ClusterRequest Workload::next_request(char group, const std::string& key, int64_t now_unix_ms) {
  const std::string value = "v" + std::to_string(++written_);
  const uint64_t pick = random_.uniform(10);
  switch (group) {
    case 's':
      if (pick < 4) return {RequestKind::kGet, key, {}, 0};
      if (pick < 9) return {RequestKind::kSet, key, {value}, 0};
      return {RequestKind::kDelete, key, {}, 0};
    case 'c':
      if (pick < 3) return {RequestKind::kGet, key, {}, 0};
      return {RequestKind::kIncrBy, key, {}, static_cast<int64_t>(1 + random_.uniform(9))};
    case 't':
      if (pick < 3) return {RequestKind::kSetMembers, key, {}, 0};
      if (pick < 7) return {RequestKind::kSetAdd, key, {member(), member()}, 0};
      return {RequestKind::kSetRemove, key, {member()}, 0};
    case 'h':
      if (pick < 3) return {RequestKind::kHashGetAll, key, {}, 0};
      if (pick < 8) return {RequestKind::kHashSet, key, {member(), value}, 0};
      return {RequestKind::kHashDelete, key, {member()}, 0};
    default: {
      const int64_t expiry_ms = now_unix_ms + static_cast<int64_t>(200 + random_.uniform(5000));
      if (pick < 4) return {RequestKind::kGet, key, {}, 0};
      if (pick < 7) return {RequestKind::kSet, key, {value}, expiry_ms};
      return {RequestKind::kExpireAt, key, {}, pick < 9 ? expiry_ms : 0};
    }
  }
}

}  // namespace cairn::sim
