// Bloom filters over user keys, one per table, so a point lookup skips tables that cannot hold
// its key without reading a data block (docs/sstable-format.md).
//
//   filter = bit array (m = max(64, n * bits_per_key) bits, rounded up to whole bytes) ++ k (1
//   byte)
//
// A key sets bits (h1 + i * h2) mod m for i in [0, k), where h1 and h2 are the low and high 32
// bits of hash64(user key, kBloomFilterHashSeed) (double hashing), and
// k = round(bits_per_key * ln 2) clamped to [1, 30].
//
// Ownership: the builder owns one 64-bit hash per key added until finish(). Thread-safety: a
// builder is used by one thread; the query functions are pure and safe from any thread.
// Invariants: no false negatives. A filter that is empty, too short or has a k outside [1, 30]
// is untrusted input from a file and answers "maybe" (true), never an assert.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

// Part of the format: changing it changes which bits every stored filter sets.
constexpr uint64_t kBloomFilterHashSeed = 0xb100'f11e'7ca1'4e00;
constexpr int kBloomFilterProbeCountMax = 30;

class BloomFilterBuilder {
 public:
  // REQUIRES: bits_per_key >= 1.
  explicit BloomFilterBuilder(int bits_per_key);

  // Adding a key twice is harmless but sizes the filter for one more key.
  void add_key(std::string_view user_key);

  // The filter over every key added since construction or the last finish(); starts over after.
  std::string finish();

 private:
  const int bits_per_key_;
  std::vector<uint64_t> key_hashes_;
};

// False only if `user_key` was certainly not added to the filter that built `filter`.
bool bloom_filter_may_contain(std::string_view filter, std::string_view user_key);

// The same question in two steps, so that a lookup that consults the filters of several tables
// hashes its key once: bloom_filter_may_contain_hash(filter, bloom_filter_hash(user_key)).
uint64_t bloom_filter_hash(std::string_view user_key);
bool bloom_filter_may_contain_hash(std::string_view filter, uint64_t user_key_hash);

// The theoretical false-positive rate (1 - e^(-k / bits_per_key))^k for the k the builder uses;
// 1.0 for bits_per_key <= 0 (no filter).
double bloom_filter_expected_false_positive_rate(int bits_per_key);

}  // namespace cairn
