#include "cluster/leaf_manager.h"
#include "config/link_auth_timeout.h"

#include <unistd.h>

#include <algorithm>

#include "cluster/route_manager.h"
#include "config/duration.h"
#include "jetstream/cluster/assignment.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/raft_group.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/jetstream.h"
#include "net/socket.h"
#include "server/auth.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time_format.h"

namespace nats::cluster {

LeafManager::LeafManager(Server& s) : LinkManagerBase(s, s.options().leafnode.tls, kMutualTls) {}

LeafManager::~LeafManager() { shutdown(); }

namespace {
constexpr auto kLoopDelay = std::chrono::seconds(30);  // leafNodeReconnectDelayAfterLoopDetected
bool is_ws_url(const std::string& url) { return util::ascii_lower(url.substr(0, 2)) == "ws"; }
bool is_wss_url(const std::string& url) { return util::ascii_lower(url.substr(0, 4)) == "wss:"; }
// A leaf URL with the reference's default port, 7422 whatever the scheme (setBaselineOptions
// gives every remote URL without a port DEFAULT_LEAFNODE_PORT, ws:// and wss:// ones too).
std::string with_default_port(const std::string& url) {
  PeerUrl u = parse_peer_url(url);
  if (u.ok) return url;
  return url + ":7422";
}
// A websocket URL's path (what follows host:port), cut from `url`.
std::string cut_path(std::string& url) {
  size_t sep = url.find("://");
  size_t slash = url.find('/', sep == std::string::npos ? 0 : sep + 3);
  if (slash == std::string::npos) return "";
  std::string path = url.substr(slash);
  url.resize(slash);
  return path;
}
}  // namespace

void LeafManager::start() {
  const auto& o = server_.options().leafnode;
  num_remote_tls_ = o.remotes.size();
  remote_tls_ = std::make_unique<std::atomic<const net::TlsContext*>[]>(num_remote_tls_);
  for (size_t i = 0; i < o.remotes.size(); ++i)
    install_remote_tls(static_cast<int>(i), make_remote_tls(o.remotes[i].tls, o.tls.pinned_certs));
  for (const auto& r : o.remotes) {
    Remote st;
    st.ws = !r.urls.empty() && is_ws_url(r.urls.front());
    for (std::string u : r.urls) {
      if (st.ws) {
        // The reference appends each URL's own path to /leafnode.
        std::string path = cut_path(u);
        st.ws_paths.push_back("/leafnode" + (path.size() > 1 ? path.substr(1) : std::string()));
        st.ws_tls |= is_wss_url(u);
      }
      st.urls.push_back(with_default_port(u));
    }
    st.ws_tls |= r.tls.enabled;
    st.denies = {r.deny_imports, r.deny_exports};
    if (!st.urls.empty()) {
      PeerUrl u = parse_peer_url(st.urls.front());
      if (!u.user.empty()) st.userinfo = u.user + (u.pass.empty() ? "" : ":" + u.pass) + "@";
    }
    remotes_.push_back(std::move(st));
  }
  if (!remotes_.empty()) {
    {
      std::lock_guard lk(mu_);
      for (size_t i = 0; i < remotes_.size(); ++i) schedule_locked(static_cast<int>(i), policy(), std::chrono::seconds(0), true);
    }
    start_dialing();
  }
  if (o.port == 0) return;
  int fd = net::listen_tcp(o.host, o.port > 0 ? o.port : 0);
  port_ = net::bound_port(fd);
  if (!o.advertise.empty()) {
    host_ = o.advertise;
  } else {
    // Listening on every interface: advertise the first non-local address, as the reference.
    auto urls = advertised_urls(o.host, port_);
    host_ = urls.empty() ? o.host + ":" + std::to_string(port_) : urls.front();
  }
  listener_.start(server_.pick_loop(), fd, [this](int cfd, const std::string& ip, int port) {
    accept(cfd, ip, port);
  });
  log::notice("Listening for leafnode connections on {}:{}", o.host, port_);
  // As the reference, only a server with a leafnodes port says it (startLeafNodeAcceptLoop).
  bool insecure = o.tls.enabled && o.tls.insecure;
  for (const auto& r : o.remotes) insecure |= r.tls.enabled && r.tls.insecure;
  if (insecure)
    log::warn("TLS certificate chain and hostname of solicited leafnodes will not be verified. DO NOT USE IN PRODUCTION!");
  if (!o.advertise.empty()) log::notice("Advertise address for leafnode is set to {}", host_);
}

std::unique_ptr<net::TlsContext> LeafManager::make_remote_tls(const TlsOptions& t, const std::vector<std::string>& pinned) {
  // The server's certificate is checked, against the system's roots without a ca_file, as
  // Go's default, unless the remote's tls block says `insecure`.
  auto ctx = std::make_unique<net::TlsContext>(t.cert_file, t.key_file, t.ca_file, false);
  ctx->verify_with_system_roots();
  ctx->set_insecure_dial(t.insecure);
  // The hub's certificate must match leafnodes { tls { pinned_certs } }, as 2.9.10 checks
  // a remote against the accepting side's pins.
  ctx->set_pinned_certs(pinned);
  return ctx;
}

void LeafManager::install_remote_tls(int remote, std::unique_ptr<net::TlsContext> ctx) {
  if (remote < 0 || static_cast<size_t>(remote) >= num_remote_tls_ || !ctx) return;
  std::lock_guard lk(remote_tls_mu_);
  remote_tls_[remote].store(ctx.get(), std::memory_order_release);
  remote_tls_all_.push_back(std::move(ctx));
}

const net::TlsContext* LeafManager::remote_tls_context(int remote) const {
  return remote >= 0 && static_cast<size_t>(remote) < num_remote_tls_ ? remote_tls_[remote].load(std::memory_order_acquire)
                                                                      : nullptr;
}

bool LeafManager::remote_wants_tls(int remote) const {
  const auto& rs = server_.options().leafnode.remotes;
  return remote >= 0 && static_cast<size_t>(remote) < rs.size() && rs[remote].tls.enabled;
}

bool LeafManager::remote_is_websocket(int remote) const {
  return remote >= 0 && static_cast<size_t>(remote) < remotes_.size() && remotes_[remote].ws;
}

std::string LeafManager::remote_ws_path(int remote, const std::string& url) const {
  std::lock_guard lk(mu_);
  const Remote& r = remotes_[remote];
  for (size_t i = 0; i < r.ws_paths.size() && i < r.urls.size(); ++i)
    if (r.urls[i] == url) return r.ws_paths[i];
  return "/leafnode";  // a learned URL: no path
}

bool LeafManager::remote_ws_tls(int remote) const { return remotes_[remote].ws_tls; }

void LeafManager::shutdown() { stop_links(); }

void LeafManager::accept_websocket(Connection& old) {
  auto c = std::make_shared<LeafConnection>(server_, *this, old.loop(), -1, server_.next_connection_id());
  old.hand_over(*c);
  adopt(old.loop(), std::move(c));  // when stopping, the socket closes with `c`
}

void LeafManager::accept(int fd, const std::string& ip, int port) {
  auto& loop = server_.pick_loop();
  auto c = std::make_shared<LeafConnection>(server_, *this, loop, fd, server_.next_connection_id());
  c->set_peer(ip, port);
  adopt(loop, std::move(c));
}

namespace {
// The fields every leaf INFO starts with, in the reference's order (server.go `type Info`).
nlohmann::ordered_json base_info(Server& s, const std::string& hostport) {
  const auto& o = s.options();
  nlohmann::ordered_json j;
  auto colon = hostport.rfind(':');
  link_info_head(j, s, kProtoVersion, hostport.substr(0, colon),
                 colon == std::string::npos ? 0 : std::atoi(hostport.c_str() + colon + 1));
  link_info_limits(j, !o.no_header_support, true, o.leafnode.tls.enabled, o.leafnode.tls.verify, o.max_payload);
  if (s.jetstream_enabled()) j["jetstream"] = true;
  j["ip"] = hostport;
  return j;
}
}  // namespace

std::string LeafManager::info_line(uint64_t cid, const std::string& nonce) const {
  auto j = base_info(server_, host_);
  j["client_id"] = cid;
  j["nonce"] = nonce;
  std::string cluster = server_.routes() ? server_.routes()->cluster_name() : std::string();
  if (!cluster.empty()) j["cluster"] = cluster;
  if (server_.jetstream_enabled() && !server_.options().jetstream.domain.empty())
    j["domain"] = server_.options().jetstream.domain;
  add_ws_urls(j);
  j["info_on_connect"] = true;
  // A soliciting 2.9 server takes an INFO without leafnode_urls for a wrong port.
  j["leafnode_urls"] = leafnode_urls();
  return "INFO " + j.dump() + "\r\n";
}

void LeafManager::add_ws_urls(nlohmann::ordered_json& j) const {
  // The other servers' websocket URLs (not ours: a websocket leaf has the URL it dialled),
  // where the reference's Info has them, after "domain".
  if (auto* r = server_.routes())
    if (auto urls = r->peer_ws_urls(); !urls.empty()) j["ws_connect_urls"] = std::move(urls);
}

std::vector<std::string> LeafManager::leafnode_urls() const {
  std::vector<std::string> out{host_};
  if (auto* r = server_.routes())
    for (auto& rc : r->routes())
      for (auto& u : rc->remote_info().leafnode_urls)
        if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
  return out;
}

void LeafManager::send_async_info() {
  auto j = base_info(server_, host_);
  std::string cluster = server_.routes() ? server_.routes()->cluster_name() : std::string();
  if (!cluster.empty()) j["cluster"] = cluster;
  add_ws_urls(j);
  j["leafnode_urls"] = leafnode_urls();
  const std::string line = "INFO " + j.dump() + "\r\n";
  for (auto& l : leafs())
    if (!l->solicited()) l->send_now(line);
}

std::string LeafManager::connect_info_line(uint64_t cid, const std::string& account) const {
  auto j = base_info(server_, host_);
  j["client_id"] = cid;
  std::string cluster = server_.routes() ? server_.routes()->cluster_name() : std::string();
  if (!cluster.empty()) j["cluster"] = cluster;
  add_ws_urls(j);
  j["info_on_connect"] = true;
  j["connect_info"] = true;
  j["leafnode_urls"] = leafnode_urls();
  j["remote_account"] = account;
  return "INFO " + j.dump() + "\r\n";
}

std::optional<std::string> LeafManager::authorize(const std::string& user, const std::string& pass,
                                                  const std::string& nkey, const std::string& nonce,
                                                  const std::string& jwt,
                                                  const std::string& sig, const std::string& ip,
                                                  const net::PeerCertNames* cert) const {
  const auto& o = server_.options().leafnode;
  auto bind = [&](const std::string& account) -> std::optional<std::string> {
    std::string name = account.empty() ? server_.global_account()->name() : account;
    if (!server_.lookup_account(name)) {
      log::error("authentication of user \"{}\" failed, unable to lookup account \"{}\"", user, name);
      return std::nullopt;
    }
    return name;
  };
  // A leafnodes authorization block takes precedence over the client users.
  if (!o.username.empty()) {
    if (user != o.username || !password_matches(o.password, pass)) return std::nullopt;
    return bind(o.account);
  }
  if (!o.users.empty() && o.tls.map) {
    // verify_and_map: the certificate names the user (isLeafNodeAuthorized); the CONNECT's
    // password must still be the user's.
    const LeafUser* found = nullptr;
    if (cert)
      net::map_cert_to_user(*cert, [&](const std::string& name) {
        for (const auto& u : o.users)
          if (u.user == name) found = &u;
        return found != nullptr;
      });
    if (!found) {
      log::debug("{} - leafnode user not found in the TLS certificate", ip);
      return std::nullopt;
    }
    if (!user.empty()) log::warn("User \"{}\" found in connect proto, but user required from cert", user);
    if (!password_matches(found->password, pass)) return std::nullopt;
    return bind(found->account);
  }
  if (!o.users.empty()) {
    for (const auto& u : o.users)
      if (u.user == user) {
        if (!password_matches(u.password, pass)) return std::nullopt;
        return bind(u.account);
      }
    return std::nullopt;
  }
  ClientCredentials c;
  c.user = user;
  c.pass = pass;
  c.jwt = jwt;
  c.sig = sig;
  c.nkey = nkey;
  c.connection_type = "LEAFNODE";
  // leafnodes { tls { verify_and_map } } maps the certificate to one of the client users
  // here too, whichever port the leaf came in by (a websocket leaf's certificate is the
  // websocket TLS session's; the websocket block's own verify_and_map is for clients only).
  c.tls_map = o.tls.map;
  if (c.tls_map && cert) c.cert = *cert;
  auto res = server_.authenticator()->authenticate(c, nonce, ip);
  if (res) return bind(res->account);
  if (server_.authenticator()->leaf_admitted_without_user(c)) return bind(o.account);
  return std::nullopt;
}

std::chrono::nanoseconds LeafManager::auth_timeout() const {
  // The block's, else its default; not the client timeout (2.9.10's getDefaultAuthTimeout).
  const auto& o = server_.options().leafnode;
  return link_auth_timeout(o.auth_timeout, o.tls);
}

std::string LeafManager::new_loop_subject(const std::string& account) {
  std::string subject = "$LDS." + util::next_nuid();
  std::lock_guard lk(mu_);
  loop_subjects_.emplace(account, subject);
  return subject;
}

void LeafManager::drop_loop_subject(const std::string& account, const std::string& subject) {
  std::lock_guard lk(mu_);
  loop_subjects_.erase(std::pair{account, subject});
}

bool LeafManager::is_loop_subject(const std::string& account, std::string_view subject) const {
  std::lock_guard lk(mu_);
  return loop_subjects_.contains(std::pair{account, std::string(subject)});
}

RedialPolicy LeafManager::policy() const {
  // Every remote is dialled forever, the next URL each time, `reconnect` apart
  // (connectToRemoteLeafNode).
  RedialPolicy p;
  p.retry_delay = reconnect_interval();
  return p;
}

size_t LeafManager::dial_url_count_locked(const int& remote) const {
  return static_cast<size_t>(remote) < remotes_.size() ? remotes_[remote].urls.size() : 0;
}

std::string LeafManager::dial_url_locked(const int& remote, size_t i) const { return remotes_[remote].urls[i]; }

void LeafManager::log_dial(const Dial& d, const PeerUrl& u, bool failed) const {
  if (!failed) log::debug("Trying to connect as leafnode to remote server on \"{}\"", u.host_port());
  else if (d.report) log::error("Error trying to connect as leafnode to remote server \"{}\" (attempt {})", u.host_port(), d.attempt);
  else log::debug("Error trying to connect as leafnode to remote server \"{}\" (attempt {})", u.host_port(), d.attempt);
}

void LeafManager::dialled_locked(const int& remote, const std::string& url, int fd) {
  PeerUrl u = parse_peer_url(url);
  auto& loop = server_.pick_loop();
  auto c = std::make_shared<LeafConnection>(server_, *this, loop, fd, server_.next_connection_id(), remote, url);
  c->set_peer(u.host, u.port);
  adopt_locked(loop, std::move(c));
}

void LeafManager::dial_failed(const int& remote) {
  const auto& rs = server_.options().leafnode.remotes;
  if (static_cast<size_t>(remote) < rs.size() && rs[remote].js_cluster_migrate) migrate_jetstream(remote);
}

void LeafManager::migrate_jetstream(int remote) {
  auto* js = server_.jetstream();
  auto* cl = js ? js->cluster() : nullptr;
  auto* mg = server_.meta_group();
  auto* groups = mg ? mg->raft_groups() : nullptr;
  if (!cl || !groups) return;  // not clustered: nothing is replicated
  const auto& r = server_.options().leafnode.remotes[remote];
  const std::string account = r.account.empty() ? server_.global_account()->name() : r.account;
  if (!server_.lookup_account(account)) {
    log::debug("Error looking up account [{}] checking for JetStream migration on a leafnode", account);
    return;
  }
  auto step_down = [&](const jetstream::RaftGroupSpec& g) {
    if (g.replicas() <= 1) return;
    if (auto grp = groups->find(g.name); grp && grp->is_leader()) grp->step_down();
  };
  for (const auto& sa : cl->streams(account)) {
    if (sa.group.replicas() <= 1) continue;
    for (const auto& [_, ca] : sa.consumers) step_down(ca.group);
    step_down(sa.group);
  }
}

std::chrono::nanoseconds LeafManager::reconnect_interval() const {
  // Zero is the default (1 s); a negative interval redials at once, as Go's timer fires.
  auto d = server_.options().leafnode.reconnect;
  if (d.count() == 0) return std::chrono::seconds(1);
  return std::max(d, std::chrono::nanoseconds(0));
}

void LeafManager::learn_urls(int remote, const std::vector<std::string>& host_ports) {
  std::lock_guard lk(mu_);
  if (remote < 0 || static_cast<size_t>(remote) >= remotes_.size()) return;
  Remote& r = remotes_[remote];
  for (const auto& hp : host_ports) {
    bool known = false;
    for (const auto& u : r.urls) known |= parse_peer_url(u).host_port() == parse_peer_url(hp).host_port();
    if (!known) r.urls.push_back((r.ws ? (r.ws_tls ? "wss://" : "ws://") : "nats-leaf://") + r.userinfo + hp);
  }
}

void LeafManager::delay_reconnect(int remote) {
  std::lock_guard lk(mu_);
  redial_.hold(remote, kLoopDelay);
}

void LeafManager::replace_duplicate(const LeafConnection& fresh) {
  const std::string name = fresh.remote_name();
  if (name.empty()) return;
  for (auto& l : leafs()) {
    if (l.get() == &fresh || l->solicited() || l->remote_name() != name || l->remote_cluster() != fresh.remote_cluster() ||
        l->account_name() != fresh.account_name())
      continue;
    const std::string text = close_reason_text(CloseReason::DuplicateRemoteLeafnodeConnection);
    log::error("{}:{} - lid:{} - {}", l->peer_ip(), l->peer_port(), l->cid(), text);
    l->send_now("-ERR '" + text + "'\r\n");
    l->close(CloseReason::DuplicateRemoteLeafnodeConnection);
    log::warn("{}:{} - lid:{} - Replacing connection from same server", fresh.peer_ip(), fresh.peer_port(), fresh.cid());
  }
}

void LeafManager::register_leaf(const std::shared_ptr<LeafConnection>& l) {
  std::lock_guard lk(mu_);
  leafs_.push_back(l);
}

void LeafManager::on_leaf_closed(LeafConnection* l) {
  {
    std::lock_guard lk(mu_);
    std::erase_if(leafs_, [l](auto& x) { return x.get() == l; });
    forget_locked(l);
    // A solicited connection is redialled (the next URL first, as the reference) after the
    // reconnect interval (reConnectToRemoteLeafNode), or later if a loop delayed it.
    if (l->solicited() && static_cast<size_t>(l->remote_index()) < remotes_.size())
      schedule_locked(l->remote_index(), policy(), redial_.after_hold(l->remote_index(), reconnect_interval()), false);
  }
}

void LeafManager::on_interest(const std::string& account, const Subscription& sub, bool added) {
  for (auto& l : leafs()) {
    if (l->account_name() != account || sub.conn.get() == l.get()) continue;
    l->update_interest(sub, added);
  }
}

std::vector<std::shared_ptr<LeafConnection>> LeafManager::leafs() const {
  std::lock_guard lk(mu_);
  return leafs_;
}

size_t LeafManager::num_leafs() const {
  std::lock_guard lk(mu_);
  return leafs_.size();
}

size_t LeafManager::num_leafs(const std::string& account) const {
  std::lock_guard lk(mu_);
  return static_cast<size_t>(std::count_if(leafs_.begin(), leafs_.end(), [&](auto& l) { return l->account_name() == account; }));
}

nlohmann::ordered_json LeafManager::leafz(bool subs) const {
  nlohmann::ordered_json j;
  j["server_id"] = server_.id();
  j["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  auto ls = leafs();
  j["leafnodes"] = ls.size();
  auto arr = nlohmann::ordered_json::array();
  for (auto& l : ls) {
    nlohmann::ordered_json e;
    e["account"] = l->account_name();
    e["ip"] = l->peer_ip();
    e["port"] = l->peer_port();
    e["rtt"] = config::format_go_duration(l->rtt());
    e["in_msgs"] = l->in_msgs.load();
    e["out_msgs"] = l->out_msgs.load();
    e["in_bytes"] = l->in_bytes.load();
    e["out_bytes"] = l->out_bytes.load();
    e["subscriptions"] = l->num_remote_subs();
    if (subs) {
      auto list = l->remote_subjects();
      if (!list.empty()) e["subscriptions_list"] = list;
    }
    arr.push_back(std::move(e));
  }
  j["leafs"] = std::move(arr);
  return j;
}

LeafManager::RemoteDenies LeafManager::remote_denies(int remote) const {
  std::lock_guard lk(mu_);
  if (remote < 0 || static_cast<size_t>(remote) >= remotes_.size()) return {};
  return remotes_[remote].denies;
}

void LeafManager::reload_remote_denies(int remote, RemoteDenies d) {
  {
    std::lock_guard lk(mu_);
    if (remote < 0 || static_cast<size_t>(remote) >= remotes_.size() || remotes_[remote].denies == d) return;
    remotes_[remote].denies = std::move(d);
  }
  for (auto& l : leafs())
    if (l->solicited() && l->remote_index() == remote) {
      log::notice("{} - Leafnode remote's deny_imports/deny_exports reloaded: reconnecting", conn_tag(*l));
      l->close(CloseReason::ClientClosed);
    }
}

nlohmann::ordered_json LeafManager::varz() const {
  const auto& o = server_.options().leafnode;
  nlohmann::ordered_json j;
  // Without a leafnodes port the reference has no default host or auth timeout to show
  // (setBaselineOptions sets them only with a port).
  if (o.port != 0 || (!o.host.empty() && o.host != "0.0.0.0")) j["host"] = o.host;
  if (port_) j["port"] = port_;
  if (o.port != 0 || o.auth_timeout.count() > 0)
    j["auth_timeout"] = std::chrono::duration<double>(auth_timeout()).count();
  // The reference's fields, omitted when empty (LeafNodeOptsVarz).
  if (o.port != 0 || o.tls.enabled) j["tls_timeout"] = std::chrono::duration<double>(o.tls.timeout).count();
  if (o.tls.enabled) j["tls_required"] = true;
  if (o.tls.enabled && o.tls.verify) j["tls_verify"] = true;
  if (!o.remotes.empty()) {
    auto arr = nlohmann::ordered_json::array();
    for (size_t i = 0; i < o.remotes.size(); ++i) {
      RemoteLeaf r = o.remotes[i];
      auto d = remote_denies(static_cast<int>(i));  // as a reload last set them
      r.deny_imports = d.imports;
      r.deny_exports = d.exports;
      nlohmann::ordered_json e;
      if (!r.account.empty()) e["local_account"] = r.account;
      if (r.tls.enabled) e["tls_timeout"] = std::chrono::duration<double>(r.tls.timeout).count();
      // host:port as the reference's url.Host (a websocket URL's path left out).
      auto urls = nlohmann::ordered_json::array();
      for (std::string u : r.urls) {
        cut_path(u);
        urls.push_back(parse_peer_url(with_default_port(u)).host_port());
      }
      if (!urls.empty()) e["urls"] = urls;
      if (!r.deny_imports.empty() || !r.deny_exports.empty()) {
        nlohmann::ordered_json d;
        if (!r.deny_exports.empty()) d["exports"] = r.deny_exports;
        if (!r.deny_imports.empty()) d["imports"] = r.deny_imports;
        e["deny"] = d;
      }
      arr.push_back(std::move(e));
    }
    j["remotes"] = std::move(arr);
  }
  return j;
}

}  // namespace nats::cluster
