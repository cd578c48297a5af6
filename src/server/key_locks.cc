#include "server/key_locks.h"

#include <algorithm>
#include <functional>

namespace cairn {

KeyLockGuard::KeyLockGuard(KeyLockGuard&& other) noexcept
    : locks_(other.locks_), stripes_(std::move(other.stripes_)) {
  other.locks_ = nullptr;
  other.stripes_.clear();
}

KeyLockGuard& KeyLockGuard::operator=(KeyLockGuard&& other) noexcept {
  if (this != &other) {
    unlock();
    locks_ = other.locks_;
    stripes_ = std::move(other.stripes_);
    other.locks_ = nullptr;
    other.stripes_.clear();
  }
  return *this;
}

KeyLockGuard::~KeyLockGuard() { unlock(); }

void KeyLockGuard::unlock() {
  if (locks_ == nullptr) return;
  // Reverse order of locking; any order is correct for unlocking.
  for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) locks_->stripes_[*it].unlock();
  stripes_.clear();
  locks_ = nullptr;
}

size_t KeyLocks::stripe_of(std::string_view key) const {
  return std::hash<std::string_view>{}(key) % kStripeCount;
}

KeyLockGuard KeyLocks::lock(std::span<const std::string_view> keys) {
  KeyLockGuard guard;
  guard.locks_ = this;
  guard.stripes_.reserve(keys.size());
  for (std::string_view key : keys) guard.stripes_.push_back(stripe_of(key));
  std::sort(guard.stripes_.begin(), guard.stripes_.end());
  guard.stripes_.erase(std::unique(guard.stripes_.begin(), guard.stripes_.end()),
                       guard.stripes_.end());
  for (size_t stripe : guard.stripes_) stripes_[stripe].lock();
  return guard;
}

KeyLockGuard KeyLocks::lock_one(std::string_view key) {
  const std::string_view keys[1] = {key};
  return lock(keys);
}

}  // namespace cairn
