// Commands: the declarative table entry of each command (name, arity, flags, key positions,
// documentation, handler), as in Redis's command table, and the context a handler runs in.
// The dispatcher (session.cc) checks a command against its entry — known name, arity, MULTI
// rules — before the handler runs, so handlers only parse their options and reply.
//
// Thread-safety: CommandSpec tables are immutable after start-up. A handler runs on its
// client's loop thread; what it touches in the Server is thread-safe (server.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "net/byte_stream.h"
#include "net/reply_writer.h"

namespace cairn {

class Server;
class Client;
class StreamedValue;

// Flags of a command; the names are Redis's (COMMAND INFO replies them lower-case).
enum CommandFlag : uint32_t {
  kCommandWrite = 1u << 0,      // may modify the keyspace ("write")
  kCommandReadonly = 1u << 1,   // reads the keyspace only ("readonly")
  kCommandAdmin = 1u << 2,      // administrative ("admin")
  kCommandFast = 1u << 3,       // O(1) or O(log N) ("fast")
  kCommandNoMulti = 1u << 4,    // refused inside MULTI, e.g. WATCH ("no-multi")
  kCommandLoading = 1u << 5,    // allowed while loading ("loading")
  kCommandStale = 1u << 6,      // allowed on a stale replica ("stale")
  kCommandNoScript = 1u << 7,   // ("noscript")
  kCommandDenyOom = 1u << 8,    // may grow memory ("denyoom")
  kCommandAllowBusy = 1u << 9,  // ("allow-busy")
  kCommandBlocking = 1u << 10,  // may block the client ("blocking")
  kCommandNoAuth = 1u << 11,    // allowed before AUTH ("no-auth")
};

struct CommandContext;
using CommandHandler = void (*)(CommandContext& context);

struct CommandSpec {
  std::string_view name;  // lower case; for a subcommand, just its own name ("get" of CONFIG)
  // Redis's convention: N > 0 means exactly N arguments counting the name (and, for a
  // subcommand, the container's name too); -N means at least N.
  int arity = 0;
  uint32_t flags = 0;
  // Key positions (argv indexes): first, last (-1 = the last argument, -2 the one before) and
  // step; all 0 for a command without keys.
  int first_key = 0;
  int last_key = 0;
  int key_step = 0;
  std::string_view group;       // COMMAND DOCS group: "string", "generic", "connection", ...
  std::string_view since;       // the Redis version that introduced it, e.g. "1.0.0"
  std::string_view summary;     // one line, for COMMAND DOCS
  std::string_view complexity;  // for COMMAND DOCS
  CommandHandler handler = nullptr;
  // Subcommands of a container command (CLIENT, CONFIG, COMMAND, OBJECT); the container's
  // handler is null and the dispatcher runs the subcommand's handler.
  std::span<const CommandSpec> subcommands;
};

// Everything a handler may use. argv[0] is the command name as the client sent it.
struct CommandContext {
  Server& server;
  Client& client;
  std::span<const std::string_view> argv;
  ReplyWriter& reply;
  // The value argument that was streamed from the socket instead of buffered (its argv entry
  // is empty), or null. Only SET asks for one (strings.cc).
  StreamedValue* streamed_value = nullptr;
  // Set by a handler whose reply ends in a bulk string too large to buffer: it wrote the
  // header with reply.bulk_header(length) and this source yields the body and the final CRLF.
  std::unique_ptr<ByteSource> reply_body;
  // Set by a handler after which the connection closes once its reply is written (QUIT).
  bool close_connection = false;

  // Blocking commands (BLPOP and the like). `may_block`: the command may wait (false inside
  // MULTI/EXEC, where it answers at once as if it had timed out). `retrying_block`: it runs
  // again after a wake-up (the session's retry). A handler that waits registers its keys with
  // the server's BlockingRegistry under their locks, replies nothing and sets `block`.
  bool may_block = false;
  bool retrying_block = false;
  struct BlockRequest {
    bool requested = false;
    uint64_t timeout_ms = 0;  // 0: no timeout; a timeout replies a null array, as Redis 7.0
    // Run the command again after this long even if nothing woke it (0: only when woken): for
    // a command that polls, as a cluster node's BLPOP polls its keys' replicas.
    uint64_t retry_after_ms = 0;
  } block;
};

}  // namespace cairn
