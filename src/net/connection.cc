#include "net/connection.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "common/assert.h"
#include "net/socket.h"

namespace cairn {

namespace {

// Free space offered to each read; the buffer grows beyond it only while a large argument
// arrives.
constexpr size_t kReadChunkBytes = 64 * 1024;
// A reply body is refilled one chunk at a time, so a 1 GiB GET holds about this much.
constexpr size_t kBodyChunkBytes = 64 * 1024;
// Body chunks written per iteration before yielding to the loop's other connections.
constexpr int kBodyWritesPerIteration = 4;
// Commands shown to Session::prefetch at a time: a pipeline's worth, whose cache lines stay
// cached until the commands run.
constexpr size_t kPrefetchCommandsMax = 16;
// Output capacity kept once drained; a larger buffer (a big reply) is released.
constexpr size_t kKeptOutputCapacityBytes = 1 << 20;
// After a partial send, the sent prefix is erased once it is at least this large and at least
// as large as what remains (so each byte is moved at most about once).
constexpr size_t kSentBytesCompactMin = 64 * 1024;

}  // namespace

// The connection as other threads see it: close() travels to the loop as a task; sizes are
// published after every read and write.
class ConnectionControlImpl : public ConnectionControl {
 public:
  ConnectionControlImpl(LoopContext* context, uint64_t id) : context_(context), id_(id) {}

  void close() override {
    std::lock_guard lock(mutex_);
    if (context_ == nullptr) return;
    LoopContext* context = context_;
    const uint64_t id = id_;
    // Holding the mutex keeps the loop alive: it is destroyed only after every connection
    // closed, and closing detaches under this mutex.
    context->loop->post([context, id] { context->close_connection(id); });
  }
  void wake_blocked() override {
    post([](Connection& connection) { connection.retry_blocked(); });
  }
  void end_block(BlockEnd reason) override {
    post([reason](Connection& connection) { connection.end_block(reason); });
  }
  uint64_t query_buffer_bytes() const override {
    return query_bytes.load(std::memory_order_relaxed);
  }
  uint64_t output_buffer_bytes() const override {
    return output_bytes.load(std::memory_order_relaxed);
  }
  void detach() {
    std::lock_guard lock(mutex_);
    context_ = nullptr;
  }

  std::atomic<uint64_t> query_bytes{0};
  std::atomic<uint64_t> output_bytes{0};

 private:
  // Runs `action` on the connection, on its loop, if it is still open then.
  template <typename Action>
  void post(Action action) {
    std::lock_guard lock(mutex_);
    if (context_ == nullptr) return;
    LoopContext* context = context_;
    const uint64_t id = id_;
    context->loop->post([context, id, action] {
      auto it = context->connections.find(id);
      if (it != context->connections.end()) action(*it->second);
    });
  }

  std::mutex mutex_;
  LoopContext* context_;  // guarded by mutex_; nullptr once closed
  const uint64_t id_;
};

Connection::Connection(LoopContext& context, int fd, uint64_t id)
    : context_(context), fd_(fd), id_(id), parser_(context.limits) {}

Connection::~Connection() {
  // Only does something when the owner is torn down without close() (LoopContext closes first).
  release();
}

void Connection::release() {
  if (closed_) return;
  closed_ = true;
  if (block_timer_ != 0) context_.loop->cancel_timer(std::exchange(block_timer_, 0));
  if (retry_timer_ != 0) context_.loop->cancel_timer(std::exchange(retry_timer_, 0));
  context_.loop->unwatch(fd_);
  ::close(fd_);
  if (control_) control_->detach();
  parser_.drop_sinks();
  body_.reset();
  if (session_) session_->on_close();
}

bool Connection::start() {
  ConnectionInfo info;
  info.id = id_;
  info.fd = fd_;
  info.peer = peer_address(fd_);
  info.local = local_address(fd_);
  info.loop_index = context_.index;
  control_ = std::make_shared<ConnectionControlImpl>(&context_, id_);
  session_ = context_.factory.open_session(info, control_);
  if (session_ == nullptr) {
    close("no session");
    return false;
  }
  const Status status = context_.loop->watch(fd_, EventLoop::kReadable, this);
  if (!status.is_ok()) {
    close(status.to_string());
    return false;
  }
  interest_ = EventLoop::kReadable;
  return true;
}

void Connection::on_events(uint32_t events) {
  if (closed_) return;
  if (events & EventLoop::kWritable) flush();
  if (closed_) return;
  if (events & EventLoop::kReadable) read_input();
}

void Connection::read_input() {
  std::span<char> space = parser_.prepare(kReadChunkBytes);
  const ssize_t n = ::read(fd_, space.data(), space.size());
  if (n == 0) {
    close("peer closed");
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    close(std::string("read error: ") + std::strerror(errno));
    return;
  }
  parser_.commit(static_cast<size_t>(n));
  if (body_ != nullptr || close_after_write_ || blocked_) {
    // Not parsing now: what the client sends meanwhile waits in the buffer, within the query
    // buffer limit.
    const uint64_t limit = context_.limits.query_buffer_bytes_max.load(std::memory_order_relaxed);
    if (limit != 0 && parser_.buffered_bytes() > limit) close("query buffer limit");
    return;
  }
  process_input();
}

void Connection::process_input() {
  while (!closed_ && body_ == nullptr && !close_after_write_ && !blocked_) {
    if (prefetched_ahead_ == 0) prefetch_ahead();
    const RespParser::Step step = parser_.next(*session_);
    if (step == RespParser::Step::kNeedMore) break;
    if (step == RespParser::Step::kError) {
      spdlog::debug("client {}: {}", id_, parser_.error());
      out_.append("-ERR ").append(parser_.error()).append("\r\n");
      close_after_write_ = true;
      break;
    }
    Session::Outcome outcome = session_->execute(parser_.argv(), out_);
    parser_.finish_command();
    if (prefetched_ahead_ > 0) prefetched_ahead_--;
    take_outcome(std::move(outcome));
    // Checked per command: one read of small commands may ask for huge replies.
    if (!check_output_limit()) return;
  }
  if (closed_) return;
  if (pending_output() > 0 || body_ != nullptr || close_after_write_) schedule_flush();
  publish_sizes();
}

void Connection::take_outcome(Session::Outcome outcome) {
  context_.commands_ran = true;
  if (outcome.close_after_reply) close_after_write_ = true;
  if (outcome.body != nullptr) body_ = std::move(outcome.body);
  if (outcome.blocked && !blocked_) {
    blocked_ = true;
    if (outcome.block_timeout_ms > 0) {
      LoopContext* context = &context_;
      const uint64_t id = id_;
      block_timer_ = context_.loop->add_timer(outcome.block_timeout_ms, [context, id] {
        auto it = context->connections.find(id);
        if (it == context->connections.end()) return;
        it->second->block_timer_ = 0;
        it->second->end_block(ConnectionControl::BlockEnd::kTimeout);
      });
    }
  } else if (!outcome.blocked && blocked_) {
    blocked_ = false;
    if (block_timer_ != 0) context_.loop->cancel_timer(std::exchange(block_timer_, 0));
  }
  // Each outcome replaces the retry the previous one asked for.
  if (retry_timer_ != 0) context_.loop->cancel_timer(std::exchange(retry_timer_, 0));
  if (blocked_ && outcome.retry_after_ms > 0) {
    LoopContext* context = &context_;
    const uint64_t id = id_;
    retry_timer_ = context_.loop->add_timer(outcome.retry_after_ms, [context, id] {
      auto it = context->connections.find(id);
      if (it == context->connections.end()) return;
      it->second->retry_timer_ = 0;
      it->second->retry_blocked();
    });
  }
}

void Connection::retry_blocked() {
  if (closed_ || !blocked_) return;
  take_outcome(session_->retry_blocked(out_));
  if (!blocked_) process_input();  // the commands that waited behind it, then the flush
}

void Connection::end_block(ConnectionControl::BlockEnd reason) {
  if (closed_ || !blocked_) return;
  if (!session_->end_block(out_, reason)) return;  // it finishes through retry_blocked
  Session::Outcome done;
  take_outcome(std::move(done));
  process_input();
}

void Connection::prefetch_ahead() {
  std::array<PeekedCommand, kPrefetchCommandsMax> commands;
  const size_t count = parser_.peek(commands);
  if (count < 2) return;  // a lone command's own lookup follows at once: nothing to overlap
  session_->prefetch(std::span<const PeekedCommand>(commands.data(), count));
  prefetched_ahead_ = count;
}

void Connection::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  context_.to_flush.push_back(this);
}

void Connection::drop_sent_output() {
  CAIRN_ASSERT(pending_output() == 0);
  out_.clear();
  out_sent_ = 0;
  if (out_.capacity() > kKeptOutputCapacityBytes) std::string().swap(out_);
}

bool Connection::refill_from_body() {
  out_.resize(kBodyChunkBytes);
  out_sent_ = 0;
  Result<size_t> n = body_->read(out_.data(), kBodyChunkBytes);
  if (!n.is_ok()) {
    out_.clear();
    close("reply body failed: " + n.status().to_string());
    return false;
  }
  out_.resize(*n);
  if (*n == 0) body_.reset();  // the body is complete
  return true;
}

void Connection::flush() {
  flush_scheduled_ = false;
  if (closed_) return;
  int writes = 0;
  while (true) {
    if (pending_output() == 0) {
      drop_sent_output();
      if (body_ != nullptr && !refill_from_body()) return;
      if (pending_output() == 0) break;
    }
    const ssize_t n = ::send(fd_, out_.data() + out_sent_, pending_output(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close(std::string("write error: ") + std::strerror(errno));
      return;
    }
    out_sent_ += static_cast<size_t>(n);
    writes++;
    if (pending_output() > 0) break;  // the socket is full: wait for EPOLLOUT
    if (body_ == nullptr || writes >= kBodyWritesPerIteration) break;
  }
  // Sent bytes leave the buffer now, not at the next flush: replies appended before it would
  // otherwise keep them, and a client that always has a command in flight grew its buffer by
  // every reply it was ever sent.
  if (pending_output() == 0) {
    drop_sent_output();
  } else if (out_sent_ >= kSentBytesCompactMin && out_sent_ >= pending_output()) {
    out_.erase(0, out_sent_);  // a partial send: keep only what is still to go
    out_sent_ = 0;
  }
  if (pending_output() == 0 && body_ == nullptr) {
    if (close_after_write_) {
      close("closed after reply");
      return;
    }
    if (draining_) {
      close("server stopping");
      return;
    }
    if (parser_.has_unparsed_input() && !resume_posted_) {
      // Commands that arrived while a body was being sent: parse them in a later iteration,
      // so their replies go through before_replies like any other.
      resume_posted_ = true;
      LoopContext* context = &context_;
      const uint64_t id = id_;
      context_.loop->post([context, id] {
        auto it = context->connections.find(id);
        if (it == context->connections.end()) return;
        it->second->resume_posted_ = false;
        it->second->process_input();
      });
    }
  }
  if (!check_output_limit()) return;
  update_interest();
  publish_sizes();
}

bool Connection::check_output_limit() {
  const uint64_t limit = context_.limits.output_buffer_bytes_max.load(std::memory_order_relaxed);
  if (limit == 0 || pending_output() <= limit) return true;
  spdlog::warn("client {}: closed, output buffer {} bytes over the limit of {} bytes", id_,
               pending_output(), limit);
  close("output buffer limit");
  return false;
}

void Connection::update_interest() {
  uint32_t interest = draining_ ? 0 : EventLoop::kReadable;
  if (pending_output() > 0 || body_ != nullptr) interest |= EventLoop::kWritable;
  if (interest == interest_) return;
  const Status status = context_.loop->change(fd_, interest, this);
  if (!status.is_ok()) {
    close(status.to_string());
    return;
  }
  interest_ = interest;
}

void Connection::publish_sizes() {
  control_->query_bytes.store(parser_.buffered_bytes(), std::memory_order_relaxed);
  control_->output_bytes.store(pending_output(), std::memory_order_relaxed);
}

void Connection::begin_drain() {
  if (closed_) return;
  draining_ = true;
  process_input();  // commands already read still run
  if (closed_) return;
  schedule_flush();
}

void Connection::close(std::string_view reason) {
  if (closed_) return;
  spdlog::debug("client {}: closing ({})", id_, reason);
  release();
  // Freed at the end of the iteration: this iteration's event batch may still name it.
  auto it = context_.connections.find(id_);
  if (it != context_.connections.end()) {
    context_.closed.push_back(std::move(it->second));
    context_.connections.erase(it);
  }
}

}  // namespace cairn
