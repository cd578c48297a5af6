#include "net/net_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "common/assert.h"
#include "net/event_loop.h"
#include "net/loop_context.h"
#include "net/socket.h"

namespace cairn {

namespace {

constexpr int kListenBacklog = 511;
// Connections accepted per readiness event, so a connection storm cannot starve loop 0.
constexpr int kAcceptsPerEvent = 128;
// On stop, how long connections may take to write the replies of commands already read.
constexpr uint64_t kStopGraceMs = 1000;

constexpr std::string_view kTooManyClients = "-ERR max number of clients reached\r\n";

class NetServerImpl final : public NetServer, public EventLoop::Handler {
 public:
  NetServerImpl(int listen_fd, SessionFactory& sessions)
      : listen_fd_(listen_fd), port_(local_port(listen_fd)), sessions_(sessions) {}

  ~NetServerImpl() override {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    contexts_.clear();
  }

  Status init(int threads, EventLoop* first_loop, ProtocolLimits& limits) {
    CAIRN_ASSERT(threads >= 1);
    for (int i = 0; i < threads; i++) {
      EventLoop* shared = i == 0 ? first_loop : nullptr;
      std::unique_ptr<EventLoop> loop;
      if (shared == nullptr) {
        CAIRN_ASSIGN_OR_RETURN(loop, EventLoop::create());
      }
      contexts_.push_back(std::make_unique<LoopContext>(std::move(loop), shared,
                                                        static_cast<size_t>(i), sessions_, limits));
    }
    return contexts_[0]->loop->watch(listen_fd_, EventLoop::kReadable, this);
  }

  uint16_t port() const override { return port_; }

  void run() override {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts_.size(); i++) {
      threads.emplace_back([this, i] { contexts_[i]->loop->run(); });
    }
    contexts_[0]->loop->run();
    for (auto& thread : threads) thread.join();
  }

  void stop() override {
    if (stopping_.exchange(true)) return;
    // Loop 0 closes the listener first and then tells every loop to drain: any connection it
    // handed to a loop before is queued ahead of that loop's drain.
    contexts_[0]->loop->post([this] {
      if (listen_fd_ >= 0) {
        contexts_[0]->loop->unwatch(listen_fd_);
        ::close(listen_fd_);
        listen_fd_ = -1;
      }
      for (auto& context : contexts_) {
        LoopContext* target = context.get();
        target->loop->post([target] { target->drain(kStopGraceMs); });
      }
    });
  }

  // The listening socket is readable: accept what waits.
  void on_events(uint32_t events) override {
    (void)events;
    for (int i = 0; i < kAcceptsPerEvent && listen_fd_ >= 0; i++) {
      const int fd = accept_connection(listen_fd_);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
          spdlog::warn("accept failed: {}", std::strerror(errno));
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      if (!sessions_.accepting_clients()) {
        [[maybe_unused]] ssize_t n =
            ::send(fd, kTooManyClients.data(), kTooManyClients.size(), MSG_NOSIGNAL);
        ::close(fd);
        continue;
      }
      const uint64_t id = next_id_++;
      LoopContext* target = contexts_[next_loop_++ % contexts_.size()].get();
      if (target == contexts_[0].get()) {
        target->add_connection(fd, id);
      } else {
        target->loop->post([target, fd, id] { target->add_connection(fd, id); });
      }
    }
  }

 private:
  int listen_fd_;  // loop 0's thread only once run() started; -1 when closed
  const uint16_t port_;
  SessionFactory& sessions_;
  std::vector<std::unique_ptr<LoopContext>> contexts_;
  std::atomic<bool> stopping_{false};
  uint64_t next_id_ = 1;
  size_t next_loop_ = 0;
};

}  // namespace

Result<std::unique_ptr<NetServer>> NetServer::listen(const NetOptions& options,
                                                     SessionFactory& sessions,
                                                     ProtocolLimits& limits) {
  if (options.threads < 1) return Status::invalid_argument("threads must be at least 1");
  CAIRN_ASSIGN_OR_RETURN(const int fd, listen_tcp(options.bind, options.port, kListenBacklog));
  auto server = std::make_unique<NetServerImpl>(fd, sessions);
  CAIRN_RETURN_IF_ERROR(server->init(options.threads, options.first_loop, limits));
  return std::unique_ptr<NetServer>(std::move(server));
}

}  // namespace cairn
