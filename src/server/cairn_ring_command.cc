#include "server/cairn_ring_command.h"

#include <string>

#include "cluster/node_identity.h"
#include "cluster/ring_plan.h"
#include "server/command_helpers.h"
#include "server/server.h"

namespace cairn {

namespace {

// A node id never given to a member: it stands for the node a plan adds.
constexpr NodeId kPlannedNode{~uint64_t{0}};

const char* transition_name(Ring::Transition transition) {
  switch (transition) {
    case Ring::Transition::kNone:
      return "none";
    case Ring::Transition::kNext:
      return "moving";
    case Ring::Transition::kPrevious:
      return "flipped";
  }
  return "?";
}

void reply_status(ReplyWriter& reply, const ClusterSnapshot& snapshot) {
  const Ring& ring = snapshot.ring;
  reply.map_header(8);
  reply.bulk_string("epoch");
  reply.integer(static_cast<int64_t>(ring.epoch()));
  reply.bulk_string("transition");
  reply.bulk_string(transition_name(ring.transition()));
  reply.bulk_string("members");
  reply.integer(static_cast<int64_t>(ring.members().size()));
  reply.bulk_string("target_members");
  reply.integer(static_cast<int64_t>(ring.transition() == Ring::Transition::kNext
                                         ? ring.other()->members().size()
                                         : ring.members().size()));
  reply.bulk_string("claimant");
  if (snapshot.claimant.has_value()) {
    reply.bulk_string(cluster_node_name(*snapshot.claimant));
  } else {
    reply.null();
  }
  reply.bulk_string("partitions_streamed");
  reply.integer(static_cast<int64_t>(snapshot.partitions_streamed));
  reply.bulk_string("stream_partitions");
  reply.integer(static_cast<int64_t>(snapshot.stream.partitions));
  reply.bulk_string("stream_partitions_done");
  reply.integer(static_cast<int64_t>(snapshot.stream.partitions_done));
}

void reply_plan(ReplyWriter& reply, const RingPlan& plan) {
  reply.map_header(4);
  reply.bulk_string("replicas_moved");
  reply.integer(static_cast<int64_t>(plan.replicas_moved));
  reply.bulk_string("replicas_ideal");
  reply.integer(static_cast<int64_t>(plan.replicas_ideal));
  reply.bulk_string("replicas_total");
  reply.integer(static_cast<int64_t>(plan.replicas_total));
  reply.bulk_string("members");
  reply.array_header(plan.members.size());
  for (const MemberMoves& member : plan.members) {
    reply.array_header(5);
    reply.bulk_string(member.id == kPlannedNode ? "(new node)" : cluster_node_name(member.id));
    reply.integer(static_cast<int64_t>(member.replicas_before));
    reply.integer(static_cast<int64_t>(member.replicas_after));
    reply.integer(static_cast<int64_t>(member.gained));
    reply.integer(static_cast<int64_t>(member.lost));
  }
}

// The ring member `name` names, or an error reply and nullopt.
std::optional<NodeId> ring_member(CommandContext& context, const Ring& ring,
                                  std::string_view name) {
  const std::optional<NodeId> id = parse_cluster_node_name(name);
  if (!id.has_value()) {
    context.reply.error("ERR not a node id: " + std::string(name));
    return std::nullopt;
  }
  if (!ring.contains(*id)) {
    context.reply.error("ERR not a ring member: " + std::string(name));
    return std::nullopt;
  }
  if (ring.members().size() < 2) {
    context.reply.error("ERR the ring has one member");
    return std::nullopt;
  }
  return id;
}

}  // namespace

void cairn_ring(CommandContext& context) {
  ClusterRuntime* cluster = context.server.cluster();
  if (cluster == nullptr) {
    context.reply.error("ERR This instance has cluster support disabled");
    return;
  }
  const std::shared_ptr<const ClusterSnapshot> snapshot = cluster->snapshot();
  const Ring& ring = snapshot->ring;
  const std::string_view what = context.argv[2];
  const size_t argc = context.argv.size();
  if (equals_ignore_case(what, "status") && argc == 3)
    return reply_status(context.reply, *snapshot);
  if (ring.empty()) {
    context.reply.error("CLUSTERDOWN the cluster has no ring yet");
    return;
  }
  if (equals_ignore_case(what, "remove") && argc == 4) {
    const std::optional<NodeId> id = ring_member(context, ring, context.argv[3]);
    if (!id.has_value()) return;
    if (snapshot->claimant != snapshot->self) {
      const ClusterMemberInfo* claimant =
          snapshot->claimant ? snapshot->member(*snapshot->claimant) : nullptr;
      context.reply.error(claimant == nullptr
                              ? std::string("ERR not the claimant, and no claimant is known")
                              : "ERR not the claimant: ask " + cluster_node_name(claimant->id) +
                                    " at " + claimant->ip + ":" + std::to_string(claimant->port));
      return;
    }
    cluster->request_removal(*id);
    context.reply.ok();
    return;
  }
  if (equals_ignore_case(what, "plan") && argc >= 4) {
    if (ring.transition() != Ring::Transition::kNone) {
      context.reply.error("ERR the ring is in a transition: plan once it has settled");
      return;
    }
    if (equals_ignore_case(context.argv[3], "add") && argc == 4) {
      return reply_plan(context.reply,
                        plan_change(ring, ring.with_joined(RingMember{kPlannedNode, ""})));
    }
    if (equals_ignore_case(context.argv[3], "remove") && argc == 5) {
      const std::optional<NodeId> id = ring_member(context, ring, context.argv[4]);
      if (!id.has_value()) return;
      return reply_plan(context.reply, plan_change(ring, ring.without(*id)));
    }
  }
  context.reply.error(
      "ERR syntax: CAIRN RING STATUS | REMOVE <node-id> | PLAN ADD | PLAN REMOVE <node-id>");
}

}  // namespace cairn
