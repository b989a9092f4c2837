#include "jetstream/consumer.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "jetstream/advisories.h"
#include "jetstream/json_util.h"
#include "jetstream/pull_request.h"
#include "net/event_loop.h"
#include "server/account.h"
#include "server/connection.h"
#include "server/js_reply.h"
#include "server/server.h"
#include "subject/subject.h"

namespace nats::jetstream {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {
constexpr int kPassBudget = 512;  // messages per delivery pass before letting other consumers run
// Flow control: ask the client once this many bytes went out since the last answer, and
// stop sending at twice that until it answers.
constexpr uint64_t kFcBytes = 256 * 1024;

uint64_t parse_u64(std::string_view s) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string go_duration(int64_t ns) {
  // Enough of Go's time.Duration.String for limit messages ("5s", "1.5s", "100ms").
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns >= 1'000'000'000) {
    std::string s = std::to_string(static_cast<double>(ns) / 1e9);
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s + "s";
  }
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  return std::to_string(ns) + "ns";
}

std::string status_hdr(std::string_view status, uint64_t pending_msgs = 0, uint64_t pending_bytes = 0,
                       bool with_pending = false) {
  std::string h = "NATS/1.0 ";
  h += status;
  h += "\r\n";
  if (with_pending) {
    h += "Nats-Pending-Messages: " + std::to_string(pending_msgs) + "\r\n";
    h += "Nats-Pending-Bytes: " + std::to_string(pending_bytes) + "\r\n";
  }
  h += "\r\n";
  return h;
}

bool write_file_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return false;
    f << data;
    if (!f.good()) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}
}  // namespace

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Consumer::Consumer(Server& server, StreamPtr stream, ConsumerConfig cfg, std::string name, int64_t created_ns)
    : server_(server),
      account_(stream->account()),
      stream_(std::move(stream)),
      name_(std::move(name)),
      created_ns_(created_ns),
      worker_(pick_consumer_worker()),
      cfg_(cfg),
      state_(std::move(cfg), stream_->store()) {
  persistent_ = !stream_->dir().empty() && !cfg_.durable_name.empty() && !cfg_.mem_storage;
}

Consumer::~Consumer() {
  // Shutdown drops consumers without stop(): keep a durable's progress.
  std::lock_guard lk(mu_);
  if (!stopped_ && dirty_ && persistent()) persist_locked();
}

ConsumerConfig Consumer::config() const {
  std::lock_guard lk(mu_);
  return cfg_;
}

std::string Consumer::filter_subject() const {
  std::lock_guard lk(mu_);
  return cfg_.filter_subject;
}

bool Consumer::persistent() const { return persistent_.load(std::memory_order_relaxed); }

std::string Consumer::dir() const { return stream_->dir().empty() ? std::string() : stream_->dir() + "/obs/" + name_; }

void Consumer::start(const ConsumerSnapshot* restored) {
  int64_t now = now_unix_ns();
  {
    std::lock_guard lk(mu_);
    if (restored) state_.restore(*restored);
    else state_.init_start(now);
    last_activity_ns_ = now;
    last_hb_ns_ = now;
    active_ = cfg_.is_push() && deliver_interest();
    dirty_ = true;
    if (is_leader()) start_replay_locked();
    if (!restored) initial_info_ = info_json_locked();
  }
  if (is_leader()) subscribe();
  if (persistent()) write_meta();
  std::weak_ptr<Consumer> weak = weak_from_this();
  worker_.add_ticker([weak] {
    auto self = weak.lock();
    return self && self->tick();
  });
  kick();
}

void Consumer::subscribe() {
  std::weak_ptr<Consumer> weak = weak_from_this();
  std::vector<SubscriptionPtr> subs;
  std::string ack_subj = "$JS.ACK." + stream_->name() + "." + name_ + ".>";
  subs.push_back(server_.subscribe_internal(
      account_, ack_subj,
      [weak](const Subscription&, std::string_view subject, std::string_view reply, std::string_view,
             std::string_view payload) {
        if (auto self = weak.lock()) self->handle_ack(subject, reply, payload);
      }));
  // Also for a push consumer, which answers "409 Consumer is push based" as 2.9.10.
  subs.push_back(server_.subscribe_internal(
      account_, "$JS.API.CONSUMER.MSG.NEXT." + stream_->name() + "." + name_,
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view,
             std::string_view payload) {
        if (auto self = weak.lock()) self->handle_next_request(reply, payload);
      }));
  if (!cfg_.is_pull()) {
    subs.push_back(server_.subscribe_internal(
        account_, "$JS.FC." + stream_->name() + "." + name_ + ".*",
        [weak](const Subscription&, std::string_view subject, std::string_view, std::string_view, std::string_view) {
          auto self = weak.lock();
          if (!self) return;
          {
            std::lock_guard lk(self->mu_);
            if (self->fc_reply_.empty() || subject != self->fc_reply_) return;
            self->fc_reply_.clear();
            self->fc_bytes_ = 0;
          }
          self->kick();
        }));
  }
  {
    std::lock_guard lk(mu_);
    if (!stopped_ && is_leader()) {
      for (auto& sub : subs) subs_.push_back(std::move(sub));
      return;
    }
  }
  for (auto& sub : subs) server_.unsubscribe_internal(account_, sub);  // stopped or demoted meanwhile
}

void Consumer::unsubscribe() {
  std::vector<SubscriptionPtr> subs;
  {
    std::lock_guard lk(mu_);
    subs.swap(subs_);
  }
  for (auto& sub : subs) server_.unsubscribe_internal(account_, sub);
}

void Consumer::set_replicator(std::weak_ptr<ConsumerReplicator> r) {
  repl_ = std::move(r);
  replicated_ = true;
  persistent_ = false;
  leader_ = false;
}

void Consumer::set_leader(bool leader, const ConsumerSnapshot* state) {
  if (!leader) {
    if (!leader_.exchange(false)) return;
    unsubscribe();
    std::lock_guard lk(mu_);
    waiting_.clear();
    fc_reply_.clear();
    fc_bytes_ = 0;
    return;
  }
  int64_t now = now_unix_ns();
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    if (state) state_.restore(*state);
    else state_.init_start(now);
    next_deadline_ = 0;  // the tick looks at the restored pending acks at once
    last_activity_ns_ = now;
    last_hb_ns_ = now;
    active_ = cfg_.is_push() && deliver_interest();
    leader_ = true;
    start_replay_locked();
    // As 2.9.10's setLeader: the create answer (ConsumerGroup::answer_create) shows the
    // consumer as it was before this leader delivered anything.
    initial_info_ = info_json_locked();
  }
  subscribe();
  kick();
}

void Consumer::follow(const std::function<void(ConsumerState&)>& fn) {
  std::lock_guard lk(mu_);
  if (!leader_) fn(state_);
}

ConsumerSnapshot Consumer::state_snapshot() const {
  std::lock_guard lk(mu_);
  return state_.snapshot();
}

std::pair<int64_t, int64_t> Consumer::last_active() const {
  std::lock_guard lk(mu_);
  return {last_delivered_ns_, last_ack_ns_};
}

void Consumer::set_last_active(std::pair<int64_t, int64_t> delivered_ack) {
  std::lock_guard lk(mu_);
  last_delivered_ns_ = delivered_ack.first;
  last_ack_ns_ = delivered_ack.second;
}


void Consumer::stop(bool remove_files) {
  std::vector<SubscriptionPtr> subs;
  std::deque<WaitingRequest> waiting;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    stopped_ = true;
    subs.swap(subs_);
    waiting.swap(waiting_);
    if (!remove_files && persistent()) persist_locked();
  }
  for (auto& s : subs) server_.unsubscribe_internal(account_, s);
  for (auto& wr : waiting) send_status(wr.reply, status_hdr("409 Consumer Deleted"));
  if (remove_files && !dir().empty()) {
    std::error_code ec;
    fs::remove_all(dir(), ec);
  }
  // The ticker sees stopped_ and unregisters itself.
}

std::deque<Consumer::WaitingRequest> Consumer::take_waiting() {
  std::lock_guard lk(mu_);
  std::deque<WaitingRequest> w;
  w.swap(waiting_);
  return w;
}

void Consumer::adopt_waiting(std::deque<WaitingRequest> w) {
  if (w.empty()) return;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    for (auto& r : w) waiting_.push_back(std::move(r));
  }
  kick();
}

void Consumer::update_config(const ConsumerConfig& cfg) {
  {
    std::lock_guard lk(mu_);
    cfg_ = cfg;
    state_.set_config(cfg);
    persistent_ = !stream_->dir().empty() && !cfg_.durable_name.empty() && !cfg_.mem_storage;
    dirty_ = true;
  }
  if (persistent()) write_meta();
  kick();
}

// ---- StreamConsumer -------------------------------------------------------------------

void Consumer::on_new_message(uint64_t seq, std::string_view subject) {
  bool wake;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    state_.on_new_message(seq, subject);
    // Only a consumer that could hand the message out now needs a pass: a pull consumer
    // with waiting requests, or a push consumer with a listener (the tick notices new ones).
    wake = leader_ && (cfg_.is_pull() ? !waiting_.empty() : active_);
  }
  if (wake) kick();
}

bool Consumer::needs_ack(uint64_t seq, std::string_view subject) const {
  if (auto r = repl_.lock()) return r->committed_needs_ack(seq, subject);
  std::lock_guard lk(mu_);
  return state_.needs_ack(seq, subject);
}

void Consumer::on_stream_purged(uint64_t first_seq) {
  {
    std::lock_guard lk(mu_);
    state_.on_purged(first_seq);
    dirty_ = true;
  }
  kick();
}

void Consumer::on_stream_deleted() { stop(true); }

// ---- Acks ------------------------------------------------------------------------------

void Consumer::apply_retention(const std::vector<uint64_t>& seqs) {
  // Replicated: every replica removes once the ack is committed (ConsumerGroup::apply).
  if (replicated_ || stream_->retention() == RetentionPolicy::limits) return;
  for (uint64_t s : seqs) stream_->ack_for_retention(s, *this);
}

void Consumer::handle_ack(std::string_view subject, std::string_view reply, std::string_view payload) {
  // $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>
  std::string_view toks[9];
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= subject.size() && n < 9; ++i) {
    if (i == subject.size() || subject[i] == '.') {
      toks[n++] = subject.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 9) return;
  uint64_t dc = parse_u64(toks[4]);
  uint64_t sseq = parse_u64(toks[5]);
  uint64_t cseq = parse_u64(toks[6]);
  // Advisories/metrics to send once the lock is released.
  std::optional<ConsumerEvent> event;
  ConsumerEventInfo event_info{cseq, sseq, dc, 0};
  // As 2.9.10: +ACK, +OK, +WPI and +TERM must match exactly (anything else is no ack at all,
  // though an AckSync still gets its answer); +NXT and -NAK are prefixes with an argument.
  int64_t now = now_unix_ns();
  std::vector<uint64_t> acked;
  bool wake = false;
  bool next_req = false;
  std::string_view next_body;
  // Replicated: what changed goes to the group's log; an AckSync is answered at commit.
  enum class Repl { none, ack, term, deadline } repl = Repl::none;
  int64_t new_deadline = 0;
  auto starts = [&](std::string_view p) { return payload.substr(0, p.size()) == p; };
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    last_activity_ns_ = now;
    bool was_full = state_.max_ack_pending_reached();
    if (payload.empty() || payload == "+ACK" || payload == "+OK" || starts("+NXT")) {
      if (cfg_.ack_policy == AckPolicy::all) {
        for (auto& [s, p] : state_.pending()) {
          if (s > sseq) break;
          acked.push_back(s);
        }
        if (!state_.ack(sseq, cseq)) acked.clear();
      } else {
        // The ack metric, sampled at sample_freq, for a message still pending.
        auto pit = state_.pending().find(sseq);
        int64_t delivered_at = pit != state_.pending().end() ? pit->second.deliver_ts : 0;
        if (state_.ack(sseq, cseq)) {
          acked.push_back(sseq);
          if (cfg_.ack_policy == AckPolicy::explicit_ack && should_sample(sample_percent(cfg_.sample_freq))) {
            event = ConsumerEvent::ack;
            event_info.ack_time_ns = now - delivered_at;
          }
        }
      }
      if (!acked.empty()) last_ack_ns_ = now;
      repl = Repl::ack;
      if (starts("+NXT")) {
        next_req = true;
        next_body = payload.substr(4);
      }
    } else if (starts("-NAK")) {
      // A JSON {"delay": ns} or a Go duration ("-NAK 5s"); one that does not parse is a plain nak.
      int64_t delay = parse_nak_delay(payload.substr(4)).value_or(0);
      if (state_.nak(sseq, cseq, delay, now)) event = ConsumerEvent::nak;
      repl = Repl::deadline;
      new_deadline = now + delay;
      if (delay == 0) wake = true;
      else if (next_deadline_ == 0 || now + delay < next_deadline_) next_deadline_ = now + delay;
    } else if (payload == "+WPI") {
      state_.progress(sseq, now);
      repl = Repl::deadline;
      new_deadline = now + state_.ack_wait_ns(state_.delivery_count(sseq));
    } else if (payload == "+TERM") {
      if (state_.term(sseq, cseq)) acked.push_back(sseq);
      repl = Repl::term;
      event = ConsumerEvent::terminated;  // the reference sends it for every +TERM
    }
    if (!acked.empty()) {
      dirty_ = true;
      if (was_full) wake = true;
    }
  }
  if (event) send_consumer_event(server_, account_, stream_->name(), name_, *event, event_info);
  apply_retention(acked);
  std::string_view sync_reply = next_req ? std::string_view() : reply;
  if (auto r = repl_.lock(); r && repl != Repl::none) {
    if (repl == Repl::deadline) r->propose_deadline(sseq, new_deadline);
    else if (!r->propose_ack(repl == Repl::term, sseq, cseq, sync_reply)) return;  // demoted: no answer
    else sync_reply = {};  // answered once committed
  }
  // AckSync: the client waits for an (empty) answer.
  if (!sync_reply.empty()) server_.publish_internal(account_, sync_reply, "", "", "");
  if (next_req && !reply.empty()) handle_next_request(reply, next_body);
  if (wake) kick();
}

// ---- Pull requests ---------------------------------------------------------------------

void Consumer::handle_next_request(std::string_view reply, std::string_view payload) {
  if (reply.empty()) return;
  WaitingRequest wr;
  wr.reply = std::string(reply);
  int64_t now = now_unix_ns();
  ConsumerConfig cfg = config();
  if (cfg.is_push()) {
    // The reference answers so the user learns the consumer's mode.
    send_status(wr.reply, status_hdr("409 Consumer is push based"));
    return;
  }
  PullRequestBody req;
  if (auto err = parse_pull_request(payload, req)) {
    send_status(wr.reply, status_hdr("400 Bad Request - " + *err));
    return;
  }
  wr.batch = req.batch;
  wr.max_bytes = req.max_bytes;
  wr.hb_ns = req.hb_ns;
  wr.no_wait = req.no_wait;
  // A negative expires is already over (the reference adds it to now).
  if (req.expires_ns != 0) wr.expires_at = now + req.expires_ns;
  if (cfg.max_batch > 0 && wr.batch > cfg.max_batch) {
    send_status(wr.reply, status_hdr("409 Exceeded MaxRequestBatch of " + std::to_string(cfg.max_batch)));
    return;
  }
  if (cfg.max_expires_ns > 0 && req.expires_ns > cfg.max_expires_ns) {
    send_status(wr.reply, status_hdr("409 Exceeded MaxRequestExpires of " + go_duration(cfg.max_expires_ns)));
    return;
  }
  if (cfg.max_bytes > 0 && wr.max_bytes > cfg.max_bytes) {
    send_status(wr.reply, status_hdr("409 Exceeded MaxRequestMaxBytes of " + std::to_string(cfg.max_bytes)));
    return;
  }
  std::string refusal;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    last_activity_ns_ = now;
    // Drop expired requests before counting.
    std::erase_if(waiting_, [&](WaitingRequest& w) {
      if (!w.expires_at || w.expires_at > now) return false;
      finish_request_locked(w, 408);
      return true;
    });
    if (wr.no_wait) {
      // As 2.9.10: nothing to deliver and no expires: 404 at once; fewer messages than the
      // requests already waiting ask for: 408 Requests Pending. Otherwise it waits like any
      // request (up to its expires) and ends once it got something and nothing more is there.
      uint64_t avail = state_.num_pending() + state_.redelivery_queue_size();
      if (avail == 0 && wr.expires_at == 0) {
        refusal = "404 No Messages";
      } else if (avail > 0) {
        int64_t asked = 0;
        for (auto& w : waiting_) asked += w.batch;
        if (avail < static_cast<uint64_t>(std::max<int64_t>(asked, 0))) refusal = "408 Requests Pending";
      }
    }
    if (refusal.empty() && cfg_.max_waiting > 0 && static_cast<int64_t>(waiting_.size()) >= cfg_.max_waiting)
      refusal = "409 Exceeded MaxWaiting";
    if (refusal.empty()) {
      wr.last_hb = now;
      waiting_.push_back(wr);
      if (auto r = repl_.lock(); r && !wr.no_wait) r->propose_request(wr.reply, wr.expires_at, true);
    }
  }
  // In a client's input batch the batch's own flush writes this (no write per request).
  if (!Connection::in_input_batch()) Connection::flush_touched();
  if (!refusal.empty()) {
    send_status(wr.reply, status_hdr(refusal));
    return;
  }
  // A request that arrives on a client's loop is served right there: its deliveries leave
  // with that loop's batch flush, without a hop to the worker thread and back to the loop
  // (two thread wake-ups per request). A replicated consumer keeps its Raft work on the
  // worker; what is left past one pass's budget goes to the worker too (deliver_pass kicks).
  if (Connection::in_input_batch() && !replicated_) deliver_pass(true);
  else kick();
}

// ---- Delivery --------------------------------------------------------------------------

void Consumer::kick() {
  if (kick_pending_.exchange(true)) return;
  std::weak_ptr<Consumer> weak = weak_from_this();
  worker_.post([weak] {
    if (auto self = weak.lock()) self->deliver_pass();
  });
}

std::string Consumer::ack_reply(const Delivery& d) const {
  std::string r;
  r.reserve(64 + name_.size() + stream_->name().size());
  r += "$JS.ACK.";
  r += stream_->name();
  r += '.';
  r += name_;
  r += '.';
  r += std::to_string(d.dc);
  r += '.';
  r += std::to_string(d.msg.seq);
  r += '.';
  r += std::to_string(d.cseq);
  r += '.';
  r += std::to_string(d.msg.ts);
  r += '.';
  r += std::to_string(d.pending);
  return r;
}

bool Consumer::send_to(std::string_view route_subject, std::string_view shown_subject, std::string_view reply,
                       std::string_view headers, std::string_view payload) {
  // Routed by the deliver subject (or the pull request's reply) but shown to the client
  // with the message's own subject, as the reference's internal client does.
  MatchCache* cache = server_.match_cache_for_current_thread();
  std::shared_ptr<const MatchResult> r =
      cache ? account_.sublist().match_shared(route_subject, *cache) : account_.sublist().match(route_subject);
  // A requester in another cluster (a gateway-mapped reply) or behind a route: no local
  // client to hand the message to, so it travels as a normal publish (showing the routing
  // subject, as a message crossing servers does).
  bool remote = route_subject.substr(0, 5) == "_GR_.";
  if (!remote && (!r || r->empty())) return false;
  uint64_t n = 0;
  auto one = [&](const SubscriptionPtr& sub) {
    if (sub->closed.load(std::memory_order_relaxed)) return false;
    if (sub->conn) {
      if (sub->conn->kind() != ConnKind::Client) {
        remote = true;
        return false;
      }
      return sub->conn->deliver(*sub, shown_subject, reply, headers, payload);
    }
    if (sub->handler) {
      // A stream import forwards by the deliver subject; the shown subject rides on the reply.
      if (sub->sid == "simport" && route_subject != shown_subject && reply.substr(0, kJsAckPrefix.size()) == kJsAckPrefix)
        sub->handler(*sub, route_subject, encode_js_reply(reply, shown_subject), headers, payload);
      else
        sub->handler(*sub, shown_subject, reply, headers, payload);
      return true;
    }
    return false;
  };
  if (r)
    for (const auto& sub : r->psubs)
      if (one(sub)) ++n;
  static const std::vector<std::vector<SubscriptionPtr>> kNoGroups;
  for (const auto& group : r ? r->qsubs : kNoGroups) {
    if (group.empty()) continue;
    size_t start = static_cast<size_t>(now_unix_ns()) % group.size();
    for (size_t i = 0; i < group.size(); ++i) {
      if (one(group[(start + i) % group.size()])) {
        ++n;
        break;
      }
    }
  }
  if (n == 0 && remote) {
    if (route_subject != shown_subject && reply.substr(0, kJsAckPrefix.size()) == kJsAckPrefix)
      server_.publish_internal(account_, route_subject, encode_js_reply(reply, shown_subject), headers, payload);
    else
      server_.publish_internal(account_, route_subject, reply, headers, payload);
    return true;
  }
  if (n) server_.counters_for_current_thread().add_out(n, n * (headers.size() + payload.size()));
  return n > 0;
}

void Consumer::send_status(const std::string& to, std::string_view headers) {
  send_to(to, to, "", headers, "");
  Connection::flush_touched();
}

void Consumer::send_delivery_locked(const std::string& to, const Delivery& d) {
  std::string reply = ack_reply(d);
  if (cfg_.headers_only) {
    std::string h;
    std::string size = "Nats-Msg-Size: " + std::to_string(d.msg.payload.size()) + "\r\n";
    if (d.msg.headers.size() >= 4) {
      h = d.msg.headers.substr(0, d.msg.headers.size() - 2) + size + "\r\n";
    } else {
      h = "NATS/1.0\r\n" + size + "\r\n";
    }
    send_to(to, d.msg.subject, reply, h, "");
  } else {
    send_to(to, d.msg.subject, reply, d.msg.headers, d.msg.payload);
  }
  if (auto r = repl_.lock()) r->propose_delivered(d.cseq, d.msg.seq, d.dc, now_unix_ns());
  last_cseq_sent_ = d.cseq;
  last_sseq_sent_ = d.msg.seq;
}

void Consumer::finish_request_locked(WaitingRequest& wr, int code) {
  if (code == 404) {
    send_to(wr.reply, wr.reply, "", status_hdr("404 No Messages"), "");
  } else if (code == 408) {
    uint64_t left_bytes = wr.max_bytes > 0 ? static_cast<uint64_t>(wr.max_bytes - wr.bytes_sent) : 0;
    send_to(wr.reply, wr.reply, "",
            status_hdr("408 Request Timeout", static_cast<uint64_t>(wr.batch), left_bytes, true), "");
  } else if (code == 409) {
    uint64_t left_bytes = wr.max_bytes > 0 ? static_cast<uint64_t>(wr.max_bytes - wr.bytes_sent) : 0;
    send_to(wr.reply, wr.reply, "",
            status_hdr("409 Message Size Exceeds MaxBytes", static_cast<uint64_t>(wr.batch), left_bytes, true), "");
  }
}

size_t Consumer::delivery_size(const Delivery& d) const {
  // What a pull request's max_bytes counts, as 2.9.10: subject, ack reply, headers, payload
  // (for headers_only, the headers as sent and no payload).
  size_t reply = ack_reply(d).size();
  if (cfg_.headers_only) {
    size_t size_hdr = std::string_view("Nats-Msg-Size: \r\n").size() + std::to_string(d.msg.payload.size()).size();
    size_t hdr = (d.msg.headers.size() >= 4 ? d.msg.headers.size() : std::string_view("NATS/1.0\r\n\r\n").size()) +
                 size_hdr;
    return d.msg.subject.size() + reply + hdr;
  }
  return d.msg.subject.size() + reply + d.msg.headers.size() + d.msg.payload.size();
}

bool Consumer::hold_for_replay_locked(Delivery& d, int64_t now) {
  if (!replay_) return false;
  if (replay_lts_ > 0 && d.msg.ts - replay_lts_ > 1'000'000) {
    int64_t gap = d.msg.ts - replay_lts_;
    replay_release_ns_ = now + gap;
    replay_lts_ = d.msg.ts;
    replay_held_ = std::move(d);
    // Wake exactly at the release time (a loop timer; the 50 ms tick is the fallback).
    std::weak_ptr<Consumer> weak = weak_from_this();
    server_.pick_loop().run_after(std::chrono::nanoseconds(gap), [weak] {
      if (auto self = weak.lock()) self->kick();
    });
    return true;
  }
  replay_lts_ = d.msg.ts;
  return false;
}

bool Consumer::deliver_pull_locked(int64_t now, int& budget) {
  bool delivered = false;
  if (replay_held_) {
    // Replay original: the message already taken for a request goes out at its time, to
    // that request's reply even if it expired meanwhile (as the reference's sleep).
    if (now < replay_release_ns_) return false;
    state_.progress(replay_held_->msg.seq, now);  // its ack wait starts now that it goes out
    send_delivery_locked(replay_held_to_, *replay_held_);
    replay_held_.reset();
    delivered = true;
    --budget;
  }
  while (!waiting_.empty() && budget > 0) {
    WaitingRequest& wr = waiting_.front();
    if (wr.expires_at && wr.expires_at <= now) {
      finish_request_locked(wr, 408);
      waiting_.pop_front();
      continue;
    }
    int64_t sz = 0;
    if (wr.max_bytes > 0) {
      auto p = state_.peek();
      if (!p) break;
      sz = static_cast<int64_t>(delivery_size(*p));
      if (sz > wr.max_bytes - wr.bytes_sent) {
        // Too big for what is left: the request ends with 409 (also after some messages), and
        // the message waits for the next request.
        finish_request_locked(wr, 409);
        waiting_.pop_front();
        continue;
      }
    }
    auto d = state_.next(now);
    if (!d) {
      if (replay_ && state_.delivered_sseq() >= replay_lseq_) replay_ = false;  // caught up
      break;
    }
    bool held = hold_for_replay_locked(*d, now);
    if (held) replay_held_to_ = wr.reply;
    else send_delivery_locked(wr.reply, *d);
    if (!held) delivered = true;
    --budget;
    ++wr.delivered;
    --wr.batch;
    wr.bytes_sent += sz;
    // max_bytes used up exactly: this was the last one.
    if (wr.max_bytes > 0 && wr.bytes_sent >= wr.max_bytes) wr.batch = 0;
    wr.last_hb = now;
    if (wr.batch <= 0) {
      if (auto r = repl_.lock(); r && !wr.no_wait) r->propose_request(wr.reply, 0, false);
      waiting_.pop_front();
    }
    if (held) break;
  }
  // Nothing more to deliver now: a no_wait request that got something ends here (408), unless
  // only max_ack_pending holds the rest back (as 2.9.10).
  if (budget > 0 && !replay_held_ && !state_.max_ack_pending_reached()) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->no_wait && it->delivered > 0) {
        finish_request_locked(*it, 408);
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return delivered;
}

void Consumer::start_replay_locked() {
  replay_ = cfg_.replay_policy == ReplayPolicy::original;
  replay_lseq_ = replay_ ? stream_->store().fast_state().last_seq : 0;
  replay_lts_ = 0;
  replay_held_.reset();
}

bool Consumer::deliver_push_locked(int64_t now, int& budget) {
  bool delivered = false;
  while (budget > 0) {
    if (!fc_reply_.empty() && fc_bytes_ >= 2 * kFcBytes) break;  // stalled until the client answers
    if (cfg_.rate_limit_bps > 0 && now < rate_next_ns_) break;
    std::optional<Delivery> d;
    if (replay_held_) {
      if (now < replay_release_ns_) break;  // the tick comes back for it
      d = std::move(replay_held_);
      replay_held_.reset();
      state_.progress(d->msg.seq, now);  // its ack wait starts now that it goes out
    } else {
      d = state_.next(now);
      if (!d) {
        if (replay_ && state_.delivered_sseq() >= replay_lseq_) replay_ = false;  // caught up
        break;
      }
      if (hold_for_replay_locked(*d, now)) break;
    }
    send_delivery_locked(cfg_.deliver_subject, *d);
    delivered = true;
    --budget;
    uint64_t sz = d->msg.subject.size() + d->msg.headers.size() + d->msg.payload.size();
    if (cfg_.rate_limit_bps > 0)
      rate_next_ns_ = now + static_cast<int64_t>(sz * 8 * 1'000'000'000ULL / cfg_.rate_limit_bps);
    if (cfg_.flow_control) {
      fc_bytes_ += sz;
      if (fc_reply_.empty() && fc_bytes_ >= kFcBytes) {
        fc_reply_ = "$JS.FC." + stream_->name() + "." + name_ + "." + std::to_string(++fc_seq_);
        fc_bytes_ = 0;
        send_to(cfg_.deliver_subject, cfg_.deliver_subject, fc_reply_, "NATS/1.0 100 FlowControl Request\r\n\r\n",
                "");
      }
    }
  }
  if (delivered) last_hb_ns_ = now;
  return delivered;
}

void Consumer::deliver_pass(bool in_batch) {
  if (!in_batch) kick_pending_.store(false);
  int64_t now = now_unix_ns();
  int budget = kPassBudget;
  bool more = false;
  {
    std::lock_guard lk(mu_);
    if (stopped_ || !leader_) return;
    bool delivered;
    if (cfg_.is_pull()) {
      delivered = deliver_pull_locked(now, budget);
    } else {
      // Checked on every pass (not per message): a subscriber that left since the last tick
      // must not make us hand out messages nobody receives.
      active_ = deliver_interest();
      delivered = active_ && deliver_push_locked(now, budget);
    }
    for (auto& [seq, dc] : state_.take_exceeded())
      send_consumer_event(server_, account_, stream_->name(), name_, ConsumerEvent::max_deliver, {0, seq, dc, 0});
    if (delivered) {
      last_delivered_ns_ = now;
      dirty_ = true;
      if (next_deadline_ == 0 && state_.num_ack_pending() > 0) next_deadline_ = now + cfg_.ack_wait_ns;
    }
    more = budget == 0;
  }
  if (!in_batch) Connection::flush_touched();  // else the input batch's flush writes them
  if (more) kick();  // let other consumers on this worker run
}

void Consumer::send_heartbeat_locked(const std::string& to) {
  std::string h = "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: " + std::to_string(state_.delivered_cseq()) +
                  "\r\nNats-Last-Stream: " + std::to_string(state_.delivered_sseq()) + "\r\n";
  if (!fc_reply_.empty()) h += "Nats-Consumer-Stalled: " + fc_reply_ + "\r\n";
  h += "\r\n";
  send_to(to, to, "", h, "");
}

bool Consumer::deliver_interest() const { return account_.sublist().has_interest(cfg_.deliver_subject); }

bool Consumer::tick() {
  int64_t now = now_unix_ns();
  bool wake = false;
  bool inactive = false;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return false;
    if (!leader_) return true;  // a replicated consumer's follower only keeps state
    // Ack deadlines.
    if (next_deadline_ && next_deadline_ <= now) {
      next_deadline_ = state_.check_ack_deadlines(now);
      if (state_.has_redeliveries()) wake = true;
    } else if (next_deadline_ == 0 && state_.num_ack_pending() > 0) {
      next_deadline_ = state_.check_ack_deadlines(now);
      if (state_.has_redeliveries()) wake = true;
    }
    if (cfg_.is_pull()) {
      // About once a second, forget requests whose requester is gone (no interest in the
      // reply subject any more), so they do not hold max_waiting slots forever.
      bool check_interest = ++tick_count_ % 20 == 0;
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (check_interest && it->reply.rfind("_GR_.", 0) != 0 && !account_.sublist().has_interest(it->reply)) {
          it = waiting_.erase(it);
          continue;
        }
        if (it->expires_at && it->expires_at <= now) {
          finish_request_locked(*it, 408);
          it = waiting_.erase(it);
          continue;
        }
        if (it->hb_ns > 0 && now - it->last_hb >= it->hb_ns) {
          send_heartbeat_locked(it->reply);
          it->last_hb = now;
        }
        ++it;
      }
      if (!waiting_.empty()) last_activity_ns_ = now;
      if (replay_held_) wake = true;
    } else {
      bool was = active_;
      active_ = deliver_interest();
      if (active_) last_activity_ns_ = now;
      if (active_ && !was) {
        wake = true;
        last_hb_ns_ = now;  // deliver first; heartbeats only after an idle interval
      }
      if (active_ && (cfg_.rate_limit_bps > 0 || replay_held_)) wake = true;
      if (active_ && cfg_.idle_heartbeat_ns > 0 && now - last_hb_ns_ >= cfg_.idle_heartbeat_ns) {
        send_heartbeat_locked(cfg_.deliver_subject);
        last_hb_ns_ = now;
      }
    }
    if (cfg_.durable_name.empty() && cfg_.inactive_threshold_ns > 0 &&
        now - last_activity_ns_ >= cfg_.inactive_threshold_ns)
      inactive = true;
    if (dirty_ && persistent()) persist_locked();
  }
  Connection::flush_touched();
  if (inactive && on_inactive) {
    on_inactive(shared_from_this());
    return false;
  }
  if (wake) kick();
  return true;
}

// ---- Info and persistence ----------------------------------------------------------------

ojson Consumer::info_json() {
  std::lock_guard lk(mu_);
  return info_json_locked();
}

ojson Consumer::take_initial_info() {
  std::lock_guard lk(mu_);
  if (!initial_info_) return info_json_locked();
  ojson j = std::move(*initial_info_);
  initial_info_.reset();
  return j;
}

ojson Consumer::info_json_locked() {
  ojson j;
  j["stream_name"] = stream_->name();
  j["name"] = name_;
  j["created"] = format_time(created_ns_);
  j["config"] = consumer_config_json(cfg_);
  ojson del;
  del["consumer_seq"] = state_.delivered_cseq();
  del["stream_seq"] = state_.delivered_sseq();
  if (last_delivered_ns_) del["last_active"] = format_time(last_delivered_ns_);
  j["delivered"] = del;
  ojson af;
  af["consumer_seq"] = state_.ack_floor_cseq();
  af["stream_seq"] = state_.ack_floor_sseq();
  if (last_ack_ns_) af["last_active"] = format_time(last_ack_ns_);
  j["ack_floor"] = af;
  j["num_ack_pending"] = state_.num_ack_pending();
  j["num_redelivered"] = state_.num_redelivered();
  // As 2.9.10 (which prunes first): requests neither expired nor abandoned by their requester.
  int64_t now = now_unix_ns();
  size_t waiting = 0;
  for (const auto& w : waiting_)
    if ((!w.expires_at || w.expires_at > now) &&
        (w.reply.rfind("_GR_.", 0) == 0 || account_.sublist().has_interest(w.reply)))
      ++waiting;
  j["num_waiting"] = waiting;
  j["num_pending"] = state_.num_pending();
  if (cfg_.is_push() && active_) j["push_bound"] = true;
  return j;
}

void Consumer::write_meta() {
  std::string d = dir();
  if (d.empty()) return;
  std::error_code ec;
  fs::create_directories(d, ec);
  ojson j;
  j["name"] = name_;
  j["created"] = created_ns_;
  {
    std::lock_guard lk(mu_);
    j["config"] = consumer_config_json(cfg_);
  }
  write_file_atomic(d + "/meta.inf", j.dump());
}

void Consumer::persist_locked() {
  dirty_ = false;
  std::string d = dir();
  if (d.empty()) return;
  ConsumerSnapshot s = state_.snapshot();
  ojson j;
  j["delivered"] = {{"consumer_seq", s.delivered_cseq}, {"stream_seq", s.delivered_sseq}};
  j["ack_floor"] = {{"consumer_seq", s.ack_floor_cseq}, {"stream_seq", s.ack_floor_sseq}};
  ojson pend = ojson::array();
  for (auto& [seq, p] : s.pending) pend.push_back({seq, p.cseq, p.deliver_ts, p.deadline});
  j["pending"] = pend;
  ojson rd = ojson::array();
  for (auto& [seq, n] : s.redelivered) rd.push_back({seq, n});
  j["redelivered"] = rd;
  std::error_code ec;
  fs::create_directories(d, ec);
  write_file_atomic(d + "/o.dat", j.dump());
}

}  // namespace nats::jetstream
