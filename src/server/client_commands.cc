// CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, SETINFO, REPLY, UNBLOCK,
// NO-EVICT, NO-TOUCH, HELP.
#include <array>
#include <string>

#include "server/client.h"
#include "server/client_registry.h"
#include "server/command_helpers.h"
#include "server/server.h"

namespace cairn {
namespace {

void client_id(CommandContext& context) {
  context.reply.integer(static_cast<int64_t>(context.client.id()));
}

void client_setname(CommandContext& context) {
  std::string_view name = context.argv[2];
  if (!is_valid_client_name(name)) {
    context.reply.error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  context.client.set_name(std::string(name));
  context.reply.ok();
}

void client_getname(CommandContext& context) {
  std::string name = context.client.name();
  if (name.empty()) {
    context.reply.null();
  } else {
    context.reply.bulk_string(name);
  }
}

// Parses "TYPE t" and "ID id..." of CLIENT LIST; false after replying the error.
bool parse_list_filter(CommandContext& context, ClientFilter* filter) {
  auto argv = context.argv;
  if (argv.size() == 2) return true;
  if (equals_ignore_case(argv[2], "type") && argv.size() == 4) {
    std::string_view type = argv[3];
    if (!equals_ignore_case(type, "normal") && !equals_ignore_case(type, "master") &&
        !equals_ignore_case(type, "replica") && !equals_ignore_case(type, "slave") &&
        !equals_ignore_case(type, "pubsub")) {
      context.reply.error("ERR Unknown client type '" + std::string(type) + "'");
      return false;
    }
    std::string lowered(type);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    filter->type = lowered;
    return true;
  }
  if (equals_ignore_case(argv[2], "id") && argv.size() >= 4) {
    filter->ids.emplace();
    for (size_t i = 3; i < argv.size(); ++i) {
      std::optional<int64_t> id = string_to_int64(argv[i]);
      if (!id || *id <= 0) {
        context.reply.error("ERR Invalid client ID");
        return false;
      }
      filter->ids->push_back(static_cast<uint64_t>(*id));
    }
    return true;
  }
  context.reply.error("ERR syntax error");
  return false;
}

void client_list(CommandContext& context) {
  ClientFilter filter;
  if (!parse_list_filter(context, &filter)) return;
  context.reply.verbatim("txt", context.server.clients().list(filter, Server::now_ms()));
}

void client_info(CommandContext& context) {
  context.reply.verbatim("txt", format_client(context.client, Server::now_ms()) + "\n");
}

// The new form's filters; false after replying the error.
bool parse_kill_filter(CommandContext& context, ClientFilter* filter, bool* skip_me) {
  auto argv = context.argv;
  if ((argv.size() - 2) % 2 != 0) {
    context.reply.error("ERR syntax error");
    return false;
  }
  for (size_t i = 2; i < argv.size(); i += 2) {
    std::string_view option = argv[i], value = argv[i + 1];
    if (equals_ignore_case(option, "id")) {
      std::optional<int64_t> id = string_to_int64(value);
      if (!id || *id <= 0) {
        context.reply.error("ERR client-id should be greater than 0");
        return false;
      }
      filter->ids = std::vector<uint64_t>{static_cast<uint64_t>(*id)};
    } else if (equals_ignore_case(option, "type")) {
      if (!equals_ignore_case(value, "normal") && !equals_ignore_case(value, "master") &&
          !equals_ignore_case(value, "replica") && !equals_ignore_case(value, "slave") &&
          !equals_ignore_case(value, "pubsub")) {
        context.reply.error("ERR Unknown client type '" + std::string(value) + "'");
        return false;
      }
      filter->type = equals_ignore_case(value, "normal") ? "normal" : "other";
    } else if (equals_ignore_case(option, "addr")) {
      filter->addr = std::string(value);
    } else if (equals_ignore_case(option, "laddr")) {
      filter->laddr = std::string(value);
    } else if (equals_ignore_case(option, "user")) {
      if (value != "default") {
        context.reply.error("ERR No such user '" + std::string(value) + "'");
        return false;
      }
      filter->user = std::string(value);
    } else if (equals_ignore_case(option, "skipme")) {
      if (equals_ignore_case(value, "yes")) {
        *skip_me = true;
      } else if (equals_ignore_case(value, "no")) {
        *skip_me = false;
      } else {
        context.reply.error("ERR syntax error");
        return false;
      }
    } else if (equals_ignore_case(option, "maxage")) {
      std::optional<int64_t> age = string_to_int64(value);
      if (!age || *age < 0) {
        context.reply.error("ERR value is not an integer or out of range");
        return false;
      }
      filter->max_age_s = *age;
    } else {
      context.reply.error("ERR syntax error");
      return false;
    }
  }
  return true;
}

void client_kill(CommandContext& context) {
  ClientRegistry& clients = context.server.clients();
  int64_t now_ms = Server::now_ms();
  ClientFilter filter;
  bool old_form = context.argv.size() == 3;
  bool skip_me = !old_form;
  if (old_form) {
    filter.addr = std::string(context.argv[2]);
  } else if (!parse_kill_filter(context, &filter, &skip_me)) {
    return;
  }
  // The caller itself is never closed from here: it closes after this reply instead.
  filter.skip_id = context.client.id();
  uint64_t killed = clients.kill(filter, now_ms);
  filter.skip_id = 0;
  if (!skip_me && ClientRegistry::matches(context.client, filter, now_ms)) {
    ++killed;
    context.close_connection = true;
  }
  if (!old_form) {
    context.reply.integer(static_cast<int64_t>(killed));
  } else if (killed == 0) {
    context.reply.error("ERR No such client");
  } else {
    context.reply.ok();
  }
}

void client_setinfo(CommandContext& context) {
  std::string_view attribute = context.argv[2], value = context.argv[3];
  bool lib_name = equals_ignore_case(attribute, "lib-name");
  if (!lib_name && !equals_ignore_case(attribute, "lib-ver")) {
    context.reply.error("ERR Unrecognized option '" + std::string(attribute) + "'");
    return;
  }
  if (!is_valid_client_name(value)) {
    context.reply.error("ERR " + std::string(lib_name ? "lib-name" : "lib-ver") +
                        " cannot contain spaces, newlines or special characters.");
    return;
  }
  if (lib_name) {
    context.client.set_lib_name(std::string(value));
  } else {
    context.client.set_lib_ver(std::string(value));
  }
  context.reply.ok();
}

void client_reply(CommandContext& context) {
  std::string_view mode = context.argv[2];
  if (equals_ignore_case(mode, "on")) {
    context.client.reply_mode = ReplyMode::kOn;
    context.client.force_reply = true;
    context.reply.ok();
  } else if (equals_ignore_case(mode, "off")) {
    context.client.reply_mode = ReplyMode::kOff;
  } else if (equals_ignore_case(mode, "skip")) {
    context.client.reply_mode = ReplyMode::kSkip;
  } else {
    context.reply.error("ERR syntax error");
  }
}

void client_unblock(CommandContext& context) {
  std::optional<int64_t> id = string_to_int64(context.argv[2]);
  if (!id) {
    context.reply.error("ERR value is not an integer or out of range");
    return;
  }
  if (context.argv.size() == 4 && !equals_ignore_case(context.argv[3], "timeout") &&
      !equals_ignore_case(context.argv[3], "error")) {
    context.reply.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    return;
  }
  if (context.argv.size() > 4) {
    context.reply.error("ERR syntax error");
    return;
  }
  const bool error = context.argv.size() == 4 && equals_ignore_case(context.argv[3], "error");
  const bool unblocked = context.server.clients().unblock(
      static_cast<uint64_t>(*id),
      error ? ConnectionControl::BlockEnd::kError : ConnectionControl::BlockEnd::kTimeout);
  context.reply.integer(unblocked ? 1 : 0);
}

// CLIENT NO-EVICT / NO-TOUCH on|off.
void set_switch(CommandContext& context, bool* target) {
  std::string_view value = context.argv[2];
  if (equals_ignore_case(value, "on")) {
    *target = true;
  } else if (equals_ignore_case(value, "off")) {
    *target = false;
  } else {
    context.reply.error("ERR syntax error");
    return;
  }
  context.reply.ok();
}

void client_no_evict(CommandContext& context) { set_switch(context, &context.client.no_evict); }
void client_no_touch(CommandContext& context) { set_switch(context, &context.client.no_touch); }

void client_help(CommandContext& context) {
  help_reply(context.reply, "CLIENT",
             {"GETNAME", "    Return the name of the current connection.",
              "ID", "    Return the ID of the current connection.",
              "INFO", "    Return information about the current client connection.",
              "KILL <ip:port>", "    Kill connection made from <ip:port>.",
              "KILL <option> <value> [<option> <value> [...]]",
              "    Kill connections. Options are: ID, TYPE normal, USER default, ADDR, LADDR,",
              "    SKIPME (yes|no), MAXAGE <maxage>.",
              "LIST [TYPE normal] [ID <id> [<id> ...]]", "    Return information about client connections.",
              "NO-EVICT (ON|OFF)", "    Protect the current client connection from eviction.",
              "NO-TOUCH (ON|OFF)", "    Do not update the access time of keys this client reads.",
              "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
              "SETNAME <name>", "    Assign the name <name> to the current connection.",
              "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
              "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client."});
}

constexpr uint32_t kClientFlags = kCommandNoScript | kCommandLoading | kCommandStale;

constexpr std::array kClientSubcommands = {
    CommandSpec{.name = "id", .arity = 2, .flags = kClientFlags, .group = "connection",
                .since = "5.0.0", .summary = "Returns the unique client ID of the connection.",
                .complexity = "O(1)", .handler = client_id, .subcommands = {}},
    CommandSpec{.name = "setname", .arity = 3, .flags = kClientFlags, .group = "connection",
                .since = "2.6.9", .summary = "Sets the connection name.", .complexity = "O(1)",
                .handler = client_setname, .subcommands = {}},
    CommandSpec{.name = "getname", .arity = 2, .flags = kClientFlags, .group = "connection",
                .since = "2.6.9", .summary = "Returns the name of the connection.",
                .complexity = "O(1)", .handler = client_getname, .subcommands = {}},
    CommandSpec{.name = "list", .arity = -2, .flags = kClientFlags | kCommandAdmin,
                .group = "connection", .since = "2.4.0",
                .summary = "Lists open connections.", .complexity = "O(N) where N is the number of client connections",
                .handler = client_list, .subcommands = {}},
    CommandSpec{.name = "info", .arity = 2, .flags = kClientFlags, .group = "connection",
                .since = "6.2.0", .summary = "Returns information about the connection.",
                .complexity = "O(1)", .handler = client_info, .subcommands = {}},
    CommandSpec{.name = "kill", .arity = -3, .flags = kClientFlags | kCommandAdmin,
                .group = "connection", .since = "2.4.0", .summary = "Terminates open connections.",
                .complexity = "O(N) where N is the number of client connections",
                .handler = client_kill, .subcommands = {}},
    CommandSpec{.name = "setinfo", .arity = 4, .flags = kClientFlags, .group = "connection",
                .since = "7.2.0", .summary = "Sets information specific to the client or connection.",
                .complexity = "O(1)", .handler = client_setinfo, .subcommands = {}},
    CommandSpec{.name = "reply", .arity = 3, .flags = kClientFlags, .group = "connection",
                .since = "3.2.0", .summary = "Instructs the server whether to reply to commands.",
                .complexity = "O(1)", .handler = client_reply, .subcommands = {}},
    CommandSpec{.name = "unblock", .arity = -3, .flags = kClientFlags | kCommandAdmin,
                .group = "connection", .since = "5.0.0",
                .summary = "Unblocks a client blocked by a blocking command from a different connection.",
                .complexity = "O(log N) where N is the number of client connections",
                .handler = client_unblock, .subcommands = {}},
    CommandSpec{.name = "no-evict", .arity = 3, .flags = kClientFlags | kCommandAdmin,
                .group = "connection", .since = "7.0.0",
                .summary = "Sets the client eviction mode of the connection.",
                .complexity = "O(1)", .handler = client_no_evict, .subcommands = {}},
    CommandSpec{.name = "no-touch", .arity = 3, .flags = kClientFlags, .group = "connection",
                .since = "7.2.0",
                .summary = "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
                .complexity = "O(1)", .handler = client_no_touch, .subcommands = {}},
    CommandSpec{.name = "help", .arity = 2, .flags = kClientFlags, .group = "connection",
                .since = "5.0.0", .summary = "Returns helpful text about the different subcommands.",
                .complexity = "O(1)", .handler = client_help, .subcommands = {}},
};

}  // namespace

std::span<const CommandSpec> client_subcommands() { return kClientSubcommands; }

}  // namespace cairn
