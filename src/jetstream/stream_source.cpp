#include "jetstream/stream_source.h"

#include <charconv>

#include "jetstream/headers.h"
#include "jetstream/json_util.h"
#include "jetstream/stream.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

namespace {

constexpr auto kHeartbeat = std::chrono::seconds(1);
constexpr auto kStalled = 3 * kHeartbeat;              // reference: 3 missed health checks
constexpr auto kRetryThreshold = std::chrono::seconds(2);  // reference sourceConsumerRetryThreshold
constexpr auto kCreateTimeout = std::chrono::seconds(5);
constexpr int64_t kAckWaitNs = 22LL * 3600 * 1000000000LL;
constexpr std::string_view kStreamSourceHdr = "Nats-Stream-Source";

SourceSpec parse_spec(const nlohmann::ordered_json& j) {
  SourceSpec s;
  s.name = j.value("name", std::string());
  s.opt_start_seq = j.contains("opt_start_seq") && j["opt_start_seq"].is_number_unsigned()
                        ? j["opt_start_seq"].get<uint64_t>()
                        : 0;
  if (auto it = j.find("opt_start_time"); it != j.end() && it->is_string())
    s.opt_start_time_ns = parse_time(it->get<std::string>());
  s.filter_subject = j.value("filter_subject", std::string());
  if (auto it = j.find("external"); it != j.end() && it->is_object()) {
    s.external = true;
    s.api_prefix = it->value("api", std::string());
    s.deliver_prefix = it->value("deliver", std::string());
  }
  s.iname = s.external ? s.name + ":" + util::hash_name(s.api_prefix, 8) : s.name;
  return s;
}

std::vector<std::string_view> split_tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

uint64_t to_u64(std::string_view v) {
  uint64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>
struct AckReply {
  std::string_view consumer;
  uint64_t dc = 0, sseq = 0, dseq = 0, pending = 0;
  int64_t ts = 0;
};

std::optional<AckReply> parse_ack_reply(std::string_view reply) {
  auto t = split_tokens(reply);
  if (t.size() != 9 || t[0] != "$JS" || t[1] != "ACK") return std::nullopt;
  AckReply r;
  r.consumer = t[3];
  r.dc = to_u64(t[4]);
  r.sseq = to_u64(t[5]);
  r.dseq = to_u64(t[6]);
  r.ts = static_cast<int64_t>(to_u64(t[7]));
  r.pending = to_u64(t[8]);
  return r;
}

// The headers with every `key` line removed.
std::string remove_header(std::string_view headers, std::string_view key) {
  std::string out;
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t end = headers.find("\r\n", pos);
    end = end == std::string_view::npos ? headers.size() : end + 2;
    std::string_view line = headers.substr(pos, end - pos);
    bool drop = pos > 0 && line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':';
    if (!drop) out += line;
    pos = end;
  }
  return out;
}

std::string random_token() { return util::next_nuid(); }

}  // namespace

std::vector<SourceSpec> source_specs(const StreamConfig& cfg) {
  std::vector<SourceSpec> out;
  if (cfg.mirror.is_object()) {
    out.push_back(parse_spec(cfg.mirror));
  } else if (cfg.sources.is_array()) {
    for (const auto& j : cfg.sources) {
      if (j.is_object()) out.push_back(parse_spec(j));
    }
  }
  return out;
}

bool parse_stream_source_header(std::string_view v, std::string& iname, uint64_t& seq) {
  if (v.rfind("$JS.ACK.", 0) == 0) {  // the original form stored the whole ack reply
    auto r = parse_ack_reply(v);
    if (!r) return false;
    iname = std::string(split_tokens(v)[2]);
    seq = r->sseq;
    return true;
  }
  size_t sp = v.find(' ');
  if (sp == std::string_view::npos || v.find(' ', sp + 1) != std::string_view::npos) return false;
  iname = std::string(v.substr(0, sp));
  seq = to_u64(v.substr(sp + 1));
  return true;
}

struct StreamSourcing::Link {
  SourceSpec spec;
  size_t index = 0;
  // Worker thread only.
  uint64_t gen = 0;
  SubscriptionPtr deliver_sub, reply_sub;
  bool creating = false;
  Clock::time_point create_sent{}, last_request{}, next_try{};
  std::string cname;
  uint64_t sseq = 0, dseq = 0;
  bool position_known = false;  // sources: sseq holds the last origin sequence stored
  Clock::time_point last_msg{};
  // Reported (mu_).
  uint64_t lag = 0;
  std::optional<Clock::time_point> last_active;
  ApiError error;
};

StreamSourcing::StreamSourcing(std::weak_ptr<Stream> stream, bool mirror, std::vector<SourceSpec> specs)
    : stream_(std::move(stream)), mirror_(mirror) {
  for (size_t i = 0; i < specs.size(); ++i) {
    auto l = std::make_unique<Link>();
    l->spec = std::move(specs[i]);
    l->index = i;
    links_.push_back(std::move(l));
  }
}

StreamSourcing::~StreamSourcing() { stop(); }

void StreamSourcing::start() {
  // The worker keeps us alive: the stream may drop its reference from the worker itself.
  worker_ = std::thread([self = shared_from_this()] { self->run(); });
}

void StreamSourcing::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (!worker_.joinable()) return;
  if (worker_.get_id() == std::this_thread::get_id()) {
    worker_.detach();  // the stream went away under our own call; run() returns next
    return;
  }
  worker_.join();
  if (auto s = stream_.lock()) {
    for (auto& l : links_) cancel(s, *l);
  }
}

void StreamSourcing::enqueue(Event ev) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(ev));
  }
  cv_.notify_one();
}

void StreamSourcing::run() {
  bool ready = false;  // a stream restored at start-up waits for the server to finish starting
  for (;;) {
    std::deque<Event> batch;
    {
      std::unique_lock lk(mu_);
      auto wait = ready ? std::chrono::milliseconds(250) : std::chrono::milliseconds(ready_wait_ms_);
      cv_.wait_for(lk, wait, [this] { return stopping_ || !queue_.empty(); });
      ready_wait_ms_ = 20;
      if (stopping_) return;
      batch.swap(queue_);
    }
    auto s = stream_.lock();
    if (!s || s->is_deleted()) return;
    if (!ready && !(ready = s->server().can_publish())) continue;
    for (auto& ev : batch) handle(s, ev);
    health_check(s);
  }
}

void StreamSourcing::cancel(const std::shared_ptr<Stream>& s, Link& l) {
  if (l.deliver_sub) s->server().unsubscribe_internal(s->account(), l.deliver_sub);
  if (l.reply_sub) s->server().unsubscribe_internal(s->account(), l.reply_sub);
  l.deliver_sub.reset();
  l.reply_sub.reset();
  l.cname.clear();
  l.creating = false;
  ++l.gen;  // anything still queued for the old consumer is ignored
}

void StreamSourcing::health_check(const std::shared_ptr<Stream>& s) {
  auto now = Clock::now();
  for (auto& lp : links_) {
    Link& l = *lp;
    if (l.creating) {
      if (now - l.create_sent > kCreateTimeout) create_consumer(s, l);
      continue;
    }
    if (!l.deliver_sub) {
      if (now >= l.next_try) create_consumer(s, l);
      continue;
    }
    if (now - l.last_msg > kStalled) create_consumer(s, l);
  }
}

void StreamSourcing::create_consumer(const std::shared_ptr<Stream>& s, Link& l) {
  cancel(s, l);
  auto now = Clock::now();
  if (now - l.last_request < kRetryThreshold) {
    l.next_try = l.last_request + kRetryThreshold;
    return;
  }
  l.last_request = now;
  const SourceSpec& sp = l.spec;

  ojson cfg;
  std::string deliver = (sp.external && !sp.deliver_prefix.empty()) ? sp.deliver_prefix + (mirror_ ? ".M." : ".S.")
                                                                     : std::string(mirror_ ? "$JS.M." : "$JS.S.");
  deliver += random_token();
  cfg["deliver_subject"] = deliver;
  std::string policy = "all";
  if (mirror_) {
    auto pos = s->sourcing_position();
    l.sseq = pos.last_seq;
    if (pos.empty) {
      if (sp.opt_start_seq > 0) {
        policy = "by_start_sequence";
        cfg["opt_start_seq"] = sp.opt_start_seq;
      } else if (sp.opt_start_time_ns > 0) {
        policy = "by_start_time";
        cfg["opt_start_time"] = format_time(sp.opt_start_time_ns);
      }
    } else {
      policy = "by_start_sequence";
      cfg["opt_start_seq"] = pos.last_seq + 1;
    }
  } else {
    int64_t start_time = 0;
    if (!l.position_known) {
      auto found = s->last_sourced_seq(sp.iname);
      if (found) l.sseq = *found, l.position_known = true;
      else start_time = s->sourcing_position().last_ts;
    }
    if (l.position_known) {
      policy = "by_start_sequence";
      cfg["opt_start_seq"] = l.sseq + 1;
    } else if (sp.opt_start_seq > 0) {
      policy = "by_start_sequence";
      cfg["opt_start_seq"] = sp.opt_start_seq;
    } else if (sp.opt_start_time_ns > 0 || start_time > 0) {
      // A restart whose stored messages are gone falls back to the stream's last time.
      policy = "by_start_time";
      cfg["opt_start_time"] = format_time(std::max(sp.opt_start_time_ns, start_time));
    }
  }
  cfg["deliver_policy"] = policy;
  cfg["ack_policy"] = "none";
  cfg["ack_wait"] = kAckWaitNs;
  cfg["max_deliver"] = 1;
  if (!sp.filter_subject.empty()) cfg["filter_subject"] = sp.filter_subject;
  cfg["replay_policy"] = "instant";
  cfg["idle_heartbeat"] = std::chrono::nanoseconds(kHeartbeat).count();
  cfg["flow_control"] = true;
  cfg["direct"] = true;

  std::string subject;
  if (!sp.filter_subject.empty()) {
    std::string name = std::string(mirror_ ? "mirror-" : "src-") + random_token();
    cfg["name"] = name;
    subject = "$JS.API.CONSUMER.CREATE." + sp.name + "." + name + "." + sp.filter_subject;
  } else {
    subject = "$JS.API.CONSUMER.CREATE." + sp.name;
  }
  if (sp.external) {
    subject = sp.api_prefix + subject.substr(std::string_view("$JS.API").size());
    for (size_t p; (p = subject.find("..")) != std::string::npos;) subject.erase(p, 1);
    for (size_t p; (p = deliver.find("..")) != std::string::npos;) deliver.erase(p, 1);
    cfg["deliver_subject"] = deliver;
  }
  ojson req;
  req["stream_name"] = sp.name;
  req["config"] = cfg;

  uint64_t gen = ++l.gen;
  size_t idx = l.index;
  auto& srv = s->server();
  l.deliver_sub = srv.subscribe_internal(
      s->account(), deliver,
      [weak = weak_from_this(), idx, gen](const Subscription&, std::string_view subj, std::string_view reply,
                                          std::string_view hdr, std::string_view payload) {
        if (auto self = weak.lock())
          self->enqueue(
              Event{idx, gen, false, std::string(subj), std::string(reply), std::string(hdr), std::string(payload)});
      });
  std::string inbox = "$JSI." + util::next_nuid();
  l.reply_sub = srv.subscribe_internal(
      s->account(), inbox,
      [weak = weak_from_this(), idx, gen](const Subscription&, std::string_view, std::string_view, std::string_view,
                                          std::string_view payload) {
        if (auto self = weak.lock()) self->enqueue(Event{idx, gen, true, {}, {}, {}, std::string(payload)});
      });
  l.creating = true;
  l.create_sent = now;
  l.last_msg = now;
  l.dseq = 0;
  srv.publish_internal(s->account(), subject, inbox, {}, req.dump());
}

void StreamSourcing::handle(const std::shared_ptr<Stream>& s, Event& ev) {
  Link& l = *links_[ev.link];
  if (ev.gen != l.gen) return;
  if (ev.create_response) return on_create_response(s, l, ev.payload);
  l.last_msg = Clock::now();
  {
    std::lock_guard lk(mu_);
    l.last_active = l.last_msg;
  }
  bool control = ev.payload.empty() && ev.headers.rfind("NATS/1.0 100 ", 0) == 0;
  if (control) return on_control(s, l, ev);
  if (mirror_) on_mirror_msg(s, l, ev);
  else on_source_msg(s, l, ev);
}

void StreamSourcing::on_create_response(const std::shared_ptr<Stream>& s, Link& l, const std::string& payload) {
  if (l.reply_sub) s->server().unsubscribe_internal(s->account(), l.reply_sub);
  l.reply_sub.reset();
  l.creating = false;
  auto j = json::parse(payload, nullptr, false);
  ApiError err;
  if (!j.is_object()) {
    err = api_error(err::InvalidJSON);
  } else if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    err.code = e->value("code", 500);
    err.err_code = e->value("err_code", 0);
    err.description = e->value("description", std::string());
  }
  {
    std::lock_guard lk(mu_);
    l.error = err;
  }
  if (!err.empty()) {
    log::warn("JetStream error response for create {} consumer of '{}': {}", mirror_ ? "mirror" : "source",
              l.spec.name, err.description);
    cancel(s, l);
    l.next_try = Clock::now();  // create_consumer keeps the 2 s spacing
    return;
  }
  std::string name = j.value("name", std::string());
  if (l.cname == name) return;  // deliveries raced ahead of the response and were adopted
  l.cname = name;
  l.dseq = 0;
  if (mirror_) {
    uint64_t delivered = 0;
    if (auto d = j.find("delivered"); d != j.end() && d->is_object()) delivered = d->value("stream_seq", 0ULL);
    l.sseq = std::max(l.sseq, delivered);
  }
}

void StreamSourcing::on_control(const std::shared_ptr<Stream>& s, Link& l, const Event& ev) {
  auto& srv = s->server();
  if (!ev.reply.empty()) {  // flow control request
    srv.publish_internal(s->account(), ev.reply, {}, {}, {});
    return;
  }
  auto last = header_uint(ev.headers, "Nats-Last-Consumer");
  if (last && *last > 0 && *last != l.dseq) {
    // We missed deliveries: start again from what we stored.
    l.next_try = Clock::now();
    create_consumer(s, l);
    return;
  }
  if (auto stalled = header_value(ev.headers, "Nats-Consumer-Stalled"); stalled && !stalled->empty())
    srv.publish_internal(s->account(), *stalled, {}, {}, {});
}

void StreamSourcing::on_mirror_msg(const std::shared_ptr<Stream>& s, Link& l, const Event& ev) {
  auto r = parse_ack_reply(ev.reply);
  if (!r || r->dc > 1) return;
  if (l.cname.empty()) {
    l.cname = std::string(r->consumer);
  } else if (r->consumer != l.cname) {
    return;
  }
  if (r->sseq <= l.sseq) return;  // older than what we have
  // A jump in origin sequences with consecutive deliveries: the origin removed messages or
  // a filter skipped them; the gap stays as deleted sequences. Anything else is a loss.
  if (r->sseq != l.sseq + 1 && l.dseq != 0 && r->dseq != l.dseq + 1) {
    create_consumer(s, l);
    return;
  }
  if (!s->store_mirrored(r->sseq, r->ts, ev.subject, ev.headers, ev.payload)) {
    create_consumer(s, l);
    return;
  }
  l.sseq = r->sseq;
  l.dseq = r->dseq;
  std::lock_guard lk(mu_);
  l.lag = r->pending == 0 ? 0 : r->pending - 1;
}

void StreamSourcing::on_source_msg(const std::shared_ptr<Stream>& s, Link& l, const Event& ev) {
  auto r = parse_ack_reply(ev.reply);
  if (!r || r->dc > 1) return;
  if (l.cname.empty()) {
    l.cname = std::string(r->consumer);
  } else if (r->consumer != l.cname) {
    return;
  }
  if (r->dseq != l.dseq + 1) {
    if (r->dseq > l.dseq) create_consumer(s, l);  // a delivery went missing
    return;
  }
  std::string hdr = ev.headers.empty() ? std::string() : remove_header(ev.headers, kStreamSourceHdr);
  hdr = append_headers(hdr, {{std::string(kStreamSourceHdr), l.spec.iname + " " + std::to_string(r->sseq)}});
  if (!s->store_sourced(l.spec.iname, r->sseq, ev.subject, hdr, ev.payload)) {
    l.position_known = false;  // rescan what we stored, then retry
    create_consumer(s, l);
    return;
  }
  l.dseq = r->dseq;
  l.sseq = r->sseq;
  l.position_known = true;
  std::lock_guard lk(mu_);
  l.lag = r->pending == 0 ? 0 : r->pending - 1;
}

ojson StreamSourcing::link_info(const Link& l) const {
  ojson j;
  j["name"] = l.spec.name;
  if (l.spec.external) j["external"] = ojson{{"api", l.spec.api_prefix}, {"deliver", l.spec.deliver_prefix}};
  j["lag"] = l.lag;
  j["active"] = l.last_active
                    ? std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - *l.last_active).count()
                    : -1;
  if (!l.error.empty()) j["error"] = l.error.to_json();
  return j;
}

ojson StreamSourcing::mirror_info() const {
  std::lock_guard lk(mu_);
  if (!mirror_ || links_.empty()) return nullptr;
  return link_info(*links_.front());
}

ojson StreamSourcing::sources_info() const {
  std::lock_guard lk(mu_);
  if (mirror_) return nullptr;
  ojson a = ojson::array();
  for (const auto& l : links_) a.push_back(link_info(*l));
  return a;
}

}  // namespace nats::jetstream
