// BusTransport: the cluster bus on one event loop: the Network (io/network.h) a node's state
// machines send through, over TCP, in bus frames (bus_frame.h; docs/cluster-bus.md).
//
// - Sending: one outbound connection per peer, made on the first message to it. Messages queue
//   as frames in that connection's send buffer, bounded by send_queue_bytes_max: a message sent
//   while the buffer holds the bound or more is dropped (and counted), so a slow or gone peer
//   costs bounded memory: the bound plus one message, which may be larger (a value of up to
//   1 GiB travels whole). When a
//   connection fails, its buffer is dropped with it (the protocols above resend what matters)
//   and the next message reconnects, no sooner than a backoff that doubles from
//   reconnect_backoff_min_ms to reconnect_backoff_max_ms while connections keep failing, or as
//   soon as a message arrives from the peer (a restarted peer is reached at once).
// - Receiving: a listener accepts the peers' outbound connections; each inbound connection
//   decodes frames and hands every message, with the sender its frame names, to the receiver.
//   The messages of each read from the socket are shown to the lookahead, if one is set, in
//   windows of a few, each window before the previous one is delivered. A protocol error closes
//   that connection only, after the messages before it were delivered.
// Delivery is as io/network.h says: a message may be lost; it is never changed.
//
// Addresses: a peer's bus address is set by whoever knows it (membership, from the member's
// address), as an IP literal and port.
//
// Thread-safety: everything on the loop's thread (or before the loop runs). The receiver runs on
// it, and may send.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/node_id.h"
#include "common/result.h"
#include "io/network.h"
#include "net/bus_frame.h"
#include "net/event_loop.h"

namespace cairn {

struct BusTransportOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (port() says which)
  size_t send_queue_bytes_max = 64 << 20;
  uint64_t reconnect_backoff_min_ms = 50;
  uint64_t reconnect_backoff_max_ms = 5'000;
  uint32_t payload_bytes_max = kBusFramePayloadBytesMax;
  // Messages wait in their connection's buffer until flush_queued(), which the owner calls once
  // per loop iteration: one write per peer for all of an iteration's messages, sent after the
  // owner made what they acknowledge durable. Off: every send() writes at once.
  bool deferred_flush = false;
};

struct BusStats {
  uint64_t messages_sent = 0;  // queued on a connection
  uint64_t messages_received = 0;
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_too_large = 0;        // over payload_bytes_max, which no frame carries
  uint64_t dropped_unknown_peer = 0;     // no address set
  uint64_t dropped_connection_lost = 0;  // queued on a connection that then failed
  uint64_t dropped_backing_off = 0;      // sent while the peer's reconnect waited
  uint64_t connects = 0;
  uint64_t connect_failures = 0;
  uint64_t protocol_errors = 0;      // inbound connections closed for a malformed frame
  uint64_t dropped_partitioned = 0;  // to or from a peer set_partitioned() names
};

class BusTransport final : public Network {
 public:
  using Receiver = std::function<void(NodeId from, std::string_view message)>;
  // Sees a window of the messages of one read before they are delivered: a hint to start loading
  // what they will touch. Must not send, nor keep the views.
  using Lookahead = std::function<void(std::span<const std::string_view> messages)>;

  // Listens on options.bind:options.port. REQUIRES: loop outlives the transport; called on the
  // loop's thread or before it runs.
  static Result<std::unique_ptr<BusTransport>> start(EventLoop* loop, NodeId self,
                                                     BusTransportOptions options,
                                                     Receiver receiver);
  // REQUIRES: the loop is not running, or this runs from a timer or the iteration hook (not
  // from a posted task or a handler, while the loop's event batch may still name its handlers).
  ~BusTransport() override;
  BusTransport(const BusTransport&) = delete;
  BusTransport& operator=(const BusTransport&) = delete;

  uint16_t port() const { return port_; }
  void set_peer_address(NodeId peer, std::string ip, uint16_t port);
  void set_lookahead(Lookahead lookahead) { lookahead_ = std::move(lookahead); }
  void send(NodeId to, std::string message) override;
  // With deferred_flush: writes what send() queued since the last call.
  void flush_queued();
  // With deferred_flush: drops, counted as lost, the connections holding what send() queued
  // since the last flush (the owner could not make what it acknowledges durable).
  void discard_queued();
  // A fault for tests of network partitions between real processes: messages to and from
  // `peers` are dropped (counted) until the set changes. Empty: none.
  void set_partitioned(std::set<NodeId> peers);
  const BusStats& stats() const { return stats_; }

 private:
  class Listener;
  class Inbound;
  class Outbound;

  BusTransport(EventLoop* loop, NodeId self, BusTransportOptions options, Receiver receiver);
  void accept_all();
  // Closes and forgets a connection at the end of the loop iteration (its handler may still be
  // named by the iteration's events).
  void retire_inbound(Inbound* inbound);
  // A message from `peer` arrived: its outbound connection stops backing off.
  void heard_from(NodeId peer);

  EventLoop* loop_;
  NodeId self_;
  BusTransportOptions options_;
  Receiver receiver_;
  Lookahead lookahead_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<Listener> listener_;
  std::map<Inbound*, std::unique_ptr<Inbound>> inbound_;
  std::map<NodeId, std::unique_ptr<Outbound>> outbound_;
  std::set<NodeId> partitioned_;
  std::vector<Outbound*> flush_wanted_;  // deferred_flush: connections with queued messages
  std::vector<std::unique_ptr<EventLoop::Handler>> retired_;
  EventLoop::TimerId retire_timer_ = 0;
  BusStats stats_;
};

}  // namespace cairn
