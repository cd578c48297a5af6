// COMMAND and its subcommands: COUNT, INFO, DOCS, LIST, GETKEYS, HELP, answered from the
// command table as Redis 7 shapes them.
#include <array>
#include <string>
#include <vector>

#include "common/glob_match.h"
#include "server/command_helpers.h"
#include "server/command_table.h"
#include "server/server.h"

namespace cairn {
namespace {

std::vector<std::string_view> flag_names(uint32_t flags) {
  static constexpr std::array<std::pair<uint32_t, std::string_view>, 12> kNames = {{
      {kCommandWrite, "write"}, {kCommandReadonly, "readonly"}, {kCommandDenyOom, "denyoom"},
      {kCommandAdmin, "admin"}, {kCommandNoScript, "noscript"}, {kCommandBlocking, "blocking"},
      {kCommandLoading, "loading"}, {kCommandStale, "stale"}, {kCommandNoMulti, "no_multi"},
      {kCommandFast, "fast"}, {kCommandAllowBusy, "allow_busy"}, {kCommandNoAuth, "no_auth"},
  }};
  std::vector<std::string_view> names;
  for (const auto& [flag, name] : kNames) {
    if (flags & flag) names.push_back(name);
  }
  return names;
}

// Redis's ACL categories, derived from the flags and the group.
std::vector<std::string> categories(const CommandSpec& spec) {
  std::vector<std::string> out;
  if (spec.flags & kCommandWrite) out.push_back("@write");
  if (spec.flags & kCommandReadonly) out.push_back("@read");
  if (spec.group == "string") out.push_back("@string");
  if (spec.group == "generic") out.push_back("@keyspace");
  if (spec.group == "connection") out.push_back("@connection");
  if (spec.group == "transactions") out.push_back("@transaction");
  if (spec.flags & kCommandAdmin) {
    out.push_back("@admin");
    out.push_back("@dangerous");
  }
  out.push_back((spec.flags & kCommandFast) ? "@fast" : "@slow");
  return out;
}

void write_info(ReplyWriter& reply, const CommandEntry& entry) {
  const CommandSpec& spec = *entry.spec;
  reply.array_header(10);
  reply.bulk_string(entry.full_name);
  reply.integer(spec.arity);
  std::vector<std::string_view> flags = flag_names(spec.flags);
  reply.set_header(flags.size());
  for (std::string_view flag : flags) reply.simple_string(flag);
  reply.integer(spec.first_key);
  reply.integer(spec.last_key);
  reply.integer(spec.key_step);
  std::vector<std::string> cats = categories(spec);
  reply.set_header(cats.size());
  for (const std::string& cat : cats) reply.simple_string(cat);
  reply.set_header(0);    // tips
  reply.array_header(0);  // key specifications (the first/last/step triple says it all here)
  reply.array_header(entry.subcommand_list.size());
  for (const CommandEntry* sub : entry.subcommand_list) write_info(reply, *sub);
}

void write_docs(ReplyWriter& reply, const CommandEntry& entry) {
  const CommandSpec& spec = *entry.spec;
  bool has_subs = !entry.subcommand_list.empty();
  reply.map_header(has_subs ? 5 : 4);
  reply.bulk_string("summary");
  reply.bulk_string(spec.summary);
  reply.bulk_string("since");
  reply.bulk_string(spec.since);
  reply.bulk_string("group");
  reply.bulk_string(spec.group);
  reply.bulk_string("complexity");
  reply.bulk_string(spec.complexity);
  if (has_subs) {
    reply.bulk_string("subcommands");
    reply.map_header(entry.subcommand_list.size());
    for (const CommandEntry* sub : entry.subcommand_list) {
      reply.bulk_string(sub->full_name);
      write_docs(reply, *sub);
    }
  }
}

// "config|get" or "get": the entry of a full name, or null.
const CommandEntry* find_full_name(const CommandTable& table, std::string_view name) {
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return table.find(name);
  const CommandEntry* container = table.find(name.substr(0, bar));
  if (container == nullptr) return nullptr;
  return CommandTable::find_subcommand(*container, name.substr(bar + 1));
}

void command_count(CommandContext& context) {
  context.reply.integer(static_cast<int64_t>(context.server.table().commands().size()));
}

void command_info(CommandContext& context) {
  const CommandTable& table = context.server.table();
  if (context.argv.size() == 2) {
    context.reply.array_header(table.commands().size());
    for (const CommandEntry* entry : table.commands()) write_info(context.reply, *entry);
    return;
  }
  context.reply.array_header(context.argv.size() - 2);
  for (size_t i = 2; i < context.argv.size(); ++i) {
    const CommandEntry* entry = find_full_name(table, context.argv[i]);
    if (entry == nullptr) {
      context.reply.null_array();
    } else {
      write_info(context.reply, *entry);
    }
  }
}

void command_docs(CommandContext& context) {
  const CommandTable& table = context.server.table();
  std::vector<const CommandEntry*> entries;
  if (context.argv.size() == 2) {
    entries = table.commands();
  } else {
    for (size_t i = 2; i < context.argv.size(); ++i) {
      const CommandEntry* entry = find_full_name(table, context.argv[i]);
      if (entry != nullptr) entries.push_back(entry);
    }
  }
  context.reply.map_header(entries.size());
  for (const CommandEntry* entry : entries) {
    context.reply.bulk_string(entry->full_name);
    write_docs(context.reply, *entry);
  }
}

void command_list(CommandContext& context) {
  auto argv = context.argv;
  std::string_view pattern, category, module;
  bool filter = false;
  if (argv.size() == 5 && equals_ignore_case(argv[2], "filterby")) {
    filter = true;
    if (equals_ignore_case(argv[3], "pattern")) {
      pattern = argv[4];
    } else if (equals_ignore_case(argv[3], "aclcat")) {
      category = argv[4];
    } else if (equals_ignore_case(argv[3], "module")) {
      module = argv[4];
    } else {
      context.reply.error("ERR syntax error");
      return;
    }
  } else if (argv.size() != 2) {
    context.reply.error("ERR syntax error");
    return;
  }
  std::vector<const std::string*> names;
  auto consider = [&](const CommandEntry& entry) {
    if (filter) {
      if (!module.empty()) return;  // no modules
      if (!pattern.empty() && !glob_match(pattern, entry.full_name, true)) return;
      if (!category.empty()) {
        bool found = false;
        for (const std::string& cat : categories(*entry.spec)) {
          if (equals_ignore_case(std::string_view(cat).substr(1), category)) found = true;
        }
        if (!found) return;
      }
    }
    names.push_back(&entry.full_name);
  };
  for (const CommandEntry* entry : context.server.table().commands()) {
    consider(*entry);
    for (const CommandEntry* sub : entry->subcommand_list) consider(*sub);
  }
  context.reply.array_header(names.size());
  for (const std::string* name : names) context.reply.bulk_string(*name);
}

void command_getkeys(CommandContext& context) {
  std::span<const std::string_view> argv = context.argv.subspan(2);
  const CommandEntry* entry = context.server.table().find(argv[0]);
  if (entry != nullptr && !entry->subcommand_list.empty() && argv.size() >= 2) {
    entry = CommandTable::find_subcommand(*entry, argv[1]);
  }
  if (entry == nullptr) {
    context.reply.error("ERR Invalid command specified");
    return;
  }
  const CommandSpec& spec = *entry->spec;
  if (!arity_matches(spec.arity, argv.size())) {
    context.reply.error("ERR Invalid number of arguments specified for command");
    return;
  }
  if (spec.first_key <= 0) {
    context.reply.error("ERR The command has no key arguments");
    return;
  }
  int argc = static_cast<int>(argv.size());
  int last = spec.last_key >= 0 ? spec.last_key : argc + spec.last_key;
  int step = spec.key_step > 0 ? spec.key_step : 1;
  std::vector<std::string_view> keys;
  for (int i = spec.first_key; i <= last && i < argc; i += step) keys.push_back(argv[static_cast<size_t>(i)]);
  context.reply.array_header(keys.size());
  for (std::string_view key : keys) context.reply.bulk_string(key);
}

void command_help(CommandContext& context) {
  help_reply(context.reply, "COMMAND",
             {"(no subcommand)", "    Return details about all Redis commands.",
              "COUNT", "    Return the total number of commands in this Redis server.",
              "LIST", "    Return a list of all commands in this Redis server.",
              "INFO [<command-name> ...]",
              "    Return details about multiple Redis commands.",
              "    If no command names are given, documentation details for all",
              "    commands are returned.",
              "DOCS [<command-name> ...]",
              "    Return documentation details about multiple Redis commands.",
              "    If no command names are given, documentation details for all",
              "    commands are returned.",
              "GETKEYS <full-command>",
              "    Return the keys from a full Redis command."});
}

constexpr uint32_t kCommandFlags = kCommandLoading | kCommandStale;

constexpr std::array kCommandSubcommands = {
    CommandSpec{.name = "count", .arity = 2, .flags = kCommandFlags, .group = "server",
                .since = "2.8.13", .summary = "Returns a count of commands.",
                .complexity = "O(1)", .handler = command_count, .subcommands = {}},
    CommandSpec{.name = "info", .arity = -2, .flags = kCommandFlags, .group = "server",
                .since = "2.8.13", .summary = "Returns information about one, multiple or all commands.",
                .complexity = "O(N) where N is the number of commands to look up",
                .handler = command_info, .subcommands = {}},
    CommandSpec{.name = "docs", .arity = -2, .flags = kCommandFlags, .group = "server",
                .since = "7.0.0", .summary = "Returns documentary information about one, multiple or all commands.",
                .complexity = "O(N) where N is the number of commands to look up",
                .handler = command_docs, .subcommands = {}},
    CommandSpec{.name = "list", .arity = -2, .flags = kCommandFlags, .group = "server",
                .since = "7.0.0", .summary = "Returns a list of command names.",
                .complexity = "O(N) where N is the total number of Redis commands",
                .handler = command_list, .subcommands = {}},
    CommandSpec{.name = "getkeys", .arity = -4, .flags = kCommandFlags, .group = "server",
                .since = "2.8.13", .summary = "Extracts the key names from an arbitrary command.",
                .complexity = "O(N) where N is the number of arguments to the command",
                .handler = command_getkeys, .subcommands = {}},
    CommandSpec{.name = "help", .arity = 2, .flags = kCommandFlags, .group = "server",
                .since = "5.0.0", .summary = "Returns helpful text about the different subcommands.",
                .complexity = "O(1)", .handler = command_help, .subcommands = {}},
};

}  // namespace

void command_command(CommandContext& context) {
  const CommandTable& table = context.server.table();
  context.reply.array_header(table.commands().size());
  for (const CommandEntry* entry : table.commands()) write_info(context.reply, *entry);
}

std::span<const CommandSpec> command_subcommands() { return kCommandSubcommands; }

}  // namespace cairn
