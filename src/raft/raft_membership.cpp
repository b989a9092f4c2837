// RaftNode, part 3: membership (thesis chapter 4, single-server changes). A configuration is
// a kConfig log entry and takes effect as soon as it is appended; one change at a time.
#include <algorithm>

#include "raft/raft_node.h"
#include "raft/wire.h"

namespace nats::raft {

bool Membership::is_voter(const NodeId& id) const {
  return std::find(voters.begin(), voters.end(), id) != voters.end();
}

bool Membership::is_learner(const NodeId& id) const {
  return std::find(learners.begin(), learners.end(), id) != learners.end();
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

}  // namespace nats::raft
