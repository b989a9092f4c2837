#include "server/imports.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "cluster/route_manager.h"
#include "proto/parser_args.h"
#include "server/connection.h"
#include "server/import_interest.h"
#include "server/server.h"
#include "server/import_request_info.h"
#include "server/service_latency.h"
#include "subject/subject.h"
#include "util/ids.h"

namespace nats {

using SteadyClock = std::chrono::steady_clock;

namespace {

std::string random_base62(size_t n);
std::string reply_token();

enum class ImportResponseType { Singleton, Stream, Chunked };

// Responses pending for requests one importing account sent through its service imports.
struct ImportResponseRoutes {
  struct Route {
    Account* importer;
    std::string reply;  // the requester's reply subject in the importer
    ImportResponseType type;
    SteadyClock::time_point deadline;
    std::shared_ptr<TrackedRequest> track;  // latency tracking of a sampled request, or null
    Account* exporter = nullptr;
  };
  std::string prefix;  // "_R_.<pfx>."
  std::mutex mu;
  std::unordered_map<std::string, Route> routes;  // by token
  size_t adds_since_sweep = 0;

  std::string add(Route r) {
    // Six random base62 characters, as the reference's (replyLen): the responder sees
    // "_R_.<6>.<6>". A token still pending is not given out twice.
    std::string token = reply_token();
    std::lock_guard lk(mu);
    while (routes.contains(token)) token = reply_token();
    if (++adds_since_sweep >= 1024) {
      adds_since_sweep = 0;
      auto now = SteadyClock::now();
      // Tracked ones are left to their timer, which reports the timeout.
      for (auto it = routes.begin(); it != routes.end();)
        it = it->second.deadline < now && !it->second.track ? routes.erase(it) : std::next(it);
    }
    if (r.track) tracked_pending.fetch_add(1, std::memory_order_relaxed);
    routes.emplace(token, std::move(r));
    return token;
  }
  void drop(const std::string& token) {
    std::lock_guard lk(mu);
    routes.erase(token);
  }
  // The route for a response, consuming it when only one response is expected.
  std::optional<Route> take(std::string_view token) {
    std::lock_guard lk(mu);
    auto it = routes.find(std::string(token));
    if (it == routes.end()) return std::nullopt;
    if (it->second.deadline < SteadyClock::now()) {
      if (!it->second.track) routes.erase(it);  // a tracked one's timer reports it
      return std::nullopt;
    }
    Route r = it->second;
    if (r.type == ImportResponseType::Singleton) {
      if (r.track) tracked_pending.fetch_sub(1, std::memory_order_relaxed);
      routes.erase(it);
    }
    return r;
  }
  // The route if it is still pending, removed (a tracked request's threshold passed).
  std::optional<Route> take_pending(const std::string& token) {
    std::lock_guard lk(mu);
    auto it = routes.find(token);
    if (it == routes.end()) return std::nullopt;
    Route r = std::move(it->second);
    if (r.track) tracked_pending.fetch_sub(1, std::memory_order_relaxed);
    routes.erase(it);
    return r;
  }
  // Removes and returns the tracked routes of `importer` whose reply `subject` covered and
  // that nobody listens to any more.
  std::vector<Route> take_abandoned(Account& importer, std::string_view subject);
  // Tracked routes pending in every account (the unsubscribe hook's cheap test).
  static inline std::atomic<int> tracked_pending{0};
};

// Every response route table with tracked requests, for the unsubscribe hook.
struct TrackedTables {
  std::mutex mu;
  std::vector<std::weak_ptr<ImportResponseRoutes>> tables;
  void add(const std::shared_ptr<ImportResponseRoutes>& t) {
    std::lock_guard lk(mu);
    std::erase_if(tables, [](const auto& w) { return w.expired(); });
    for (const auto& w : tables)
      if (w.lock() == t) return;
    tables.push_back(t);
  }
  std::vector<std::shared_ptr<ImportResponseRoutes>> all() {
    std::lock_guard lk(mu);
    std::vector<std::shared_ptr<ImportResponseRoutes>> out;
    for (const auto& w : tables)
      if (auto t = w.lock()) out.push_back(std::move(t));
    return out;
  }
};
TrackedTables& tracked_tables() {
  static TrackedTables t;
  return t;
}

// Set while a request is handed to the exporter: a response published inline meanwhile
// comes from the server itself (JetStream, $SYS), not from the connection being read.
thread_local int forwarding_request = 0;

// Whether anyone in `acc` still listens on `reply` (the requester may have gone).
bool has_interest(Account& acc, const std::string& reply) {
  auto r = acc.sublist().match(reply);
  return r && !r->empty();
}

std::vector<ImportResponseRoutes::Route> ImportResponseRoutes::take_abandoned(Account& importer,
                                                                            std::string_view subject) {
  std::vector<Route> out;
  std::lock_guard lk(mu);
  for (auto it = routes.begin(); it != routes.end();) {
    const Route& r = it->second;
    if (r.track && r.importer == &importer && subject_matches(subject, r.reply) && !has_interest(importer, r.reply)) {
      out.push_back(std::move(it->second));
      tracked_pending.fetch_sub(1, std::memory_order_relaxed);
      it = routes.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

// What an account's imports installed, so that a config reload can change them: each internal
// subscription under a key that describes it (the same import configured again gets the same
// key), in whichever account it lives; the routes of responses to its service imports (kept,
// so answers in flight during a reload still find the requester); and the $SYS service
// imports every account gets, listed after the configured ones. Kept here rather than in
// Account so that the wiring stays this file's business. `owner` tells a live account from
// a freed one whose address was reused (servers made and destroyed in one process).
struct ImportSub {
  std::string key;
  Account* in;
  SubscriptionPtr sub;
};
struct AccountWiring {
  std::weak_ptr<Account> owner;
  std::vector<ImportSub> subs;
  std::shared_ptr<ImportResponseRoutes> routes;
  std::vector<ServiceImport> system_imports;
};

std::mutex& wiring_mu() {
  static std::mutex mu;
  return mu;
}

// wiring_mu() held.
AccountWiring& wiring_of(const AccountPtr& acc) {
  static std::map<const Account*, AccountWiring> table;
  auto& w = table[acc.get()];
  if (w.owner.lock() != acc) w = AccountWiring{acc, {}, {}, {}};
  return w;
}

const AccountConfig* find_account(const std::vector<AccountConfig>& accs, const std::string& name) {
  for (const auto& a : accs)
    if (a.name == name) return &a;
  return nullptr;
}

bool listed(const std::vector<std::string>& accounts, const std::string& name) {
  if (accounts.empty()) return true;  // public export
  for (const auto& a : accounts)
    if (a == name) return true;
  return false;
}

std::string stream_local_subject(const StreamImport& si) {
  if (!si.prefix.empty()) return si.prefix + (si.prefix.back() == '.' ? "" : ".") + si.subject;
  if (!si.to.empty()) return si.to;
  return si.subject;
}

std::string service_local_subject(const ServiceImport& si) { return si.to.empty() ? si.subject : si.to; }

// Does following imports from `from` on `subject` lead back to `origin`?
template <typename Imports, typename LocalOf>
bool reaches(const std::vector<AccountConfig>& accs, const std::string& from, const std::string& subject,
             const std::string& origin, Imports imports_of, LocalOf local_of, std::set<std::string>& seen) {
  if (!seen.insert(from + " " + subject).second) return false;
  const AccountConfig* a = find_account(accs, from);
  if (!a) return false;
  for (const auto& si : imports_of(*a)) {
    if (si.account == from) continue;  // an account importing from itself is not a cycle here
    if (!subjects_collide(local_of(si), subject)) continue;
    if (si.account == origin) return true;
    if (reaches(accs, si.account, si.subject, origin, imports_of, local_of, seen)) return true;
  }
  return false;
}

std::string random_base62(size_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(n, '0');
  unsigned char buf[32];
  util::random_bytes(buf, n);
  for (size_t i = 0; i < n; ++i) out[i] = kDigits[buf[i] % 62];
  return out;
}

// A response route's token: six base62 digits of one pseudo-random 64-bit number, as the
// reference's newServiceReply. Not a secret (the reference uses math/rand), so a per-thread
// generator seeded once from the OS does, without a getrandom call per request.
std::string reply_token() {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 gen = [] {
    uint64_t seed;
    util::random_bytes(&seed, sizeof seed);
    return std::mt19937_64(seed);
  }();
  uint64_t l = gen();
  std::string out(6, '0');
  for (auto& ch : out) {
    ch = kDigits[l % 62];
    l /= 62;
  }
  return out;
}

// Re-publishing from an internal handler re-enters process_message; a depth cap keeps a
// mis-wired import graph from recursing without bound.
thread_local int import_depth = 0;
constexpr int kMaxImportDepth = 8;

struct DepthGuard {
  bool ok;
  DepthGuard() : ok(++import_depth <= kMaxImportDepth) {}
  ~DepthGuard() { --import_depth; }
};

SubscriptionPtr internal_sub(const std::string& subject, std::string sid, InternalHandler h) {
  auto s = std::make_shared<Subscription>();
  s->subject = subject;
  s->sid = std::move(sid);
  s->handler = std::move(h);
  return s;
}

ImportResponseType response_type_of(const std::string& s) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "stream") return ImportResponseType::Stream;
  if (l == "chunked") return ImportResponseType::Chunked;
  return ImportResponseType::Singleton;
}

constexpr auto kDefaultResponseThreshold = std::chrono::minutes(2);


// Puts one internal subscription of an import into account `in`, under a key that describes
// what it does (the same import configured again gets the same key).
using InsertFn = std::function<void(Account& in, std::string key, SubscriptionPtr sub)>;

// Installs one service import: requests on `local` in the importer are re-published on
// `remote` in the exporter with a "_R_" reply that maps responses back. `with_reply_sub`
// adds the exporter-side response subscription (once per importer and exporter pair).
void add_service_import(Server* srv, Account* importer, Account* exporter, const std::shared_ptr<ImportResponseRoutes>& routes,
                        const std::string& local, const std::string& remote, ImportResponseType type,
                        SteadyClock::duration threshold, bool invalid, bool with_reply_sub, const InsertFn& insert,
                        std::shared_ptr<const LatencyTracking> latency = nullptr, bool share = false) {
  auto req = [srv, importer, exporter, routes, local, remote, type, threshold, invalid, latency, share](
                 const Subscription&, std::string_view subject, std::string_view reply, std::string_view headers,
                 std::string_view payload) {
    DepthGuard g;
    // An invalid import (its activation expired) keeps its subscription, so a request finds
    // interest (no "no responders"), but is not forwarded: the reference's processServiceImport.
    if (!g.ok || invalid || ImportOriginScope::remote()) return;
    ImportOriginScope here(false);
    std::string mapped = local == remote ? std::string(subject) : map_subject(local, remote, subject);
    // The exporter's subject mappings apply to requests arriving through its service (the
    // reference's processServiceImport); stream imports are not mapped.
    if (exporter->has_mappings()) {
      auto m = exporter->map_subject(mapped, [srv] {
        auto* routes = srv->routes();
        return routes ? routes->cluster_name() : srv->options().cluster.name;
      });
      if (m && m->empty()) return;
      if (m) mapped = *m;
    }
    std::shared_ptr<TrackedRequest> track = latency ? start_tracking(*srv, latency, headers) : nullptr;
    // The request goes on with its requester's info (import_request_info.h); an import
    // reached while it is forwarded is the next of a chain.
    auto sys = srv->system_account();
    auto with_info = import_request_headers(*srv, headers, share, sys && sys.get() == exporter, importer->name());
    if (with_info) headers = *with_info;
    ImportHop hop{share};
    ImportHopScope hop_scope(&hop);
    if (reply.empty()) {
      if (track) report_error(*srv, *exporter, *track, 400);  // a sampled request no one can answer
      srv->process_message(*exporter, nullptr, mapped, {}, headers, payload, true);
      return;
    }
    if (track) tracked_tables().add(routes);
    std::string token =
        routes->add({importer, std::string(reply), type, SteadyClock::now() + threshold, track, exporter});
    // A tracked request's reply ends ".<server hash>.T", as the reference's, so that the
    // responder's server knows it is measured and where its measurement goes.
    std::string new_reply = routes->prefix + token + (track ? tracked_reply_suffix(*srv) : "");
    ++forwarding_request;
    bool delivered = srv->process_message(*exporter, nullptr, mapped, new_reply, headers, payload, true);
    --forwarding_request;
    if (!delivered) {
      // Taken only if still there: an inline answer may have used it already.
      if (routes->take_pending(token) && track) report_error(*srv, *exporter, *track, 503);
      return;
    }
    if (!track) return;
    // No response within the threshold: 504 (or 408 if the requester stopped listening).
    std::weak_ptr<ImportResponseRoutes> weak = routes;
    srv->pick_loop().run_after(threshold, [srv, weak, token, exporter] {
      auto rs = weak.lock();
      if (!rs) return;
      auto r = rs->take_pending(token);
      if (!r || !r->track) return;
      report_error(*srv, *exporter, *r->track, has_interest(*r->importer, r->reply) ? 504 : 408);
    });
  };
  std::string lat_key = latency ? "|lat:" + std::to_string(latency->cfg.sampling) + ":" + latency->cfg.subject + ":" +
                                      (latency->share ? "s" : "")
                                : "";
  insert(*importer,
         "svc|" + exporter->name() + "|" + local + "|" + remote + "|" + std::to_string(static_cast<int>(type)) + "|" +
             std::to_string(threshold.count()) + lat_key + (invalid ? "|invalid" : ""),
         internal_sub(local, "svcimport", req));
  if (!with_reply_sub) return;
  auto resp = [srv, routes, exporter](const Subscription&, std::string_view subject, std::string_view,
                                      std::string_view headers, std::string_view payload) {
    DepthGuard g;
    if (!g.ok) return;
    // "_R_.<pfx>.<token>", or "_R_.<pfx>.<token>.<hash>.T" for a tracked request.
    std::string_view token = subject.substr(routes->prefix.size());
    token = token.substr(0, token.find('.'));
    auto r = routes->take(token);
    if (!r) return;
    ImportOriginScope here(false);
    if (r->track) {
      // Only singleton services are tracked, so this is the one response (take removed it).
      auto received = std::chrono::system_clock::now();
      if (!has_interest(*r->importer, r->reply)) {
        report_error(*srv, *exporter, *r->track, 408);
        return;
      }
      srv->process_message(*r->importer, nullptr, r->reply, {}, headers, payload, true);
      report_response(*srv, *exporter, *r->track, forwarding_request > 0, received, subject);
      return;
    }
    srv->process_message(*r->importer, nullptr, r->reply, {}, headers, payload, true);
  };
  insert(*exporter, "reply|" + exporter->name(), internal_sub(routes->prefix + ">", "svcreply", resp));
}

std::shared_ptr<ImportResponseRoutes> new_response_routes() {
  auto routes = std::make_shared<ImportResponseRoutes>();
  routes->prefix = "_R_." + random_base62(6) + ".";
  return routes;
}

}  // namespace

namespace {
thread_local bool origin_remote = false;
}  // namespace

ImportOriginScope::ImportOriginScope(bool from_remote) : saved_(origin_remote) { origin_remote = from_remote; }
ImportOriginScope::~ImportOriginScope() { origin_remote = saved_; }
bool ImportOriginScope::remote() { return origin_remote; }

std::string map_subject(std::string_view from, std::string_view to, std::string_view subject) {
  if (!subject_has_wildcard(to)) return std::string(to);
  Tokens ft(from), st(subject), tt(to);
  std::vector<std::string_view> stars;
  std::string rest;
  for (size_t i = 0; i < ft.size() && i < st.size(); ++i) {
    if (is_partial_wildcard(ft[i])) stars.push_back(st[i]);
    else if (is_full_wildcard(ft[i])) {
      for (size_t j = i; j < st.size(); ++j) {
        if (!rest.empty()) rest += '.';
        rest += st[j];
      }
      break;
    }
  }
  std::string out;
  size_t star = 0;
  for (size_t i = 0; i < tt.size(); ++i) {
    if (i) out += '.';
    if (is_partial_wildcard(tt[i]) && star < stars.size()) out += stars[star++];
    else if (is_full_wildcard(tt[i]) && !rest.empty()) out += rest;
    else out += tt[i];
  }
  return out;
}

std::string validate_account_imports(const std::vector<AccountConfig>& accs) {
  for (const auto& a : accs) {
    for (const auto& si : a.stream_imports) {
      const AccountConfig* ex = find_account(accs, si.account);
      if (!ex) return "\"" + si.account + "\" account not defined for stream import";
      bool ok = false;
      for (const auto& e : ex->stream_exports)
        if (subject_is_subset_match(si.subject, e.subject) && listed(e.accounts, a.name)) ok = true;
      if (!ok) return "Error adding stream import \"" + si.subject + "\": stream import not authorized";
      std::set<std::string> seen;
      auto imports_of = [](const AccountConfig& c) -> const std::vector<StreamImport>& { return c.stream_imports; };
      if (si.account != a.name &&
          reaches(accs, si.account, si.subject, a.name, imports_of, stream_local_subject, seen))
        return "Error adding stream import \"" + si.subject + "\": import forms a cycle";
    }
    for (const auto& si : a.service_imports) {
      const AccountConfig* ex = find_account(accs, si.account);
      if (!ex) return "\"" + si.account + "\" account not defined for service import";
      bool ok = false;
      for (const auto& e : ex->service_exports)
        if (subject_is_subset_match(si.subject, e.subject) && listed(e.accounts, a.name)) ok = true;
      if (!ok) return "Error adding service import \"" + si.subject + "\": service import not authorized";
      std::set<std::string> seen;
      auto imports_of = [](const AccountConfig& c) -> const std::vector<ServiceImport>& { return c.service_imports; };
      if (si.account != a.name &&
          reaches(accs, si.account, si.subject, a.name, imports_of, service_local_subject, seen))
        return "Error adding service import \"" + si.subject + "\": import forms a cycle";
    }
  }
  return "";
}

namespace {

// Wires the imports of `configs`. On a reload (`rewire`) each importer keeps the internal
// subscriptions whose key is still wanted, gets the new ones (announced to routes, gateways
// and leafs, which learnt the old ones) and loses the rest.
void wire_imports(Server& server, const std::map<std::string, AccountPtr>& accounts,
                  const std::vector<AccountConfig>& configs, bool rewire) {
  auto find = [&](const std::string& n) -> Account* {
    auto it = accounts.find(n);
    return it == accounts.end() ? nullptr : it->second.get();
  };
  Server* srv = &server;
  for (const auto& cfg : configs) {
    auto found = accounts.find(cfg.name);
    if (found == accounts.end()) continue;
    Account* importer = found->second.get();
    std::vector<ImportSub> old;
    std::shared_ptr<ImportResponseRoutes> routes;
    {
      std::lock_guard lk(wiring_mu());
      AccountWiring& w = wiring_of(found->second);
      importer->stream_exports = cfg.stream_exports;
      importer->service_exports = cfg.service_exports;
      importer->stream_imports = cfg.stream_imports;
      importer->service_imports = cfg.service_imports;
      importer->service_imports.insert(importer->service_imports.end(), w.system_imports.begin(),
                                       w.system_imports.end());
      old = std::move(w.subs);
      w.subs.clear();
      if (!w.routes) w.routes = new_response_routes();
      routes = w.routes;
    }
    std::multiset<std::string> have;
    for (const auto& o : old) have.insert(o.key);
    std::vector<ImportSub> added;
    InsertFn insert = [&](Account& in, std::string key, SubscriptionPtr sub) {
      if (auto it = have.find(key); it != have.end()) {
        have.erase(it);  // installed before and still the same: left in place
        return;
      }
      in.sublist().insert(sub);
      if (rewire) srv->on_local_interest_change(in, *sub, true);
      added.push_back({std::move(key), &in, std::move(sub)});
    };

    for (const auto& si : cfg.stream_imports) {
      Account* exporter = find(si.account);
      if (!exporter || si.invalid) continue;  // an invalid import is listed, not run
      std::string from = si.subject, prefix = si.prefix, to = si.to;
      if (!prefix.empty() && prefix.back() != '.') prefix += '.';
      auto h = [srv, importer, from, prefix, to](const Subscription&, std::string_view subject, std::string_view reply,
                                                std::string_view headers, std::string_view payload) {
        DepthGuard g;
        if (!g.ok) return;
        // Every server runs the import for its own plain subscribers of the importer: those
        // of other servers made them announce interest in the exporter, so the message
        // reached them too (import_interest.h). Queue groups are served by their members'
        // shadows in the exporter, one member cluster-wide: left alone here.
        static const proto::QueueNames no_queues;
        ImportOriginScope local(false);
        std::string mapped = !prefix.empty() ? prefix + std::string(subject)
                             : !to.empty()   ? map_subject(from, to, subject)
                                             : std::string(subject);
        srv->process_message(*importer, nullptr, mapped, reply, headers, payload, true, &no_queues, true);
      };
      note_stream_imports_exist();
      insert(*exporter, "stream|" + exporter->name() + "|" + from + "|" + prefix + "|" + to,
             internal_sub(si.subject, "simport", h));
    }

    std::set<Account*> exporters_with_reply_sub;
    for (const auto& si : cfg.service_imports) {
      Account* exporter = find(si.account);
      if (!exporter) continue;
      ImportResponseType type = ImportResponseType::Singleton;
      auto threshold = std::chrono::duration_cast<SteadyClock::duration>(Duration(kDefaultResponseThreshold));
      std::shared_ptr<const LatencyTracking> latency;
      // The exporter's exports as configured now: from `configs` if it is being wired too,
      // else as it was wired before (an account JWT wired on its own).
      std::vector<ServiceExport> exports;
      if (const AccountConfig* ec = find_account(configs, si.account)) {
        exports = ec->service_exports;
      } else {
        std::lock_guard lk(wiring_mu());
        exports = exporter->service_exports;
      }
      for (const auto& e : exports) {
        if (!subject_is_subset_match(si.subject, e.subject)) continue;
        type = response_type_of(e.response_type);
        if (e.response_threshold.count() > 0)
          threshold = std::chrono::duration_cast<SteadyClock::duration>(e.response_threshold);
        if (e.latency && type == ImportResponseType::Singleton)
          latency = std::make_shared<const LatencyTracking>(LatencyTracking{*e.latency, si.share});
        break;
      }
      add_service_import(srv, importer, exporter, routes, service_local_subject(si), si.subject, type, threshold,
                         si.invalid, exporters_with_reply_sub.insert(exporter).second, insert, std::move(latency),
                         si.share);
    }

    // `have` now holds the old keys no import asked for again: those subscriptions go.
    std::vector<ImportSub> kept;
    for (auto& o : old) {
      if (auto it = have.find(o.key); it != have.end()) {
        have.erase(it);
        srv->unsubscribe_internal(*o.in, o.sub);
      } else {
        kept.push_back(std::move(o));
      }
    }
    {
      std::lock_guard lk(wiring_mu());
      AccountWiring& w = wiring_of(found->second);
      w.subs = std::move(kept);
      for (auto& a : added) w.subs.push_back(std::move(a));
    }
    // Its subscribers' interest in the exporters follows the new imports.
    if (rewire) srv->refresh_import_interest(*importer);
  }
  if (rewire) Connection::flush_touched();
}

}  // namespace

std::unique_lock<std::mutex> lock_account_wiring() { return std::unique_lock(wiring_mu()); }

bool tracked_requests_pending() {
  return ImportResponseRoutes::tracked_pending.load(std::memory_order_relaxed) > 0;
}

void on_reply_interest_removed(Server& server, Account& acc, const std::string& subject) {
  // Run from the loop, not inside the unsubscribe (which may hold the connection's locks,
  // and the report is a publish).
  Server* srv = &server;
  std::weak_ptr<Account> weak = server.lookup_account(acc.name());
  server.pick_loop().post([srv, weak, subject] {
    auto a = weak.lock();
    if (!a) return;
    for (auto& table : tracked_tables().all())
      for (auto& r : table->take_abandoned(*a, subject))
        if (r.exporter) report_error(*srv, *r.exporter, *r.track, 408);
  });
}

void install_imports(Server& server, const std::map<std::string, AccountPtr>& accounts,
                     const std::vector<AccountConfig>& configs) {
  wire_imports(server, accounts, configs, false);
}

void rewire_imports(Server& server, const std::map<std::string, AccountPtr>& accounts,
                    const std::vector<AccountConfig>& configs) {
  wire_imports(server, accounts, configs, true);
}

void install_system_imports(Server& server, const std::map<std::string, AccountPtr>& accounts, Account& system) {
  // Every server answers these, so the responses are a stream (one per server) kept for the
  // reference's default response threshold.
  auto threshold = std::chrono::duration_cast<SteadyClock::duration>(Duration(kDefaultResponseThreshold));
  for (const auto& [name, acc] : accounts) {
    if (acc.get() == &system) continue;
    auto routes = new_response_routes();
    std::string connz = "$SYS.REQ.ACCOUNT." + name + ".CONNZ", statz = "$SYS.REQ.ACCOUNT." + name + ".STATZ";
    // In the reference's order, so /accountz and account INFO list them alike.
    const std::pair<const char*, std::string> imports[] = {
        {"$SYS.REQ.ACCOUNT.PING.CONNZ", connz}, {"$SYS.REQ.SERVER.PING.CONNZ", connz}, {"$SYS.REQ.ACCOUNT.PING.STATZ", statz}};
    bool first = true;
    for (const auto& [local, remote] : imports) {
      add_service_import(&server, acc.get(), &system, routes, local, remote, ImportResponseType::Stream, threshold, false, first,
                         [](Account& in, std::string, SubscriptionPtr sub) { in.sublist().insert(std::move(sub)); });
      std::lock_guard lk(wiring_mu());
      acc->service_imports.push_back({system.name(), remote, local, false});
      wiring_of(acc).system_imports.push_back({system.name(), remote, local, false});
      first = false;
    }
  }
}

}  // namespace nats
