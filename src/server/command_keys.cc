#include "server/command_keys.h"

#include "model/string_number.h"

namespace cairn {

namespace {

// A command whose keys are `numkeys` arguments after the count at `count_index`, with a
// destination key at `destination_index` (0: none).
struct CountedKeys {
  std::string_view name;
  size_t count_index;
  size_t destination_index;
};

constexpr CountedKeys kCountedKeys[] = {
    {"sintercard", 1, 0}, {"zunion", 1, 0},      {"zinter", 1, 0},      {"zdiff", 1, 0},
    {"zintercard", 1, 0}, {"lmpop", 1, 0},       {"zmpop", 1, 0},       {"blmpop", 2, 0},
    {"bzmpop", 2, 0},     {"zunionstore", 2, 1}, {"zinterstore", 2, 1}, {"zdiffstore", 2, 1},
};

}  // namespace

std::vector<std::string_view> command_keys(const CommandEntry& entry,
                                           std::span<const std::string_view> argv) {
  std::vector<std::string_view> keys;
  for (const CountedKeys& counted : kCountedKeys) {
    if (entry.container != nullptr || counted.name != entry.spec->name) continue;
    if (counted.destination_index != 0 && counted.destination_index < argv.size()) {
      keys.push_back(argv[counted.destination_index]);
    }
    if (counted.count_index >= argv.size()) return keys;
    const std::optional<int64_t> count = string_to_int64(argv[counted.count_index]);
    if (!count.has_value() || *count < 1 ||
        static_cast<uint64_t>(*count) > argv.size() - counted.count_index - 1) {
      return keys;
    }
    for (size_t i = 0; i < static_cast<size_t>(*count); i++) {
      keys.push_back(argv[counted.count_index + 1 + i]);
    }
    return keys;
  }
  const CommandSpec& spec = *entry.spec;
  if (spec.first_key <= 0) return keys;
  const int argc = static_cast<int>(argv.size());
  const int last = spec.last_key >= 0 ? spec.last_key : argc + spec.last_key;
  const int step = spec.key_step > 0 ? spec.key_step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step) {
    keys.push_back(argv[static_cast<size_t>(i)]);
  }
  return keys;
}

}  // namespace cairn
