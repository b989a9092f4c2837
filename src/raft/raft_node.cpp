// See raft_node.h. Rule references are to the Raft paper (Ongaro & Ousterhout 2014, "§5.x")
// and Ongaro's thesis ("thesis §x") for pre-vote and the disruptive-server defences.
#include "raft/raft_node.h"

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

RaftNode::RaftNode(Config cfg, PersistedState restored)
    : cfg_(std::move(cfg)),
      rng_(cfg_.rng_seed ^ std::hash<std::string>{}(cfg_.id)),
      term_(restored.hard_state.term),
      voted_for_(std::move(restored.hard_state.voted_for)),
      log_(std::move(restored.log)) {
  for (size_t i = 0; i < log_.size(); ++i) assert(log_[i].index == i + 1);
  reset_election_timer();
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
  next_index_.clear();
  match_index_.clear();
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

void RaftNode::become_candidate() {
  set_term(term_ + 1);
  voted_for_ = cfg_.id;
  set_role(Role::kCandidate);
  leader_.clear();
  reset_election_timer();
  campaign(false);
}

void RaftNode::campaign(bool pre_vote) {
  votes_.clear();
  votes_.insert(cfg_.id);
  if (votes_.size() >= quorum()) {
    pre_vote ? become_candidate() : become_leader();
    return;
  }
  VoteRequest req{pre_vote ? term_ + 1 : term_, last_index(), last_term(), pre_vote};
  for (const auto& p : cfg_.peers)
    if (p != cfg_.id) send(p, req);
}

void RaftNode::become_leader() {
  set_role(Role::kLeader);
  leader_ = cfg_.id;
  votes_.clear();
  next_index_.clear();
  match_index_.clear();
  recently_active_.clear();
  for (const auto& p : cfg_.peers) {
    if (p == cfg_.id) continue;
    next_index_[p] = last_index() + 1;
    match_index_[p] = 0;
  }
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  // §5.4.2: a leader may only count replicas for entries of its own term, so it appends one
  // at once; committing it commits everything before it.
  append_local(Entry{term_, last_index() + 1, EntryType::kNoop, {}});
  broadcast_append();
  maybe_advance_commit();
}

void RaftNode::append_local(Entry e) {
  assert(e.index == last_index() + 1);
  if (persist_from_ == 0 || e.index < persist_from_) persist_from_ = e.index;
  log_.push_back(std::move(e));
}

void RaftNode::send(const NodeId& to, Payload p) {
  outbox_.push_back(Message{cfg_.id, to, std::move(p)});
}

void RaftNode::send_append(const NodeId& to) {
  Index next = next_index_[to];
  assert(next >= 1 && next <= last_index() + 1);
  AppendEntries a;
  a.term = term_;
  a.prev_log_index = next - 1;
  a.prev_log_term = term_at(next - 1);
  Index end = std::min<Index>(last_index(), a.prev_log_index + cfg_.max_entries_per_append);
  for (Index i = next; i <= end; ++i) a.entries.push_back(log_[i - 1]);
  a.leader_commit = commit_;
  // Optimistic pipelining: assume delivery and move next past what was sent, so heartbeats
  // and acks carry new entries instead of resending the same ones. A loss shows up as a
  // rejection (prev beyond the follower's log) and rewinds next in on_append_response.
  next_index_[to] = end + 1;
  send(to, std::move(a));
}

void RaftNode::broadcast_append() {
  for (const auto& p : cfg_.peers)
    if (p != cfg_.id) send_append(p);
}

void RaftNode::maybe_advance_commit() {
  std::vector<Index> matched{last_index()};  // the leader's own log counts (persisted first)
  for (const auto& [p, m] : match_index_) matched.push_back(m);
  std::sort(matched.begin(), matched.end(), std::greater<>());
  Index n = matched[quorum() - 1];  // highest index stored on a quorum
  // §5.4.2: only current-term entries are committed by counting replicas (Figure 8).
  if (n > commit_ && term_at(n) == term_) set_commit(n);
}

void RaftNode::set_commit(Index c) {
  assert(c >= commit_ && c <= last_index());
  commit_ = c;
}

void RaftNode::tick() {
  ++election_elapsed_;
  if (role_ == Role::kLeader) {
    if (++heartbeat_elapsed_ >= cfg_.heartbeat_interval) {
      heartbeat_elapsed_ = 0;
      broadcast_append();  // heartbeat; a follower that missed entries rejects it, which rewinds next
    }
    if (cfg_.check_quorum && election_elapsed_ >= cfg_.election_timeout) {
      election_elapsed_ = 0;
      // A leader cut off from a quorum cannot commit; stepping down lets clients find the
      // real leader, and makes the lease that followers grant below sound.
      if (recently_active_.size() + 1 < quorum()) {
        become_follower(term_, {});
        return;
      }
      recently_active_.clear();
    }
    return;
  }
  if (election_elapsed_ >= randomized_timeout_) {
    if (cfg_.pre_vote) become_pre_candidate();
    else become_candidate();
  }
}

std::optional<Index> RaftNode::propose(std::string data) {
  if (role_ != Role::kLeader) return std::nullopt;
  append_local(Entry{term_, last_index() + 1, EntryType::kNormal, std::move(data)});
  broadcast_append();
  maybe_advance_commit();  // a single-node group commits at once
  return last_index();
}

void RaftNode::campaign_now() {
  if (role_ == Role::kLeader) return;
  if (cfg_.pre_vote) become_pre_candidate();
  else become_candidate();
}

void RaftNode::step_down() {
  if (role_ != Role::kLeader) return;
  become_follower(term_, {});
  // Wait longer than any peer's longest timeout (2x) before campaigning, so that one of the
  // others, whose timers run from our last heartbeat, normally wins: a cheap stand-in for a
  // leadership transfer.
  randomized_timeout_ = 3 * cfg_.election_timeout;
}

void RaftNode::step(const Message& msg) {
  if (msg.to != cfg_.id || msg.from == cfg_.id) return;
  if (std::find(cfg_.peers.begin(), cfg_.peers.end(), msg.from) == cfg_.peers.end()) return;
  const Term mt = payload_term(msg.payload);
  const auto* vreq = std::get_if<VoteRequest>(&msg.payload);
  const auto* vresp = std::get_if<VoteResponse>(&msg.payload);

  if (mt > term_) {
    // While we believe a leader is alive (heard within the minimum election timeout), a vote
    // request is from a disruptive server and is ignored (thesis §4.2.3).
    bool in_lease = cfg_.check_quorum && !leader_.empty() &&
                    election_elapsed_ < cfg_.election_timeout;
    if (vreq && vreq->pre_vote) {
      // Pre-vote never changes our term; handled below.
    } else if (vresp && vresp->pre_vote && vresp->granted) {
      // A granted pre-vote carries the term we would campaign in, not the voter's term.
    } else if (vreq && in_lease) {
      return;
    } else {
      // §5.1: any higher term makes us a follower of that term.
      become_follower(mt, std::holds_alternative<AppendEntries>(msg.payload) ? msg.from : NodeId{});
    }
  } else if (mt < term_) {
    // Stale sender: tell it our term so it steps down (a stale leader or candidate).
    if (std::holds_alternative<AppendEntries>(msg.payload))
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
        else on_append_response(msg.from, m);
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
  bool grant = (voted_for_.empty() || voted_for_ == from) && up_to_date;
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
  if (r.pre_vote) {
    if (role_ != Role::kPreCandidate || r.term != term_ + 1 || !r.granted) return;
    votes_.insert(from);
    if (votes_.size() >= quorum()) become_candidate();
    return;
  }
  if (role_ != Role::kCandidate || !r.granted) return;
  votes_.insert(from);
  if (votes_.size() >= quorum()) become_leader();
}

void RaftNode::on_append(const NodeId& from, const AppendEntries& a) {
  // a.term == term_, so `from` is this term's only leader (Election Safety).
  assert(role_ != Role::kLeader);
  if (role_ != Role::kFollower || leader_ != from) {
    become_follower(term_, from);
  } else {
    election_elapsed_ = 0;
  }

  // §5.3 consistency check: our log must contain prev_log_index with prev_log_term.
  if (a.prev_log_index > last_index()) {
    send(from, AppendResponse{term_, false, last_index()});
    return;
  }
  if (term_at(a.prev_log_index) != a.prev_log_term) {
    // Skip back over the whole conflicting term so the leader converges in few round trips.
    // Entries up to commit_ are known to match any current leader (Leader Completeness).
    Term bad = term_at(a.prev_log_index);
    Index hint = a.prev_log_index - 1;
    while (hint > commit_ && term_at(hint) == bad) --hint;
    send(from, AppendResponse{term_, false, hint});
    return;
  }

  // Append what is new; on the first entry that conflicts (same index, other term) drop it and
  // everything after (§5.3). A matching entry is never truncated, which keeps a delayed,
  // shorter AppendEntries from undoing a newer one.
  for (const auto& e : a.entries) {
    if (e.index <= last_index()) {
      if (term_at(e.index) == e.term) continue;
      assert(e.index > commit_);  // committed entries are never overwritten
      log_.resize(e.index - 1);
      if (persist_from_ == 0 || e.index < persist_from_) persist_from_ = e.index;
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
  recently_active_.insert(from);
  Index& next = next_index_[from];
  Index& match = match_index_[from];
  if (r.success) {
    // Responses may arrive reordered, so progress only moves forward.
    match = std::max(match, r.index);
    next = std::max(next, match + 1);  // invariant: match < next
    maybe_advance_commit();
    if (next <= last_index()) send_append(from);
    return;
  }
  // A rejection is current only if it moves next back, but never to or below match: the
  // follower acked match in this term and persisted it, so a rejection at or below match
  // is a delayed one and is ignored.
  Index retry = std::max(r.index + 1, match + 1);
  if (retry < next) {
    next = retry;
    send_append(from);
  }
}

bool RaftNode::has_output() const {
  return hard_state_dirty_ || persist_from_ != 0 || !outbox_.empty() || applied_ < commit_ ||
         role_dirty_;
}

Output RaftNode::get_output() {
  Output out;
  if (hard_state_dirty_) out.hard_state = HardState{term_, voted_for_};
  hard_state_dirty_ = false;
  if (persist_from_ != 0) {
    for (Index i = persist_from_; i <= last_index(); ++i) out.entries.push_back(log_[i - 1]);
    persist_from_ = 0;
  }
  out.messages = std::move(outbox_);
  outbox_.clear();
  for (Index i = applied_ + 1; i <= commit_; ++i) out.committed.push_back(log_[i - 1]);
  applied_ = commit_;
  if (role_dirty_) out.role_changed = role_;
  role_dirty_ = false;
  return out;
}

}  // namespace nats::raft
