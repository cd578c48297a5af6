// The contract between the network layer and the server: for each connection the network layer
// opens a Session (through a SessionFactory), feeds it complete commands in arrival order and
// sends what it replies. The network layer knows RESP framing, sockets and buffers; the server
// knows commands. Neither includes the other's headers beyond this one.
//
// Thread-safety: a Session is called only from its connection's event loop thread, one call at
// a time. SessionFactory methods are called from every loop thread at once. ConnectionControl
// methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/byte_stream.h"

namespace cairn {

// Limits the connection enforces while reading and writing. Shared by every connection and
// changed at run time (CONFIG SET), hence atomics; a change applies to the next frame read.
struct ProtocolLimits {
  // A bulk argument's declared length ("invalid bulk length" beyond). Redis's
  // proto-max-bulk-len: default 512 MiB, settable up to 1 GiB.
  std::atomic<uint64_t> bulk_bytes_max{512u << 20};
  // Arguments in one multibulk command ("invalid multibulk length" beyond).
  std::atomic<uint64_t> multibulk_count_max{1024 * 1024};
  // An inline command line, CRLF excluded ("too big inline request" beyond).
  std::atomic<uint64_t> inline_bytes_max{64 * 1024};
  // Bytes of unparsed input (and buffered arguments) a connection may hold: Redis's
  // client-query-buffer-limit. A streamed argument does not count.
  std::atomic<uint64_t> query_buffer_bytes_max{1024u << 20};
  // Reply bytes waiting for a client that does not read: beyond, the client is disconnected
  // (Redis's client-output-buffer-limit for normal clients; 0 = no limit). A streamed body
  // counts only the chunk in the buffer.
  std::atomic<uint64_t> output_buffer_bytes_max{256u << 20};
  // A bulk argument at least this long is offered to Session::stream_argument instead of being
  // buffered (the engine's blob threshold: smaller values are cheaper to buffer).
  std::atomic<uint64_t> stream_argument_bytes_min{64 * 1024};
};

// What the server knows of the connection a session serves.
struct ConnectionInfo {
  uint64_t id = 0;        // unique in the process, from 1 (CLIENT ID)
  int fd = -1;            // for CLIENT LIST
  std::string peer;       // "ip:port" (CLIENT LIST addr)
  std::string local;      // "ip:port" (CLIENT LIST laddr)
  size_t loop_index = 0;  // which event loop owns the connection
};

// The connection as the server may act on it from any thread (CLIENT KILL, CLIENT LIST).
class ConnectionControl {
 public:
  virtual ~ConnectionControl() = default;
  // Closes the connection soon, from any thread: replies not yet written are dropped. Calling
  // it after the connection closed does nothing.
  virtual void close() = 0;
  // From any thread: if the connection's session is blocked (Outcome::blocked), it retries its
  // command soon on the connection's loop (Session::retry_blocked). Otherwise nothing.
  virtual void wake_blocked() = 0;
  // From any thread: if the session is blocked, its command ends soon without waiting longer
  // (Session::end_block with `reason`). Otherwise nothing.
  enum class BlockEnd { kTimeout, kError };
  virtual void end_block(BlockEnd reason) = 0;
  // Sizes for CLIENT LIST (approximate when read from another thread).
  virtual uint64_t query_buffer_bytes() const = 0;
  virtual uint64_t output_buffer_bytes() const = 0;
};

// A ConnectionControl for a session without a connection (the cluster's scratch keyspace,
// tests): nothing to close or wake.
class NullConnectionControl final : public ConnectionControl {
 public:
  void close() override {}
  void wake_blocked() override {}
  void end_block(BlockEnd) override {}
  uint64_t query_buffer_bytes() const override { return 0; }
  uint64_t output_buffer_bytes() const override { return 0; }
};

// A command waiting complete in a connection's input, seen ahead of its turn (RespParser::peek).
struct PeekedCommand {
  std::string_view name = {};   // argv[0]
  std::string_view key = {};    // argv[1], or empty when the command has one argument
  std::string_view value = {};  // argv[2], or empty when the command has fewer than three
  size_t argc = 0;              // how many arguments the command has, its name included
};

class Session {
 public:
  // What a command asks of its connection besides its reply bytes.
  struct Outcome {
    // Write the replies so far, then close (QUIT, a fatal error).
    bool close_after_reply = false;
    // The body of the reply's last bulk string, sent after `out`'s bytes: the session wrote its
    // "$length\r\n" header into `out` and the source yields the body followed by "\r\n". The
    // connection reads no further command until the body is sent.
    std::unique_ptr<ByteSource> body;
    // The command waits (BLPOP on empty lists) and replied nothing yet: the connection runs no
    // further command until retry_blocked() or end_block() finishes it. After
    // `block_timeout_ms` (0: never, set by the first outcome that blocks) the connection calls
    // end_block(kTimeout).
    bool blocked = false;
    uint64_t block_timeout_ms = 0;
    // While the command waits: the connection runs it again (retry_blocked) after this many ms
    // unless something ran it sooner; each outcome replaces the previous one's (0: only a
    // wake_blocked runs it). For a command that polls what it waits on (a cluster node's BLPOP).
    uint64_t retry_after_ms = 0;
  };

  virtual ~Session() = default;

  // Runs one command (argv is never empty) and appends its reply, if any, to `out`. The views
  // in argv stay valid only during the call. An argument that was streamed (stream_argument
  // returned a sink for it) appears as an empty view; the session knows which.
  virtual Outcome execute(std::span<const std::string_view> argv, std::string& out) = 0;

  // The blocked command runs again (ConnectionControl::wake_blocked): as execute, its Outcome may
  // say it blocks on. Called only while blocked.
  virtual Outcome retry_blocked(std::string& out) {
    (void)out;
    return Outcome();
  }
  // The blocked command ends without being served: its timeout passed, or another client ended
  // it (CLIENT UNBLOCK); it appends its reply for that and returns true. Called only while
  // blocked. Returns false, appending nothing, when the command can no longer end unserved (it
  // is writing what it took): it stays blocked and finishes through retry_blocked.
  virtual bool end_block(std::string& out, ConnectionControl::BlockEnd reason) {
    (void)out, (void)reason;
    return true;
  }

  // A hint, before the first of `commands` runs: they are the next commands of the connection,
  // already complete in its input, in order. A session may start loading what they will read
  // (the caches' entries of their keys) so that the memory latency of a pipeline's commands
  // overlaps rather than adding up. The views are valid only during the call; nothing may depend
  // on the call being made. The connection runs every one of `commands` before it sends any
  // reply (unless it closes first), appending their replies to the same `out`: a session may
  // hold back the writes of some of them until the last (server/fused_writes.h).
  virtual void prefetch(std::span<const PeekedCommand> commands) { (void)commands; }

  // Called when a bulk argument of `length` bytes (at least stream_argument_bytes_min) begins,
  // at index `index` of a command of `argc` arguments whose first `index` arguments are
  // `argv_so_far`. Returns a sink that will receive exactly `length` bytes, or nullptr to let
  // the connection buffer the argument as usual (subject to query_buffer_bytes_max).
  virtual std::unique_ptr<ByteSink> stream_argument(std::span<const std::string_view> argv_so_far,
                                                    size_t index, size_t argc, uint64_t length) {
    (void)argv_so_far, (void)index, (void)argc, (void)length;
    return nullptr;
  }

  // The connection is closing (peer closed, error, protocol error, CLIENT KILL, shutdown); no
  // further call follows. Releases what the session registered (client list, watched keys).
  virtual void on_close() {}
};

class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  // A new connection was accepted on loop info.loop_index.
  virtual std::unique_ptr<Session> open_session(const ConnectionInfo& info,
                                                std::shared_ptr<ConnectionControl> control) = 0;
  // Called on a loop thread once per loop iteration, after that iteration ran every command it
  // read and before it writes their replies: `--fsync always` makes the iteration's writes
  // durable here, so one fsync covers every client of the loop (group commit, as Redis does).
  virtual void before_replies(size_t loop_index) { (void)loop_index; }
  // Whether a new connection may be accepted now (maxclients); false closes it at once after
  // writing `-ERR max number of clients reached`.
  virtual bool accepting_clients() { return true; }
};

}  // namespace cairn
