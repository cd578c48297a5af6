// Checksums and hashes over bytes, from xxHash (XXH3). Every on-disk byte Cairn writes is
// covered by checksum32 of its record or block; hash64 seeds bloom filters. Both are stable
// across platforms and releases of xxHash (XXH3's output is frozen), so they may be stored.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn {

// The low 32 bits of XXH3-64 of `data`.
uint32_t checksum32(std::string_view data);
// The checksum of the concatenation a + b, without copying.
uint32_t checksum32(std::string_view a, std::string_view b);

uint64_t hash64(std::string_view data, uint64_t seed = 0);

}  // namespace cairn
