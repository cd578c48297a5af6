// What the rows of the engine benchmark share: the keys and values they write, the session that
// owns a database directory for one phase, and the clock.
//
// Thread-safety: ValueSource is immutable after construction and may be read from any thread;
// KeyBuffer and Session belong to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"

namespace cairn::bench {

// A key is the zero-padded decimal of its index, so bytewise order is index order and every key
// is below 0xff (LevelDB's settle relies on that, leveldb_engine.cc).
class KeyBuffer {
 public:
  // REQUIRES: key_bytes >= 10 (any u32 index fits) and <= 64.
  explicit KeyBuffer(size_t key_bytes);
  // Valid until the next call.
  std::string_view at(uint64_t index);

 private:
  std::string text_;
};

// The bytes of values: a fixed pool of kValuePoolBytes, filled from the seed so that half of it
// compresses (each 16 random bytes are followed by a copy of them), read at offsets that vary
// with the value's number.
class ValueSource {
 public:
  static constexpr size_t kValuePoolBytes = size_t{1} << 20;

  explicit ValueSource(uint64_t seed);

  // The bytes of small value number `n`. REQUIRES: bytes <= kValuePoolBytes / 2.
  std::string_view small(uint64_t n, size_t bytes) const;
  // The bytes [offset, offset + out.size()) of large value number `value_number`.
  void large_chunk(uint64_t value_number, uint64_t offset, std::span<char> out) const;

 private:
  std::vector<char> pool_;
};

// One phase's database: open() creates `directory` (which must not exist) and opens the engine
// there; the destructor closes the engine if it is still open and deletes the directory, so a
// phase that stops on an error leaves nothing behind.
class Session {
 public:
  Session(Engine& engine, std::string directory);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Status open(const EngineOptions& options);
  Status close();
  Engine& engine() { return engine_; }
  const std::string& directory() const { return directory_; }

 private:
  Engine& engine_;
  std::string directory_;
  bool open_ = false;
};

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The value at quantile q (0..1) of `samples`, which it reorders. REQUIRES: !samples.empty().
uint64_t quantile(std::vector<uint64_t>& samples, double q);

}  // namespace cairn::bench
