// Random: the one pseudo-random generator of Cairn (xoshiro256**, seeded through splitmix64).
// Every method's output is a pure function of the seed and the calls made so far, on every
// platform and standard library: no std distributions are used. Tests print the seed they used.
// Thread-safety: none; give each thread (or each simulated actor) its own Random.
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, bound). REQUIRES: bound > 0. Unbiased.
  uint64_t uniform(uint64_t bound);
  // Uniform in [low, high]. REQUIRES: low <= high.
  uint64_t range(uint64_t low, uint64_t high);
  // True with probability 1/n. REQUIRES: n > 0.
  bool one_in(uint64_t n);
  // Picks a bit count in [0, max_log] uniformly, then a value uniform in [0, 2^bits):
  // small values are much more likely than large ones.
  uint64_t skewed(int max_log);
  // `length` bytes, each uniform over all 256 values.
  std::string bytes(size_t length);

 private:
  uint64_t state_[4];
};

}  // namespace cairn
