#include "storage/bloom_filter.h"

#include <algorithm>
#include <cmath>

#include "common/assert.h"
#include "common/checksum.h"

namespace cairn {
namespace {

constexpr size_t kFilterBitsMin = 64;  // so a filter over very few keys is not all ones

int probe_count(int bits_per_key) {
  const auto k = static_cast<int>(std::lround(bits_per_key * std::log(2.0)));
  return std::clamp(k, 1, kBloomFilterProbeCountMax);
}

// The bit of probe `i`; 64-bit arithmetic so that h1 + i * h2 does not wrap before the modulo.
uint64_t probe_bit(uint64_t hash, int i, uint64_t bit_count) {
  const uint64_t h1 = hash & 0xffff'ffff;
  const uint64_t h2 = hash >> 32;
  return (h1 + static_cast<uint64_t>(i) * h2) % bit_count;
}

}  // namespace

BloomFilterBuilder::BloomFilterBuilder(int bits_per_key) : bits_per_key_(bits_per_key) {
  CAIRN_ASSERT(bits_per_key_ >= 1);
}

void BloomFilterBuilder::add_key(std::string_view user_key) {
  key_hashes_.push_back(hash64(user_key, kBloomFilterHashSeed));
}

std::string BloomFilterBuilder::finish() {
  const int k = probe_count(bits_per_key_);
  const size_t bits_wanted = std::max(kFilterBitsMin, key_hashes_.size() * size_t(bits_per_key_));
  const size_t byte_count = (bits_wanted + 7) / 8;
  const uint64_t bit_count = uint64_t{byte_count} * 8;

  std::string filter(byte_count + 1, '\0');
  for (const uint64_t hash : key_hashes_) {
    for (int i = 0; i < k; i++) {
      const uint64_t bit = probe_bit(hash, i, bit_count);
      filter[bit / 8] = static_cast<char>(filter[bit / 8] | (1 << (bit % 8)));
    }
  }
  filter[byte_count] = static_cast<char>(k);
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
  const int k = static_cast<unsigned char>(filter.back());
  if (k < 1 || k > kBloomFilterProbeCountMax) return true;  // malformed, or a future encoding
  const uint64_t bit_count = uint64_t{filter.size() - 1} * 8;
  // probe_bit(hash, i, m) = (h1 + i * h2) mod m, stepped by adding h2 mod m: two divisions per
  // lookup instead of one per probe, the same bits.
  uint64_t bit = probe_bit(user_key_hash, 0, bit_count);
  const uint64_t step = (user_key_hash >> 32) % bit_count;
  for (int i = 0; i < k; i++) {
    if ((static_cast<unsigned char>(filter[bit / 8]) & (1 << (bit % 8))) == 0) return false;
    bit += step;
    if (bit >= bit_count) bit -= bit_count;
  }
  return true;
}

double bloom_filter_expected_false_positive_rate(int bits_per_key) {
  if (bits_per_key <= 0) return 1.0;
  const double k = probe_count(bits_per_key);
  return std::pow(1.0 - std::exp(-k / bits_per_key), k);
}

}  // namespace cairn
