// StreamGroup: log compaction to stream snapshots, and the catch-up of a replica whose store
// is behind a snapshot it was handed (see stream_group.h).
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "jetstream/cluster/stream_group.h"
#include "jetstream/jetstream.h"
#include "jetstream/store/file_store.h"
#include "net/event_loop.h"
#include "raft/wire.h"
#include "server/account.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {

bool test_hooks() {
  const char* t = std::getenv("NATSCPP_TEST_HOOKS");
  return t && std::string(t) == "1";
}

// A log is compacted after this many entries or this many bytes of proposals, whichever
// comes first: a count alone lets a stream of large messages grow its log (and a restart's
// replay) without bound. Test servers (NATSCPP_TEST_HOOKS=1) compact often so that the fault
// tests reach the snapshot and catch-up paths with a few hundred messages.
raft::Index compact_every() { return test_hooks() ? 200 : 8192; }
uint64_t compact_bytes() { return test_hooks() ? 1024 * 1024 : 8 * 1024 * 1024; }

constexpr size_t kBatchBytes = 256 * 1024;
constexpr auto kCatchupRetry = std::chrono::milliseconds(1000);

std::mutex g_paused_mu;
std::set<const Server*> g_paused;

bool catchup_paused(const Server* server) {
  std::lock_guard lk(g_paused_mu);
  return g_paused.count(server) > 0;
}

std::string catchup_subject(const std::string& group) { return "$NRG.CU." + group; }
std::string catchup_reply(const std::string& group, const std::string& id) { return "$NRG.CUR." + group + "." + id; }

}  // namespace

void StreamGroup::set_catchup_paused(const Server* server, bool paused) {
  std::lock_guard lk(g_paused_mu);
  if (paused) g_paused.insert(server);
  else g_paused.erase(server);
}

bool StreamGroup::catching_up() {
  std::lock_guard lk(cu_mu_);
  return catching_up_;
}

void StreamGroup::subscribe_catchup() {
  auto sys = js_.server().system_account();
  if (!sys) return;
  std::weak_ptr<StreamGroup> weak = shared_from_this();
  catchup_subs_.push_back(js_.server().subscribe_internal(
      *sys, catchup_subject(group_->name()),
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view body) {
        if (auto self = weak.lock()) self->serve_catchup(reply, body);
      }));
  catchup_subs_.push_back(js_.server().subscribe_internal(
      *sys, catchup_reply(group_->name(), self_id_),
      [weak](const Subscription&, std::string_view, std::string_view, std::string_view, std::string_view body) {
        if (auto self = weak.lock()) self->on_catchup_batch(body);
      }));
}

void StreamGroup::maybe_compact(raft::Index next_index) {
  if (next_index <= applying_index_) return;
  raft::Index done = applying_index_;  // everything of it is applied: the next entry begins
  applying_index_ = next_index;
  if (!group_ || done <= compacted_index_ ||
      (done < compacted_index_ + compact_every() && bytes_since_compact_ < compact_bytes()))
    return;
  compact_to(done);
}

void StreamGroup::compact_to(raft::Index done) {
  if (!group_ || done <= compacted_index_) return;
  // The snapshot promises the store has everything up to here: hand the store's buffer to
  // the file system first (a process crash then keeps it).
  if (auto* fs = dynamic_cast<FileStore*>(&stream_->store())) fs->flush();
  StoreState st = stream_->store().fast_state();
  // clfs: the failed count the entries after this one continue from (the reference's
  // stream snapshot carries it under the same name).
  nlohmann::json j = {{"first_seq", st.first_seq}, {"last_seq", st.last_seq}, {"clfs", stream_->failed_count()}};
  group_->compact(done, j.dump());
  compacted_index_ = done;
  bytes_since_compact_ = 0;
  failed_since_compact_ = false;
}

void StreamGroup::allow_campaign_locked() {
  // Behind its own snapshot, this replica lacks messages the others have: it must not lead.
  if (group_) group_->set_campaign_allowed(!catching_up_);
}

void StreamGroup::restore(const raft::Snapshot& s) {
  auto j = nlohmann::json::parse(s.data, nullptr, false);
  uint64_t last = j.is_object() ? j.value("last_seq", uint64_t{0}) : 0;
  // Snapshots of earlier versions have no "clfs": nothing had failed then as far as they know.
  uint64_t clfs = 0;
  if (j.is_object() && j.contains("clfs") && j["clfs"].is_number_unsigned()) clfs = j["clfs"].get<uint64_t>();
  stream_->set_failed_count(clfs);
  {
    std::lock_guard lk(cu_mu_);
    failed_since_compact_ = false;
    applying_index_ = compacted_index_ = s.index;
    bytes_since_compact_ = 0;
    deferred_.clear();  // the snapshot replaces whatever was waiting
    catching_up_ = stream_->store().last_seq() < last;
    allow_campaign_locked();
    if (!catching_up_) return;
    catchup_target_ = last;
  }
  log::notice("JetStream stream '{} > {}' catching up to sequence {} from the leader", stream_->account().name(),
              stream_->name(), last);
  request_catchup();
}

void StreamGroup::request_catchup() {
  uint64_t from, to, round;
  {
    std::lock_guard lk(cu_mu_);
    if (!catching_up_ || !group_) return;
    from = stream_->store().last_seq() + 1;
    to = catchup_target_;
    round = ++catchup_round_;
  }
  auto sys = js_.server().system_account();
  if (!sys) return;
  js_.server().publish_internal(*sys, catchup_subject(group_->name()), catchup_reply(group_->name(), self_id_), {},
                                std::to_string(from) + " " + std::to_string(to));
  // No answer (no leader yet, or it changed): ask again.
  std::weak_ptr<StreamGroup> weak = shared_from_this();
  net::EventLoop& loop = group_->loop();
  loop.post([weak, round, &loop] {
    loop.add_timer(kCatchupRetry, [weak, round] {
      auto self = weak.lock();
      if (!self) return;
      bool again;
      {
        std::lock_guard lk(self->cu_mu_);
        again = self->catching_up_ && self->catchup_round_ == round;
      }
      if (again) self->request_catchup();
    });
  });
}

// Leader: the stored messages from..to, as many as fit a batch. The answer starts with the
// sequence to ask for next (past `to`: finished).
void StreamGroup::serve_catchup(std::string_view reply, std::string_view body) {
  if (reply.empty() || !group_->is_leader() || catchup_paused(&js_.server())) return;
  uint64_t from = 0, to = 0;
  if (std::sscanf(std::string(body).c_str(), "%" SCNu64 " %" SCNu64, &from, &to) != 2 || from == 0) return;
  std::string out;
  StoredMsg m;
  uint64_t next = from;
  std::string records;
  while (next <= to && records.size() < kBatchBytes) {
    StoreErr err = stream_->store().load_next_msg({}, next, m);
    if (err == StoreErr::eof || (err == StoreErr::ok && m.seq > to)) {
      next = to + 1;  // nothing more up to `to`: the rest was deleted here
      break;
    }
    if (err != StoreErr::ok) {
      // A store that cannot be read (closed while this group stops, an I/O error) must not
      // tell the replica it has everything: it would lead without the messages. What was read
      // goes out; the replica asks again for the rest (of this leader or the next).
      log::warn("JetStream stream '{} > {}' catch-up: cannot read sequence {}: {}", stream_->account().name(),
                stream_->name(), next, store_err_text(err));
      if (records.empty()) return;
      break;
    }
    raft::wire::put_uvarint(records, m.seq);
    raft::wire::put_uvarint(records, static_cast<uint64_t>(m.ts));
    raft::wire::put_str(records, m.subject);
    raft::wire::put_str(records, m.headers);
    raft::wire::put_str(records, m.payload);
    next = m.seq + 1;
  }
  raft::wire::put_uvarint(out, next);
  out += records;
  if (auto sys = js_.server().system_account()) js_.server().publish_internal(*sys, reply, {}, {}, out);
}

void StreamGroup::on_catchup_batch(std::string_view b) {
  size_t pos = 0;
  uint64_t next = 0;
  if (!raft::wire::get_uvarint(b, pos, next)) return;
  {
    std::lock_guard lk(cu_mu_);
    if (!catching_up_) return;
    while (pos < b.size()) {
      uint64_t seq = 0, ts = 0;
      std::string subject, headers, payload;
      if (!raft::wire::get_uvarint(b, pos, seq) || !raft::wire::get_uvarint(b, pos, ts) ||
          !raft::wire::get_str(b, pos, subject) || !raft::wire::get_str(b, pos, headers) ||
          !raft::wire::get_str(b, pos, payload))
        return;
      stream_->apply_caught_up(seq, static_cast<int64_t>(ts), subject, headers, payload);
    }
  }
  if (next > catchup_target_) finish_catchup();
  else request_catchup();
}

// The store now reaches the snapshot: the entries that arrived meanwhile go in, in order.
void StreamGroup::finish_catchup() {
  std::lock_guard lk(cu_mu_);
  if (!catching_up_) return;
  catching_up_ = false;
  allow_campaign_locked();
  std::vector<raft::Entry> pending;
  pending.swap(deferred_);
  for (const auto& e : pending) {
    maybe_compact(e.index);
    bytes_since_compact_ += e.data.size();
    apply_now(e, false);  // a replica catching up does not lead
  }
  log::notice("JetStream stream '{} > {}' caught up", stream_->account().name(), stream_->name());
}

}  // namespace nats::jetstream
