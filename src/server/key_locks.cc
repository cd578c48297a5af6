#include "server/key_locks.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace cairn {

KeyLockGuard::KeyLockGuard(KeyLockGuard&& other) noexcept { *this = std::move(other); }

KeyLockGuard& KeyLockGuard::operator=(KeyLockGuard&& other) noexcept {
  if (this != &other) {
    unlock();
    locks_ = std::exchange(other.locks_, nullptr);
    stripe_count_ = std::exchange(other.stripe_count_, 0);
    inline_stripes_ = other.inline_stripes_;
    heap_stripes_ = std::move(other.heap_stripes_);
    other.heap_stripes_.clear();
  }
  return *this;
}

KeyLockGuard::~KeyLockGuard() { unlock(); }

void KeyLockGuard::unlock() {
  if (locks_ == nullptr) return;
  // Reverse order of locking; any order is correct for unlocking.
  const std::span<const uint16_t> locked = stripes();
  for (auto it = locked.rbegin(); it != locked.rend(); ++it) locks_->stripes_[*it].unlock();
  locks_ = nullptr;
  stripe_count_ = 0;
  heap_stripes_.clear();
}

size_t KeyLocks::stripe_of(std::string_view key) const {
  return std::hash<std::string_view>{}(key) % kStripeCount;
}

KeyLockGuard KeyLocks::lock(std::span<const std::string_view> keys) {
  KeyLockGuard guard;
  guard.locks_ = this;
  uint16_t* stripes = guard.inline_stripes_.data();
  if (keys.size() > KeyLockGuard::kInlineStripes) {
    guard.heap_stripes_.resize(keys.size());
    stripes = guard.heap_stripes_.data();
  }
  for (size_t i = 0; i < keys.size(); i++) {
    stripes[i] = static_cast<uint16_t>(stripe_of(keys[i]));
  }
  std::sort(stripes, stripes + keys.size());
  guard.stripe_count_ = static_cast<size_t>(std::unique(stripes, stripes + keys.size()) - stripes);
  for (const uint16_t stripe : guard.stripes()) stripes_[stripe].lock();
  return guard;
}

KeyLockGuard KeyLocks::lock_one(std::string_view key) {
  const std::string_view keys[1] = {key};
  return lock(keys);
}

}  // namespace cairn
