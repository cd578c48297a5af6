// CommandTable: every command of command_groups.h indexed by name, with its subcommands, for
// the dispatcher (session.cc), COMMAND and INFO commandstats. Each entry (command or
// subcommand) has a dense index that per-command counters are kept under (server_stats.h).
//
// Thread-safety: immutable after construction; find() may be called from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/command.h"

namespace cairn {

struct CommandEntry {
  const CommandSpec* spec = nullptr;
  const CommandEntry* container = nullptr;  // for a subcommand, its command
  size_t index = 0;                         // dense, 0..CommandTable::entry_count()
  std::string full_name;                    // "get", "config|get" (Redis's fullname)
  // Subcommands by lower-case name (empty for a plain command).
  std::unordered_map<std::string_view, const CommandEntry*> subcommands;
  std::vector<const CommandEntry*> subcommand_list;  // in declaration order
  // May join a run of pipelined commands on one key whose writes are held and written together
  // (fused_writes.h): a write of its first argument alone, whose reads are point lookups.
  bool fusable = false;
  // Looks up, in the collection at its first argument, the element its second argument names
  // (SADD, HGET, ZSCORE...): a pipeline prefetches that element's record (session.cc).
  bool looks_up_element = false;
  // The handler in cluster mode (cluster_commands.h): a cluster version of the command, the
  // spec's own handler when the command touches no key, or one that says it is not available.
  CommandHandler cluster_handler = nullptr;
};

class Server;
// The handler `entry` runs with on `server`: the cluster one in cluster mode.
CommandHandler handler_of(Server& server, const CommandEntry& entry);

class CommandTable {
 public:
  // Longest command name looked up; longer names are simply unknown (no allocation on lookup).
  static constexpr size_t kNameBytesMax = 64;

  // Indexes the groups. REQUIRES: names are lower case and unique within their level.
  explicit CommandTable(const std::vector<std::span<const CommandSpec>>& groups);
  CommandTable(const CommandTable&) = delete;
  CommandTable& operator=(const CommandTable&) = delete;

  // The table of every group in command_groups.h (built once).
  static const CommandTable& standard();

  // Case-insensitive; null when unknown.
  const CommandEntry* find(std::string_view name) const;
  static const CommandEntry* find_subcommand(const CommandEntry& container, std::string_view name);

  // Top-level commands, sorted by name.
  const std::vector<const CommandEntry*>& commands() const { return commands_; }
  // Every entry, commands and subcommands, by index.
  const std::vector<const CommandEntry*>& entries() const { return entries_; }
  size_t entry_count() const { return entries_.size(); }

 private:
  CommandEntry* add_entry(const CommandSpec& spec, const CommandEntry* container);

  std::vector<std::unique_ptr<CommandEntry>> storage_;
  std::unordered_map<std::string_view, const CommandEntry*> by_name_;
  std::vector<const CommandEntry*> commands_;
  std::vector<const CommandEntry*> entries_;
};

// Whether argv's length satisfies `arity` (Redis's convention, command.h).
inline bool arity_matches(int arity, size_t argc) {
  if (arity >= 0) return argc == static_cast<size_t>(arity);
  return argc >= static_cast<size_t>(-arity);
}

// Lower-cases `name` into `buffer` (room for kNameBytesMax); false when it does not fit.
bool lower_name(std::string_view name, char* buffer, std::string_view* lowered);

}  // namespace cairn
