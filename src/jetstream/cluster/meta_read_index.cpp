#include "jetstream/cluster/meta_read_index.h"

#include <charconv>

#include "jetstream/cluster/raft_group.h"
#include "server/server.h"

namespace nats::jetstream {

namespace {
// A question unanswered this long (lost with a leader change) is asked again.
constexpr auto kAskAgainAfter = std::chrono::milliseconds(250);

bool parse_u64(std::string_view s, uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

MetaReadIndex::MetaReadIndex(Server& server, Account& sys, std::string self_id, std::function<RaftGroup*()> group)
    : server_(server), sys_(sys), self_id_(std::move(self_id)), group_(std::move(group)) {}

void MetaReadIndex::start() {
  std::weak_ptr<MetaReadIndex> weak = weak_from_this();
  req_sub_ = server_.subscribe_internal(
      sys_, "$NRG.MRI." + self_id_,
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view body) {
        if (auto self = weak.lock()) self->on_request(reply, body);
      });
  ans_sub_ = server_.subscribe_internal(
      sys_, "$NRG.MRIR." + self_id_,
      [weak](const Subscription&, std::string_view, std::string_view, std::string_view, std::string_view body) {
        if (auto self = weak.lock()) self->on_answer(body);
      });
}

void MetaReadIndex::stop() {
  if (req_sub_) server_.unsubscribe_internal(sys_, req_sub_);
  if (ans_sub_) server_.unsubscribe_internal(sys_, ans_sub_);
  req_sub_.reset();
  ans_sub_.reset();
}

void MetaReadIndex::on_request(std::string_view reply, std::string_view body) {
  RaftGroup* g = group_();
  // Only the leader answers: a follower's log may miss entries the leader committed.
  if (!g || !g->is_leader() || reply.empty()) return;
  uint64_t seq = 0;
  if (!parse_u64(body, seq)) return;
  RaftStatus st = g->status();
  if (!st.is_leader) return;
  server_.publish_internal(sys_, reply, {}, {}, std::to_string(seq) + " " + std::to_string(st.last_index));
}

void MetaReadIndex::on_answer(std::string_view body) {
  auto sp = body.find(' ');
  uint64_t seq = 0, index = 0;
  if (sp == std::string_view::npos || !parse_u64(body.substr(0, sp), seq) || !parse_u64(body.substr(sp + 1), index))
    return;
  std::lock_guard lk(mu_);
  auto it = asked_.find(seq);
  if (it == asked_.end()) return;
  if (it->second >= answered_asked_at_) {
    answered_asked_at_ = it->second;
    answered_index_ = index;
  }
  // Older questions are answered by this one too (asked before it: a lower index will do).
  asked_.erase(asked_.begin(), std::next(it));
}

std::optional<uint64_t> MetaReadIndex::index_since(Clock::time_point since) {
  RaftGroup* g = group_();
  if (!g) return std::nullopt;
  if (g->is_leader()) {
    RaftStatus st = g->status();
    if (st.is_leader) return st.last_index;
  }
  std::string leader = g->leader();
  if (leader.empty() || leader == self_id_) return std::nullopt;
  uint64_t seq;
  {
    std::lock_guard lk(mu_);
    // Asked after `since`: the leader answered after it too.
    if (answered_asked_at_ > since) return answered_index_;
    auto now = Clock::now();
    for (const auto& [s, at] : asked_)
      if (at > since && now - at < kAskAgainAfter) return std::nullopt;  // its answer is on the way
    while (!asked_.empty() && now - asked_.begin()->second > std::chrono::seconds(10)) asked_.erase(asked_.begin());
    seq = next_seq_++;
    asked_[seq] = now;
  }
  server_.publish_internal(sys_, "$NRG.MRI." + leader, "$NRG.MRIR." + self_id_, {}, std::to_string(seq));
  return std::nullopt;
}

}  // namespace nats::jetstream
