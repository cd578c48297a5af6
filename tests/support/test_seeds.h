// Seeds for randomized tests. A fast run (make test) uses a few; CAIRN_TEST_LONG=1 (make
// test-long) many more; CAIRN_TEST_SEED=N replays exactly seed N, as printed by a failure.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace cairn::test {

inline bool long_run() {
  const char* value = std::getenv("CAIRN_TEST_LONG");
  return value != nullptr && std::string(value) == "1";
}

// `fast` seeds normally, `long_count` under CAIRN_TEST_LONG, or the one CAIRN_TEST_SEED names.
// Seeds start at `first` so different tests explore different runs.
inline std::vector<uint64_t> test_seeds(uint64_t first, int fast, int long_count) {
  if (const char* replay = std::getenv("CAIRN_TEST_SEED")) {
    return {std::strtoull(replay, nullptr, 10)};
  }
  std::vector<uint64_t> seeds;
  const int count = long_run() ? long_count : fast;
  for (int i = 0; i < count; i++) seeds.push_back(first + static_cast<uint64_t>(i));
  return seeds;
}

}  // namespace cairn::test
