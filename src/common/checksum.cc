#include "common/checksum.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "common/assert.h"

namespace cairn {

uint32_t checksum32(std::string_view data) {
  return static_cast<uint32_t>(XXH3_64bits(data.data(), data.size()));
}

uint32_t checksum32(std::string_view a, std::string_view b) {
  XXH3_state_t state;
  CAIRN_ASSERT(XXH3_64bits_reset(&state) == XXH_OK);
  CAIRN_ASSERT(XXH3_64bits_update(&state, a.data(), a.size()) == XXH_OK);
  CAIRN_ASSERT(XXH3_64bits_update(&state, b.data(), b.size()) == XXH_OK);
  return static_cast<uint32_t>(XXH3_64bits_digest(&state));
}

uint64_t hash64(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

}  // namespace cairn
