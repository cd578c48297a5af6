#include "common/node_id.h"

#include <cstdio>

namespace cairn {

std::string to_string(NodeId id) {
  char text[32];
  std::snprintf(text, sizeof(text), "node-%016llx", static_cast<unsigned long long>(id.value));
  return text;
}

}  // namespace cairn
