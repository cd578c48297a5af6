// ClusterPipeline: a connection's pipelined cluster commands, submitted to the cluster ahead of
// their turn so that they wait on their replicas together rather than one after another.
//
// A cluster command waits on its replicas with its connection blocked (cluster_call.h), so a
// pipeline of 16 GETs would cost 16 round trips. When the connection shows the session the
// complete commands waiting in its input (Session::prefetch), the leading run of GETs and
// SETs without options on distinct keys is submitted at once; each command, when its turn comes,
// takes up its call and replies as soon as that call's replies are in. Replies keep their order:
// the connection still runs the commands one by one.
//
// Concurrency as a client sees it: the commands of one run touch distinct keys, so running them
// together answers exactly what running them in turn would, except against other clients'
// concurrent writes, which may land between them in either order (as with Redis Cluster
// clients that send a pipeline's commands to several nodes at once).
//
// Thread-safety: owned by the connection's session; one thread.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/session.h"

namespace cairn {

class Client;
class Server;
struct ClusterCall;

class ClusterPipeline {
 public:
  // Runs longer than this are cut: the rest run in turn (the connection peeks at most 16).
  static constexpr size_t kPreparedCallsMax = 64;

  // Submits the leading run of `commands` that may go ahead (two or more, or none), at the
  // client's consistency level, in place of what was prepared before (nothing is left then:
  // the connection runs every command it showed before it shows more).
  void prepare(Server& server, Client& client, std::span<const PeekedCommand> commands);
  // The call submitted ahead for `argv`, which must be the next prepared command; nullptr when
  // nothing is prepared. A command that is not the one expected drops what was prepared (its
  // requests complete unobserved: the client sent them).
  std::shared_ptr<ClusterCall> take(std::span<const std::string_view> argv);
  void clear() { prepared_.clear(); }
  bool empty() const { return prepared_.empty(); }

 private:
  struct Prepared {
    bool is_set = false;
    std::string key;
    std::string value;  // a SET's
    std::shared_ptr<ClusterCall> call;
  };
  std::deque<Prepared> prepared_;
};

}  // namespace cairn
