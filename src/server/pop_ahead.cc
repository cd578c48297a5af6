#include "server/pop_ahead.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "common/assert.h"

namespace cairn {

void PopRun::refill(std::vector<std::string> elements) {
  CAIRN_ASSERT(elements.size() <= elements_ahead_);
  elements_ = std::move(elements);
  next_ = 0;
  elements_ahead_ = std::clamp<size_t>(elements_ahead_ * 2, 1, kRunElementsMax);
}

std::string PopRun::take_first_and_refill(std::vector<std::string> read) {
  CAIRN_ASSERT(!read.empty());
  std::string first = std::move(read.front());
  std::vector<std::string> ahead;
  size_t ahead_bytes = 0;
  for (size_t i = 1; i < read.size() && !full(ahead.size(), ahead_bytes); i++) {
    ahead_bytes += read[i].size();
    ahead.push_back(std::move(read[i]));
  }
  refill(std::move(ahead));
  return first;
}

std::string PopRun::take() {
  CAIRN_ASSERT(!empty());
  return std::move(elements_[next_++]);
}

PopAhead::Shard& PopAhead::shard_of(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

std::optional<PopRun> PopAhead::take(std::string_view key, PopKind kind,
                                     const CollectionMeta& meta) {
  if (size_.load(std::memory_order_relaxed) == 0) return std::nullopt;
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  const auto found = shard.runs.find(std::string(key));
  if (found == shard.runs.end()) return std::nullopt;
  std::optional<PopRun> run(std::move(found->second));
  shard.runs.erase(found);
  size_.fetch_sub(1, std::memory_order_relaxed);
  if (run->kind() != kind || run->generation() != meta.generation || run->count() != meta.count) {
    return std::nullopt;
  }
  return run;
}

void PopAhead::keep(std::string_view key, PopRun run) {
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  if (shard.runs.size() >= kRunsMax / kShards) return;
  const auto [it, inserted] = shard.runs.insert_or_assign(std::string(key), std::move(run));
  if (inserted) size_.fetch_add(1, std::memory_order_relaxed);
}

void PopAhead::forget(std::string_view key) {
  if (size_.load(std::memory_order_relaxed) == 0) return;
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  const auto found = shard.runs.find(std::string(key));
  if (found == shard.runs.end()) return;
  shard.runs.erase(found);
  size_.fetch_sub(1, std::memory_order_relaxed);
}

void PopAhead::clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    size_.fetch_sub(shard.runs.size(), std::memory_order_relaxed);
    shard.runs.clear();
  }
}

}  // namespace cairn
