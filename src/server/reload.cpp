// Config reload. What may change at run time: logging (debug, trace, logtime, log_file), who
// may connect with which permissions (the authorization block, users lists, account users and
// default permissions), the limits the reference reloads (max_connections, max_payload,
// max_control_line, ping_interval, ping_max, write_deadline), the client TLS (turned on or
// off, certificate, CA, verify; new handshakes use it) and the cluster's routes (added ones are
// solicited, removed ones closed), authorization `timeout`, `pid_file` (the pid written to the
// new file), `ports_file_dir` (the old ports file removed, a new one written), `client_advertise`
// (new clients' INFO host and port), `tags` (/varz, STATSZ sent at once, JetStream
// placement), the cluster block but its host, port and name, and the TLS of the gateway,
// leafnodes and websocket blocks and of the leaf remotes (reload_links.cpp). Every other difference is refused with the reference's
// "config reload not supported for <Go field name>: old=<v>, new=<v>" (or its JetStream and
// cluster texts), naming the first differing setting, and the running config stays. Config
// accounts' imports and exports are wired again; accounts added are registered, removed ones
// dropped (their clients cut), the others take new limits, mappings and JetStream settings
// (reload_accounts.cpp); `no_auth_user` may go together with its user. JetStream is turned on
// or off (reload_jetstream.cpp; only off in a cluster). (The reference reloads more; those are
// refused here until implemented,
// never half applied.)
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>

#include "cluster/route_manager.h"
#include "config/duration.h"
#include "net/event_loop.h"
#include "net/tls.h"
#include "server/account_resolver.h"
#include "server/client.h"
#include "server/url_account_fetcher.h"
#include "server/imports.h"
#include "server/jwt_claims.h"
#include "server/reload_links.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/log.h"

namespace nats {

namespace {

const AccountConfig* find_account(const Options& o, const std::string& name) {
  for (const auto& a : o.accounts)
    if (a.name == name) return &a;
  return nullptr;
}

// Whether `name` is a user of `o`, at the top level or in an account (the reference's
// Options.Users has both).
bool has_user(const Options& o, const std::string& name) {
  auto in = [&](const std::vector<User>& users) {
    return std::any_of(users.begin(), users.end(), [&](const User& u) { return u.username == name; });
  };
  if (in(o.users)) return true;
  return std::any_of(o.accounts.begin(), o.accounts.end(), [&](const AccountConfig& a) { return in(a.users); });
}

bool memory_or_url(const ResolverOptions& r) { return r.type == "MEMORY" || r.type == "URL"; }

// The resolver as the refusal shows it.
std::string describe(const ResolverOptions& r) {
  auto ms = [](Duration d) { return config::format_go_duration(d); };
  if (r.type == "FULL")
    return "FULL(dir=" + r.dir + ", allow_delete=" + (r.allow_delete ? "true" : "false") + ", interval=" +
           ms(r.interval) + ", limit=" + std::to_string(r.limit) + ", timeout=" + ms(r.fetch_timeout) + ")";
  if (r.type == "CACHE")
    return "CACHE(dir=" + r.dir + ", limit=" + std::to_string(r.limit) + ", ttl=" + ms(r.ttl) + ", timeout=" +
           ms(r.fetch_timeout) + ")";
  if (r.type == "URL") return "URL(" + r.url + ")";
  return r.type;
}

// The operators as 2.9.10's %v of its []*jwt.OperatorClaims shows them: each claims set
// JSON-indented in the Go struct's field order.
std::string go_operators(const std::vector<std::string>& jwts) {
  auto ordered = [](const nlohmann::json& in, std::initializer_list<const char*> order) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const char* k : order)
      if (in.contains(k)) out[k] = in[k];
    for (const auto& [k, v] : in.items())
      if (!out.contains(k)) out[k] = v;
    return out;
  };
  std::string out = "[";
  for (const auto& t : jwts) {
    auto d = decode_operator_claims(t);
    auto* oc = std::get_if<OperatorClaims>(&d);
    if (!oc) continue;
    const auto& c = oc->base.claims;
    auto top = ordered(c, {"aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub"});
    if (c.contains("nats") && c["nats"].is_object())
      top["nats"] = ordered(c["nats"], {"signing_keys", "account_server_url", "operator_service_urls", "system_account",
                                        "assert_server_version", "strict_signing_key_usage", "tags", "type", "version"});
    if (out.size() > 1) out += " ";
    out += top.dump(2);
  }
  return out + "]";
}

// The settings reload applies, copied from `from` so that what is left to compare is what
// reload does not apply.
void take_reloadable(Options& x, const Options& from) {
  // As the reference's noauthuser case: no_auth_user may be dropped when its user is dropped
  // too (its clients are closed as removed users); any other change is refused.
  const bool drop_no_auth_user =
      !from.no_auth_user.empty() && x.no_auth_user.empty() && !has_user(x, from.no_auth_user);
  const bool map = x.tls.map;
  x.debug = from.debug;
  x.trace = from.trace;
  x.trace_verbose = from.trace_verbose;
  x.logtime = from.logtime;
  x.log_file = from.log_file;
  x.authorization_configured = from.authorization_configured;
  x.username = from.username;
  x.password = from.password;
  x.authorization = from.authorization;
  x.users = from.users;
  x.default_permissions = from.default_permissions;
  x.max_connections = from.max_connections;
  x.max_payload = from.max_payload;
  x.max_control_line = from.max_control_line;
  x.ping_interval = from.ping_interval;
  x.ping_max = from.ping_max;
  x.write_deadline = from.write_deadline;
  // The client TLS: on, off, certificate, CA, verify and the handshake timeout, as the
  // reference's tlsOption and tlsTimeoutOption (new connections follow, connected ones stay).
  x.tls = from.tls;
  x.tls.map = map;  // verify_and_map is not (2.9.10's tlsOption leaves TLSMap out)
  x.cluster.routes = from.cluster.routes;
  take_reloadable_links(x, from);  // the cluster block, TLS of gateway/leafnodes/websocket
  take_reloadable_jetstream(x, from);  // on/off without a cluster
  // As the reference's authTimeoutOption, pidFileOption, portsFileDirOption,
  // clientAdvertiseOption and tagsOption.
  x.auth_timeout = from.auth_timeout;
  x.pid_file = from.pid_file;
  x.ports_file_dir = from.ports_file_dir;
  x.client_advertise = from.client_advertise;
  x.tags = from.tags;
  // Accounts, as the reference's accountsOption: added, removed and changed ones (users,
  // permissions, imports, exports, limits, mappings, JetStream, the account's own nkey, which
  // 2.9.10 keeps in the account and uses nowhere else) are all reloaded.
  x.accounts = from.accounts;
  // Top-level mappings are the global account's (reload_accounts).
  x.mappings = from.mappings;
  if (drop_no_auth_user) x.no_auth_user = from.no_auth_user;
  // As the reference's resolver case (accountsOption, reload_resolver): MEMORY and URL may
  // replace each other or take another URL; with MEMORY the preloads are the accounts; FULL
  // and CACHE take other preloads (stored) but keep their settings (refusal()); resolver_tls
  // reaches a URL resolver's next fetches.
  if (memory_or_url(x.resolver) && memory_or_url(from.resolver)) x.resolver = from.resolver;
  if (x.resolver == from.resolver) x.resolver_preload = from.resolver_preload;
  // `trusted` keys in another order are the same keys (2.9.10 sorts them before comparing).
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  if (sorted(x.trusted_keys) == sorted(from.trusted_keys)) x.trusted_keys = from.trusted_keys;
  x.resolver_tls = from.resolver_tls;
  x.resolver_tls_insecure = from.resolver_tls_insecure;
}

// The config accounts in `next` that `loaded` lacks (take_reloadable let them through).
std::vector<AccountConfig> added_accounts(const Options& loaded, const Options& next) {
  std::vector<AccountConfig> out;
  for (const auto& a : next.accounts)
    if (std::none_of(loaded.accounts.begin(), loaded.accounts.end(), [&](const AccountConfig& b) { return b.name == a.name; }))
      out.push_back(a);
  return out;
}

struct Named {
  const char* go_name;
  std::function<std::string(const Options&)> show;
};

std::string num(int64_t v) { return std::to_string(v); }
std::string dur(Duration d) { return config::format_go_duration(d); }
std::string yes(bool b) { return b ? "true" : "false"; }

// Settings with a value the message can show, in the reference's Options order.
const std::vector<Named>& named() {
  static const std::vector<Named> n = {
      {"ServerName", [](const Options& o) { return o.server_name; }},
      {"Host", [](const Options& o) { return o.host; }},
      {"Port", [](const Options& o) { return num(o.port); }},
      {"ClientAdvertise", [](const Options& o) { return o.client_advertise; }},
      {"NoAuthUser", [](const Options& o) { return o.no_auth_user; }},
      {"SystemAccount", [](const Options& o) { return o.system_account; }},
      {"NoSystemAccount", [](const Options& o) { return yes(o.no_system_account); }},
      {"AuthTimeout", [](const Options& o) { return num(std::chrono::duration_cast<std::chrono::seconds>(o.auth_timeout).count()); }},
      {"HTTPHost", [](const Options& o) { return o.http_host; }},
      {"HTTPPort", [](const Options& o) { return num(o.http_port); }},
      {"HTTPBasePath", [](const Options& o) { return o.http_base_path; }},
      {"HTTPSPort", [](const Options& o) { return num(o.https_port); }},
      {"MaxSubs", [](const Options& o) { return num(o.max_subscriptions); }},
      {"MaxSubTokens", [](const Options& o) { return num(o.max_sub_tokens); }},
      {"PidFile", [](const Options& o) { return o.pid_file; }},
      {"PortsFileDir", [](const Options& o) { return o.ports_file_dir; }},
      // tls { verify_and_map }: 2.9.10 refuses to change it (not in its tlsOption).
      {"TLSMap", [](const Options& o) { return yes(o.tls.map); }},
      {"MaxPending", [](const Options& o) { return num(o.max_pending); }},
      {"NoHeaderSupport", [](const Options& o) { return yes(o.no_header_support); }},
      {"LameDuckDuration", [](const Options& o) { return dur(o.lame_duck_duration); }},
      {"LameDuckGracePeriod", [](const Options& o) { return dur(o.lame_duck_grace_period); }},
      {"JetStream", [](const Options& o) { return yes(o.jetstream.enabled); }},
      {"StoreDir", [](const Options& o) { return o.jetstream.store_dir; }},
      {"JetStreamMaxMemory", [](const Options& o) { return num(o.jetstream.max_memory); }},
      {"JetStreamMaxStore", [](const Options& o) { return num(o.jetstream.max_file); }},
  };
  return n;
}

// The reference's texts for JetStream storage changes on a server running JetStream
// (reload.go diffOptions: storedir, jetstreammaxmemory/jetstreammaxstore).
std::string jetstream_refusal(const Options& a, const Options& b, const std::string& go_name) {
  if (!a.jetstream.enabled || !b.jetstream.enabled) return "";
  if (go_name == "StoreDir")
    return b.jetstream.store_dir.empty() ? "config reload not supported for jetstream storage dir"
                                         : "config reload not supported for jetstream storage directory";
  int64_t old_v = go_name == "JetStreamMaxMemory" ? a.jetstream.max_memory : a.jetstream.max_file;
  int64_t new_v = go_name == "JetStreamMaxMemory" ? b.jetstream.max_memory : b.jetstream.max_file;
  if (go_name != "JetStreamMaxMemory" && go_name != "JetStreamMaxStore") return "";
  if (old_v != -1 && new_v == -1) return "config reload not supported for jetstream max memory and max store";
  if (old_v == -1 && new_v != -1) return "config reload not supported for jetstream dynamic max memory and store";
  return "config reload not supported for jetstream max memory and store";
}

// The first differing setting, as the reference words its refusal.
std::string refusal(const Options& a, const Options& b) {
  for (const auto& n : named()) {
    std::string va = n.show(a), vb = n.show(b);
    if (va == vb) continue;
    if (auto js = jetstream_refusal(a, b, n.go_name); !js.empty()) return js;
    return std::string("config reload not supported for ") + n.go_name + ": old=" + va + ", new=" + vb;
  }
  if (a.cluster.host != b.cluster.host)
    return "config reload not supported for cluster host: old=" + a.cluster.host + ", new=" + b.cluster.host;
  if (a.cluster.port != b.cluster.port)
    return "config reload not supported for cluster port: old=" + std::to_string(a.cluster.port) +
           ", new=" + std::to_string(b.cluster.port);
  auto structural = [&](const char* name) {
    return std::string("config reload not supported for ") + name + ": old=<unchanged>, new=<changed>";
  };
  if (auto m = link_refusal(a, b); !m.empty()) return m;
  if (!(a.cluster == b.cluster)) return structural("Cluster");
  if (!(a.gateway == b.gateway)) return structural("Gateway");
  if (!(a.tls == b.tls)) return structural("TLSConfig");
  if (!(a.accounts == b.accounts)) return structural("Accounts");
  if (!(a.mappings == b.mappings)) return structural("Mappings");
  if (a.tags != b.tags) return structural("Tags");
  if (a.operator_jwts != b.operator_jwts)
    return "config reload not supported for TrustedOperators: old=" + go_operators(a.operator_jwts) +
           ", new=" + go_operators(b.operator_jwts);
  if (a.trusted_keys != b.trusted_keys) {
    // As 2.9.10, which sorts string lists before comparing and showing them.
    auto go_list = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      std::string out;
      for (const auto& k : v) out += (out.empty() ? "" : " ") + k;
      return "[" + out + "]";
    };
    return "config reload not supported for TrustedKeys: old=" + go_list(a.trusted_keys) + ", new=" + go_list(b.trusted_keys);
  }
  if (a.resolver.type.empty() != b.resolver.type.empty())
    return "config reload does not support moving to or from an account resolver";
  // 2.9.10 takes any other FULL or CACHE change but only swaps in a resolver it never starts:
  // pushed updates, deletes and the other servers' lookups stay with the one it started
  // with, lookups of new accounts read the new one, which cannot ask the other servers.
  // That split is not copied: refused, the running resolver kept.
  if (!(a.resolver == b.resolver))
    return "config reload not supported for AccountResolver: old=" + describe(a.resolver) + ", new=" +
           describe(b.resolver) + " (a directory resolver's settings change with a restart only)";
  if (a.resolver_preload != b.resolver_preload) return structural("AccountResolver");
  if (!(a.resolver_tls == b.resolver_tls) || a.resolver_tls_insecure != b.resolver_tls_insecure)
    return structural("AccountResolverTLSConfig");
  if (!(a.jetstream == b.jetstream)) return structural("JetStream");
  if (!(a.websocket == b.websocket)) return structural("Websocket");
  if (!(a.leafnode == b.leafnode)) return structural("LeafNode");
  return structural("Options");
}

// Whether an account of `b` (also in `a`) has other imports or exports, or was added.
bool wiring_changed(const Options& a, const Options& b) {
  for (const auto& y : b.accounts) {
    const AccountConfig* x = find_account(a, y.name);
    if (!x) return true;
    if (!(x->stream_exports == y.stream_exports) || !(x->service_exports == y.service_exports) ||
        !(x->stream_imports == y.stream_imports) || !(x->service_imports == y.service_imports))
      return true;
  }
  return false;
}

bool auth_changed(const Options& a, const Options& b) {
  if (a.username != b.username || a.password != b.password || a.authorization != b.authorization ||
      !(a.users == b.users) || !(a.default_permissions == b.default_permissions) ||
      a.authorization_configured != b.authorization_configured || a.no_auth_user != b.no_auth_user)
    return true;
  // An account removed: its users are gone (their clients are cut).
  for (const auto& x : a.accounts)
    if (!find_account(b, x.name)) return true;
  for (const auto& y : b.accounts) {
    const AccountConfig* x = find_account(a, y.name);
    if (!x || !(x->users == y.users) || !(x->default_permissions == y.default_permissions)) return true;
  }
  return false;
}

// Go's %v of a float64 number of seconds ("2", "0.5").
std::string go_seconds(Duration d) {
  double v = std::chrono::duration<double>(d).count();
  std::string out = fmt::format("{}", v);
  return out;
}

}  // namespace

std::chrono::system_clock::time_point Server::config_load_time() const {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(config_load_ns_.load())));
}

namespace {

// Waits until every connection's loop ran its reload task (their `done` calls), so that when
// reload reports success every check has been made: a removed user is already cut, new
// limits and permissions already apply. Bounded, in case a loop is stuck.
class LoopBarrier {
 public:
  // The returned callback keeps the state alive: a task that runs after wait() gave up is safe.
  std::function<void()> arm() {
    std::lock_guard lk(st_->mu);
    ++st_->pending;
    return [st = st_] {
      std::lock_guard lk(st->mu);
      if (--st->pending == 0) st->cv.notify_all();
    };
  }
  void wait() {
    std::unique_lock lk(st_->mu);
    if (!st_->cv.wait_for(lk, std::chrono::seconds(10), [this] { return st_->pending == 0; }))
      log::warn("Config reload: {} connections did not apply the change within 10s", st_->pending);
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
  };
  std::shared_ptr<State> st_ = std::make_shared<State>();
};

}  // namespace

std::string Server::reload(Options next) {
  std::lock_guard lk(reload_mu_);
  // Flags and start-up fields that a re-read config cannot know.
  next.check_config = loaded_.check_config;
  // In operator mode the accounts are the JWT accounts the server made at start-up (config
  // accounts are refused there), not something a re-read config has: kept as they are.
  if (loaded_.operator_mode() && next.operator_mode()) next.accounts = loaded_.accounts;
  if (auto m = jetstream_reload_refusal(loaded_, next, jetstream_enabled()); !m.empty()) return m;
  Options rest = next;
  take_reloadable(rest, loaded_);
  if (!(rest == loaded_)) return refusal(loaded_, rest);
  if (!(next.cluster.routes == loaded_.cluster.routes) && !routes_)
    return "config reload not supported for Cluster: old=<unchanged>, new=<changed>";

  // Everything that can fail first, so that a failure leaves the running config whole.
  std::unique_ptr<net::TlsContext> tls;
  if (next.tls.enabled) {
    try {
      tls = std::make_unique<net::TlsContext>(next.tls.cert_file, next.tls.key_file, next.tls.ca_file, next.tls.verify);
      tls->set_pinned_certs(next.tls.pinned_certs);
    } catch (const std::exception& e) {
      return std::string("error loading the TLS certificate: ") + e.what();
    }
  }

  LinkTlsReload links;
  if (auto err = prepare_link_reload(opts_, loaded_, next, links); !err.empty()) return err;

  // A URL resolver's new TLS (files that do not load refuse the reload).
  // A URL resolver swapped in (reload_resolver) gets its TLS made here too.
  std::shared_ptr<const net::TlsContext> resolver_tls;
  bool resolver_tls_changed = !(next.resolver_tls == loaded_.resolver_tls) ||
                              next.resolver_tls_insecure != loaded_.resolver_tls_insecure;
  const bool resolver_swapped = resolver_ && !(next.resolver == loaded_.resolver);
  if ((resolver_tls_changed && resolver_ && resolver_->url_fetcher()) ||
      (resolver_swapped && next.resolver.type == "URL")) {
    try {
      resolver_tls = url_resolver_tls(next);
    } catch (const std::exception& e) {
      return std::string("error loading the resolver TLS configuration: ") + e.what();
    }
  }

  if (next.client_advertise != loaded_.client_advertise && !next.client_advertise.empty()) {
    std::string host;
    int port = 0;
    if (auto err = parse_host_port(next.client_advertise, client_port_, host, port); !err.empty())
      return "invalid ClientAdvertise value of " + next.client_advertise + ", err=" + err;
  }

  if (next.debug != loaded_.debug || next.trace != loaded_.trace || next.logtime != loaded_.logtime ||
      next.log_file != loaded_.log_file || next.trace_verbose != loaded_.trace_verbose) {
    log::Settings ls;
    ls.time = next.logtime;
    ls.debug = next.debug;
    ls.trace = next.trace;
    ls.file = next.log_file;
    log::configure(ls);
    log::notice("Reloaded: logging (debug = {}, trace = {}, logtime = {})", next.debug, next.trace, next.logtime);
  }
  live_.set(next);
  set_live_settings(next);
  if (next.auth_timeout != loaded_.auth_timeout)
    log::notice("Reloaded: authorization timeout = {}", go_seconds(next.auth_timeout));
  if (next.tags != loaded_.tags) log::notice("Reloaded: tags");
  if (next.pid_file != loaded_.pid_file && !next.pid_file.empty()) {
    // As the reference: the pid written to the new file (the old one is left alone).
    if (!write_pid_file()) log::error("Failed to write pidfile: open {}: {}", next.pid_file, std::strerror(errno));
    log::notice("Reloaded: pid_file = {}", next.pid_file);
  }
  if (next.ports_file_dir != loaded_.ports_file_dir) {
    remove_ports_file(loaded_.ports_file_dir);
    write_ports_file();
    log::notice("Reloaded: ports_file_dir = {}", next.ports_file_dir);
  }
  if (next.client_advertise != loaded_.client_advertise)
    log::notice("Reload: client_advertise = {}", next.client_advertise);
  // Accounts added to the config are registered before the users that name them can log in
  // (the reference's accountsOption: reloadAuthorization configures the accounts anew).
  if (auto added = added_accounts(loaded_, next); !added.empty()) {
    std::lock_guard jlk(jwt_mu_);
    for (const auto& ac : added) {
      install_jwt_account(std::make_shared<Account>(ac.name), nullptr, ac);
      log::notice("Reloaded: account {} added", ac.name);
    }
  }
  // Removed accounts, and the limits, mappings and JetStream settings of the others
  // (reload_accounts.cpp).
  reload_accounts(loaded_, next, resolver_swapped ? resolver_tls : nullptr);
  if (!resolver_swapped && resolver_tls_changed && resolver_ && resolver_->url_fetcher()) {
    resolver_->url_fetcher()->set_tls(resolver_tls);
    log::notice("Reloaded: resolver_tls");
  }
  if (next.max_connections != loaded_.max_connections) {
    // As the reference: connections over the new limit are closed.
    auto clients = clients_snapshot();
    if (next.max_connections > 0 && clients.size() > static_cast<size_t>(next.max_connections)) {
      size_t n = clients.size() - static_cast<size_t>(next.max_connections);
      for (size_t i = 0; i < n; ++i)
        clients[clients.size() - 1 - i]->kick("maximum connections exceeded", CloseReason::MaxConnectionsExceeded);
      log::notice("Closed {} connections to fall within max_connections", n);
    }
    log::notice("Reloaded: max_connections = {}", next.max_connections);
  }
  if (next.max_control_line != loaded_.max_control_line)
    log::notice("Reloaded: max_control_line = {}", next.max_control_line);
  if (next.max_payload != loaded_.max_payload) log::notice("Reloaded: max_payload = {}", next.max_payload);
  if (next.ping_interval != loaded_.ping_interval) log::notice("Reloaded: ping_interval = {}", dur(next.ping_interval));
  if (next.ping_max != loaded_.ping_max) log::notice("Reloaded: ping_max = {}", next.ping_max);
  if (next.write_deadline != loaded_.write_deadline)
    log::notice("Reloaded: write_deadline = {}", dur(next.write_deadline));
  if (next.tls.timeout != loaded_.tls.timeout)
    log::notice("Reloaded: tls timeout = {}", dur(std::chrono::duration_cast<Duration>(next.tls.timeout)));
  if (tls) {
    install_tls(std::move(tls), next.tls.verify);
    if (!(next.tls == loaded_.tls)) log::notice("Reloaded: tls = enabled");
  } else if (loaded_.tls.enabled) {
    install_tls(nullptr, false);
    log::notice("Reloaded: tls = disabled");
  }
  std::shared_ptr<const Authenticator> auth;
  if (auth_changed(loaded_, next)) {
    auth = std::make_shared<const Authenticator>(next, [this](const std::string& key) { return jwt_account_claims(key); });
    std::atomic_store(&auth_, auth);
    make_ws_authenticator(next);
    log::notice("Reloaded: authorization users");
  }
  if (wiring_changed(loaded_, next)) {
    // As the reference's reloadAuthorization: the accounts' imports and exports are set up
    // again; connections stay, unchanged imports keep flowing.
    std::map<std::string, AccountPtr> all;
    for (auto& a : accounts()) all[a->name()] = a;
    rewire_imports(*this, all, next.accounts);
    log::notice("Reloaded: accounts");
  }
  reload_jetstream(next);
  // INFO for new clients: auth_required, max_payload and jetstream may have changed.
  build_info_prefix();
  LoopBarrier barrier;
  for (auto& c : clients_snapshot()) c->on_reload(auth && c->websocket() ? authenticator_for(true) : auth, barrier.arm());
  // Never block an event loop on its own tasks (reload runs on the signal thread).
  if (!net::EventLoop::current()) barrier.wait();
  if (!(next.cluster.routes == loaded_.cluster.routes)) {
    std::vector<std::string> add, remove;
    for (const auto& r : loaded_.cluster.routes)
      if (std::find(next.cluster.routes.begin(), next.cluster.routes.end(), r) == next.cluster.routes.end())
        remove.push_back(r);
    for (const auto& r : next.cluster.routes)
      if (std::find(loaded_.cluster.routes.begin(), loaded_.cluster.routes.end(), r) == loaded_.cluster.routes.end())
        add.push_back(r);
    routes_->reload_routes(add, remove);
  }
  reload_links(loaded_, next, links);
  // As the reference's tagsOption (IsStatszChange): the other servers (and JetStream
  // placement there) learn the new tags now.
  bool tags_changed = next.tags != loaded_.tags;
  loaded_ = std::move(next);
  if (tags_changed && sys_services_) sys_services_->send_statsz_update();
  config_load_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  log::notice("Reloaded server configuration");
  return "";
}

}  // namespace nats
