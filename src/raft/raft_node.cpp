// See raft_node.h. Rule references are to the Raft paper (Ongaro & Ousterhout 2014, "§5.x")
// and Ongaro's thesis ("thesis §x") for pre-vote and the disruptive-server defences.
#include "raft/raft_node.h"

#include "raft/wire.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>

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

bool Membership::is_voter(const NodeId& id) const {
  return std::find(voters.begin(), voters.end(), id) != voters.end();
}

bool Membership::is_learner(const NodeId& id) const {
  return std::find(learners.begin(), learners.end(), id) != learners.end();
}

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
  if (t > term_) set_term(t);
  set_role(Role::kFollower);
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  transfer_target_.clear();
  reset_election_timer();
}

void RaftNode::become_pre_candidate() {
  // thesis §9.6: ask first whether we could win, without touching our term, so a node that
  // was partitioned away cannot force a working leader to step down when it returns.
  set_role(Role::kPreCandidate);
  leader_.clear();
  reset_election_timer();
  campaign(true);
}

void RaftNode::become_candidate(bool transfer) {
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

void RaftNode::append_local(Entry e) {
  assert(e.index == last_index() + 1);
  if (persist_from_ == 0 || e.index < persist_from_) persist_from_ = e.index;
  bool config = e.type == EntryType::kConfig;
  log_.push_back(std::move(e));
  if (config) {
    // thesis §4.1: a server uses the latest configuration in its log, committed or not.
    Membership m;
    if (wire::decode_membership(log_.back().data, m)) {
      membership_ = std::move(m);
      membership_index_ = last_index();
      on_membership_changed();
    }
  }
}

void RaftNode::truncate_after(Index i) {
  assert(i >= commit_ && i >= snap_.index);
  log_.resize(i - snap_.index);
  if (persist_from_ == 0 || i + 1 < persist_from_) persist_from_ = i + 1;
  if (membership_index_ > i) recompute_membership();  // the configuration we used is gone
}

Membership RaftNode::membership_at(Index i) const {
  for (Index j = std::min(i, last_index()); j > snap_.index; --j) {
    Membership m;
    if (entry(j).type == EntryType::kConfig && wire::decode_membership(entry(j).data, m)) return m;
  }
  return snap_.membership;
}

void RaftNode::recompute_membership() {
  membership_index_ = 0;
  membership_ = snap_.membership;
  for (Index j = last_index(); j > snap_.index; --j) {
    Membership m;
    if (entry(j).type == EntryType::kConfig && wire::decode_membership(entry(j).data, m)) {
      membership_ = std::move(m);
      membership_index_ = j;
      break;
    }
  }
  on_membership_changed();
}

void RaftNode::on_membership_changed() {
  if (role_ != Role::kLeader) {
    // A node that is not a voter (a learner, or removed) never campaigns.
    if (!is_voter() && (role_ == Role::kCandidate || role_ == Role::kPreCandidate)) become_follower(term_, {});
    return;
  }
  forget_removed_peers();
  auto add = [&](const NodeId& p) {
    if (p != cfg_.id && !progress_.count(p)) progress_[p].next = last_index() + 1;
  };
  for (const auto& p : membership_.voters) add(p);
  for (const auto& p : membership_.learners) add(p);
  if (!transfer_target_.empty() && !membership_.is_voter(transfer_target_)) transfer_target_.clear();
}

void RaftNode::forget_removed_peers() {
  // A removed server keeps receiving the log until its removal commits, so it normally learns
  // that it was removed (and stops campaigning) instead of timing out in the dark.
  if (membership_index_ > commit_) return;
  for (auto it = progress_.begin(); it != progress_.end();)
    it = membership_.contains(it->first) ? std::next(it) : progress_.erase(it);
}

void RaftNode::send(const NodeId& to, Payload p) {
  outbox_.push_back(Message{cfg_.id, to, std::move(p)});
}

void RaftNode::send_append(const NodeId& to) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  if (pr.snapshotting) return;  // tick() paces the chunks until the snapshot is installed
  if (pr.next <= snap_.index) {
    // The entries it needs were compacted away: it gets the snapshot instead.
    send_snapshot_chunk(to);
    return;
  }
  Index next = pr.next;
  assert(next >= 1 && next <= last_index() + 1);
  AppendEntries a;
  a.term = term_;
  a.prev_log_index = next - 1;
  a.prev_log_term = term_at(next - 1);
  Index end = std::min<Index>(last_index(), a.prev_log_index + cfg_.max_entries_per_append);
  a.entries.reserve(end + 1 - next);
  for (Index i = next; i <= end; ++i) a.entries.push_back(entry(i));
  a.leader_commit = commit_;
  // Optimistic pipelining: assume delivery and move next past what was sent, so heartbeats
  // and acks carry new entries instead of resending the same ones. A loss shows up as a
  // rejection (prev beyond the follower's log) and rewinds next in on_append_response.
  pr.next = end + 1;
  send(to, std::move(a));
}

void RaftNode::send_snapshot_chunk(const NodeId& to) {
  Progress& pr = progress_.at(to);
  if (!pr.snapshotting || pr.snap_index != snap_.index) {
    pr.snapshotting = true;
    pr.snap_index = snap_.index;
    pr.snap_offset = 0;
  }
  pr.snap_wait = 0;
  pr.next = snap_.index + 1;
  InstallSnapshot s;
  s.term = term_;
  s.last_index = snap_.index;
  s.last_term = snap_.term;
  s.membership = snap_.membership;
  s.offset = std::min<uint64_t>(pr.snap_offset, snap_.data.size());
  s.data = snap_.data.substr(s.offset, std::max<size_t>(1, cfg_.max_snapshot_chunk));
  s.done = s.offset + s.data.size() == snap_.data.size();
  send(to, std::move(s));
}

void RaftNode::broadcast_append() {
  for (const auto& [p, pr] : progress_) send_append(p);
}

void RaftNode::maybe_advance_commit() {
  std::vector<Index> matched;
  for (const auto& v : membership_.voters)
    matched.push_back(v == cfg_.id ? last_index() : match_index(v));  // our own log is persisted first
  if (matched.empty()) return;
  std::sort(matched.begin(), matched.end(), std::greater<>());
  Index n = matched[quorum() - 1];  // highest index stored on a quorum
  // §5.4.2: only current-term entries are committed by counting replicas (Figure 8).
  if (n > commit_ && term_at(n) == term_) set_commit(n);
  forget_removed_peers();
  if (membership_index_ <= commit_ && !is_voter()) {
    // thesis §4.2.2: a leader that removed itself leads until the removal commits, then goes.
    step_down();
    return;
  }
  maybe_promote_learner();
}

void RaftNode::set_commit(Index c) {
  assert(c >= commit_ && c <= last_index());
  commit_ = c;
}

void RaftNode::maybe_promote_learner() {
  if (role_ != Role::kLeader || transferring() || membership_index_ > commit_ || term_at(commit_) != term_) return;
  for (const auto& l : membership_.learners) {
    if (match_index(l) < commit_) continue;
    // Caught up: it can now vote without slowing commits or risking availability (thesis §4.2.1).
    Membership next = membership_;
    next.learners.erase(std::find(next.learners.begin(), next.learners.end(), l));
    next.voters.push_back(l);
    change_membership(std::move(next));
    return;
  }
}

std::optional<Index> RaftNode::change_membership(Membership next) {
  append_local(Entry{term_, last_index() + 1, EntryType::kConfig, wire::encode_membership(next)});
  Index idx = last_index();
  broadcast_append();
  maybe_advance_commit();
  return idx;
}

std::optional<Index> RaftNode::add_peer(const NodeId& id) {
  // One change at a time, and only once this term has committed an entry: a new leader may
  // still hold an uncommitted change of its predecessor (the single-server change bug).
  if (role_ != Role::kLeader || transferring() || membership_index_ > commit_ || term_at(commit_) != term_) return std::nullopt;
  if (id.empty() || membership_.contains(id)) return std::nullopt;
  Membership next = membership_;
  next.learners.push_back(id);
  return change_membership(std::move(next));
}

std::optional<Index> RaftNode::remove_peer(const NodeId& id) {
  if (role_ != Role::kLeader || transferring() || membership_index_ > commit_ || term_at(commit_) != term_) return std::nullopt;
  if (!membership_.contains(id)) return std::nullopt;
  Membership next = membership_;
  std::erase(next.voters, id);
  std::erase(next.learners, id);
  if (next.voters.empty()) return std::nullopt;
  return change_membership(std::move(next));
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
      broadcast_append();  // heartbeat; a follower that missed entries rejects it, which rewinds next
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
  if (!is_voter()) {
    election_elapsed_ = std::min(election_elapsed_, randomized_timeout_);  // never campaigns
    return;
  }
  if (election_elapsed_ >= randomized_timeout_) {
    if (cfg_.pre_vote) become_pre_candidate();
    else become_candidate();
  }
}

std::optional<Index> RaftNode::propose(std::string data) {
  if (role_ != Role::kLeader || transferring()) return std::nullopt;
  append_local(Entry{term_, last_index() + 1, EntryType::kNormal, std::move(data)});
  broadcast_append();
  maybe_advance_commit();  // a single-node group commits at once
  return last_index();
}

void RaftNode::campaign_now() {
  if (role_ == Role::kLeader || !is_voter()) return;
  if (cfg_.pre_vote) become_pre_candidate();
  else become_candidate();
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
  else send_append(target);  // its acks bring it up to date; the last one triggers TimeoutNow
  return true;
}

bool RaftNode::compact(Index index, std::string data) {
  if (index <= snap_.index || index > applied_) return false;
  Snapshot s{index, term_at(index), membership_at(index), std::move(data)};
  log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(index - snap_.index));
  snap_ = std::move(s);
  if (persist_from_ != 0 && persist_from_ <= index) persist_from_ = index < last_index() ? index + 1 : 0;
  snapshot_dirty_ = true;
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

void RaftNode::on_append(const NodeId& from, const AppendEntries& a) {
  // a.term == term_, so `from` is this term's only leader (Election Safety).
  assert(role_ != Role::kLeader);
  if (role_ != Role::kFollower || leader_ != from) {
    become_follower(term_, from);
  } else {
    election_elapsed_ = 0;
  }

  Index prev = a.prev_log_index;
  Term prev_term = a.prev_log_term;
  size_t skip = 0;
  if (prev < snap_.index) {
    // Our snapshot covers up to snap_.index; it is committed, so it matches any leader's log.
    if (prev + a.entries.size() <= snap_.index) {
      send(from, AppendResponse{term_, true, snap_.index});
      return;
    }
    skip = snap_.index - prev;
    prev = snap_.index;
    prev_term = snap_.term;
  }
  // §5.3 consistency check: our log must contain prev with prev_term.
  if (prev > last_index()) {
    send(from, AppendResponse{term_, false, last_index()});
    return;
  }
  if (term_at(prev) != prev_term) {
    // Skip back over the whole conflicting term so the leader converges in few round trips.
    // Entries up to commit_ are known to match any current leader (Leader Completeness).
    Term bad = term_at(prev);
    Index hint = prev - 1;
    while (hint > commit_ && term_at(hint) == bad) --hint;
    send(from, AppendResponse{term_, false, hint});
    return;
  }

  // Append what is new; on the first entry that conflicts (same index, other term) drop it and
  // everything after (§5.3). A matching entry is never truncated, which keeps a delayed,
  // shorter AppendEntries from undoing a newer one.
  for (size_t k = skip; k < a.entries.size(); ++k) {
    const Entry& e = a.entries[k];
    if (e.index <= last_index()) {
      if (term_at(e.index) == e.term) continue;
      assert(e.index > commit_);  // committed entries are never overwritten
      truncate_after(e.index - 1);
    }
    append_local(e);
  }

  // Only the prefix this message proved to match may be committed.
  Index last_new = a.prev_log_index + a.entries.size();
  // A delayed AppendEntries may prove less than we already know; commit never moves back.
  Index proven = std::min(a.leader_commit, last_new);
  if (proven > commit_) set_commit(proven);
  send(from, AppendResponse{term_, true, last_new});
}

void RaftNode::on_append_response(const NodeId& from, const AppendResponse& r) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(from);
  if (it == progress_.end()) return;  // not (or no longer) a member
  recently_active_.insert(from);
  Progress& pr = it->second;
  if (r.success) {
    // Responses may arrive reordered, so progress only moves forward.
    pr.match = std::max(pr.match, std::min(r.index, last_index()));
    pr.next = std::max(pr.next, pr.match + 1);  // invariant: match < next
    if (pr.snapshotting && pr.match >= pr.snap_index) pr.snapshotting = false;
    maybe_advance_commit();
    if (role_ != Role::kLeader) return;
    if (from == transfer_target_ && pr.match == last_index()) send(from, TimeoutNow{term_});
    if (pr.next <= last_index()) send_append(from);
    return;
  }
  // A rejection is current only if it moves next back, but never to or below match: the
  // follower acked match in this term and persisted it, so a rejection at or below match
  // is a delayed one and is ignored.
  Index retry = std::max(r.index + 1, pr.match + 1);
  if (retry < pr.next) {
    pr.next = retry;
    send_append(from);
  }
}

void RaftNode::on_install_snapshot(const NodeId& from, const InstallSnapshot& s) {
  assert(role_ != Role::kLeader);
  if (role_ != Role::kFollower || leader_ != from) become_follower(term_, from);
  else election_elapsed_ = 0;
  if (s.last_index <= commit_) {
    // Already have it (a resend after our completion reply was lost): our committed prefix
    // matches the leader's log.
    incoming_snap_.reset();
    send(from, AppendResponse{term_, true, commit_});
    return;
  }
  if (s.offset == 0) {
    incoming_snap_ = Snapshot{s.last_index, s.last_term, s.membership, {}};
  } else if (!incoming_snap_ || incoming_snap_->index != s.last_index || incoming_snap_->term != s.last_term ||
             incoming_snap_->data.size() != s.offset) {
    bool same = incoming_snap_ && incoming_snap_->index == s.last_index && incoming_snap_->term == s.last_term;
    send(from, SnapshotResponse{term_, s.last_index, same ? incoming_snap_->data.size() : 0});
    return;
  }
  incoming_snap_->data += s.data;
  if (!s.done) {
    send(from, SnapshotResponse{term_, s.last_index, incoming_snap_->data.size()});
    return;
  }
  Snapshot snap = std::move(*incoming_snap_);
  incoming_snap_.reset();
  Index idx = snap.index;
  install_snapshot(std::move(snap));
  send(from, AppendResponse{term_, true, idx});
}

void RaftNode::install_snapshot(Snapshot s) {
  assert(s.index > commit_);
  // thesis §5.1: keep the entries after the snapshot if our log agrees at its index.
  bool keep = s.index <= last_index() && term_at(s.index) == s.term;
  if (keep) {
    log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(s.index - snap_.index));
  } else {
    log_.clear();
    snapshot_discards_log_ = true;
  }
  snap_ = std::move(s);
  if (persist_from_ != 0 && persist_from_ <= snap_.index) persist_from_ = snap_.index < last_index() ? snap_.index + 1 : 0;
  commit_ = applied_ = snap_.index;
  snapshot_dirty_ = true;
  snapshot_to_apply_ = true;
  recompute_membership();
}

void RaftNode::on_snapshot_response(const NodeId& from, const SnapshotResponse& r) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(from);
  if (it == progress_.end()) return;
  recently_active_.insert(from);
  Progress& pr = it->second;
  if (!pr.snapshotting || r.last_index != pr.snap_index || pr.snap_index != snap_.index) return;
  // Equal offsets: that chunk is already on its way (a duplicate answer).
  if (r.next_offset == pr.snap_offset || r.next_offset > snap_.data.size()) return;
  pr.snap_offset = r.next_offset;
  send_snapshot_chunk(from);
}

void RaftNode::on_timeout_now(const NodeId& from, const TimeoutNow& t) {
  (void)from;
  // Only the leader of our term sends it (the term check in step() guarantees the term).
  if (t.term != term_ || role_ == Role::kLeader || !is_voter()) return;
  become_candidate(true);  // no pre-vote: the leader vouches that an election is wanted
}

bool RaftNode::has_output() const {
  return hard_state_dirty_ || persist_from_ != 0 || !outbox_.empty() || applied_ < commit_ ||
         role_dirty_ || snapshot_dirty_ || snapshot_to_apply_;
}

Output RaftNode::get_output() {
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
