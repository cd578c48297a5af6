#include "server/command_table.h"

#include <algorithm>
#include <memory>

#include "common/assert.h"
#include "server/cluster_commands.h"
#include "server/command_groups.h"

namespace cairn {

bool lower_name(std::string_view name, char* buffer, std::string_view* lowered) {
  if (name.size() > CommandTable::kNameBytesMax) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    buffer[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  *lowered = std::string_view(buffer, name.size());
  return true;
}

CommandTable::CommandTable(const std::vector<std::span<const CommandSpec>>& groups) {
  for (std::span<const CommandSpec> group : groups) {
    for (const CommandSpec& spec : group) {
      CommandEntry* entry = add_entry(spec, nullptr);
      bool inserted = by_name_.emplace(spec.name, entry).second;
      CAIRN_ASSERT(inserted);
      commands_.push_back(entry);
      for (const CommandSpec& sub : spec.subcommands) {
        CommandEntry* sub_entry = add_entry(sub, entry);
        bool sub_inserted = entry->subcommands.emplace(sub.name, sub_entry).second;
        CAIRN_ASSERT(sub_inserted);
        entry->subcommand_list.push_back(sub_entry);
      }
    }
  }
  std::sort(commands_.begin(), commands_.end(), [](const CommandEntry* a, const CommandEntry* b) {
    return a->spec->name < b->spec->name;
  });
}

namespace {

// The commands that may join a run of fused writes (CommandEntry::fusable). Each writes only its
// first argument's key, and reads it with point lookups; one that reads more (SPOP with a count
// walks the sample index) ends the run's fusion itself (Keyspace::end_fusion), so the list is a
// matter of speed, not of correctness.
constexpr std::string_view kFusableCommands[] = {
    "set",          "append", "incr",   "decr",    "incrby",  "decrby", "incrbyfloat",
    "lpush",        "rpush",  "lpushx", "rpushx",  "lpop",    "rpop",   "sadd",
    "srem",         "spop",   "hset",   "hmset",   "hsetnx",  "hdel",   "hincrby",
    "hincrbyfloat", "zadd",   "zrem",   "zincrby", "zpopmin", "zpopmax"};

bool is_fusable(const CommandSpec& spec, const CommandEntry* container) {
  if (container != nullptr || spec.first_key != 1 || spec.last_key != 1) return false;
  return std::find(std::begin(kFusableCommands), std::end(kFusableCommands), spec.name) !=
         std::end(kFusableCommands);
}

// The commands that look up the element named by their second argument in the collection at
// their first (CommandEntry::looks_up_element): a hint for the pipeline's prefetch, so the list
// is a matter of speed, not of correctness.
constexpr std::string_view kElementLookupCommands[] = {
    "sadd",   "srem",    "sismember", "smismember", "hset",    "hmset",   "hsetnx",
    "hget",   "hmget",   "hdel",      "hexists",    "hstrlen", "hincrby", "hincrbyfloat",
    "zscore", "zmscore", "zrem",      "zrank",      "zrevrank"};

bool looks_up_element(const CommandSpec& spec, const CommandEntry* container) {
  if (container != nullptr || spec.first_key != 1 || spec.last_key != 1) return false;
  return std::find(std::begin(kElementLookupCommands), std::end(kElementLookupCommands),
                   spec.name) != std::end(kElementLookupCommands);
}

}  // namespace

CommandEntry* CommandTable::add_entry(const CommandSpec& spec, const CommandEntry* container) {
  CAIRN_ASSERT(!spec.name.empty() && spec.name.size() <= kNameBytesMax);
  auto entry = std::make_unique<CommandEntry>();
  entry->spec = &spec;
  entry->container = container;
  entry->index = entries_.size();
  entry->full_name = container == nullptr
                         ? std::string(spec.name)
                         : std::string(container->spec->name) + "|" + std::string(spec.name);
  entry->fusable = is_fusable(spec, container);
  entry->looks_up_element = looks_up_element(spec, container);
  entry->cluster_handler = cluster_handler_for(entry->full_name, spec);
  CommandEntry* raw = entry.get();
  storage_.push_back(std::move(entry));
  entries_.push_back(raw);
  return raw;
}

const CommandTable& CommandTable::standard() {
  static const CommandTable table(
      {string_commands(), key_commands(), hash_commands(), set_commands(), list_commands(),
       sorted_set_commands(), sorted_set_range_commands(), sorted_set_algebra_commands(),
       expire_commands(), connection_commands(), server_commands(), transaction_commands(),
       cairn_commands(), cluster_admin_commands()});
  return table;
}

const CommandEntry* CommandTable::find(std::string_view name) const {
  char buffer[kNameBytesMax];
  std::string_view lowered;
  if (!lower_name(name, buffer, &lowered)) return nullptr;
  auto it = by_name_.find(lowered);
  return it == by_name_.end() ? nullptr : it->second;
}

const CommandEntry* CommandTable::find_subcommand(const CommandEntry& container,
                                                  std::string_view name) {
  char buffer[kNameBytesMax];
  std::string_view lowered;
  if (!lower_name(name, buffer, &lowered)) return nullptr;
  auto it = container.subcommands.find(lowered);
  return it == container.subcommands.end() ? nullptr : it->second;
}

}  // namespace cairn
