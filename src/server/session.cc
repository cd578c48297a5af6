#include "server/session.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "common/assert.h"
#include "server/cluster_call.h"
#include "server/cluster_transaction.h"
#include "server/command_helpers.h"
#include "server/command_support.h"
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

CommandHandler handler_of(Server& server, const CommandEntry& entry) {
  return server.cluster() != nullptr ? entry.cluster_handler : entry.spec->handler;
}

void run_command(Server& server, Client& client, const CommandEntry& entry, CommandContext& context,
                 CommandHandler handler) {
  auto start = std::chrono::steady_clock::now();
  std::string& out = context.reply.buffer();
  size_t reply_start = out.size();
  client.note_command(&entry, coarse_unix_time_ms());
  (handler != nullptr ? handler : handler_of(server, entry))(context);
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
    : server_(server),
      client_(info, std::move(control), Server::now_ms()),
      fused_(server.keyspace()) {
  if (server.cluster() != nullptr) {
    client_.consistency = parse_consistency(server.config().consistency).value();
  }
  server_.clients().register_client(&client_);
}

ServerSession::~ServerSession() { on_close(); }

void ServerSession::on_close() {
  if (closed_) return;
  closed_ = true;
  end_run(nullptr);  // what the run ran stays written, though its replies go nowhere
  pipeline_.clear();
  server_.watches().unwatch_all(client_);
  if (blocked_.has_value()) server_.blocking().unblock(client_);
  blocked_.reset();
  server_.clients().unregister_client(&client_);
  streamed_value_.reset();
}

void ServerSession::prefetch(std::span<const PeekedCommand> commands) {
  // In cluster mode the keys live in replicas' states, and no write is fused; calls may go ahead.
  if (server_.cluster() != nullptr) return pipeline_.prepare(server_, client_, commands);
  std::vector<std::string_view> keys;
  keys.reserve(commands.size());
  for (const PeekedCommand& command : commands) {
    if (!command.key.empty()) keys.push_back(command.key);
  }
  server_.keyspace().prefetch(keys);
  // A pipeline mostly repeats one command: its name is looked up once.
  std::vector<const CommandEntry*> entries;
  entries.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); i++) {
    entries.push_back(i > 0 && commands[i].name == commands[i - 1].name
                          ? entries.back()
                          : server_.table().find(commands[i].name));
  }
  prefetch_elements(commands, entries);
  // The connection runs every one of `commands` before it sends a reply (net/session.h), so a
  // run among them may hold its writes to the last. A run still open here did not see its
  // commands come: it ends now rather than hold writes past a reply.
  if (run_remaining_ > 0 || !fused_.empty()) end_run(nullptr);
  size_t count = 0;
  while (count < commands.size() && !commands[count].key.empty() &&
         commands[count].key == commands[0].key && entries[count] != nullptr &&
         entries[count]->fusable) {
    count++;
  }
  if (count < 2) return;
  run_key_.assign(commands[0].key);
  run_remaining_ = count;
}

void ServerSession::prefetch_elements(std::span<const PeekedCommand> commands,
                                      std::span<const CommandEntry* const> entries) {
  // The elements of consecutive commands on one key go together: one read of its record.
  std::vector<std::string_view> elements;
  std::string_view key;
  for (size_t i = 0; i < commands.size(); i++) {
    const bool element =
        entries[i] != nullptr && entries[i]->looks_up_element && commands[i].argc >= 3;
    if (!elements.empty() && (!element || commands[i].key != key)) {
      server_.keyspace().prefetch_elements(key, elements);
      elements.clear();
    }
    if (!element) continue;
    key = commands[i].key;
    elements.push_back(commands[i].value);
  }
  if (!elements.empty()) server_.keyspace().prefetch_elements(key, elements);
}

bool ServerSession::joins_run(const CommandEntry& entry, std::span<const std::string_view> argv,
                              bool streamed) const {
  return run_remaining_ > 0 && entry.fusable && argv.size() >= 2 && argv[1] == run_key_ &&
         !streamed && !client_.in_multi() && client_.reply_mode == ReplyMode::kOn;
}

void ServerSession::run_fused(const CommandEntry& entry, CommandContext& context,
                              size_t reply_start, std::string& out) {
  if (fused_.empty()) fused_.set_key(run_key_);
  if (!fused_.holds_writes()) {
    held_reply_start_ = reply_start;
    held_replies_ = 0;
  }
  if (!run_execution_.owns_lock()) {
    run_execution_ = std::shared_lock(server_.execution_mutex());
  }
  const uint64_t flushes_before = fused_.flushes();
  {
    Keyspace::FusedScope scope(fused_);
    run_command(server_, client_, entry, context);
  }
  held_replies_++;
  held_reply_end_ = out.size();
  if (fused_.flushes() != flushes_before && fused_.failure().is_ok()) {
    // The command wrote what the run held before going on (Keyspace::end_fusion): only its own
    // writes may be held now.
    held_reply_start_ = reply_start;
    held_replies_ = 1;
  }
  run_remaining_--;
  if (run_remaining_ == 0 || !fused_.failure().is_ok()) end_run(&out);
}

void ServerSession::end_run(std::string* out) {
  run_remaining_ = 0;
  (void)fused_.flush();  // a failure is kept in fused_
  if (fused_.holds_lock()) fused_.release_lock();
  if (run_execution_.owns_lock()) run_execution_.unlock();
  const Status failure = fused_.failure();
  fused_.clear_failure();
  if (!failure.is_ok()) {
    spdlog::error("client {}: writing {} pipelined command(s) failed: {}", client_.id(),
                  held_replies_, failure.to_string());
    // The replies are still in `out`, unsent: they said the writes were done.
    // What follows them (a command that ended the run may have replied already) stays.
    if (out != nullptr && held_reply_start_ <= held_reply_end_ && held_reply_end_ <= out->size()) {
      const std::string after = out->substr(held_reply_end_);
      out->resize(held_reply_start_);
      ReplyWriter reply(out, client_.resp());
      for (size_t i = 0; i < held_replies_; ++i) reply_status(reply, failure);
      out->append(after);
    }
  }
  held_replies_ = 0;
}

bool ServerSession::runs_alone(const CommandEntry& entry) {
  const std::string_view name = entry.spec->name;
  return entry.container == nullptr && (name == "flushdb" || name == "flushall");
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
  if ((run_remaining_ > 0 || !fused_.empty()) && (entry == nullptr || !streamed_error.is_ok() ||
                                                  !joins_run(*entry, argv, streamed != nullptr))) {
    // A command that is not the run's next ends the run before it runs. A failed run's replies,
    // before this command's, may change length.
    const size_t from_end = out.size() - start;
    end_run(&out);
    start = out.size() - from_end;
  }
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
    } else if (server_.cluster() != nullptr &&
               !cluster_admits_queued(client_, *entry, argv, reply)) {
      client_.flag_multi_error();  // CROSSSLOT: the keys leave the transaction's slot
    } else if (client_.queue(entry, argv)) {
      reply.simple_string("QUEUED");
    } else {
      reply.error("ERR too many commands queued in this transaction");
    }
  } else {
    CommandContext context{server_, client_, argv,  reply, nullptr,
                           nullptr, false,   false, false, {}};
    context.streamed_value = streamed.get();
    const bool fused = joins_run(*entry, argv, streamed != nullptr);
    std::shared_ptr<ClusterCall> prepared =
        server_.cluster() != nullptr ? pipeline_.take(argv) : nullptr;
    if (prepared != nullptr) {
      run_prepared(*entry, context, std::move(prepared));
    } else if (fused) {
      context.may_block = true;
      run_fused(*entry, context, start, out);
    } else if (entry->container == nullptr && entry->spec->name == "exec" &&
               server_.cluster() == nullptr) {
      // EXEC takes the lock exclusively itself. (A cluster node's EXEC waits on the cluster,
      // as any cluster command does.)
      run_command(server_, client_, *entry, context);
    } else if (runs_alone(*entry) && server_.cluster() == nullptr) {
      std::unique_lock lock(server_.execution_mutex());
      run_command(server_, client_, *entry, context);
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

namespace {

// Stands in for a handler whose prepared call is still out: the command waits for it.
void wait_for_cluster_call(CommandContext& context) { context.block.requested = true; }

}  // namespace

void ServerSession::run_prepared(const CommandEntry& entry, CommandContext& context,
                                 std::shared_ptr<ClusterCall> call) {
  client_.cluster_call = std::move(call);
  context.may_block = true;
  context.retrying_block = true;  // the handler takes up the call at its step 1 (cluster_call.h)
  const CommandHandler handler =
      replies_ready(*client_.cluster_call) ? nullptr : &wait_for_cluster_call;
  std::shared_lock lock(server_.execution_mutex());
  run_command(server_, client_, entry, context, handler);
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
  outcome->retry_after_ms = context.block.retry_after_ms;
  if (blocked_.has_value()) return;  // a retry that waits on: the command is kept already
  BlockedCommand command;
  command.entry = &entry;
  command.argv.assign(argv.begin(), argv.end());
  blocked_ = std::move(command);
}

Session::Outcome ServerSession::retry_blocked(std::string& out) {
  CAIRN_ASSERT(blocked_.has_value());
  Outcome outcome;
  if (server_.cluster() != nullptr && client_.cluster_call != nullptr &&
      !replies_ready(*client_.cluster_call)) {
    outcome.blocked = true;  // a wake-up before the call is answered: it waits on
    return outcome;
  }
  ReplyWriter reply(&out, client_.resp());
  // The views point into blocked_, which settle_block keeps until the command is done.
  const std::vector<std::string_view> argv(blocked_->argv.begin(), blocked_->argv.end());
  CommandContext context{server_, client_, argv, reply, nullptr, nullptr, false, false, false, {}};
  context.may_block = true;
  context.retrying_block = true;
  const size_t reply_start = out.size();
  {
    std::shared_lock lock(server_.execution_mutex());
    handler_of(server_, *blocked_->entry)(context);
  }
  // The call was counted when it first ran; a failure shows only now (a cluster command's
  // NOQUORUM), and counts as INFO commandstats' failed_calls.
  if (out.size() > reply_start && out[reply_start] == '-') {
    server_.stats()
        .command(blocked_->entry->index)
        .failed_calls.fetch_add(1, std::memory_order_relaxed);
  }
  outcome.close_after_reply = context.close_connection;
  outcome.body = std::move(context.reply_body);
  const CommandEntry& entry = *blocked_->entry;
  settle_block(entry, argv, context, &outcome);
  return outcome;
}

bool ServerSession::end_block(std::string& out, ConnectionControl::BlockEnd reason) {
  CAIRN_ASSERT(blocked_.has_value());
  // A CLIENT UNBLOCK that saw the client blocked may arrive after it stopped waiting.
  if (!client_.blocked()) return false;
  server_.blocking().unblock(client_);
  ReplyWriter reply(&out, client_.resp());
  if (reason == ConnectionControl::BlockEnd::kError) {
    reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  } else {
    reply.null_array();  // every blocking pop's timeout, BLMOVE's too, as in Redis 7.0
  }
  blocked_.reset();
  return true;
}

std::unique_ptr<ByteSink> ServerSession::stream_argument(
    std::span<const std::string_view> argv_so_far, size_t index, size_t argc, uint64_t length) {
  (void)argc;
  // In cluster mode a value travels whole to the replicas: it is buffered.
  if (index != 2 || argv_so_far.size() < 2 || client_.in_multi() || server_.cluster() != nullptr) {
    return nullptr;
  }
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
