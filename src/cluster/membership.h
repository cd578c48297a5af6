// Membership: one node's side of the cluster membership protocol, SWIM (Das et al., 2002) with
// Lifeguard (Dadgar et al., 2018), and the gossip of the ring. A sans-IO state machine: it reads
// no clock (every entry point takes the node's monotonic time in ms), draws randomness from its
// own seeded Random, and sends through a Network; the driver hands it the messages that arrive
// and calls tick() often (every 10-20 ms is plenty: timeouts are hundreds of ms).
//
// What it does (the protocol is in docs/cluster-membership.md):
// - failure detection: every probe interval it pings one member, picked by a shuffled round
//   robin; without an ack within the probe timeout it asks k others to ping the member for it
//   (ping-req); without any ack by the end of the round it suspects the member. A suspect that
//   does not refute (by raising its incarnation) within the suspicion timeout is dead.
//   Lifeguard: the local health score stretches this node's own timeouts when it misses acks
//   and nacks, and suspicion timeouts shrink as other members confirm.
// - dissemination: news (alive, suspect, dead, with incarnation, rack and address) rides on
//   pings, acks and ping-reqs, each item about lambda x log(n) times. A join, and a periodic
//   anti-entropy round, exchange whole member lists (sync). Dead members are remembered; a dead
//   member that turns out to be reachable is told so, and refutes.
// - the ring: every message carries the sender's ring header; a peer that is behind is sent the
//   ring; a ring that supersedes ours is adopted. The claimant (the smallest id that is alive in
//   this node's view and already in the ring) adds alive members missing from the ring.
//
// Thread-safety: none. One thread drives a Membership; listeners run inside its calls and must
// not call back into it.
// Invariants: the node's own record is alive at incarnation(); every suspect member has a
// running suspicion; at most kMemberCountMax members and kRelaysMax pending relays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/gossip_queue.h"
#include "cluster/lifeguard.h"
#include "cluster/member_table.h"
#include "cluster/membership_message.h"
#include "cluster/ring.h"
#include "cluster/ring_gossip.h"
#include "common/node_id.h"
#include "io/network.h"
#include "io/random.h"

namespace cairn {

// The seeds a join tries.
constexpr size_t kSeedCountMax = 16;
// Members other than the seeds a join also tries each time, once it has heard of some.
constexpr size_t kJoinExtraTargets = 2;
// Ping-reqs this node relays at once; more are refused (the asker then counts a missing nack).
constexpr size_t kRelaysMax = 64;

struct MembershipConfig {
  // SWIM's protocol period: one probe per interval (stretched by the local health score).
  uint64_t probe_interval_ms = 1000;
  // Wait for a direct ack before asking others (stretched by the local health score).
  uint64_t probe_timeout_ms = 500;
  // A relay sends its nack when the target is silent this long. The nack must reach the asker
  // before its round ends: probe_timeout_ms + nack_timeout_ms + two one-way delays must stay
  // under probe_interval_ms, or healthy askers count nacks as missing.
  uint64_t nack_timeout_ms = 400;
  // k: members asked to ping a silent target.
  uint32_t indirect_probe_count = 3;
  // Suspicion timeout: min = multiplier x max(1, log10 n) x probe_interval_ms, max =
  // max_multiplier x min; it falls from max to min as `suspicion_confirmations` other members
  // independently suspect the same member (none wanted below confirmations + 2 members).
  uint32_t suspicion_multiplier = 4;
  uint32_t suspicion_max_multiplier = 6;
  uint32_t suspicion_confirmations = 3;
  // lambda: each piece of news is sent lambda x ceil(log10(n + 1)) times.
  uint32_t retransmit_multiplier = 4;
  // Piggybacked news per message, by count and by encoded bytes.
  size_t piggyback_updates_max = 32;
  size_t piggyback_bytes_max = 1400;
  // Lifeguard's local health multiplier: timeouts stretch up to this many times.
  uint32_t health_multiplier_max = 8;
  // A join asks its seeds again this often until one answers.
  uint64_t join_retry_interval_ms = 1000;
  // Anti-entropy: a whole member list exchanged with a random alive member.
  uint64_t sync_interval_ms = 10'000;
  // A sync sent to a random dead member, so that the sides of a healed partition find each
  // other; also the least time between two "you are dead" pings to one member.
  uint64_t reconnect_interval_ms = 5'000;
  // The claimant adds members to the ring at most this often, so joins arriving together
  // share one change.
  uint64_t ring_change_interval_ms = 1'000;
  // A flipped ring (ring.h) keeps taking writes for its previous lists this long before the
  // claimant settles it: by then every node has heard of the flip and reads the new lists.
  uint64_t ring_settle_ms = 5'000;
  size_t ring_joins_per_change_max = 64;
  // A peer is not sent the same ring again sooner than this.
  uint64_t ring_push_interval_ms = 1'000;
  size_t replica_count = 3;
};

// Counters, for tests and INFO.
struct MembershipStats {
  uint64_t probes = 0;
  uint64_t probes_failed = 0;
  uint64_t ping_reqs_sent = 0;
  uint64_t nacks_sent = 0;
  uint64_t nacks_received = 0;
  uint64_t suspicions_raised = 0;  // by this node's own failed probes
  uint64_t refutations = 0;
  uint64_t deaths_declared = 0;  // suspicions that timed out here
  uint64_t syncs_sent = 0;
  uint64_t reconnect_pings_sent = 0;
  uint64_t rings_adopted = 0;
  uint64_t ring_changes_made = 0;
  uint64_t ring_transfers_sent = 0;
  uint64_t malformed_messages = 0;
};

class Membership {
 public:
  // Fired when a member other than this node is learned (previous empty) or changes state.
  using Listener = MemberTable::Listener;
  // Fired when this node's ring changes (adopted or made here).
  using RingListener = std::function<void(const Ring& ring)>;
  // Whether every member gaining partitions in the ring's transition has streamed them
  // (RepairService::transition_ready); the claimant flips the ring only then.
  using TransitionCheck = std::function<bool()>;

  // REQUIRES: network outlives this; config within its bounds; rack and address within
  // kRackNameBytesMax and kAddressBytesMax.
  Membership(NodeId id, std::string rack, MembershipConfig config, Network* network, uint64_t seed,
             std::string address = {});

  // Starts a new cluster of this node alone, with a ring of it alone.
  // REQUIRES: neither found() nor join() was called.
  void found(uint64_t now_ms);
  // Joins through `seeds`, asking them every join_retry_interval_ms until one answers (and
  // kJoinExtraTargets members it has heard of meanwhile, and whoever sent it a sync).
  // REQUIRES: neither found() nor join() was called; 1 <= seeds <= kSeedCountMax.
  void join(std::vector<NodeId> seeds, uint64_t now_ms);
  // Restarts a member from the ring it last held (ring_store.h): joined at once, with the ring's
  // other members taken as alive at incarnation 0 until they say otherwise (probes find those
  // that are not). Unlike join(), this needs no member to be up, so a whole cluster that
  // restarts together forms again. REQUIRES: neither found() nor join() was called;
  // ring.contains(id()).
  void resume(const Ring& ring, uint64_t now_ms);
  // Gives up the cluster this node is alone in to join another through `seeds` (CLUSTER MEET):
  // back to joining with the empty ring, as join() starts. REQUIRES: alone();
  // 1 <= seeds <= kSeedCountMax.
  void rejoin(std::vector<NodeId> seeds, uint64_t now_ms);
  // Joined, the only member of its ring and the only member it knows of.
  bool alone() const;

  // A message that arrived from `from`. Malformed bytes are counted and ignored.
  // REQUIRES (for every entry point): now_ms never decreases from call to call.
  void on_message(NodeId from, std::string_view bytes, uint64_t now_ms);
  void tick(uint64_t now_ms);

  NodeId id() const { return id_; }
  // Founded, or a seed answered the join.
  bool joined() const { return phase_ == Phase::kJoined; }
  bool is_alive(NodeId id) const { return state(id) == MemberState::kAlive; }
  std::optional<MemberState> state(NodeId id) const { return table_.state(id); }
  // Ascending by id; this node included once it started.
  std::vector<NodeId> alive_members() const { return table_.with_state(MemberState::kAlive); }
  const MemberTable& members() const { return table_; }
  const Ring& ring() const { return ring_.ring(); }
  uint64_t incarnation() const { return incarnation_; }
  uint32_t local_health() const { return health_.score(); }
  const MembershipStats& stats() const { return stats_; }
  size_t gossip_queue_size() const { return gossip_.size(); }

  void set_listener(Listener listener) { listener_ = std::move(listener); }
  void set_ring_listener(RingListener listener) { ring_listener_ = std::move(listener); }
  // Without a check (membership alone, holding no data) a transition flips at the next change.
  void set_transition_check(TransitionCheck check) { transition_check_ = std::move(check); }

  // The member that makes the ring changes, as this node sees it: of the ring's members, by id,
  // the first not known suspect or dead. nullopt when it knows all of them so.
  std::optional<NodeId> claimant() const;
  bool is_claimant() const;
  // Takes `id` out of the ring through a transition (ring.h), at the next ring change after any
  // running transition: the members gaining its partitions stream them from the current
  // replicas, `id` among them while it is alive (a leave) or not (a dead node's removal). The
  // ring lists it as departed (Ring::departed), and no claimant adds it back.
  // InvalidArgument unless this node is the claimant and `id` a member of a ring of two or
  // more.
  Status request_removal(NodeId id);

 private:
  enum class Phase { kIdle, kJoining, kJoined };

  // The probe in flight: one per round.
  struct Probe {
    NodeId target;
    uint64_t seq = 0;
    uint64_t direct_deadline_ms = 0;  // then ping-reqs
    uint64_t round_end_ms = 0;        // then the target is suspected
    bool indirect_sent = false;
    uint32_t nacks_expected = 0;
    uint32_t nacks_received = 0;
  };
  // A ping-req this node is carrying out for another.
  struct Relay {
    NodeId requester;
    uint64_t requester_seq = 0;
    uint64_t nack_at_ms = 0;
    uint64_t expire_ms = 0;
    bool nacked = false;
  };

  // membership.cc: entry points, sync, ring, sending.
  void start(uint64_t now_ms);
  void send_join(uint64_t now_ms);
  void handle(NodeId from, const MembershipMessage& message, uint64_t now_ms);
  void handle_sync(NodeId from, const MembershipMessage& message, uint64_t now_ms);
  void handle_ring(const MembershipMessage& message);
  void send_sync(NodeId to, bool reply_wanted);
  void maybe_sync(uint64_t now_ms);
  void maybe_reconnect(uint64_t now_ms);
  void maybe_change_ring(uint64_t now_ms);
  // Adopts a ring this node made as claimant, and spreads it.
  void adopt_change(Ring ring);
  void note_ring_change();
  // Sends `message` with our ring header and, for a ping, ack or ping-req, piggybacked news.
  void send(NodeId to, MembershipMessage message);
  std::vector<MemberUpdate> piggyback_for(NodeId to);

  // membership_probe.cc: SWIM's failure detector with Lifeguard's local health.
  void step_probe(uint64_t now_ms);
  void start_probe(uint64_t now_ms);
  std::optional<NodeId> next_probe_target();
  void send_ping_reqs();
  void finish_failed_probe(uint64_t now_ms);
  void handle_ping(NodeId from, const MembershipMessage& message);
  void handle_ack(NodeId from, uint64_t seq, uint64_t now_ms);
  void handle_ping_req(NodeId from, const MembershipMessage& message, uint64_t now_ms);
  void handle_nack(uint64_t seq);
  void step_relays(uint64_t now_ms);
  void add_to_probe_order(NodeId id);
  void send_reconnect_ping(NodeId to, uint64_t now_ms);

  // membership_news.cc: applying news, refuting, suspicion timers.
  void apply_updates(const std::vector<MemberUpdate>& updates, bool from_sync, uint64_t now_ms);
  void apply_update(const MemberUpdate& update, bool from_sync, uint64_t now_ms);
  void apply_news_about_self(const MemberUpdate& update, uint64_t now_ms);
  void refute(uint64_t above_incarnation, uint64_t now_ms);
  void suspect(NodeId id, uint64_t incarnation, NodeId accuser, uint64_t now_ms);
  void start_suspicion(const MemberUpdate& update, uint64_t now_ms);
  void expire_suspicions(uint64_t now_ms);
  MemberUpdate self_update() const;
  uint32_t transmit_limit() const;
  // Members not known dead (this node included): the n of the log(n) scalings.
  size_t live_member_count() const;

  NodeId id_;
  std::string rack_;
  std::string address_;
  MembershipConfig config_;
  Network* network_;
  Random random_;
  Phase phase_ = Phase::kIdle;
  uint64_t now_ms_ = 0;
  uint64_t incarnation_ = 0;

  MemberTable table_;
  GossipQueue gossip_;
  LocalHealth health_;
  std::map<NodeId, Suspicion> suspicions_;
  RingGossip ring_;

  uint64_t next_seq_ = 1;
  std::optional<Probe> probe_;
  uint64_t next_probe_ms_ = 0;
  std::vector<NodeId> probe_order_;
  size_t probe_index_ = 0;
  std::map<uint64_t, Relay> relays_;  // by the seq of this node's ping to the target

  std::vector<NodeId> seeds_;
  // While joining: nodes that sent this node a sync request, asked at the next retry.
  std::vector<NodeId> join_invites_;
  uint64_t next_join_ms_ = 0;
  uint64_t next_sync_ms_ = 0;
  uint64_t next_reconnect_ms_ = 0;
  uint64_t next_ring_change_ms_ = 0;
  std::vector<NodeId> removals_;  // requested, not started yet
  // When this node first saw the flipped ring of previous_epoch_ as claimant.
  uint64_t previous_epoch_ = 0;
  uint64_t previous_since_ms_ = 0;
  // Per member: when it was last sent a reconnect ping.
  std::map<NodeId, uint64_t> reconnect_pinged_ms_;

  MembershipStats stats_;
  Listener listener_;
  RingListener ring_listener_;
  TransitionCheck transition_check_;
};

}  // namespace cairn
