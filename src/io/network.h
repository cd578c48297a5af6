// Network: how a node's state machines (membership, the coordinator, hint delivery) send
// messages to other nodes. The simulator implements it over a simulated network; the real
// cluster implements it over TCP. Either way delivery is unreliable: a message may be lost,
// delayed, duplicated or reordered, and the sender is never told. Receiving is the driver's
// job: it hands each arriving message to the node's state machines.
//
// Every cluster message begins with a channel byte naming the state machine it is for
// (MessageChannel), so one node's driver can dispatch it without decoding the rest.
//
// Thread-safety: an implementation says; the simulator's is single-threaded.
#pragma once

#include <cstdint>
#include <string>

#include "common/node_id.h"

namespace cairn {

enum class MessageChannel : uint8_t {
  kMembership = 1,
  kReplication = 2,
  kKeyspace = 3,  // keyspace-wide commands: slot scans and flushes (cluster/keyspace_message.h)
  kRepair = 4,    // anti-entropy between replicas (cluster/repair_message.h)
};

class Network {
 public:
  virtual ~Network() = default;
  // Queues `message` for `to`. Never blocks and never fails visibly.
  virtual void send(NodeId to, std::string message) = 0;
};

}  // namespace cairn
