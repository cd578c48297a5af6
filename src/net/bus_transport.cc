#include "net/bus_transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/assert.h"
#include "net/socket.h"

namespace cairn {

namespace {

constexpr size_t kReadChunkBytes = 64 << 10;
// Messages the lookahead is shown at a time, one window ahead of delivery.
constexpr size_t kLookaheadMessages = 16;
constexpr int kListenBacklog = 128;

}  // namespace

class BusTransport::Listener final : public EventLoop::Handler {
 public:
  explicit Listener(BusTransport* transport) : transport_(transport) {}
  void on_events(uint32_t) override { transport_->accept_all(); }

 private:
  BusTransport* transport_;
};

// A peer's connection to this node: frames in, messages out to the receiver.
class BusTransport::Inbound final : public EventLoop::Handler {
 public:
  Inbound(BusTransport* transport, int fd)
      : transport_(transport), fd_(fd), decoder_(transport->options_.payload_bytes_max) {}
  ~Inbound() override { ::close(fd_); }
  int fd() const { return fd_; }

  void on_events(uint32_t) override {
    if (closed_) return;
    char chunk[kReadChunkBytes];
    for (;;) {
      const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
      if (n > 0) {
        decoder_.feed(std::string_view(chunk, static_cast<size_t>(n)));
        if (!deliver()) return close();
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return close();  // end of stream or an error
    }
  }

 private:
  // Delivers the complete frames fed so far; false after a protocol error.
  bool deliver() {
    // Every frame is taken before any is delivered, for the lookahead: their payloads stay
    // valid until the next feed().
    senders_.clear();
    payloads_.clear();
    BusFrameDecoder::Step step;
    while ((step = decoder_.next()) == BusFrameDecoder::Step::kFrame) {
      if (transport_->partitioned_.contains(decoder_.sender())) {
        transport_->stats_.dropped_partitioned++;
        continue;
      }
      senders_.push_back(decoder_.sender());
      payloads_.push_back(decoder_.payload());
    }
    const std::span<const std::string_view> payloads(payloads_);
    const bool look_ahead = payloads.size() > 1 && transport_->lookahead_;
    if (look_ahead) {
      transport_->lookahead_(payloads.first(std::min(kLookaheadMessages, payloads.size())));
    }
    for (size_t i = 0; i < payloads.size(); i++) {
      // The next window while this one is delivered: what a window loads stays in the caches
      // until its messages run.
      if (look_ahead && i % kLookaheadMessages == 0 && i + kLookaheadMessages < payloads.size()) {
        const size_t next = i + kLookaheadMessages;
        transport_->lookahead_(
            payloads.subspan(next, std::min(kLookaheadMessages, payloads.size() - next)));
      }
      transport_->stats_.messages_received++;
      transport_->heard_from(senders_[i]);
      transport_->receiver_(senders_[i], payloads_[i]);
    }
    if (step == BusFrameDecoder::Step::kError) {
      transport_->stats_.protocol_errors++;
      return false;
    }
    return true;
  }
  void close() {
    closed_ = true;
    transport_->retire_inbound(this);
  }

  BusTransport* transport_;
  int fd_;
  BusFrameDecoder decoder_;
  // The frames of the current read, between decoding and delivery.
  std::vector<NodeId> senders_;
  std::vector<std::string_view> payloads_;
  bool closed_ = false;
};

// This node's connection to one peer: a bounded buffer of frames, written as the socket takes
// them; reconnects with backoff after a failure.
class BusTransport::Outbound final : public EventLoop::Handler {
 public:
  Outbound(BusTransport* transport, std::string ip, uint16_t port)
      : transport_(transport), ip_(std::move(ip)), port_(port) {}
  ~Outbound() override {
    disconnect();
    if (backoff_timer_ != 0) transport_->loop_->cancel_timer(backoff_timer_);
  }

  // A new address: the old one's connection and what it held are dropped, and the next message
  // connects at once.
  void set_address(const std::string& ip, uint16_t port) {
    if (ip == ip_ && port == port_) return;
    ip_ = ip;
    port_ = port;
    drop();
  }

  // The peer sent us a message, so it is up: a reconnect waiting out its backoff goes at once.
  void heard_from() {
    if (!backing_off_) return;
    transport_->loop_->cancel_timer(std::exchange(backoff_timer_, 0));
    backing_off_ = false;
    backoff_ms_ = 0;
  }

  void send(std::string_view message) {
    BusStats& stats = transport_->stats_;
    if (backing_off_) {
      stats.dropped_backing_off++;
      return;
    }
    if (message.size() > transport_->options_.payload_bytes_max) {
      stats.dropped_too_large++;
      return;
    }
    // Under the bound, any message goes: one larger than the bound (a value travels whole) must
    // not wait for a queue that other messages keep from emptying.
    if (pending_bytes() >= transport_->options_.send_queue_bytes_max) {
      stats.dropped_queue_full++;
      return;
    }
    append_bus_frame(&buffer_, transport_->self_, message);
    queued_messages_++;
    stats.messages_sent++;
    if (fd_ < 0) {
      connect();
    } else if (!connecting_) {
      if (transport_->options_.deferred_flush) {
        want_flush();
      } else {
        flush();
      }
    }
  }

  // Deferred flush: queues this connection for BusTransport::flush_queued(), once.
  void want_flush() {
    if (flush_wanted_) return;
    flush_wanted_ = true;
    transport_->flush_wanted_.push_back(this);
  }

  void flush_queued() {
    flush_wanted_ = false;
    if (fd_ >= 0 && !connecting_) flush();
  }

  void discard_queued() {
    flush_wanted_ = false;
    drop();
  }

  void on_events(uint32_t events) override {
    if (fd_ < 0) return;
    if (connecting_) {
      if (!connect_result(fd_).is_ok()) {
        transport_->stats_.connect_failures++;
        return fail();
      }
      connecting_ = false;
      backoff_ms_ = 0;
    }
    if ((events & EventLoop::kReadable) != 0 && peer_closed()) return fail();
    flush();
  }

 private:
  size_t pending_bytes() const { return buffer_.size() - written_; }

  void connect() {
    Result<int> fd = connect_tcp(ip_, port_);
    transport_->stats_.connects++;
    if (!fd.is_ok()) {
      transport_->stats_.connect_failures++;
      return fail();
    }
    fd_ = *fd;
    connecting_ = true;
    writable_interest_ = true;
    if (!transport_->loop_->watch(fd_, EventLoop::kReadable | EventLoop::kWritable, this).is_ok()) {
      fail();
    }
  }

  // The peer never sends on this connection: readable means it closed or failed.
  bool peer_closed() {
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
  }

  void flush() {
    while (pending_bytes() > 0) {
      const ssize_t n = ::send(fd_, buffer_.data() + written_, pending_bytes(), MSG_NOSIGNAL);
      if (n > 0) {
        written_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      return fail();
    }
    if (pending_bytes() == 0) {
      buffer_.clear();
      written_ = 0;
      queued_messages_ = 0;
    } else if (written_ * 2 >= buffer_.size()) {
      // Give back what is sent, so the buffer stays within twice the bound.
      buffer_.erase(0, written_);
      written_ = 0;
    }
    // Writable interest only while something waits to be written.
    const bool writable = pending_bytes() > 0;
    if (writable != writable_interest_) {
      writable_interest_ = writable;
      (void)transport_->loop_->change(
          fd_, EventLoop::kReadable | (writable ? EventLoop::kWritable : 0), this);
    }
  }

  // Drops the connection and what it held; the next message reconnects after the backoff.
  void fail() {
    drop();
    const BusTransportOptions& options = transport_->options_;
    backoff_ms_ = backoff_ms_ == 0 ? options.reconnect_backoff_min_ms
                                   : std::min(backoff_ms_ * 2, options.reconnect_backoff_max_ms);
    backing_off_ = true;
    if (backoff_timer_ != 0) transport_->loop_->cancel_timer(backoff_timer_);
    backoff_timer_ = transport_->loop_->add_timer(backoff_ms_, [this] {
      backing_off_ = false;
      backoff_timer_ = 0;
    });
  }

  void drop() {
    transport_->stats_.dropped_connection_lost += queued_messages_;
    disconnect();
    buffer_.clear();
    written_ = 0;
    queued_messages_ = 0;
  }

  void disconnect() {
    if (fd_ < 0) return;
    transport_->loop_->unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
    connecting_ = false;
    writable_interest_ = false;
  }

  BusTransport* transport_;
  std::string ip_;
  uint16_t port_;
  int fd_ = -1;
  bool connecting_ = false;
  bool backing_off_ = false;
  uint64_t backoff_ms_ = 0;
  EventLoop::TimerId backoff_timer_ = 0;
  std::string buffer_;  // frames; the first written_ bytes are sent
  size_t written_ = 0;
  uint64_t queued_messages_ = 0;  // frames in buffer_, for the drop count
  bool flush_wanted_ = false;     // deferred_flush: in the transport's list
  bool writable_interest_ = false;
};

void BusTransport::heard_from(NodeId peer) {
  auto it = outbound_.find(peer);
  if (it != outbound_.end()) it->second->heard_from();
}

BusTransport::BusTransport(EventLoop* loop, NodeId self, BusTransportOptions options,
                           Receiver receiver)
    : loop_(loop), self_(self), options_(std::move(options)), receiver_(std::move(receiver)) {}

Result<std::unique_ptr<BusTransport>> BusTransport::start(EventLoop* loop, NodeId self,
                                                          BusTransportOptions options,
                                                          Receiver receiver) {
  std::unique_ptr<BusTransport> transport(
      new BusTransport(loop, self, std::move(options), std::move(receiver)));
  CAIRN_ASSIGN_OR_RETURN(
      transport->listen_fd_,
      listen_tcp(transport->options_.bind, transport->options_.port, kListenBacklog));
  transport->port_ = local_port(transport->listen_fd_);
  transport->listener_ = std::make_unique<Listener>(transport.get());
  CAIRN_RETURN_IF_ERROR(
      loop->watch(transport->listen_fd_, EventLoop::kReadable, transport->listener_.get()));
  return transport;
}

BusTransport::~BusTransport() {
  if (retire_timer_ != 0) loop_->cancel_timer(retire_timer_);
  outbound_.clear();
  for (auto& [raw, inbound] : inbound_) loop_->unwatch(inbound->fd());
  inbound_.clear();
  if (listen_fd_ >= 0) {
    loop_->unwatch(listen_fd_);
    ::close(listen_fd_);
  }
}

void BusTransport::accept_all() {
  for (;;) {
    const int fd = accept_connection(listen_fd_);
    if (fd < 0) return;
    auto inbound = std::make_unique<Inbound>(this, fd);
    if (!loop_->watch(fd, EventLoop::kReadable, inbound.get()).is_ok()) continue;
    Inbound* raw = inbound.get();
    inbound_[raw] = std::move(inbound);
  }
}

void BusTransport::retire_inbound(Inbound* inbound) {
  auto it = inbound_.find(inbound);
  if (it == inbound_.end()) return;
  loop_->unwatch(inbound->fd());
  retired_.push_back(std::move(it->second));
  inbound_.erase(it);
  // Timers run after the iteration's whole event batch, which may still name the handler.
  if (retire_timer_ == 0) {
    retire_timer_ = loop_->add_timer(0, [this] {
      retired_.clear();
      retire_timer_ = 0;
    });
  }
}

void BusTransport::set_peer_address(NodeId peer, std::string ip, uint16_t port) {
  std::unique_ptr<Outbound>& outbound = outbound_[peer];
  if (outbound == nullptr) {
    outbound = std::make_unique<Outbound>(this, std::move(ip), port);
  } else {
    outbound->set_address(ip, port);
  }
}

void BusTransport::set_partitioned(std::set<NodeId> peers) { partitioned_ = std::move(peers); }

void BusTransport::flush_queued() {
  std::vector<Outbound*> wanted;
  wanted.swap(flush_wanted_);
  for (Outbound* outbound : wanted) outbound->flush_queued();
}

void BusTransport::discard_queued() {
  std::vector<Outbound*> wanted;
  wanted.swap(flush_wanted_);
  for (Outbound* outbound : wanted) outbound->discard_queued();
}

void BusTransport::send(NodeId to, std::string message) {
  if (partitioned_.contains(to)) {
    stats_.dropped_partitioned++;
    return;
  }
  auto it = outbound_.find(to);
  if (it == outbound_.end()) {
    stats_.dropped_unknown_peer++;
    return;
  }
  it->second->send(message);
}

}  // namespace cairn
