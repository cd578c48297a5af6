// Bloom filters over user keys, one per table, so a point lookup skips tables that cannot hold
// its key without reading a data block (docs/sstable-format.md, "Filter block").
//
// Writers produce the blocked encoding; readers also answer filters of the older whole-array
// encoding, which tables written before it still hold. The last byte tells them apart.
//
//   blocked: B blocks of 512 bits (64 bytes each, B >= 1) ++ k (1 byte) ++ 0x81 (1 byte)
//   whole:   bit array of m bits (a whole number of bytes) ++ k (1 byte, in [1, 30])
//
// Both hash a key once: h = hash64(user key, kBloomFilterHashSeed). A blocked filter keeps all k
// probes of a key inside block ((h >> 32) * B) >> 32, so a lookup touches one cache line (two
// when the filter's bytes are not 64-byte aligned) instead of up to k. Within that block, probe
// i tests bit x_i >> 23, where x_0 = the low 32 bits of h and x_(i+1) = x_i * 0x9e3779b9 mod 2^32.
// The builder uses k = round(0.6 * bits_per_key) clamped to [1, 20] and B = max(1,
// ceil(n * bits_per_key / 512)). A whole filter sets bits (h1 + i * h2) mod m for i in [0, k),
// where h1 and h2 are the low and high 32 bits of h.
//
// Ownership: the builder owns one 64-bit hash per key added until finish(). Thread-safety: a
// builder is used by one thread; the query functions are pure and safe from any thread.
// Invariants: no false negatives. A filter is untrusted input from a file: one that is too short,
// ends in an unknown marker, has a k outside [1, 30], or whose blocked bit array is not a whole
// number of blocks answers "maybe" (true), never an assert. Correctness never depends on the
// alignment of the filter's bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

// Part of the format: changing it changes which bits every stored filter sets.
constexpr uint64_t kBloomFilterHashSeed = 0xb100'f11e'7ca1'4e00;
// The k a reader accepts, in either encoding; the blocked builder writes at most
// kBloomFilterBlockedProbeCountMax.
constexpr int kBloomFilterProbeCountMax = 30;
constexpr int kBloomFilterBlockedProbeCountMax = 20;
// The blocked encoding's last byte: outside [1, 30], so no whole filter ends in it.
constexpr unsigned char kBloomFilterBlockedMarker = 0x81;
constexpr size_t kBloomFilterBlockBytes = 64;          // one cache line
constexpr size_t kBloomFilterBlockedTrailerBytes = 2;  // k, then the marker

class BloomFilterBuilder {
 public:
  // REQUIRES: bits_per_key >= 1.
  explicit BloomFilterBuilder(int bits_per_key);

  // Adding a key twice is harmless but sizes the filter for one more key.
  void add_key(std::string_view user_key);

  // The blocked filter over every key added since construction or the last finish(); starts
  // over after. REQUIRES: fewer than 2^32 blocks (a filter under 256 GiB).
  std::string finish();

 private:
  const int bits_per_key_;
  std::vector<uint64_t> key_hashes_;
};

// False only if `user_key` was certainly not added to the filter that built `filter`.
bool bloom_filter_may_contain(std::string_view filter, std::string_view user_key);

// The same question in two steps, so that a lookup that consults the filters of several tables
// hashes its key once: bloom_filter_may_contain_hash(filter, bloom_filter_hash(user_key)).
// Answers both encodings.
uint64_t bloom_filter_hash(std::string_view user_key);
bool bloom_filter_may_contain_hash(std::string_view filter, uint64_t user_key_hash);
// Starts loading the bytes bloom_filter_may_contain_hash will read for this hash (the key's
// block of a blocked filter), so that the probes of several filters overlap. Reads only
// filter.size(); a filter of another encoding gets no prefetch.
void bloom_filter_prefetch(std::string_view filter, uint64_t user_key_hash);

// The theoretical false-positive rate of a large blocked filter the builder writes: keys per
// block are Poisson with mean 512 / bits_per_key, and a block holding j keys answers "maybe"
// with probability (1 - (1 - 1/512)^(j k))^k. 1.0 for bits_per_key <= 0 (no filter).
double bloom_filter_expected_false_positive_rate(int bits_per_key);

}  // namespace cairn
