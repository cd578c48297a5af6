// xoshiro256** (Blackman and Vigna), its four state words drawn from splitmix64(seed) as its
// authors recommend. Everything here is integer arithmetic on uint64_t, so the output is the same
// on every platform and standard library.
#include "io/random.h"

#include <limits>

#include "common/assert.h"

namespace cairn {
namespace {

constexpr uint64_t rotate_left(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// One step of splitmix64: advances *state and returns the next output.
uint64_t splitmix64_next(uint64_t* state) {
  *state += 0x9e3779b97f4a7c15ULL;
  uint64_t z = *state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Random::Random(uint64_t seed) {
  uint64_t splitmix_state = seed;
  for (uint64_t& word : state_) word = splitmix64_next(&splitmix_state);
  // xoshiro's one forbidden state; splitmix64 is a bijection per step, so four zero outputs in a
  // row cannot happen, but the generator would silently emit zeros forever if it did.
  CAIRN_ASSERT((state_[0] | state_[1] | state_[2] | state_[3]) != 0);
}

uint64_t Random::next_u64() {
  const uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const uint64_t shifted = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

uint64_t Random::uniform(uint64_t bound) {
  CAIRN_ASSERT(bound > 0);
  // Rejection sampling: 2^64 mod bound values at the bottom of the range would make the
  // low residues more likely, so draws below that threshold are thrown away. The threshold is
  // below 2^63, so on average fewer than two draws are needed.
  const uint64_t threshold = (0 - bound) % bound;  // == 2^64 mod bound
  for (;;) {
    const uint64_t x = next_u64();
    if (x >= threshold) return x % bound;
  }
}

uint64_t Random::range(uint64_t low, uint64_t high) {
  CAIRN_ASSERT(low <= high);
  const uint64_t span = high - low;
  if (span == std::numeric_limits<uint64_t>::max()) return next_u64();  // span + 1 would wrap
  return low + uniform(span + 1);
}

bool Random::one_in(uint64_t n) {
  CAIRN_ASSERT(n > 0);
  return uniform(n) == 0;
}

uint64_t Random::skewed(int max_log) {
  CAIRN_ASSERT(max_log >= 0 && max_log <= 64);
  const uint64_t bits = uniform(static_cast<uint64_t>(max_log) + 1);
  if (bits == 0) return 0;
  const uint64_t value = next_u64();
  return bits == 64 ? value : value & ((uint64_t{1} << bits) - 1);  // low bits: uniform too
}

std::string Random::bytes(size_t length) {
  std::string result(length, '\0');
  // Eight bytes per draw, least significant first; the unused bytes of the last draw are dropped.
  uint64_t word = 0;
  for (size_t i = 0; i < length; ++i) {
    if (i % 8 == 0) word = next_u64();
    result[i] = static_cast<char>(static_cast<unsigned char>(word >> (8 * (i % 8))));
  }
  return result;
}

}  // namespace cairn
