// RaftNode, part 1: roles and elections (pre-vote, check-quorum lease, leadership transfer),
// the message dispatcher and the output. Replication and snapshots are in
// raft_replication.cpp, membership in raft_membership.cpp; see raft_node.h for the contract.
// Rule references are to the Raft paper (Ongaro & Ousterhout 2014, "§5.x") and Ongaro's
// thesis ("thesis §x").
#include "raft/raft_node.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <tuple>
#include <utility>

#include "raft/wire.h"

namespace nats::raft {

const char* role_name(Role r) {
  switch (r) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

namespace {
Term payload_term(const Payload& p) {
  return std::visit([](const auto& m) { return m.term; }, p);
}
}  // namespace

RaftNode::RaftNode(Config cfg, PersistedState restored)
    : cfg_(std::move(cfg)),
      rng_(cfg_.rng_seed ^ std::hash<std::string>{}(cfg_.id)),
      term_(restored.hard_state.term),
      voted_for_(std::move(restored.hard_state.voted_for)),
      log_(std::move(restored.log)) {
  if (restored.snapshot) snap_ = std::move(*restored.snapshot);
  else snap_.membership.voters = cfg_.peers;
  for (size_t i = 0; i < log_.size(); ++i) assert(log_[i].index == snap_.index + i + 1);
  // Everything in the snapshot was committed; the owner rebuilds its state machine from it.
  commit_ = applied_ = snap_.index;
  snapshot_to_apply_ = snap_.index > 0;
  recompute_membership();
  reset_election_timer();
}

Term RaftNode::term_at(Index i) const {
  if (i == snap_.index) return snap_.term;
  if (i < snap_.index || i > last_index()) return 0;
  return entry(i).term;
}

size_t RaftNode::count_voters(const std::set<NodeId>& ids) const {
  size_t n = 0;
  for (const auto& v : membership_.voters) n += ids.count(v);
  return n;
}

bool RaftNode::log_up_to_date(Index last_index, Term last_term) const {
  // §5.4.1: compare last terms, then lengths. This is what gives leader completeness:
  // a committed entry is on a quorum, and every quorum member refuses a shorter/older log.
  if (last_term != this->last_term()) return last_term > this->last_term();
  return last_index >= this->last_index();
}

void RaftNode::reset_election_timer() {
  election_elapsed_ = 0;
  std::uniform_int_distribution<int> d(cfg_.election_timeout, 2 * cfg_.election_timeout - 1);
  randomized_timeout_ = d(rng_);
}

void RaftNode::set_term(Term t) {
  // Terms only grow, and a vote belongs to exactly one term (§5.2: one vote per term).
  assert(t > term_);
  term_ = t;
  voted_for_.clear();
  hard_state_dirty_ = true;
}

void RaftNode::set_role(Role r) {
  if (role_ != r) role_dirty_ = true;
  role_ = r;
}

void RaftNode::become_follower(Term t, const NodeId& leader) {
  held_.clear();  // appends of another leader or term
  if (t > term_) set_term(t);
  set_role(Role::kFollower);
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  transfer_target_.clear();
  reset_election_timer();
}

void RaftNode::become_pre_candidate() {
  held_.clear();  // appends of another leader or term
  // thesis §9.6: ask first whether we could win, without touching our term, so a node that
  // was partitioned away cannot force a working leader to step down when it returns.
  set_role(Role::kPreCandidate);
  leader_.clear();
  reset_election_timer();
  campaign(true);
}

void RaftNode::become_candidate(bool transfer) {
  held_.clear();  // appends of another leader or term
  set_term(term_ + 1);
  voted_for_ = cfg_.id;
  set_role(Role::kCandidate);
  leader_.clear();
  reset_election_timer();
  campaign(false, transfer);
}

void RaftNode::campaign(bool pre_vote, bool transfer) {
  votes_.clear();
  votes_.insert(cfg_.id);
  if (count_voters(votes_) >= quorum()) {
    pre_vote ? become_candidate() : become_leader();
    return;
  }
  VoteRequest req{pre_vote ? term_ + 1 : term_, last_index(), last_term(), pre_vote, transfer};
  for (const auto& p : membership_.voters)
    if (p != cfg_.id) send(p, req);
}

void RaftNode::become_leader() {
  held_.clear();  // appends of another leader or term
  set_role(Role::kLeader);
  leader_ = cfg_.id;
  votes_.clear();
  progress_.clear();
  recently_active_.clear();
  transfer_target_.clear();
  incoming_snap_.reset();
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  on_membership_changed();  // one Progress per member
  // §5.4.2: a leader may only count replicas for entries of its own term, so it appends one
  // at once; committing it commits everything before it.
  append_local(Entry{term_, last_index() + 1, EntryType::kNoop, {}});
  broadcast_append();
  maybe_advance_commit();
}

void RaftNode::send(const NodeId& to, Payload p) {
  outbox_.push_back(Message{cfg_.id, to, std::move(p)});
}

void RaftNode::tick() {
  ++election_elapsed_;
  if (role_ == Role::kLeader) {
    if (transferring() && ++transfer_elapsed_ >= cfg_.election_timeout) transfer_target_.clear();  // gave up
    for (auto& [p, pr] : progress_) {
      // A lost chunk is resent well within the follower's election timeout.
      if (pr.snapshotting && (++pr.snap_wait >= std::max(1, cfg_.election_timeout / 2) || pr.snap_index != snap_.index))
        send_snapshot_chunk(p);
    }
    if (++heartbeat_elapsed_ >= cfg_.heartbeat_interval) {
      heartbeat_elapsed_ = 0;
      detect_stalls();
      broadcast_append(true);
    }
    if (cfg_.check_quorum && election_elapsed_ >= cfg_.election_timeout) {
      election_elapsed_ = 0;
      // A leader cut off from a quorum cannot commit; stepping down lets clients find the
      // real leader, and makes the lease that followers grant below sound.
      if (count_voters(recently_active_) + (is_voter() ? 1 : 0) < quorum()) {
        become_follower(term_, {});
        return;
      }
      recently_active_.clear();
    }
    return;
  }
  if (!is_voter() || !campaign_allowed_) {
    election_elapsed_ = std::min(election_elapsed_, randomized_timeout_);  // never campaigns
    return;
  }
  if (election_elapsed_ >= randomized_timeout_) {
    if (cfg_.pre_vote) become_pre_candidate();
    else become_candidate();
  }
}

void RaftNode::campaign_now() {
  if (role_ == Role::kLeader || !is_voter() || !campaign_allowed_) return;
  if (cfg_.pre_vote) become_pre_candidate();
  else become_candidate();
}

void RaftNode::campaign_within(int max_ticks) {
  if (role_ == Role::kLeader) return;
  election_elapsed_ = 0;
  std::uniform_int_distribution<int> d(1, std::max(1, max_ticks));
  randomized_timeout_ = d(rng_);
}

void RaftNode::leader_lost(const NodeId& peer) {
  if (role_ != Role::kFollower || leader_.empty() || leader_ != peer) return;
  leader_.clear();
  election_elapsed_ = 0;
  std::uniform_int_distribution<int> d(1, std::max(1, std::min(cfg_.leader_lost_ticks, cfg_.election_timeout)));
  randomized_timeout_ = d(rng_);
}

NodeId RaftNode::best_transfer_target() const {
  NodeId best;
  Index best_match = 0;
  bool best_active = false;
  for (const auto& [p, pr] : progress_) {
    if (!membership_.is_voter(p)) continue;
    bool active = recently_active_.count(p) > 0;
    if (best.empty() || std::tie(active, pr.match) > std::tie(best_active, best_match)) {
      best = p;
      best_match = pr.match;
      best_active = active;
    }
  }
  return best;
}

void RaftNode::step_down() {
  if (role_ != Role::kLeader) return;
  // A voter that has everything can win at once; TimeoutNow makes it campaign now.
  NodeId target = best_transfer_target();
  if (!target.empty() && match_index(target) == last_index()) send(target, TimeoutNow{term_});
  become_follower(term_, {});
  // Wait longer than any peer's longest timeout (2x) before campaigning, so that one of the
  // others, whose timers run from our last heartbeat, normally wins.
  randomized_timeout_ = 3 * cfg_.election_timeout;
}

bool RaftNode::transfer_leadership(const NodeId& to) {
  if (role_ != Role::kLeader) return false;
  NodeId target = to.empty() ? best_transfer_target() : to;
  if (target.empty() || target == cfg_.id || !membership_.is_voter(target) || !progress_.count(target)) return false;
  transfer_target_ = target;
  transfer_elapsed_ = 0;
  if (match_index(target) == last_index()) send(target, TimeoutNow{term_});
  else send_append(target, true);  // its acks bring it up to date; the last one triggers TimeoutNow
  return true;
}

void RaftNode::step(const Message& msg) {
  if (msg.to != cfg_.id || msg.from == cfg_.id) return;
  // Messages are not filtered by membership (thesis §4.1): a server being added must accept
  // the leader's entries before it knows it is a member, and voting for a candidate that is
  // not in our configuration is harmless; only voters' votes are counted.
  const Term mt = payload_term(msg.payload);
  const auto* vreq = std::get_if<VoteRequest>(&msg.payload);
  const auto* vresp = std::get_if<VoteResponse>(&msg.payload);
  const bool from_leader = std::holds_alternative<AppendEntries>(msg.payload) ||
                           std::holds_alternative<InstallSnapshot>(msg.payload) ||
                           std::holds_alternative<TimeoutNow>(msg.payload);

  if (mt > term_) {
    // While we believe a leader is alive (heard within the minimum election timeout), a vote
    // request is from a disruptive server and is ignored (thesis §4.2.3), unless the leader
    // itself asked for that election (a transfer).
    bool in_lease = cfg_.check_quorum && !leader_.empty() &&
                    election_elapsed_ < cfg_.election_timeout;
    if (vreq && vreq->pre_vote) {
      // Pre-vote never changes our term; handled below.
    } else if (vresp && vresp->pre_vote && vresp->granted) {
      // A granted pre-vote carries the term we would campaign in, not the voter's term.
    } else if (vreq && in_lease && !vreq->transfer) {
      return;
    } else {
      // §5.1: any higher term makes us a follower of that term.
      become_follower(mt, from_leader ? msg.from : NodeId{});
    }
  } else if (mt < term_) {
    // Stale sender: tell it our term so it steps down (a stale leader or candidate).
    if (std::holds_alternative<AppendEntries>(msg.payload) || std::holds_alternative<InstallSnapshot>(msg.payload))
      send(msg.from, AppendResponse{term_, false, 0});
    else if (vreq)
      send(msg.from, VoteResponse{term_, false, vreq->pre_vote});
    return;
  }

  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, VoteRequest>) on_vote_request(msg.from, m);
        else if constexpr (std::is_same_v<T, VoteResponse>) on_vote_response(msg.from, m);
        else if constexpr (std::is_same_v<T, AppendEntries>) on_append(msg.from, m);
        else if constexpr (std::is_same_v<T, AppendResponse>) on_append_response(msg.from, m);
        else if constexpr (std::is_same_v<T, InstallSnapshot>) on_install_snapshot(msg.from, m);
        else if constexpr (std::is_same_v<T, SnapshotResponse>) on_snapshot_response(msg.from, m);
        else on_timeout_now(msg.from, m);
      },
      msg.payload);
}

void RaftNode::on_vote_request(const NodeId& from, const VoteRequest& r) {
  bool up_to_date = log_up_to_date(r.last_log_index, r.last_log_term);
  if (r.pre_vote) {
    // Grant if a real election in r.term could succeed here: the term is newer, the log is
    // at least as current, and we have no live leader.
    bool in_lease = !leader_.empty() && election_elapsed_ < cfg_.election_timeout;
    bool grant = r.term > term_ && up_to_date && !in_lease;
    send(from, VoteResponse{grant ? r.term : term_, grant, true});
    return;
  }
  // r.term == term_ here. §5.2/§5.4.1: one vote per term, only for an up-to-date log.
  bool grant = (voted_for_.empty() || voted_for_ == from) && up_to_date && role_ != Role::kLeader;
  if (grant) {
    if (voted_for_ != from) {
      voted_for_ = from;
      hard_state_dirty_ = true;  // the vote must be durable before the response is sent
    }
    reset_election_timer();
  }
  send(from, VoteResponse{term_, grant, false});
}

void RaftNode::on_vote_response(const NodeId& from, const VoteResponse& r) {
  if (!membership_.is_voter(from)) return;  // only voters' votes count
  if (r.pre_vote) {
    if (role_ != Role::kPreCandidate || r.term != term_ + 1 || !r.granted) return;
    votes_.insert(from);
    if (count_voters(votes_) >= quorum()) become_candidate();
    return;
  }
  if (role_ != Role::kCandidate || !r.granted) return;
  votes_.insert(from);
  if (count_voters(votes_) >= quorum()) become_leader();
}

void RaftNode::on_timeout_now(const NodeId& from, const TimeoutNow& t) {
  (void)from;
  // Only the leader of our term sends it (the term check in step() guarantees the term).
  if (t.term != term_ || role_ == Role::kLeader || !is_voter() || !campaign_allowed_) return;
  become_candidate(true);  // no pre-vote: the leader vouches that an election is wanted
}

bool RaftNode::has_output() const {
  return hard_state_dirty_ || persist_from_ != 0 || !outbox_.empty() || applied_ < commit_ ||
         role_dirty_ || snapshot_dirty_ || snapshot_to_apply_ || broadcast_pending_ || commit_notice_pending_;
}

Output RaftNode::get_output() {
  if (role_ == Role::kLeader) {
    if (broadcast_pending_) broadcast_append();
    if (commit_notice_pending_) broadcast_commit();  // to those the appends did not tell
  }
  broadcast_pending_ = commit_notice_pending_ = false;
  Output out;
  if (hard_state_dirty_) out.hard_state = HardState{term_, voted_for_};
  hard_state_dirty_ = false;
  if (snapshot_dirty_) {
    out.snapshot = snap_;
    out.snapshot_discards_log = snapshot_discards_log_;
  }
  snapshot_dirty_ = snapshot_discards_log_ = false;
  if (persist_from_ != 0) {
    out.entries.reserve(last_index() + 1 - persist_from_);
    for (Index i = std::max(persist_from_, snap_.index + 1); i <= last_index(); ++i) out.entries.push_back(entry(i));
    persist_from_ = 0;
  }
  out.messages = std::move(outbox_);
  outbox_.clear();
  if (snapshot_to_apply_) out.snapshot_to_apply = snap_;
  snapshot_to_apply_ = false;
  for (Index i = applied_ + 1; i <= commit_; ++i) out.committed.push_back(entry(i));
  applied_ = commit_;
  if (role_dirty_) out.role_changed = role_;
  role_dirty_ = false;
  return out;
}

}  // namespace nats::raft
