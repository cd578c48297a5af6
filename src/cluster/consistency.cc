#include "cluster/consistency.h"

#include <cctype>

namespace cairn {

namespace {

constexpr std::string_view kSloppyPrefix = "SLOPPY-";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<Consistency> parse_consistency(std::string_view name) {
  Consistency consistency;
  if (name.size() > kSloppyPrefix.size() &&
      equals_ignoring_case(name.substr(0, kSloppyPrefix.size()), kSloppyPrefix)) {
    consistency.sloppy = true;
    name.remove_prefix(kSloppyPrefix.size());
  }
  for (const ConsistencyLevel level :
       {ConsistencyLevel::kOne, ConsistencyLevel::kQuorum, ConsistencyLevel::kAll}) {
    if (equals_ignoring_case(name, level_name(level))) {
      consistency.level = level;
      return consistency;
    }
  }
  return std::nullopt;
}

std::string consistency_name(Consistency consistency) {
  return (consistency.sloppy ? std::string(kSloppyPrefix) : std::string()) +
         std::string(level_name(consistency.level));
}

}  // namespace cairn
