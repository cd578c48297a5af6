#include "storage/bloom_filter.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/assert.h"
#include "common/checksum.h"

namespace cairn {
namespace {

constexpr uint32_t kBlockBits = kBloomFilterBlockBytes * 8;
// The probe bit is the top 9 bits of a 32-bit value, so it always falls inside the block.
constexpr int kProbeBitShift = 23;
static_assert(uint32_t{1} << (32 - kProbeBitShift) == kBlockBits);
// Odd (so multiplying loses no bits of the state) and with well-spread bits (2^32 / golden
// ratio), so each product's top bits depend on every bit of the state.
constexpr uint32_t kProbeStateMultiplier = 0x9e37'79b9;
static_assert(kBloomFilterBlockedMarker < 1 ||
                  kBloomFilterBlockedMarker > kBloomFilterProbeCountMax,
              "a whole filter's k must never read as the blocked marker");
static_assert(kBloomFilterBlockedProbeCountMax <= kBloomFilterProbeCountMax);

// Keys spread unevenly over 512-bit blocks (Poisson), which moves the best k below the whole
// filter's b ln 2: round(0.6 b) gets within 6% of the lowest expected rate for b in [1, 24].
// The cap applies from b = 34, where 20 probes already give a rate below 1e-5; more would
// mostly cost time.
int blocked_probe_count(int bits_per_key) {
  const int64_t k = (int64_t{6} * bits_per_key + 5) / 10;  // round(0.6 b), integers only
  return static_cast<int>(std::clamp<int64_t>(k, 1, kBloomFilterBlockedProbeCountMax));
}

// Multiply-shift maps the high 32 bits of the hash onto [0, block_count) without a division.
// REQUIRES: block_count < 2^32, so the product fits in 64 bits.
uint64_t block_index(uint64_t hash, uint64_t block_count) {
  return ((hash >> 32) * block_count) >> 32;
}

// The bit in [0, 512) of the next probe inside the key's block; advances `state`. The state
// starts as the low 32 bits of the hash, which the block index does not use.
uint32_t next_probe_bit(uint32_t* state) {
  const uint32_t bit = *state >> kProbeBitShift;
  *state *= kProbeStateMultiplier;
  return bit;
}

bool bit_is_set(const char* bytes, uint64_t bit) {
  return (static_cast<unsigned char>(bytes[bit / 8]) >> (bit % 8) & 1) != 0;
}

// The whole encoding, no longer written: k probes spread over the entire bit array.
bool whole_filter_may_contain(std::string_view filter, int k, uint64_t hash) {
  const uint64_t bit_count = uint64_t{filter.size() - 1} * 8;
  // Bit i is (h1 + i * h2) mod m, stepped by adding h2 mod m: two divisions per lookup instead
  // of one per probe, the same bits.
  uint64_t bit = (hash & 0xffff'ffff) % bit_count;
  const uint64_t step = (hash >> 32) % bit_count;
  for (int i = 0; i < k; i++) {
    if (!bit_is_set(filter.data(), bit)) return false;
    bit += step;
    if (bit >= bit_count) bit -= bit_count;
  }
  return true;
}

// REQUIRES: the last byte is kBloomFilterBlockedMarker. The rest is untrusted.
bool blocked_filter_may_contain(std::string_view filter, uint64_t hash) {
  if (filter.size() < kBloomFilterBlockBytes + kBloomFilterBlockedTrailerBytes) return true;
  const size_t blocks_bytes = filter.size() - kBloomFilterBlockedTrailerBytes;
  const int k = static_cast<unsigned char>(filter[blocks_bytes]);
  if (k < 1 || k > kBloomFilterProbeCountMax) return true;
  if (blocks_bytes % kBloomFilterBlockBytes != 0) return true;
  const uint64_t block_count = blocks_bytes / kBloomFilterBlockBytes;
  if (block_count > std::numeric_limits<uint32_t>::max()) return true;
  const char* block = filter.data() + block_index(hash, block_count) * kBloomFilterBlockBytes;
  auto state = static_cast<uint32_t>(hash);
  for (int i = 0; i < k; i++) {
    if (!bit_is_set(block, next_probe_bit(&state))) return false;
  }
  return true;
}

}  // namespace

BloomFilterBuilder::BloomFilterBuilder(int bits_per_key) : bits_per_key_(bits_per_key) {
  CAIRN_ASSERT(bits_per_key_ >= 1);
}

void BloomFilterBuilder::add_key(std::string_view user_key) {
  key_hashes_.push_back(bloom_filter_hash(user_key));
}

std::string BloomFilterBuilder::finish() {
  const int k = blocked_probe_count(bits_per_key_);
  const uint64_t bits_wanted = uint64_t{key_hashes_.size()} * uint64_t(bits_per_key_);
  // At least one block, so a filter over no keys is well formed (and rules out every key).
  const uint64_t block_count = std::max<uint64_t>(1, (bits_wanted + kBlockBits - 1) / kBlockBits);
  CAIRN_ASSERT(block_count <= std::numeric_limits<uint32_t>::max());

  std::string filter(block_count * kBloomFilterBlockBytes + kBloomFilterBlockedTrailerBytes, '\0');
  for (const uint64_t hash : key_hashes_) {
    const uint64_t index = block_index(hash, block_count);
    CAIRN_ASSERT(index < block_count);
    char* block = filter.data() + index * kBloomFilterBlockBytes;
    auto state = static_cast<uint32_t>(hash);
    for (int i = 0; i < k; i++) {
      const uint32_t bit = next_probe_bit(&state);
      block[bit / 8] = static_cast<char>(block[bit / 8] | (1 << (bit % 8)));
    }
  }
  filter[filter.size() - 2] = static_cast<char>(k);
  filter[filter.size() - 1] = static_cast<char>(kBloomFilterBlockedMarker);
  key_hashes_.clear();
  return filter;
}

bool bloom_filter_may_contain(std::string_view filter, std::string_view user_key) {
  return bloom_filter_may_contain_hash(filter, bloom_filter_hash(user_key));
}

uint64_t bloom_filter_hash(std::string_view user_key) {
  return hash64(user_key, kBloomFilterHashSeed);
}

bool bloom_filter_may_contain_hash(std::string_view filter, uint64_t user_key_hash) {
  if (filter.size() < 2) return true;
  const int last_byte = static_cast<unsigned char>(filter.back());
  if (last_byte >= 1 && last_byte <= kBloomFilterProbeCountMax) {
    return whole_filter_may_contain(filter, last_byte, user_key_hash);
  }
  if (last_byte == kBloomFilterBlockedMarker) {
    return blocked_filter_may_contain(filter, user_key_hash);
  }
  return true;  // malformed, or a future encoding
}

void bloom_filter_prefetch(std::string_view filter, uint64_t user_key_hash) {
  // The size alone gives the block count; the trailer, read by the probe, stays unchecked here.
  if (filter.size() < kBloomFilterBlockBytes + kBloomFilterBlockedTrailerBytes) return;
  const size_t blocks_bytes = filter.size() - kBloomFilterBlockedTrailerBytes;
  if (blocks_bytes % kBloomFilterBlockBytes != 0) return;
  const uint64_t block_count = blocks_bytes / kBloomFilterBlockBytes;
  if (block_count > std::numeric_limits<uint32_t>::max()) return;
  __builtin_prefetch(filter.data() +
                     block_index(user_key_hash, block_count) * kBloomFilterBlockBytes);
}

double bloom_filter_expected_false_positive_rate(int bits_per_key) {
  if (bits_per_key <= 0) return 1.0;
  const int k = blocked_probe_count(bits_per_key);
  const double keys_per_block_mean = double{kBlockBits} / bits_per_key;
  // Past mean + 12 standard deviations (+ 40 for small means) the Poisson tail is below 1e-30.
  const auto key_count_max =
      static_cast<int>(keys_per_block_mean + 12 * std::sqrt(keys_per_block_mean) + 40);
  double rate = 0;
  double probability = std::exp(-keys_per_block_mean);  // P(a block holds j keys), j = 0
  for (int j = 0; j <= key_count_max; j++) {
    const double bit_set_probability =
        1 - std::pow(1 - 1.0 / kBlockBits, static_cast<double>(j) * k);
    rate += probability * std::pow(bit_set_probability, k);
    probability *= keys_per_block_mean / (j + 1);
  }
  return rate;
}

}  // namespace cairn
