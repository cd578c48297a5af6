// ClusterView: what the coordinator and hint delivery need to know of the cluster: the ring and
// which members this node believes alive. Membership implements it; tests can fake it.
//
// Thread-safety: as the implementation; membership's is single-threaded.
#pragma once

#include "cluster/ring.h"
#include "common/node_id.h"

namespace cairn {

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual const Ring& ring() const = 0;
  // This node's belief, which may be wrong either way (a suspect counts as alive).
  virtual bool is_alive(NodeId node) const = 0;
};

}  // namespace cairn
