#pragma once
// A read barrier on the meta log for a follower (Raft's "ReadIndex", thesis §6.4, without the
// leadership check): which log index this server's meta state must have applied to hold
// every entry the leader had committed at a given moment.
//
// A follower cannot tell from what it has heard: a message received after the moment may
// have been sent before it (an append carries the commit index of when it was sent), and a
// follower outside the quorum of an entry learns of the entry itself only later. So it asks
// the leader, after the moment: `$NRG.MRI.<leader id>` answered by the meta leader on
// `$NRG.MRIR.<asker id>` with "<seq> <last log index>". The last index, not the commit index:
// it holds every committed entry also right after a leader change (Leader Completeness),
// when the new leader's commit index may still be behind its predecessor's.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "subject/subscription.h"

namespace nats {
class Server;
class Account;
}  // namespace nats

namespace nats::jetstream {

class RaftGroup;

class MetaReadIndex : public std::enable_shared_from_this<MetaReadIndex> {
 public:
  using Clock = std::chrono::steady_clock;
  // `group` returns the meta group once it runs (null before).
  MetaReadIndex(Server& server, Account& sys, std::string self_id, std::function<RaftGroup*()> group);
  void start();
  void stop();

  // The meta log index that holds everything the leader had committed at `since`; nullopt
  // while not known yet (a question to the leader is then on its way: ask again shortly).
  // On the leader: its last index now.
  std::optional<uint64_t> index_since(Clock::time_point since);

 private:
  void on_request(std::string_view reply, std::string_view body);
  void on_answer(std::string_view body);

  Server& server_;
  Account& sys_;
  const std::string self_id_;
  std::function<RaftGroup*()> group_;
  SubscriptionPtr req_sub_, ans_sub_;

  std::mutex mu_;  // below
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Clock::time_point> asked_;  // questions in flight: seq -> when asked
  Clock::time_point answered_asked_at_{};        // the latest-asked answered question
  uint64_t answered_index_ = 0;
};

}  // namespace nats::jetstream
