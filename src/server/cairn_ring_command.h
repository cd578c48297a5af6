// CAIRN RING: the ring's changes from the command line (cairnctl leave, remove and plan).
//   CAIRN RING STATUS                          epoch, transition, members, claimant
//   CAIRN RING REMOVE <node-id>                on the claimant: take the member out of the ring
//   CAIRN RING PLAN ADD | PLAN REMOVE <node-id>  what the change would move (ring_plan.h)
#pragma once

#include "server/command.h"

namespace cairn {

void cairn_ring(CommandContext& context);

}  // namespace cairn
