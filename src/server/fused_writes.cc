#include "server/fused_writes.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "common/assert.h"
#include "server/keyspace.h"

namespace cairn {

FusedWrites::~FusedWrites() { CAIRN_ASSERT(empty()); }

void FusedWrites::set_key(std::string_view key) {
  CAIRN_ASSERT(empty());
  key_.assign(key);
}

void FusedWrites::adopt_lock(KeyLockGuard guard) {
  CAIRN_ASSERT(!lock_.owns() && guard.owns());
  lock_ = std::move(guard);
}

void FusedWrites::release_lock() {
  CAIRN_ASSERT(writes_.empty());
  lock_.unlock();
}

std::optional<FusedWrites::Held> FusedWrites::lookup(std::string_view engine_key) const {
  if (writes_.empty()) return std::nullopt;
  const uint64_t hash = std::hash<std::string_view>{}(engine_key);
  for (auto it = writes_.rbegin(); it != writes_.rend(); ++it) {
    if (it->key_hash != hash || !it->live || key_of(*it) != engine_key) continue;
    return Held{it->removed, value_of(*it)};
  }
  return std::nullopt;
}

bool FusedWrites::can_absorb(const WriteBatch& batch,
                             const std::vector<std::string>& modified_keys) const {
  if (!lock_.owns() || batch.size_bytes() > kHeldBatchBytesMax ||
      bytes_.size() + batch.size_bytes() > kHeldBytesMax ||
      writes_.size() + batch.count() > kHeldWritesMax) {
    return false;
  }
  for (const std::string& key : modified_keys) {
    if (key != key_) return false;
  }
  return true;
}

void FusedWrites::hold(std::string_view engine_key, bool removed, std::string_view value) {
  const uint64_t hash = std::hash<std::string_view>{}(engine_key);
  for (Write& write : writes_) {
    if (write.key_hash == hash && write.live && key_of(write) == engine_key) write.live = false;
  }
  Write write;
  write.key_hash = hash;
  write.key_offset = static_cast<uint32_t>(bytes_.size());
  write.key_size = static_cast<uint32_t>(engine_key.size());
  write.value_size = static_cast<uint32_t>(value.size());
  write.removed = removed;
  bytes_.append(engine_key).append(value);
  writes_.push_back(write);
}

Status FusedWrites::absorb(const WriteBatch& batch, uint64_t earliest_index_expiry_ms) {
  struct Apply final : WriteBatch::Handler {
    FusedWrites* held;
    void put(std::string_view key, std::string_view value) override {
      held->hold(key, false, value);
    }
    void remove(std::string_view key) override { held->hold(key, true, ""); }
  } apply;
  apply.held = this;
  CAIRN_RETURN_IF_ERROR(batch.iterate(apply));
  earliest_index_expiry_ms_ = std::min(earliest_index_expiry_ms_, earliest_index_expiry_ms);
  return Status::ok();
}

Status FusedWrites::flush() {
  if (writes_.empty()) return Status::ok();
  flushes_++;
  WriteBatch batch;
  for (const Write& write : writes_) {
    if (!write.live) continue;
    if (write.removed) {
      batch.remove(key_of(write));
    } else {
      batch.put(key_of(write), value_of(write));
    }
  }
  writes_.clear();
  bytes_.clear();
  const Status status = keyspace_.write_fused(batch, key_,
                                              std::exchange(earliest_index_expiry_ms_, UINT64_MAX));
  if (!status.is_ok() && failure_.is_ok()) failure_ = status;
  return status;
}

}  // namespace cairn
