// Connection: one client socket on its event loop. Reads (one read per readiness event into the
// parser's buffer), runs every complete command of the read in order through the Session
// (pipelining), gathers the replies in one output buffer and writes it once per loop iteration
// (LoopContext::end_iteration), then waits for EPOLLOUT for what the socket did not take.
// A reply body (Session::Outcome::body) is sent after the buffered bytes one chunk at a time,
// refilled only once the buffer has drained, and no further command is parsed until it is done.
// A client whose pending output passes output_buffer_bytes_max is disconnected. Before running
// a pipeline's commands it shows the session the next ones (Session::prefetch), so their cache
// misses overlap.
//
// Thread-safety: owned by its LoopContext and touched only by that loop's thread; the
// ConnectionControl handed to the session is the only part other threads use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/event_loop.h"
#include "net/loop_context.h"
#include "net/resp_parser.h"
#include "net/session.h"

namespace cairn {

class ConnectionControlImpl;

class Connection : public EventLoop::Handler {
 public:
  // REQUIRES: `fd` is a connected non-blocking socket, now owned by the connection.
  Connection(LoopContext& context, int fd, uint64_t id);
  ~Connection() override;

  // Opens the session and starts watching the socket; false (connection closed) on failure.
  bool start();
  void on_events(uint32_t events) override;
  // Writes pending output (called once per iteration from LoopContext::end_iteration).
  void flush();
  // Closes now: pending replies are dropped, the session gets on_close.
  void close(std::string_view reason);
  // Stop: run the commands already read, write their replies, then close.
  void begin_drain();

  bool is_closed() const { return closed_; }
  uint64_t id() const { return id_; }

  // A blocked command is retried (ConnectionControl::wake_blocked) or ended (its timer, or
  // ConnectionControl::end_block); once it is done the commands behind it run. Loop thread.
  void retry_blocked();
  void end_block(ConnectionControl::BlockEnd reason);

 private:
  // Unregisters and closes the socket, drops pending sinks and body, and tells the session;
  // once (closed_ guards it).
  void release();
  void read_input();
  void process_input();
  // Applies what a command asked of the connection besides its reply (close, a body, blocking).
  void take_outcome(Session::Outcome outcome);

  // Hands the session the commands that wait complete in the input (Session::prefetch).
  void prefetch_ahead();
  void schedule_flush();
  size_t pending_output() const { return out_.size() - out_sent_; }
  // Empties the output buffer once everything in it was sent (releasing a large one).
  void drop_sent_output();
  bool refill_from_body();
  bool check_output_limit();
  void update_interest();
  void publish_sizes();

  LoopContext& context_;
  const int fd_;
  const uint64_t id_;
  std::shared_ptr<ConnectionControlImpl> control_;
  std::unique_ptr<Session> session_;
  RespParser parser_;
  // Commands of the input already handed to Session::prefetch that have not run yet.
  size_t prefetched_ahead_ = 0;

  std::string out_;
  size_t out_sent_ = 0;
  std::unique_ptr<ByteSource> body_;
  uint64_t body_remaining_ = 0;

  bool closed_ = false;
  bool close_after_write_ = false;
  bool draining_ = false;
  bool flush_scheduled_ = false;
  bool resume_posted_ = false;
  // The session's command waits (Session::Outcome::blocked); its timeout timer, or 0; the
  // timer that runs it again (Outcome::retry_after_ms), or 0.
  bool blocked_ = false;
  EventLoop::TimerId block_timer_ = 0;
  EventLoop::TimerId retry_timer_ = 0;
  uint32_t interest_ = 0;
};

}  // namespace cairn
