#include "jetstream/stream.h"
#include "jetstream/stream_republish.h"

#include <filesystem>
#include <fstream>

#include "jetstream/headers.h"
#include "jetstream/jetstream.h"
#include "jetstream/js_tiers.h"
#include "jetstream/json_util.h"
#include "jetstream/store/file_store.h"
#include "jetstream/store/memory_store.h"
#include "jetstream/stream_source.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxHeaderSize = 64 * 1024;

StoreLimits store_limits(const StreamConfig& c) {
  StoreLimits l;
  l.max_msgs = c.max_msgs > 0 ? static_cast<uint64_t>(c.max_msgs) : 0;
  l.max_bytes = c.max_bytes > 0 ? static_cast<uint64_t>(c.max_bytes) : 0;
  l.max_age_ns = c.max_age_ns > 0 ? c.max_age_ns : 0;
  l.max_msgs_per_subject = c.max_msgs_per_subject > 0 ? static_cast<uint64_t>(c.max_msgs_per_subject) : 0;
  // The stream checks max_msg_size itself (its own error); the store does not.
  l.discard = c.discard == Discard::new_msgs ? DiscardPolicy::new_msgs : DiscardPolicy::old_msgs;
  l.discard_new_per_subject = c.discard_new_per_subject;
  // A sealed stream takes nothing new; the stream rejects before the store sees it.
  return l;
}

// The PubAck the reference writes by hand (note the space after the first comma).
std::string pub_ack(const std::string& stream, const std::string& domain, uint64_t seq, bool dup) {
  std::string s = "{\"stream\":" + go_json_escape(nlohmann::json(stream).dump());
  if (!domain.empty()) s += ", \"domain\":" + go_json_escape(nlohmann::json(domain).dump());
  s += ", \"seq\":" + std::to_string(seq);
  if (dup) s += ",\"duplicate\": true";
  s += "}";
  return s;
}

std::string pub_ack_error(const std::string& stream, const ApiError& e) {
  nlohmann::ordered_json j;
  j["error"] = e.to_json();
  j["stream"] = stream;
  j["seq"] = 0;
  return go_json_escape(j.dump());
}

ApiError store_error(StoreErr e) {
  if (e == StoreErr::msg_too_large) return api_error(err::StreamMessageExceedsMaximum);
  return api_error(err::StreamStoreFailed, store_err_text(e));
}

}  // namespace

Stream::Stream(JetStream& js, Account& account, StreamConfig cfg, int64_t created_ns)
    : js_(js), account_(account), name_(cfg.name), created_ns_(created_ns), storage_(cfg.storage), cfg_(std::move(cfg)) {
  republish_ = Republisher::from_config(cfg_);
}

Stream::~Stream() {
  stop_sourcing();
  committer_.reset();  // before the store it syncs
}

std::shared_ptr<Stream> Stream::create(JetStream& js, Account& account, StreamConfig cfg, int64_t created_ns,
                                       ApiError& err, std::unique_ptr<MessageStore> memory) {
  std::shared_ptr<Stream> s(new Stream(js, account, cfg, created_ns));
  StoreLimits limits = store_limits(cfg);
  if (cfg.storage == StorageType::file) {
    s->dir_ = js.store_root() + "/" + account.name() + "/streams/" + cfg.name;
    FileStoreConfig fc;
    fc.dir = s->dir_ + "/msgs";
    fc.sync_always = js.server().options().jetstream.sync_always;
    StoreErr e = StoreErr::ok;
    auto st = FileStore::open(fc, limits, system_clock_ns, &e);
    if (!st) {
      err = api_error(err::StreamCreate, std::string("could not open store: ") + store_err_text(e));
      return nullptr;
    }
    if (fc.sync_always) s->group_commit_ = st.get();
    s->store_ = std::move(st);
    s->write_meta();
  } else if (memory) {
    memory->update_limits(limits);
    s->store_ = std::move(memory);
  } else {
    s->store_ = std::make_unique<MemoryStore>(limits);
  }
  err = {};
  return s;
}

Server& Stream::server() const { return js_.server(); }

StreamConfig Stream::config() const {
  std::lock_guard lk(mu_);
  return cfg_;
}

RetentionPolicy Stream::retention() const {
  std::lock_guard lk(mu_);
  return cfg_.retention;
}

void Stream::write_meta() {
  if (dir_.empty()) return;
  nlohmann::ordered_json j = config().to_json();
  j["created"] = format_time(created_ns_);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::string tmp = dir_ + "/meta.inf.tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << j.dump();
  }
  fs::rename(tmp, dir_ + "/meta.inf", ec);
  if (ec) log::error("JetStream: could not write stream metadata for '{} > {}': {}", account_.name(), name_, ec.message());
}

void Stream::restore_dedupe_later() {
  std::lock_guard lk(mu_);
  dedupe_pending_ = true;
}

void Stream::ensure_dedupe_locked() {
  if (!dedupe_pending_) return;
  dedupe_pending_ = false;
  // Messages inside the window (a binary search on time, as the reference's GetSeqFromTime)
  // up to the last one; the last message's id is the expected-last-msg-id unless a message
  // stored since the start has set it already.
  uint64_t last = store_->last_seq();
  std::string last_id;
  if (cfg_.duplicate_window_ns > 0) {
    int64_t cutoff = system_clock_ns() - cfg_.duplicate_window_ns;
    uint64_t seq = first_seq_at_or_after(*store_, cutoff);
    StoredMsg m;
    while (seq != 0 && store_->load_next_msg({}, seq, m) == StoreErr::ok) {
      seq = m.seq + 1;
      std::optional<std::string_view> id;
      if (!m.headers.empty()) id = header_value(m.headers, kMsgIdHdr);
      if (m.seq == last) last_id = id ? std::string(*id) : std::string();
      if (m.ts < cutoff || !id || id->empty()) continue;
      dedupe_[std::string(*id)] = {m.seq, m.ts};
      dedupe_order_.emplace_back(m.ts, std::string(*id));
    }
  }
  if (!last_id_recorded_) last_msg_id_ = std::move(last_id);
}

void Stream::subscribe() {
  {
    std::lock_guard lk(mu_);
    unsubscribe_locked();
    if (repl_ && !leader_) return;  // followers never ingest client publishes
    std::weak_ptr<Stream> weak = shared_from_this();
    for (const auto& subj : cfg_.subjects) {
      subs_.push_back(server().subscribe_internal(
          account_, subj,
          [weak](const Subscription&, std::string_view subject, std::string_view reply, std::string_view headers,
                 std::string_view payload) {
            if (auto s = weak.lock()) s->process_inbound(subject, reply, headers, payload);
          }));
    }
  }
  start_sourcing();
}

void Stream::unsubscribe_locked() {
  for (auto& sub : subs_) server().unsubscribe_internal(account_, sub);
  subs_.clear();
}

void Stream::prune_dedupe_locked(int64_t now) {
  int64_t window = cfg_.duplicate_window_ns;
  while (!dedupe_order_.empty() && (window <= 0 || now - dedupe_order_.front().first > window)) {
    auto it = dedupe_.find(dedupe_order_.front().second);
    if (it != dedupe_.end() && it->second.second == dedupe_order_.front().first) dedupe_.erase(it);
    dedupe_order_.pop_front();
  }
}

void Stream::check_inbound_locked(std::string_view subject, std::string_view headers, std::string_view payload,
                                  uint64_t last_seq, PubResult& r, std::string& msg_id) {
  if (deleted_) {
    r.error = api_error(err::StreamNotFound);
    return;
  }
  if (cfg_.sealed) {
    r.error = api_error(err::StreamSealed);
    return;
  }
  if (!headers.empty()) {
    if (auto v = header_value(headers, kExpectedStreamHdr); v && *v != name_) {
      r.error = api_error(err::StreamNotMatch);
      return;
    }
    if (auto v = header_value(headers, kMsgIdHdr)) msg_id = std::string(*v);
    if (!msg_id.empty()) {
      ensure_dedupe_locked();
      prune_dedupe_locked(system_clock_ns());
      if (auto it = dedupe_.find(msg_id); it != dedupe_.end()) {
        r.seq = it->second.first;
        r.duplicate = true;
        return;
      }
    }
    if (auto v = header_uint(headers, kExpectedLastSeqHdr); v && *v != last_seq) {
      r.error = api_error(err::StreamWrongLastSequence, {{"{seq}", std::to_string(last_seq)}});
      return;
    }
    if (auto v = header_value(headers, kExpectedLastMsgIdHdr)) {
      ensure_dedupe_locked();
      if (*v != last_msg_id_) {
        r.error = api_error(err::StreamWrongLastMsgID, {{"{id}", last_msg_id_}});
        return;
      }
    }
    if (auto v = header_uint(headers, kExpectedLastSubjSeqHdr)) {
      StoredMsg m;
      uint64_t last = store_->load_last_msg(subject, m) == StoreErr::ok ? m.seq : 0;
      if (*v != last) {
        r.error = api_error(err::StreamWrongLastSequence, {{"{seq}", std::to_string(last)}});
        return;
      }
    }
    if (auto v = header_value(headers, kRollupHdr)) {
      if (!cfg_.allow_rollup_hdrs || cfg_.deny_purge) {
        r.error = api_error(err::StreamRollupFailed, "rollup not permitted");
        return;
      }
      if (*v != "sub" && *v != "all") {
        r.error = api_error(err::StreamRollupFailed, "rollup value invalid: \"" + std::string(*v) + "\"");
        return;
      }
    }
  }
  if (cfg_.max_msg_size >= 0 && headers.size() + payload.size() > static_cast<size_t>(cfg_.max_msg_size)) {
    r.error = api_error(err::StreamMessageExceedsMaximum);
    return;
  }
  if (headers.size() > kMaxHeaderSize) r.error = api_error(err::StreamHeaderExceedsMaximum);
}

void Stream::record_msg_id_locked(const std::string& msg_id, uint64_t seq, int64_t ts) {
  if (!msg_id.empty()) {
    ensure_dedupe_locked();
    dedupe_[msg_id] = {seq, ts};
    dedupe_order_.emplace_back(ts, msg_id);
  }
  last_msg_id_ = msg_id;
  last_id_recorded_ = true;
}

PubResult Stream::store_inbound(std::string_view subject, std::string_view headers, std::string_view payload) {
  PubResult r;
  std::vector<StreamConsumerPtr> to_signal;
  bool interest_retention = false;
  // Asked before taking mu_: it reads every stream's store under its account's lock.
  bool server_full = js_.storage_exceeded(storage_);
  // The account's byte limits: what its other streams hold now; this one's is added after
  // the store (the reference stores, then takes the message back if the account is over).
  // With tiered limits, those of this stream's tier against the usage of that tier; a tier
  // without limits (gone with a JWT update) refuses the message with 10120 after the store,
  // as the reference's limitsExceeded.
  const int tier_replicas = account_tiered(account_) ? std::max(1, config().num_replicas) : 0;
  SelectedLimits sel = select_limits(account_, tier_replicas);
  const JsAccountLimits& acc_limits = sel.limits;
  bool acc_check = !sel.found || account_has_byte_limit(acc_limits, storage_);
  uint64_t acc_others = acc_check && sel.found ? js_.account_usage(account_, storage_, this, false, tier_replicas) : 0;
  {
    std::lock_guard lk(mu_);
    std::string msg_id;
    check_inbound_locked(subject, headers, payload, store_->last_seq(), r, msg_id);
    if (!r.error.empty() || r.duplicate) return r;
    if (server_full) {
      r.error = api_error(err::InsufficientResources);
      return r;
    }
    auto plan = plan_republish_locked(subject);
    StoreResult sr = store_->store_msg(subject, headers, payload);
    if (sr.err != StoreErr::ok) {
      r.error = store_error(sr.err);
      return r;
    }
    if (acc_check && (!sel.found || account_bytes_exceeded(acc_limits, storage_, acc_others + store_->fast_state().bytes))) {
      store_->remove_msg(sr.seq);  // the sequence stays used, as in the reference
      log_account_limits_exceeded(account_.name());
      r.error = api_error(sel.found ? err::AccountResourcesExceeded : err::NoLimits);
      return r;
    }
    r.seq = sr.seq;
    record_msg_id_locked(msg_id, sr.seq, sr.ts);
    if (plan) queue_republish_locked(*plan, sr.seq, subject, headers, payload);
    interest_retention = cfg_.retention == RetentionPolicy::interest;
    to_signal = consumers_;
  }
  flush_republish();
  after_store(r.seq, subject, headers, to_signal, interest_retention);
  return r;
}

// Consumers are asked only after the stream lock is released (lock order: a consumer may
// call into the stream while holding its own lock).
void Stream::after_store(uint64_t seq, std::string_view subject, std::string_view headers,
                         const std::vector<StreamConsumerPtr>& to_signal, bool interest_retention) {
  bool rollup = false;
  if (!headers.empty()) {
    if (auto v = header_value(headers, kRollupHdr)) {
      if (*v == "sub") store_->purge(subject, 0, 1), rollup = true;
      else if (*v == "all") store_->purge({}, 0, 1), rollup = true;
    }
  }
  if (interest_retention) {
    // Nobody to deliver to: the message is not kept (the sequence still advances).
    bool interest = false;
    for (const auto& c : to_signal) {
      if (store_filter_matches(c->filter_subject(), subject)) {
        interest = true;
        break;
      }
    }
    if (!interest) store_->remove_msg(seq);
  }
  for (const auto& c : to_signal) c->on_new_message(seq, subject);
  if (rollup) {
    uint64_t first = store_->fast_state().first_seq;
    for (const auto& c : to_signal) c->on_stream_purged(first);
  }
}

void Stream::send_pub_ack(std::string_view reply, const PubResult& r) {
  bool no_ack;
  {
    std::lock_guard lk(mu_);
    no_ack = cfg_.no_ack;
  }
  if (reply.empty() || no_ack) return;
  std::string body = r.error.empty()
                         ? pub_ack(name_, server().options().jetstream.domain, r.seq, r.duplicate)
                         : pub_ack_error(name_, r.error);
  server().publish_internal(account_, reply, {}, {}, body);
}

void Stream::process_inbound(std::string_view subject, std::string_view reply, std::string_view headers,
                             std::string_view payload) {
  if (replicated()) return ingest_as_leader(subject, reply, headers, payload);
  if (group_commit_ && !reply.empty()) return store_for_group_commit(subject, reply, headers, payload);
  send_pub_ack(reply, store_inbound(subject, headers, payload));
}

void Stream::store_for_group_commit(std::string_view subject, std::string_view reply, std::string_view headers,
                                    std::string_view payload) {
  group_commit_->hold_syncs(true);
  PubResult r = store_inbound(subject, headers, payload);
  group_commit_->hold_syncs(false);
  // Errors and duplicates queue too: PubAcks keep their order, and a duplicate's original may
  // still wait for its fsync.
  PendingAck ack{std::string(reply), std::move(r)};
  AckCommitQueue* q;
  {
    std::lock_guard lk(mu_);
    if (!committer_ && !deleted_.load()) {
      // Pipelined: while one fsync runs, the next batches may start theirs; PubAcks leave in
      // order, each after its own and every earlier fsync.
      committer_ = std::make_unique<AckCommitQueue>(
          [weak = weak_from_this()](std::vector<PendingAck>&) {
            auto s = weak.lock();
            return s ? s->group_commit_->sync() : StoreErr::closed;
          },
          [weak = weak_from_this()](std::vector<PendingAck>& acks, StoreErr e) {
            if (auto s = weak.lock()) s->send_committed_acks(acks, e);
          },
          FileStore::kMaxSyncsInFlight);
    }
    q = committer_.get();  // once made, kept until ~Stream
  }
  if (q && q->add(std::move(ack))) return;
  // Stopping: commit this one here.
  std::vector<PendingAck> one{std::move(ack)};
  commit_acks(one);
}

void Stream::commit_acks(std::vector<PendingAck>& acks) {
  // Every message in acks was stored before it was queued, so this one fsync covers them all.
  send_committed_acks(acks, group_commit_->sync());
}

void Stream::send_committed_acks(std::vector<PendingAck>& acks, StoreErr e) {
  for (auto& [reply, r] : acks) {
    if (e != StoreErr::ok && r.error.empty()) r = PubResult{store_error(e)};
    send_pub_ack(reply, r);
  }
  // Not on a client loop: hand the connections these PubAcks went to to their loops now.
  Connection::flush_touched();
}

// The leader decides as a local stream would, but against what it has proposed (clseq_), and
// answers only errors and duplicates here: the PubAck of a stored message leaves when the
// log commits it (StreamGroup).
void Stream::ingest_as_leader(std::string_view subject, std::string_view reply, std::string_view headers,
                              std::string_view payload) {
  PubResult r;
  // The reference checks the server's storage first, before anything else, and then has
  // the leader step down regardless (processClusteredInboundMsg): a replica on a server
  // with room may take over.
  if (js_.storage_exceeded(storage_)) {
    if (!is_leader()) return;
    send_pub_ack(reply, PubResult{api_error(err::InsufficientResources)});
    std::shared_ptr<StreamReplicator> repl;
    {
      std::lock_guard lk(mu_);
      repl = repl_;
    }
    if (repl) repl->step_down();
    return;
  }
  // Then the account's byte limits against its usage with every replica counted (the
  // reference's pre-emptive check in processClusteredInboundMsg), from this server's copies.
  // Tiered limits: this stream's tier, none for it answered with 10120 (no step-down).
  const int tier_replicas = account_tiered(account_) ? std::max(1, config().num_replicas) : 0;
  SelectedLimits sel = select_limits(account_, tier_replicas);
  if (!sel.found) {
    send_pub_ack(reply, PubResult{api_error(err::NoLimits)});
    return;
  }
  if (const JsAccountLimits& l = sel.limits; account_has_byte_limit(l, storage_)) {
    if (account_bytes_exceeded(l, storage_, js_.account_usage(account_, storage_, nullptr, true, tier_replicas))) {
      log_account_limits_exceeded(account_.name());
      if (is_leader()) send_pub_ack(reply, PubResult{api_error(err::AccountResourcesExceeded)});
      return;
    }
  }
  {
    std::lock_guard lk(mu_);
    if (!leader_ || !repl_) return;  // a follower never ingests; the client retries
    std::string msg_id;
    // Expected-last-sequence is checked against the stored sequence the proposals give if
    // they all store (as the reference's clseq - clfs); one failing in flight makes it stale.
    check_inbound_locked(subject, headers, payload, clseq_ > clfs_ ? clseq_ - clfs_ : 0, r, msg_id);
    if (r.error.empty() && !r.duplicate) {
      uint64_t seq = clseq_ + 1;
      int64_t ts = std::max(system_clock_ns(), clts_ + 1);
      if (!repl_->propose_msg(seq, ts, subject, reply, headers, payload)) return;
      clseq_ = seq;
      clts_ = ts;
      record_msg_id_locked(msg_id, seq, ts);
      return;
    }
  }
  send_pub_ack(reply, r);
}

void Stream::set_replicator(std::shared_ptr<StreamReplicator> r) {
  {
    std::lock_guard lk(mu_);
    repl_ = std::move(r);
    leader_ = false;
    unsubscribe_locked();
  }
  stop_sourcing();  // a stream restored as a plain one may have started it; leaders restart it
}

void Stream::release_replicator() {
  std::shared_ptr<StreamReplicator> r;
  {
    std::lock_guard lk(mu_);
    r = std::move(repl_);
  }
}

bool Stream::replicated() const {
  std::lock_guard lk(mu_);
  return repl_ != nullptr;
}

bool Stream::is_leader() const {
  std::lock_guard lk(mu_);
  return !repl_ || leader_;
}

void Stream::set_leader(bool leader, uint64_t last_seq, const std::vector<PendingId>& pending) {
  {
    std::lock_guard lk(mu_);
    if (!repl_ || deleted_) return;
    source_proposed_.clear();
    for (const auto& p : pending) {
      if (!p.id.empty()) record_msg_id_locked(p.id, p.seq, p.ts);
      std::string iname;
      uint64_t sseq = 0;
      if (!p.source.empty() && parse_stream_source_header(p.source, iname, sseq))
        source_proposed_[iname] = std::max(source_proposed_[iname], sseq);
    }
    bool leader_was = leader_;
    leader_ = leader;
    // Proposal numbers, as the log's entries carry them: what is applied plus what failed.
    clseq_ = std::max(last_seq, store_->last_seq() + clfs_);
    clts_ = std::max(clts_, store_->fast_state().last_ts);
    if (leader && !leader_was) republish_from_ = clseq_ + 1;
    if (!leader) {
      unsubscribe_locked();
      pending_answers_.clear();  // their entries may never commit: no answer, as the reference
    }
  }
  if (!leader) return stop_sourcing();
  subscribe();
}

PubResult Stream::apply_msg(uint64_t pseq, int64_t ts, std::string_view subject, std::string_view headers,
                            std::string_view payload) {
  return apply_committed(pseq, true, ts, subject, headers, payload);
}

PubResult Stream::apply_caught_up(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                                  std::string_view payload) {
  return apply_committed(seq, false, ts, subject, headers, payload);
}

uint64_t Stream::failed_count() const {
  std::lock_guard lk(mu_);
  return clfs_;
}

void Stream::set_failed_count(uint64_t n) {
  std::lock_guard lk(mu_);
  clfs_ = n;
}

// proposed: `seq` is a proposal number (a log entry), else a stored sequence (a catch-up).
PubResult Stream::apply_committed(uint64_t seq, bool proposed, int64_t ts, std::string_view subject,
                                  std::string_view headers, std::string_view payload) {
  PubResult r;
  std::vector<StreamConsumerPtr> to_signal;
  bool interest_retention = false;
  RetentionPolicy retention = RetentionPolicy::limits;
  {
    std::lock_guard lk(mu_);
    if (deleted_) {
      r.error = api_error(err::StreamNotFound);
      return r;
    }
    uint64_t pseq = proposed ? seq : 0;
    if (proposed) seq = seq > clfs_ ? seq - clfs_ : 0;
    r.seq = seq;
    if (seq <= store_->last_seq()) return r;  // replayed: already stored
    // A mirror starts at its origin's first sequence (as Stream::store_mirrored).
    if (cfg_.mirror.is_object() && seq > store_->last_seq() + 1 && store_->fast_state().msgs == 0) store_->compact(seq);
    // Only the leader republishes, as it applies the committed message (as the reference).
    auto plan = leader_ && seq >= republish_from_ ? plan_republish_locked(subject) : std::nullopt;
    std::string msg_id;
    if (auto v = header_value(headers, kMsgIdHdr)) msg_id = std::string(*v);
    if (!msg_id.empty()) ensure_dedupe_locked();  // before this message is in the store
    StoreResult sr = store_->store_msg_at(seq, ts, subject, headers, payload);
    // The leader recorded its proposals' ids with their proposal numbers already.
    auto staged = leader_ && !msg_id.empty() ? dedupe_.find(msg_id) : dedupe_.end();
    if (staged != dedupe_.end() && staged->second.first != pseq) staged = dedupe_.end();
    if (sr.err != StoreErr::ok) {
      r.error = store_error(sr.err);
      r.seq = 0;
      // Every replica fails it alike (same log order, same store): later messages move down.
      if (proposed && !cfg_.mirror.is_object()) ++clfs_;
      // Not stored: a retry with its Nats-Msg-Id is a new message, not a duplicate.
      if (staged != dedupe_.end()) dedupe_.erase(staged);
      return r;
    }
    if (plan) queue_republish_locked(*plan, seq, subject, headers, payload);
    if (staged != dedupe_.end()) {
      staged->second.first = seq;  // a duplicate is answered with the stored sequence
    } else if (!leader_) {
      // Followers learn the ids here.
      record_msg_id_locked(msg_id, seq, ts);
      prune_dedupe_locked(system_clock_ns());
    }
    interest_retention = cfg_.retention == RetentionPolicy::interest;
    retention = cfg_.retention;
    to_signal = consumers_;
  }
  flush_republish();
  after_store(seq, subject, headers, to_signal, interest_retention);
  if (retention != RetentionPolicy::limits) drop_if_acked(seq, subject, retention, to_signal);
  return r;
}

uint64_t Stream::apply_purge(std::string_view filter, uint64_t seq, uint64_t keep, uint64_t last_seq,
                             uint64_t answer_token) {
  uint64_t n = 0;
  // A purge replayed after a restart is older than the stored state: its effect is there.
  // last_seq is the leader's proposal number then (stored sequences plus failed ones).
  if (store_->last_seq() + failed_count() <= last_seq) {
    n = store_->purge(filter, seq, keep);
    uint64_t first = store_->fast_state().first_seq;
    for (const auto& c : consumers()) c->on_stream_purged(first);
  }
  if (auto done = take_pending_answer(answer_token)) done(n, StoreErr::ok);
  return n;
}

void Stream::apply_delete(uint64_t seq, bool erase, uint64_t answer_token) {
  StoreErr e = erase ? store_->erase_msg(seq) : store_->remove_msg(seq);
  if (auto done = take_pending_answer(answer_token)) done(0, e);
}

std::function<void(uint64_t, StoreErr)> Stream::take_pending_answer(uint64_t token) {
  if (token == 0) return {};
  std::lock_guard lk(mu_);
  auto it = pending_answers_.find(token);
  if (it == pending_answers_.end()) return {};
  auto done = std::move(it->second);
  pending_answers_.erase(it);
  return done;
}

uint64_t Stream::new_answer_token_locked() {
  // Random start: another server's proposal carries its own tokens, which must not match ours.
  if (next_answer_token_ == 0) {
    util::random_bytes(&next_answer_token_, sizeof next_answer_token_);
    next_answer_token_ = (next_answer_token_ | 1) & ~(uint64_t{1} << 63);
  }
  return ++next_answer_token_;
}

void Stream::apply_update(StreamConfig cfg) {
  {
    std::lock_guard lk(mu_);
    cfg_ = std::move(cfg);
    store_->update_limits(store_limits(cfg_));
  }
  if (is_leader()) subscribe();
  write_meta();
}

ApiError Stream::update(StreamConfig cfg) {
  {
    std::lock_guard lk(mu_);
    if (repl_) {
      if (!leader_ || !repl_->propose_update(cfg)) return api_error(err::StreamUpdate, "not the stream leader");
      return {};
    }
    cfg_ = std::move(cfg);
    store_->update_limits(store_limits(cfg_));
  }
  subscribe();
  write_meta();
  return {};
}

bool Stream::purge(std::string_view filter, uint64_t seq, uint64_t keep, std::function<void(uint64_t)> done) {
  {
    std::lock_guard lk(mu_);
    if (repl_) {
      if (!leader_) return false;
      uint64_t token = new_answer_token_locked();
      pending_answers_[token] = [done = std::move(done)](uint64_t n, StoreErr) { done(n); };
      if (repl_->propose_purge(filter, seq, keep, clseq_, token)) return true;
      pending_answers_.erase(token);
      return false;
    }
  }
  uint64_t n = store_->purge(filter, seq, keep);
  uint64_t first = store_->fast_state().first_seq;
  for (const auto& c : consumers()) c->on_stream_purged(first);
  done(n);
  return true;
}

bool Stream::delete_msg(uint64_t seq, bool erase, std::function<void(StoreErr)> done) {
  {
    std::lock_guard lk(mu_);
    if (repl_) {
      if (!leader_) return false;
      uint64_t token = new_answer_token_locked();
      pending_answers_[token] = [done = std::move(done)](uint64_t, StoreErr e) { done(e); };
      if (repl_->propose_delete(seq, erase, token)) return true;
      pending_answers_.erase(token);
      return false;
    }
  }
  done(erase ? store_->erase_msg(seq) : store_->remove_msg(seq));
  return true;
}

void Stream::stop(bool remove_files) {
  stop_sourcing();
  std::vector<StreamConsumerPtr> cs;
  {
    std::lock_guard lk(mu_);
    if (deleted_.exchange(true)) return;
    unsubscribe_locked();
    cs.swap(consumers_);
  }
  if (remove_files) {
    for (const auto& c : cs) c->on_stream_deleted();
  }
  // PubAcks still waiting for an fsync get it (or the store's error) before the store closes.
  if (committer_) committer_->stop();
  if (auto* fsst = dynamic_cast<FileStore*>(store_.get())) fsst->close();
  if (remove_files && !dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::unique_ptr<MessageStore> Stream::hand_over_memory() {
  std::lock_guard lk(mu_);
  if (storage_ != StorageType::memory || !deleted_ || !store_) return nullptr;
  // A reader still holding this stream (a stopped consumer, a late request) sees it empty.
  auto out = std::move(store_);
  store_ = std::make_unique<MemoryStore>(store_limits(cfg_));
  return out;
}

void Stream::add_consumer(StreamConsumerPtr c) {
  std::lock_guard lk(mu_);
  consumers_.push_back(std::move(c));
}

void Stream::remove_consumer(const std::string& name) {
  std::vector<StreamConsumerPtr> rest;
  bool interest;
  {
    std::lock_guard lk(mu_);
    for (auto it = consumers_.begin(); it != consumers_.end(); ++it) {
      if ((*it)->consumer_name() == name) {
        consumers_.erase(it);
        break;
      }
    }
    rest = consumers_;
    interest = cfg_.retention == RetentionPolicy::interest;
  }
  if (interest) check_interest(rest);
}

StreamConsumerPtr Stream::lookup_consumer(const std::string& name) const {
  std::lock_guard lk(mu_);
  for (const auto& c : consumers_) {
    if (c->consumer_name() == name) return c;
  }
  return nullptr;
}

std::vector<StreamConsumerPtr> Stream::consumers() const {
  std::lock_guard lk(mu_);
  return consumers_;
}

size_t Stream::consumer_count() const {
  std::lock_guard lk(mu_);
  return consumers_.size();
}

void Stream::check_interest(const std::vector<StreamConsumerPtr>& consumers) {
  // Interest retention: drop every message no remaining consumer needs.
  StoredMsg m;
  uint64_t seq = 1;
  while (store_->load_next_msg({}, seq, m) == StoreErr::ok) {
    bool needed = false;
    for (const auto& c : consumers) {
      if (c->needs_ack(m.seq, m.subject)) {
        needed = true;
        break;
      }
    }
    if (!needed) store_->remove_msg(m.seq);
    seq = m.seq + 1;
  }
}

void Stream::ack_for_retention(uint64_t seq, const StreamConsumer& by) {
  RetentionPolicy ret;
  std::vector<StreamConsumerPtr> cs;
  {
    std::lock_guard lk(mu_);
    ret = cfg_.retention;
    if (ret == RetentionPolicy::interest) cs = consumers_;
  }
  switch (ret) {
    case RetentionPolicy::limits: return;
    case RetentionPolicy::workqueue: store_->remove_msg(seq); return;
    case RetentionPolicy::interest: {
      StoredMsg m;
      if (store_->load_msg(seq, m) != StoreErr::ok) return;
      for (const auto& c : cs) {
        if (c.get() != &by && c->needs_ack(seq, m.subject)) return;
      }
      store_->remove_msg(seq);
      return;
    }
  }
}

nlohmann::ordered_json Stream::state_json(bool deleted_details, std::string_view subjects_filter) {
  StoreState st = deleted_details ? store_->state() : store_->fast_state();
  nlohmann::ordered_json j;
  j["messages"] = st.msgs;
  j["bytes"] = st.bytes;
  j["first_seq"] = st.first_seq;
  j["first_ts"] = format_time(st.first_ts);
  j["last_seq"] = st.last_seq;
  j["last_ts"] = format_time(st.last_ts);
  if (st.num_subjects > 0) j["num_subjects"] = st.num_subjects;
  if (!subjects_filter.empty()) {
    auto ss = store_->subjects_state(subjects_filter);
    if (!ss.empty()) {
      nlohmann::ordered_json subs = nlohmann::ordered_json::object();
      std::map<std::string, uint64_t> sorted;
      for (const auto& [k, v] : ss) sorted[k] = v.msgs;
      for (const auto& [k, v] : sorted) subs[k] = v;
      j["subjects"] = subs;
    }
  }
  if (st.num_deleted > 0) {
    j["num_deleted"] = st.num_deleted;
    if (deleted_details) j["deleted"] = st.deleted.expand();
  }
  j["consumer_count"] = consumer_count();
  return j;
}

void Stream::restore_messages(const std::function<void(MessageStore&)>& fill) {
  store_->update_limits(StoreLimits{});
  fill(*store_);
  store_->update_limits(store_limits(config()));
}

}  // namespace nats::jetstream
