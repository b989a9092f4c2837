// RaftNode, part 2: log replication (the leader's per-follower progress, batching and
// pipelining, the AppendEntries consistency check), commitment, compaction and snapshots.
// See raft_node.h for the output contract and raft_node.cpp for elections.
#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>

#include "raft/raft_node.h"
#include "raft/wire.h"

namespace nats::raft {

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

void RaftNode::send_append(const NodeId& to, bool heartbeat) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  if (pr.snapshotting) return;  // tick() paces the chunks until the snapshot is installed
  if (pr.next <= snap_.index) {
    // The entries it needs were compacted away: it gets the snapshot instead.
    send_snapshot_chunk(to);
    return;
  }
  if (pr.probing) {
    // Where its log matches ours is unknown: one append at a time, resent on heartbeats.
    if (pr.probe_sent && !heartbeat) return;
    // A repeated probe carries no entries: its answer says the same, without resending data.
    send_entries(to, pr, pr.next, false, pr.probe_sent);
    pr.probe_sent = true;
    return;
  }
  // Replicating: pipeline appends up to the in-flight window, moving next optimistically. A
  // loss shows up as a rejection of a later append (or as a stall seen on heartbeats).
  const Index window = cfg_.max_inflight_appends * cfg_.max_entries_per_append;
  bool sent = false;
  while (pr.next <= last_index() && pr.next - 1 - pr.match < window) {
    send_entries(to, pr, pr.next, true);
    sent = true;
  }
  // A heartbeat proves only what is known to match, so it never races entries in flight.
  if (!sent && heartbeat) send_entries(to, pr, std::max(pr.match, snap_.index) + 1, false, true);
}

void RaftNode::send_entries(const NodeId& to, Progress& pr, Index from, bool advance, bool empty) {
  assert(from >= 1 && from > snap_.index && from <= last_index() + 1);
  AppendEntries a;
  a.term = term_;
  a.prev_log_index = from - 1;
  a.prev_log_term = term_at(from - 1);
  Index end = empty ? from - 1 : std::min<Index>(last_index(), a.prev_log_index + cfg_.max_entries_per_append);
  a.entries.reserve(end + 1 - from);
  for (Index i = from; i <= end; ++i) a.entries.push_back(entry(i));
  a.leader_commit = commit_;
  pr.sent_commit = std::min(commit_, end);  // what it may commit from this append
  if (advance) pr.next = end + 1;
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

void RaftNode::broadcast_append(bool heartbeat) {
  for (const auto& [p, pr] : progress_) send_append(p, heartbeat);
  broadcast_pending_ = false;
}

void RaftNode::broadcast_commit() {
  for (auto& [p, pr] : progress_) {
    // A probe or a snapshot in progress goes at its own pace. A follower may commit what we
    // committed up to what it is known to have (an append proves no more than its own
    // entries match): told unless an append sent since carried that much.
    if (pr.probing || pr.snapshotting) continue;
    const Index can = std::min(commit_, pr.match);
    if (can <= pr.sent_commit) continue;
    send_append(p);  // new entries, if any, carry it
    if (pr.sent_commit < can) send_entries(p, pr, std::max(pr.match, snap_.index) + 1, false, true);
  }
}

void RaftNode::detect_stalls() {
  // Entries in flight but no progress for half an election timeout: the last appends were lost
  // (later ones would have been rejected and said so). Probe from match again.
  const int limit = std::max(2, cfg_.election_timeout / std::max(1, cfg_.heartbeat_interval) / 2);
  for (auto& [p, pr] : progress_) {
    if (pr.probing || pr.snapshotting || pr.next - 1 <= pr.match) {
      pr.stalled = 0;
      continue;
    }
    if (++pr.stalled >= limit) {
      pr.stalled = 0;
      pr.probing = true;
      pr.probe_sent = false;
      pr.next = pr.match + 1;
    }
  }
}

void RaftNode::maybe_advance_commit() {
  std::vector<Index>& matched = scratch_;  // reused: this runs on every ack
  matched.clear();
  for (const auto& v : membership_.voters)
    matched.push_back(v == cfg_.id ? last_index() : match_index(v));  // our own log is persisted first
  if (matched.empty()) return;
  auto nth = matched.begin() + static_cast<ptrdiff_t>(quorum() - 1);
  std::nth_element(matched.begin(), nth, matched.end(), std::greater<>());
  Index n = *nth;  // highest index stored on a quorum
  // §5.4.2: only current-term entries are committed by counting replicas (Figure 8).
  if (n > commit_ && term_at(n) == term_) {
    set_commit(n);
    commit_notice_pending_ = cfg_.notify_commit;
  }
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

std::optional<Index> RaftNode::propose(std::string data) {
  if (role_ != Role::kLeader || transferring()) return std::nullopt;
  append_local(Entry{term_, last_index() + 1, EntryType::kNormal, std::move(data)});
  // Sent from get_output(): proposals made before the owner drains share appends.
  broadcast_pending_ = true;
  if (membership_.voters.size() == 1) maybe_advance_commit();  // a single-node group commits at once
  return last_index();
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
    // Probably overtaken by an earlier append still in flight: hold it (bounded) rather than
    // make the leader resend everything from here. If the earlier one was lost, the leader
    // notices the stall and probes.
    if (!a.entries.empty() && held_.size() < cfg_.max_inflight_appends) {
      held_.emplace(a.prev_log_index, a);
      return;
    }
    send(from, AppendResponse{term_, false, last_index(), a.prev_log_index});
    return;
  }
  if (term_at(prev) != prev_term) {
    // Skip back over the whole conflicting term so the leader converges in few round trips.
    // Entries up to commit_ are known to match any current leader (Leader Completeness).
    Term bad = term_at(prev);
    Index hint = prev - 1;
    while (hint > commit_ && term_at(hint) == bad) --hint;
    send(from, AppendResponse{term_, false, hint, a.prev_log_index});
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
  // Held appends that now connect to our log (depth bounded by the held_ limit).
  while (!held_.empty() && held_.begin()->first <= last_index()) {
    AppendEntries next = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    on_append(from, next);
  }
}

void RaftNode::on_append_response(const NodeId& from, const AppendResponse& r) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(from);
  if (it == progress_.end()) return;  // not (or no longer) a member
  recently_active_.insert(from);
  Progress& pr = it->second;
  if (r.success) {
    // Responses may arrive reordered, so progress only moves forward.
    Index index = std::min(r.index, last_index());
    if (index > pr.match) {
      pr.match = index;
      pr.stalled = 0;
    }
    if (pr.snapshotting && pr.match >= pr.snap_index) pr.snapshotting = false;
    if (pr.probing && index == pr.match) {
      pr.probing = false;  // found where it matches: pipeline from there
      pr.next = pr.match + 1;
    }
    pr.next = std::max(pr.next, pr.match + 1);  // invariant: match < next
    // A follower whose ack comes after the quorum's is told the commit it now has the
    // entries for (Config::notify_commit; broadcast_commit sends only what is news).
    if (cfg_.notify_commit) commit_notice_pending_ = true;
    maybe_advance_commit();
    if (role_ != Role::kLeader) return;
    if (from == transfer_target_ && pr.match == last_index()) send(from, TimeoutNow{term_});
    send_append(from);
    return;
  }
  if (pr.snapshotting) return;
  // Only a rejection of what we last sent counts: while replicating, one of an append beyond
  // match (earlier ones are delayed, the follower acked match in this term and persisted it);
  // while probing, one of the probe itself.
  if (pr.probing ? r.reject != pr.next - 1 : r.reject <= pr.match) return;
  pr.next = std::max(pr.match + 1, std::min(r.reject, r.index + 1));
  pr.probing = true;
  pr.probe_sent = false;
  send_append(from);
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

}  // namespace nats::raft
