#include "server/session.h"

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "common/assert.h"
#include "server/command_helpers.h"
#include "server/command_table.h"
#include "server/server.h"
#include "server/streamed_value.h"

namespace cairn {
namespace {

// Redis quotes at most this many bytes of the arguments of an unknown command.
constexpr size_t kQuotedBytesMax = 128;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Forwards a streamed argument to the session's StreamedValue and remembers its first error,
// which the command replies with.
class ForwardingSink final : public ByteSink {
 public:
  ForwardingSink(StreamedValue* target, Status* error) : target_(target), error_(error) {}
  Status append(std::string_view bytes) override {
    if (!error_->is_ok()) return *error_;
    Status status = target_->append(bytes);
    if (!status.is_ok()) *error_ = status;
    return status;
  }

 private:
  StreamedValue* target_;
  Status* error_;
};

}  // namespace

std::string unknown_command_message(std::span<const std::string_view> argv) {
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < kQuotedBytesMax; ++i) {
    args += '\'';
    args += argv[i].substr(0, kQuotedBytesMax - args.size() + 1);
    args += "' ";
  }
  return "ERR unknown command '" + std::string(argv[0].substr(0, kQuotedBytesMax)) +
         "', with args beginning with: " + args;
}

std::string wrong_arity_message(const CommandEntry& entry) {
  return "ERR wrong number of arguments for '" + entry.full_name + "' command";
}

std::string unknown_subcommand_message(std::string_view container, std::string_view subcommand) {
  return "ERR unknown subcommand '" + std::string(subcommand.substr(0, kQuotedBytesMax)) +
         "'. Try " + upper(container) + " HELP.";
}

void run_command(Server& server, Client& client, const CommandEntry& entry,
                 CommandContext& context) {
  auto start = std::chrono::steady_clock::now();
  std::string& out = context.reply.buffer();
  size_t reply_start = out.size();
  client.note_command(&entry, coarse_unix_time_ms());
  entry.spec->handler(context);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CommandCounters& counters = server.stats().command(entry.index);
  counters.calls.fetch_add(1, std::memory_order_relaxed);
  counters.usec.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
      std::memory_order_relaxed);
  if (out.size() > reply_start && out[reply_start] == '-') {
    counters.failed_calls.fetch_add(1, std::memory_order_relaxed);
  }
  server.stats().add_command_processed();
}

ServerSession::ServerSession(Server& server, const ConnectionInfo& info,
                             std::shared_ptr<ConnectionControl> control)
    : server_(server), client_(info, std::move(control), Server::now_ms()) {
  server_.clients().register_client(&client_);
}

ServerSession::~ServerSession() { on_close(); }

void ServerSession::on_close() {
  if (closed_) return;
  closed_ = true;
  server_.watches().unwatch_all(client_);
  if (blocked_.has_value()) server_.blocking().unblock(client_);
  blocked_.reset();
  server_.clients().unregister_client(&client_);
  streamed_value_.reset();
}

void ServerSession::prefetch(std::span<const PeekedCommand> commands) {
  std::vector<std::string_view> keys;
  keys.reserve(commands.size());
  for (const PeekedCommand& command : commands) {
    if (!command.key.empty()) keys.push_back(command.key);
  }
  server_.keyspace().prefetch(keys);
}

bool ServerSession::runs_inside_multi(const CommandEntry& entry) {
  std::string_view name = entry.spec->name;
  return entry.container == nullptr && (name == "exec" || name == "discard" || name == "multi" ||
                                        name == "watch" || name == "quit" || name == "reset");
}

const CommandEntry* ServerSession::resolve(std::span<const std::string_view> argv,
                                           ReplyWriter& reply, const CommandEntry** rejected) {
  *rejected = nullptr;
  const CommandEntry* entry = server_.table().find(argv[0]);
  if (entry == nullptr) {
    reply.error(unknown_command_message(argv));
    return nullptr;
  }
  if (!entry->subcommands.empty() && argv.size() >= 2) {
    const CommandEntry* sub = CommandTable::find_subcommand(*entry, argv[1]);
    if (sub == nullptr) {
      *rejected = entry;
      reply.error(unknown_subcommand_message(entry->spec->name, argv[1]));
      return nullptr;
    }
    entry = sub;
  }
  if (!arity_matches(entry->spec->arity, argv.size()) || entry->spec->handler == nullptr) {
    *rejected = entry;
    reply.error(wrong_arity_message(*entry));
    return nullptr;
  }
  return entry;
}

Session::Outcome ServerSession::execute(std::span<const std::string_view> argv, std::string& out) {
  Outcome outcome;
  size_t start = out.size();
  ReplyMode mode_before = client_.reply_mode;
  if (mode_before == ReplyMode::kSkip) client_.reply_mode = ReplyMode::kOn;
  client_.force_reply = false;
  ReplyWriter reply(&out, client_.resp());
  std::unique_ptr<StreamedValue> streamed = std::move(streamed_value_);
  Status streamed_error = std::exchange(streamed_error_, Status::ok());

  const CommandEntry* rejected = nullptr;
  const CommandEntry* entry = resolve(argv, reply, &rejected);
  if (entry == nullptr) {
    if (rejected != nullptr) {
      server_.stats()
          .command(rejected->index)
          .rejected_calls.fetch_add(1, std::memory_order_relaxed);
    }
    if (client_.in_multi()) client_.flag_multi_error();
  } else if (!streamed_error.is_ok()) {
    reply.error("ERR " + std::string(streamed_error.message()));
  } else if (client_.in_multi() && !runs_inside_multi(*entry)) {
    if ((entry->spec->flags & kCommandNoMulti) != 0) {
      reply.error("ERR Command not allowed inside a transaction");
      client_.flag_multi_error();
    } else if (client_.queue(entry, argv)) {
      reply.simple_string("QUEUED");
    } else {
      reply.error("ERR too many commands queued in this transaction");
    }
  } else {
    CommandContext context{server_, client_, argv, reply, nullptr, nullptr, false, false, false, {}};
    context.streamed_value = streamed.get();
    if (entry->container == nullptr && entry->spec->name == "exec") {
      run_command(server_, client_, *entry, context);  // EXEC takes the lock exclusively itself
    } else {
      context.may_block = true;
      std::shared_lock lock(server_.execution_mutex());
      run_command(server_, client_, *entry, context);
    }
    outcome.close_after_reply = context.close_connection;
    outcome.body = std::move(context.reply_body);
    settle_block(*entry, argv, context, &outcome);
    // The reply must not change protocol midway: HELLO switched it for the next commands.
  }
  if (mode_before != ReplyMode::kOn && !client_.force_reply) {
    out.resize(start);
    outcome.body.reset();
  }
  return outcome;
}

void ServerSession::settle_block(const CommandEntry& entry, std::span<const std::string_view> argv,
                                 const CommandContext& context, Outcome* outcome) {
  if (!context.block.requested) {
    if (blocked_.has_value()) server_.blocking().unblock(client_);
    blocked_.reset();
    return;
  }
  outcome->blocked = true;
  outcome->block_timeout_ms = context.block.timeout_ms;
  if (blocked_.has_value()) return;  // a retry that waits on: the command is kept already
  BlockedCommand command;
  command.entry = &entry;
  command.argv.assign(argv.begin(), argv.end());
  command.null_array_on_timeout = context.block.null_array_on_timeout;
  blocked_ = std::move(command);
}

Session::Outcome ServerSession::retry_blocked(std::string& out) {
  CAIRN_ASSERT(blocked_.has_value());
  Outcome outcome;
  ReplyWriter reply(&out, client_.resp());
  // The views point into blocked_, which settle_block keeps until the command is done.
  const std::vector<std::string_view> argv(blocked_->argv.begin(), blocked_->argv.end());
  CommandContext context{server_, client_, argv, reply, nullptr, nullptr, false, false, false, {}};
  context.may_block = true;
  context.retrying_block = true;
  {
    std::shared_lock lock(server_.execution_mutex());
    blocked_->entry->spec->handler(context);
  }
  outcome.close_after_reply = context.close_connection;
  outcome.body = std::move(context.reply_body);
  const CommandEntry& entry = *blocked_->entry;
  settle_block(entry, argv, context, &outcome);
  return outcome;
}

void ServerSession::end_block(std::string& out, ConnectionControl::BlockEnd reason) {
  CAIRN_ASSERT(blocked_.has_value());
  server_.blocking().unblock(client_);
  ReplyWriter reply(&out, client_.resp());
  if (reason == ConnectionControl::BlockEnd::kError) {
    reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  } else if (blocked_->null_array_on_timeout) {
    reply.null_array();
  } else {
    reply.null();
  }
  blocked_.reset();
}

std::unique_ptr<ByteSink> ServerSession::stream_argument(
    std::span<const std::string_view> argv_so_far, size_t index, size_t argc, uint64_t length) {
  (void)argc;
  if (index != 2 || argv_so_far.size() < 2 || client_.in_multi()) return nullptr;
  if (!equals_ignore_case(argv_so_far[0], "set")) return nullptr;
  Result<std::unique_ptr<StreamedValue>> value =
      StreamedValue::start(server_.keyspace(), argv_so_far[1], length);
  // Refused (the key too long, ...): the argument is buffered and SET reports the problem.
  if (!value.is_ok()) return nullptr;
  streamed_value_ = std::move(value).value();
  streamed_error_ = Status::ok();
  return std::make_unique<ForwardingSink>(streamed_value_.get(), &streamed_error_);
}

}  // namespace cairn
