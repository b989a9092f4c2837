#include "jetstream/cluster/r1_handoff.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "jetstream/cluster/assignment.h"
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/consumer_api.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "server/account.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream::r1_handoff {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr auto kKeep = std::chrono::seconds(60);   // how long a released state waits for its new host
constexpr auto kRetry = std::chrono::milliseconds(200);

std::string key_of(const std::string& account, const std::string& stream, const std::string& name) {
  return json::array({account, stream, name}).dump();
}

struct Pending {
  ConsumerAssignment ca;
  std::string from_id;
  Clock::time_point deadline;
};

// One per server (tests run one server per process; the key keeps it right regardless).
struct PerServer {
  std::mutex mu;
  std::map<std::string, std::pair<std::string, Clock::time_point>> held;  // key -> state json, released at
  std::map<std::string, Pending> pending;                                  // key -> adoption waiting
  SubscriptionPtr serve_sub, reply_sub;
};

std::mutex g_mu;
std::map<const Server*, std::shared_ptr<PerServer>> g_servers;

std::shared_ptr<PerServer> per_server(Server& s) {
  std::lock_guard lk(g_mu);
  auto& p = g_servers[&s];
  if (!p) p = std::make_shared<PerServer>();
  return p;
}

std::string self_id(Server& s) { return util::hash_name(s.name()); }

// The old host's side: answers a new host's request with the state it keeps, or "wait".
void serve(Server& server, PerServer& ps, std::string_view reply, std::string_view body) {
  auto sys = server.system_account();
  if (!sys || reply.empty()) return;
  auto req = json::parse(body, nullptr, false);
  if (!req.is_object()) return;
  std::string key = key_of(req.value("account", ""), req.value("stream", ""), req.value("consumer", ""));
  json out = {{"key", key}};
  {
    std::lock_guard lk(ps.mu);
    auto now = Clock::now();
    std::erase_if(ps.held, [&](const auto& kv) { return now - kv.second.second > kKeep; });
    auto it = ps.held.find(key);
    if (it != ps.held.end()) out["state"] = json::parse(it->second.first, nullptr, false);
    else out["wait"] = true;
  }
  server.publish_internal(*sys, reply, {}, {}, out.dump());
}

void ensure_serving(Server& server, const std::shared_ptr<PerServer>& ps) {
  auto sys = server.system_account();
  if (!sys) return;
  {
    std::lock_guard lk(ps->mu);
    if (ps->serve_sub) return;
  }
  Server* srv = &server;
  std::weak_ptr<PerServer> weak = ps;
  auto sub = server.subscribe_internal(
      *sys, "$NRG.CH." + self_id(server),
      [srv, weak](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                  std::string_view body) {
        if (auto p = weak.lock()) serve(*srv, *p, reply, body);
      });
  std::lock_guard lk(ps->mu);
  if (!ps->serve_sub) ps->serve_sub = std::move(sub);
  else server.unsubscribe_internal(*sys, sub);
}

// Starts the adopted durable (from `state`, or afresh when null); once per adoption.
void finish(JetStream& js, PerServer& ps, const std::string& key, const json* state) {
  Pending p;
  {
    std::lock_guard lk(ps.mu);
    auto it = ps.pending.find(key);
    if (it == ps.pending.end()) return;
    p = std::move(it->second);
    ps.pending.erase(it);
  }
  const ConsumerAssignment& ca = p.ca;
  auto stream = js.lookup_stream(ca.account, ca.stream);
  if (!stream) {
    log::warn("JetStream cluster: consumer '{} > {} > {}' moved here, but its stream is not here", ca.account,
              ca.stream, ca.name);
    return;
  }
  if (lookup_consumer(stream, ca.name)) return;
  ConsumerSnapshot snap;
  bool started = false;
  std::map<std::string, int64_t> requests;
  const bool have = state && consumer_snapshot_from_json(state->dump(), snap, started, requests);
  ConsumerConfig cfg = ca.config;
  apply_consumer_defaults(cfg);
  auto c = std::make_shared<Consumer>(js.server(), stream, cfg, ca.name, ca.created_ns);
  stream->add_consumer(c);
  c->start(have ? &snap : nullptr);
  if (have)
    log::notice("JetStream cluster: consumer '{} > {} > {}' moved here with its state (ack floor {})", ca.account,
                ca.stream, ca.name, snap.ack_floor_sseq);
  else
    log::warn("JetStream cluster: consumer '{} > {} > {}' moved here; its old server did not hand over its state",
              ca.account, ca.stream, ca.name);
}

void ask(JetStream& js, const std::shared_ptr<PerServer>& ps, const std::string& key) {
  Server& server = js.server();
  auto sys = server.system_account();
  std::string from;
  json body;
  {
    std::lock_guard lk(ps->mu);
    auto it = ps->pending.find(key);
    if (it == ps->pending.end()) return;
    if (Clock::now() >= it->second.deadline) from.clear();
    else from = it->second.from_id;
    const auto& ca = it->second.ca;
    body = {{"account", ca.account}, {"stream", ca.stream}, {"consumer", ca.name}};
  }
  if (from.empty() || !sys) return finish(js, *ps, key, nullptr);
  server.publish_internal(*sys, "$NRG.CH." + from, "$NRG.CHR." + self_id(server), {}, body.dump());
  // Asked again until answered (the old host may not have applied the entry yet).
  net::EventLoop& loop = server.pick_loop();
  std::weak_ptr<PerServer> weak = ps;
  JetStream* jsp = &js;
  loop.post([&loop, weak, jsp, key] {
    loop.add_timer(kRetry, [weak, jsp, key] {
      if (auto p = weak.lock()) ask(*jsp, p, key);
    });
  });
}

void ensure_reply_sub(JetStream& js, const std::shared_ptr<PerServer>& ps) {
  Server& server = js.server();
  auto sys = server.system_account();
  if (!sys) return;
  {
    std::lock_guard lk(ps->mu);
    if (ps->reply_sub) return;
  }
  JetStream* jsp = &js;
  std::weak_ptr<PerServer> weak = ps;
  auto sub = server.subscribe_internal(
      *sys, "$NRG.CHR." + self_id(server),
      [jsp, weak](const Subscription&, std::string_view, std::string_view, std::string_view, std::string_view body) {
        auto p = weak.lock();
        if (!p) return;
        auto ans = json::parse(body, nullptr, false);
        if (!ans.is_object() || !ans.contains("state")) return;  // "wait": the next ask
        finish(*jsp, *p, ans.value("key", ""), &ans["state"]);
      });
  std::lock_guard lk(ps->mu);
  if (!ps->reply_sub) ps->reply_sub = std::move(sub);
  else server.unsubscribe_internal(*sys, sub);
}

}  // namespace

void release(JetStream& js, const std::shared_ptr<Stream>& stream, const std::string& name) {
  if (!stream) return;
  auto c = lookup_consumer(stream, name);
  if (!c) return;
  auto ps = per_server(js.server());
  ensure_serving(js.server(), ps);
  stream->remove_consumer(name);
  c->stop(true);  // no ack is taken from here on: the state below is final
  ConsumerSnapshot snap = c->state_snapshot();
  {
    std::lock_guard lk(ps->mu);
    ps->held[key_of(stream->account().name(), stream->name(), name)] = {
        consumer_snapshot_json(snap, true, {}).dump(), Clock::now()};
  }
  log::notice("JetStream cluster: consumer '{} > {} > {}' moves to another server (ack floor {})",
              stream->account().name(), stream->name(), name, snap.ack_floor_sseq);
}

void adopt(JetStream& js, const ConsumerAssignment& ca, const std::string& from_id) {
  if (auto s = js.lookup_stream(ca.account, ca.stream); s && lookup_consumer(s, ca.name)) return;
  auto ps = per_server(js.server());
  ensure_reply_sub(js, ps);
  std::string key = key_of(ca.account, ca.stream, ca.name);
  {
    std::lock_guard lk(ps->mu);
    if (ps->pending.count(key)) return;
    ps->pending[key] = Pending{ca, from_id, Clock::now() + kAdoptTimeout};
  }
  ask(js, ps, key);
}

bool adopting(JetStream& js, const std::string& account, const std::string& stream, const std::string& name) {
  std::shared_ptr<PerServer> ps;
  {
    std::lock_guard lk(g_mu);
    auto it = g_servers.find(&js.server());
    if (it == g_servers.end()) return false;
    ps = it->second;
  }
  std::lock_guard lk(ps->mu);
  return ps->pending.count(key_of(account, stream, name)) > 0;
}

}  // namespace nats::jetstream::r1_handoff
