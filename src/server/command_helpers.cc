#include "server/command_helpers.h"

#include <string>

namespace cairn {

void help_reply(ReplyWriter& reply, std::string_view container,
                std::initializer_list<std::string_view> lines) {
  reply.array_header(lines.size() + 3);
  reply.simple_string(std::string(container) +
                      " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (std::string_view line : lines) reply.simple_string(line);
  reply.simple_string("HELP");
  reply.simple_string("    Print this help.");
}

bool is_valid_client_name(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

}  // namespace cairn
