// Config reload. What may change at run time: logging (debug, trace, logtime, log_file) and
// who may connect with which permissions (the authorization block, users lists, account
// users and default permissions). Every other difference is refused with the reference's
// "config reload not supported for <Go field name>: old=<v>, new=<v>", naming the first
// differing setting, and the running config stays. (The reference reloads more, e.g. limits
// and TLS; those are refused here until implemented, never half applied.)
#include <functional>

#include "config/duration.h"
#include "server/client.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {

// The settings reload applies, copied from `from` so that what is left to compare is what
// reload does not apply.
void take_reloadable(Options& x, const Options& from) {
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
  if (x.accounts.size() == from.accounts.size()) {
    for (size_t i = 0; i < x.accounts.size(); ++i) {
      if (x.accounts[i].name != from.accounts[i].name) continue;
      x.accounts[i].users = from.accounts[i].users;
      x.accounts[i].default_permissions = from.accounts[i].default_permissions;
    }
  }
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
      {"MaxConn", [](const Options& o) { return num(o.max_connections); }},
      {"MaxSubs", [](const Options& o) { return num(o.max_subscriptions); }},
      {"MaxSubTokens", [](const Options& o) { return num(o.max_sub_tokens); }},
      {"PidFile", [](const Options& o) { return o.pid_file; }},
      {"PortsFileDir", [](const Options& o) { return o.ports_file_dir; }},
      {"MaxControlLine", [](const Options& o) { return num(o.max_control_line); }},
      {"MaxPayload", [](const Options& o) { return num(o.max_payload); }},
      {"MaxPending", [](const Options& o) { return num(o.max_pending); }},
      {"NoHeaderSupport", [](const Options& o) { return yes(o.no_header_support); }},
      {"PingInterval", [](const Options& o) { return dur(o.ping_interval); }},
      {"MaxPingsOut", [](const Options& o) { return num(o.ping_max); }},
      {"WriteDeadline", [](const Options& o) { return dur(o.write_deadline); }},
      {"LameDuckDuration", [](const Options& o) { return dur(o.lame_duck_duration); }},
      {"LameDuckGracePeriod", [](const Options& o) { return dur(o.lame_duck_grace_period); }},
      {"JetStream", [](const Options& o) { return yes(o.jetstream.enabled); }},
      {"StoreDir", [](const Options& o) { return o.jetstream.store_dir; }},
      {"JetStreamMaxMemory", [](const Options& o) { return num(o.jetstream.max_memory); }},
      {"JetStreamMaxStore", [](const Options& o) { return num(o.jetstream.max_file); }},
  };
  return n;
}

// The first differing setting, as the reference words its refusal.
std::string refusal(const Options& a, const Options& b) {
  for (const auto& n : named()) {
    std::string va = n.show(a), vb = n.show(b);
    if (va != vb) return std::string("config reload not supported for ") + n.go_name + ": old=" + va + ", new=" + vb;
  }
  auto structural = [&](const char* name) {
    return std::string("config reload not supported for ") + name + ": old=<unchanged>, new=<changed>";
  };
  if (!(a.cluster == b.cluster)) return structural("Cluster");
  if (!(a.gateway == b.gateway)) return structural("Gateway");
  if (!(a.tls == b.tls)) return structural("TLSConfig");
  if (!(a.accounts == b.accounts)) return structural("Accounts");
  if (!(a.mappings == b.mappings)) return structural("Mappings");
  if (a.tags != b.tags) return structural("Tags");
  if (a.operator_jwts != b.operator_jwts || a.trusted_keys != b.trusted_keys) return structural("TrustedOperators");
  if (!(a.resolver == b.resolver) || a.resolver_preload != b.resolver_preload) return structural("AccountResolver");
  if (!(a.jetstream == b.jetstream)) return structural("JetStream");
  if (!(a.websocket == b.websocket)) return structural("Websocket");
  if (!(a.leafnode == b.leafnode)) return structural("LeafNode");
  return structural("Options");
}

bool auth_changed(const Options& a, const Options& b) {
  if (a.username != b.username || a.password != b.password || a.authorization != b.authorization ||
      !(a.users == b.users) || !(a.default_permissions == b.default_permissions) ||
      a.authorization_configured != b.authorization_configured)
    return true;
  for (size_t i = 0; i < a.accounts.size(); ++i)
    if (!(a.accounts[i].users == b.accounts[i].users) ||
        !(a.accounts[i].default_permissions == b.accounts[i].default_permissions))
      return true;
  return false;
}

}  // namespace

std::chrono::system_clock::time_point Server::config_load_time() const {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(config_load_ns_.load())));
}

std::string Server::reload(Options next) {
  std::lock_guard lk(reload_mu_);
  // Flags and start-up fields that a re-read config cannot know.
  next.check_config = loaded_.check_config;
  Options rest = next;
  take_reloadable(rest, loaded_);
  if (!(rest == loaded_)) return refusal(loaded_, rest);

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
  if (auth_changed(loaded_, next)) {
    auto auth = std::make_shared<const Authenticator>(next, [this](const std::string& key) { return jwt_account_claims(key); });
    std::atomic_store(&auth_, auth);
    make_ws_authenticator(next);
    for (auto& c : clients_snapshot()) c->reauthorize(c->websocket() ? authenticator_for(true) : auth);
    log::notice("Reloaded: authorization users");
  }
  loaded_ = std::move(next);
  config_load_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  log::notice("Reloaded server configuration");
  return "";
}

}  // namespace nats
