// KeyLocks: striped mutexes for read-modify-write commands. A key maps to one of kStripeCount
// stripes by hash; a command locks the stripes of all its keys in ascending stripe order (each
// once), so two commands never deadlock and two INCRs of one key never lose an update.
//
// Thread-safety: every method may be called from any thread. A KeyLockGuard is used (and
// destroyed) by the thread that made it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

namespace cairn {

class KeyLocks;

// Holds some stripes locked until destroyed. Move-only.
class KeyLockGuard {
 public:
  KeyLockGuard() = default;
  KeyLockGuard(KeyLockGuard&& other) noexcept;
  KeyLockGuard& operator=(KeyLockGuard&& other) noexcept;
  KeyLockGuard(const KeyLockGuard&) = delete;
  KeyLockGuard& operator=(const KeyLockGuard&) = delete;
  ~KeyLockGuard();
  void unlock();
  // Whether it holds any stripe.
  bool owns() const { return locks_ != nullptr; }

 private:
  friend class KeyLocks;
  // Most commands lock one key or a few: their stripes need no allocation.
  static constexpr size_t kInlineStripes = 8;

  // The locked stripes: ascending, unique.
  std::span<const uint16_t> stripes() const {
    return {heap_stripes_.empty() ? inline_stripes_.data() : heap_stripes_.data(), stripe_count_};
  }

  KeyLocks* locks_ = nullptr;
  size_t stripe_count_ = 0;
  std::array<uint16_t, kInlineStripes> inline_stripes_{};
  std::vector<uint16_t> heap_stripes_;  // instead of inline_stripes_ when there are more
};

class KeyLocks {
 public:
  static constexpr size_t kStripeCount = 4096;
  static_assert(kStripeCount <= UINT16_MAX + 1, "a stripe number fits in a u16");

  size_t stripe_of(std::string_view key) const;
  // Locks the stripes of every key in `keys` (which may repeat).
  KeyLockGuard lock(std::span<const std::string_view> keys);
  KeyLockGuard lock_one(std::string_view key);

 private:
  friend class KeyLockGuard;
  std::array<std::mutex, kStripeCount> stripes_;
};

}  // namespace cairn
