#include "cluster/leaf.h"
#include "util/json_fields.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cluster/cluster_util.h"
#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "proto/msg_line.h"
#include "server/server.h"
#include "subject/subject.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/jwt.h"
#include "util/nkey.h"
#include "util/semver.h"
#include "util/log.h"

namespace nats::cluster {

namespace {
// leafNodeWaitBeforeClose: how long a rejected leaf waits for its close, so that it does
// not redial at once.
constexpr auto kWaitBeforeClose = std::chrono::seconds(5);
// 2.9.10 extends a JetStream domain over a leaf when both sides run JetStream in the same
// domain and share the system account (one meta group across the link). That is not
// implemented here, so such a link is refused rather than left half working.
constexpr std::string_view kNoExtension =
    "JetStream domain extension over a shared system account is not supported";
// How much a subscription counts in the interest we announce: a queue member with a
// weight (a route's or another leaf's group) counts for that many.
int interest_weight(const Subscription& s) { return s.queue.empty() ? 1 : std::max<int32_t>(s.qweight, 1); }
// Whether a deny list covers every subject `subject` (literal or wildcard) can match.
bool denied(const std::vector<std::string>& deny, std::string_view subject) {
  if (subject.empty()) return false;
  const bool wild_first = subject[0] == '*' || subject[0] == '>';
  for (const auto& d : deny) {
    // Called for every message on the link: a literal first token that already differs in
    // its first character cannot match, which spares the tokenizing match (e.g. every
    // subject but `$...` against the JetStream denies).
    if (!wild_first && !d.empty() && d[0] != '*' && d[0] != '>' && d[0] != subject[0]) continue;
    if (subject_is_subset_match(subject, d)) return true;
  }
  return false;
}
}  // namespace

LeafConnection::LeafConnection(Server& server, LeafManager& mgr, net::EventLoop& loop, int fd, uint64_t cid,
                               int remote, std::string url)
    : LinkConnection(server, loop, fd, cid, ConnKind::Leaf, "lid", "Leafnode"),
      mgr_(mgr),
      parser_(proto::Kind::Leaf, parser_limits(server.options())),
      remote_(remote),
      url_(std::move(url)) {}

LeafConnection::~LeafConnection() = default;

void LeafConnection::start() {
  if (solicited()) {
    // The account is ours to choose; the hub's INFO comes first, then our CONNECT.
    const auto& r = server_.options().leafnode.remotes[remote_];
    spoke_ = !r.hub;
    auto denies = mgr_.remote_denies(remote_);  // as configured, or as a reload set them
    deny_out_ = std::move(denies.exports);
    deny_in_ = std::move(denies.imports);
    account_name_ = r.account.empty() ? server_.global_account()->name() : r.account;
    account_ = server_.lookup_account(account_name_);
    parser_.set_pinned_account(account_name_);
    if (mgr_.remote_is_websocket(remote_)) {
      // The hub's websocket port (leafNodeSolicitWSConnection): TLS first if wss or a tls
      // block asks for it, then the upgrade request; the hub's INFO comes in frames.
      PeerUrl u = parse_peer_url(url_);
      if (mgr_.remote_ws_tls(remote_)) {
        const net::TlsContext* ctx = mgr_.remote_tls_context(remote_);
        if (!ctx) {
          close(CloseReason::TLSHandshakeError);
          return;
        }
        begin_tls(*ctx, r.tls.timeout, &u.host);
      }
      begin_websocket_client(u.host_port(), mgr_.remote_ws_path(remote_, url_), r.ws_compression, r.ws_no_masking);
    }
  } else {
    nonce_ = util::new_nonce();
    parser_.set_require_connect(true);
    if (websocket()) {
      // Accepted on the websocket port (TLS, if any, was that port's): the INFO in a frame.
      log::debug("{} - Leafnode compression={}", conn_tag(*this), ws_compressed());
      enqueue(mgr_.info_line(cid_, nonce_));
    } else if (const net::TlsContext* tls = mgr_.tls_context()) {
      // The INFO goes out in clear (it tells the leaf to start TLS), then the handshake.
      if (!write_plain_now(mgr_.info_line(cid_, nonce_))) {
        close(CloseReason::WriteError);
        return;
      }
      begin_tls(*tls, server_.options().leafnode.tls.timeout);
    } else {
      enqueue(mgr_.info_line(cid_, nonce_));
    }
  }
  // A leaf must send its CONNECT (it binds the account), and a hub its INFO, in time.
  // (Cancelled by the CONNECT, or, dialled, by the hub's INFO in finish_connect.)
  arm_auth_timer(mgr_.auth_timeout(), !solicited());
  touch();
  Connection::start();
  if (solicited())
    log::notice("{} - Leafnode connection created for account: {}", conn_tag(*this),
                account_name_);
  else
    log::notice("{} - Leafnode connection created", conn_tag(*this));
  Connection::flush_touched();
  if (solicited() && !bind_remote_account()) {
    log::error("Unable to lookup account {} for solicited leafnode connection", account_name_);
    close(CloseReason::MissingAccount);
  }
}

std::string LeafConnection::remote_name() const {
  std::lock_guard lk(info_mu_);
  return remote_name_;
}

std::string LeafConnection::connect_user() const {
  std::lock_guard lk(info_mu_);
  return connect_user_;
}

std::string LeafConnection::connect_version() const {
  std::lock_guard lk(info_mu_);
  return connect_version_;
}

std::string LeafConnection::remote_cluster() const {
  std::lock_guard lk(info_mu_);
  return remote_cluster_;
}

bool LeafConnection::on_data(const char* data, size_t len) {
  if (discard_input_) return true;
  if (hold_input_for_lookup(data, len)) return !closing();
  auto r = parser_.parse(data, len, *this);
  if (r.error()) return parsed(r);
  if (hold_input_for_lookup(data + r.consumed, len - r.consumed)) return !closing();
  if (!parsed(r)) return false;
  // After the hub's INFO comes TLS: nothing more is read in clear.
  return !(tls_started_ && !tls_established());
}

bool LeafConnection::on_connect(std::string_view json) {
  if (solicited()) {
    close(CloseReason::ProtocolViolation);
    return false;
  }
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    close(CloseReason::ProtocolViolation);
    return false;
  }
  {
    // Before any check, as 2.9.10 fills the CONNECT in: a leaf refused (bad credentials...)
    // still has its name and version in /connz?state=closed.
    std::lock_guard lk(info_mu_);
    remote_name_ = util::string_field(j, "name");
    connect_user_ = util::string_field(j, "user");
    if (connect_user_.empty()) connect_user_ = util::string_field(j, "nkey");
    connect_version_ = util::string_field(j, "version");
  }
  cancel_auth_timer();
  if (start_account_lookup(json)) return false;
  const auto cert = peer_cert_names();
  auto acc_name = mgr_.authorize(util::string_field(j, "user"), util::string_field(j, "pass"),
                                 util::string_field(j, "nkey"), nonce_, util::string_field(j, "jwt"),
                                 util::string_field(j, "sig"), peer_ip_, cert ? &*cert : nullptr);
  if (!acc_name) {
    log::error("{} - authentication error", conn_tag(*this));
    send_err_and_close("Authorization Violation", CloseReason::AuthenticationViolation);
    return false;
  }
  // Clients send "lang"; servers soliciting a leaf connection do not.
  if (!util::string_field(j, "lang").empty()) {
    send_err_and_close("attempted to connect to leaf node port", CloseReason::WrongPort);
    return false;
  }
  std::string cluster = util::string_field(j, "cluster");
  std::string own_cluster = server_.routes() ? server_.routes()->cluster_name() : std::string();
  if (!cluster.empty() && cluster == own_cluster) {
    log::error("{} - remote leafnode has same cluster name", conn_tag(*this));
    send_err_and_close("remote leafnode has same cluster name", CloseReason::ClusterNamesIdentical);
    return false;
  }
  if (std::string gw = util::string_field(j, "gateway"); !gw.empty()) {
    std::string text = "Rejecting connection from gateway \"" + gw + "\" on the leafnode port";
    log::error("{} - {}", conn_tag(*this), text);
    send_err_and_close(text, CloseReason::WrongGateway);
    return false;
  }
  account_ = server_.lookup_account(*acc_name);
  if (!account_) {
    send_err_and_close("Authorization Violation", CloseReason::AuthenticationViolation);
    return false;
  }
  account_name_ = *acc_name;
  if (!take_account_slot()) {
    // Bound through the client users (or a JWT) the reference reports the account limit;
    // through the leafnodes authorization (or none) its registration fails as a violation.
    const auto& lo = server_.options().leafnode;
    if (lo.username.empty() && lo.users.empty() && server_.auth_required()) {
      log::error("{} - maximum account active connections exceeded", conn_tag(*this));
      send_err_and_close("maximum account active connections exceeded", CloseReason::MaxAccountConnectionsExceeded);
    } else {
      log::error("{} - authentication error", conn_tag(*this));
      send_err_and_close("Authorization Violation", CloseReason::AuthenticationViolation);
    }
    return false;
  }
  if (!reject_old_version(util::string_field(j, "version"))) return false;
  // The leaf's deny_imports: it will not take these, so they are not sent.
  deny_out_ = util::string_array(j, "deny_pub");
  headers_ok_ = util::bool_field(j, "headers") && !server_.options().no_header_support;
  {
    std::lock_guard lk(info_mu_);
    remote_cluster_ = cluster;
  }
  remote_domain_ = util::string_field(j, "domain");
  if (would_extend_jetstream(util::bool_field(j, "jetstream"))) {
    send_err_and_close(kNoExtension, CloseReason::ProtocolViolation);
    return false;
  }
  parser_.set_pinned_account(account_name_);
  parser_.set_require_connect(false);
  mgr_.replace_duplicate(*this);
  // The soliciting side waits for this INFO (connect_info) before it sends its interest.
  enqueue(mgr_.connect_info_line(cid_, account_name_));
  finish_connect();
  return true;
}

void LeafConnection::finish_connect() {
  cancel_auth_timer();
  add_jetstream_denies();
  send_all_subs(*account_);
  registered_ = true;
  if (auto* sys = server_.system_services()) sys->on_leaf_connect(account_name_, !spoke_);
  log::notice("{} - Leafnode connection bound to account \"{}\" (remote \"{}\")", conn_tag(*this), account_name_, remote_name());
  // The first PING about 1 s later (1 to 1.2 s), for the RTT, as 2.9.10's
  // firstPingInterval; not at once.
  start_pings(std::chrono::seconds(1));
  touch();
}

void LeafConnection::add_jetstream_denies() {
  // denyAllClientJs, or denyAllJs for the system account: this server does not extend a
  // JetStream domain over a leaf (the reference does when both sides share the system
  // account and the domain), so its system account is never extended either.
  static const std::vector<std::string> kClientJs{"$JS.API.>", "$KV.>", "$OBJ.>"};
  static const std::vector<std::string> kAllJs{"$JSC.>", "$NRG.>", "$JS.API.>", "$KV.>", "$OBJ.>"};
  auto sys = server_.system_account();
  const bool is_sys = sys && sys.get() == account_.get();
  const auto& deny = is_sys ? kAllJs : kClientJs;
  const std::string& domain = server_.options().jetstream.domain;
  std::string list;
  for (const auto& d : deny) {
    deny_in_.push_back(d);
    deny_out_.push_back(d);
    list += (list.empty() ? "" : " ") + d;
  }
  const bool same_domain = domain == remote_domain_ && server_.jetstream_enabled() && sys;
  // The reference's notices: "Not Extended" when the domains differ (or JetStream, the
  // system account or the account is missing), a plain deny for an account otherwise.
  if (same_domain) {
    log::notice("{} - Adding deny [{}] for account \"{}\"", conn_tag(*this), list,
                account_name_);
  } else if (is_sys) {
    std::string from = remote_name(), cluster = remote_cluster();
    if (!cluster.empty()) from += "/" + cluster;
    log::notice("{} - System Account Connected from {}", conn_tag(*this), from);
    log::notice("{} - JetStream Not Extended, adding denies [{}]", conn_tag(*this), list);
  } else {
    log::notice("{} - JetStream Not Extended, adding deny [{}] for account \"{}\"", conn_tag(*this), list, account_name_);
  }
  // Requests for our own domain are answered here; with another domain on the other side
  // they must not leave through this link (a guard against the same domain on both sides).
  if (!domain.empty() && !is_sys && server_.jetstream_enabled() && !same_domain) {
    deny_out_.push_back("$JS." + domain + ".API.>");
    log::notice("{} - Adding deny \"$JS.{}.API.>\" for outgoing messages to account \"{}\"", conn_tag(*this), domain, account_name_);
  }
}

bool LeafConnection::send_connect(const nlohmann::json& info) {
  // A hub's INFO has a client ID and leafnode URLs; without them we reached another port.
  auto cid = info.find("client_id");
  if (cid == info.end() || !cid->is_number_unsigned() || cid->get<uint64_t>() == 0 || !info.contains("leafnode_urls")) {
    log::error("{} - attempted to connect to wrong port", conn_tag(*this));
    close(CloseReason::WrongPort);
    return false;
  }
  headers_ok_ = util::bool_field(info, "headers") && !server_.options().no_header_support;
  {
    std::lock_guard lk(info_mu_);
    remote_name_ = util::string_field(info, "server_name");
    if (remote_name_.empty()) remote_name_ = util::string_field(info, "server_id");
    remote_cluster_ = util::string_field(info, "cluster");
  }
  remote_domain_ = util::string_field(info, "domain");
  PeerUrl u = parse_peer_url(url_);
  // TLS when our remote has a tls block or the hub requires it; the CONNECT waits for the
  // handshake (output is held until it completes).
  // Over websocket the TLS handshake, if any, came before the upgrade; the reference then
  // says tls_required false in its CONNECT.
  const bool tls = !websocket() && (mgr_.remote_wants_tls(remote_) || util::bool_field(info, "tls_required"));
  if (tls) {
    const net::TlsContext* ctx = mgr_.remote_tls_context(remote_);
    if (!ctx) {
      close(CloseReason::TLSHandshakeError);
      return false;
    }
    auto timeout = server_.options().leafnode.remotes[remote_].tls.timeout;
    tls_started_ = true;
    if (!begin_tls_started(*ctx, timeout, u.host)) return false;
  }
  nlohmann::ordered_json c;
  c["version"] = kServerVersion;
  if (const auto& creds = server_.options().leafnode.remotes[remote_].credentials; !creds.empty()) {
    // The user JWT of the creds file, and the hub's nonce signed with its seed.
    std::ifstream in(creds);
    std::stringstream text;
    text << in.rdbuf();
    auto d = jwt::parse_decorated(text.str());
    std::string sig = d.seed.empty() ? std::string() : nkey::sign(d.seed, util::string_field(info, "nonce"));
    if (!in || d.jwt.empty() || sig.empty()) {
      log::error("{} - Error reading leafnode credentials file \"{}\"", conn_tag(*this), creds);
      close(CloseReason::AuthenticationViolation);
      return false;
    }
    c["jwt"] = d.jwt;
    c["sig"] = jwt::base64url_encode(sig);
  } else if (!u.user.empty()) {
    c["user"] = u.user;
    c["pass"] = u.pass;
  }
  c["tls_required"] = tls;
  c["server_id"] = server_.id();
  if (server_.jetstream_enabled() && !server_.options().jetstream.domain.empty())
    c["domain"] = server_.options().jetstream.domain;
  c["name"] = server_.name();
  if (!spoke_) c["is_hub"] = true;
  std::string cluster = server_.routes() ? server_.routes()->cluster_name() : std::string();
  if (!cluster.empty()) c["cluster"] = cluster;
  c["headers"] = !server_.options().no_header_support;
  if (server_.jetstream_enabled()) c["jetstream"] = true;
  if (!deny_in_.empty()) c["deny_pub"] = deny_in_;
  enqueue("CONNECT " + c.dump() + "\r\n");
  touch();
  return true;
}

void LeafConnection::send_all_subs(Account& acc) {
  std::string out;
  std::lock_guard lk(smap_mu_);
  // Registered first, under smap_mu_: a change racing with the snapshot below waits for
  // it, and is then skipped if the snapshot already counted that subscription.
  mgr_.register_leaf(std::static_pointer_cast<LeafConnection>(shared_from_this()));
  std::vector<SubscriptionPtr> subs;
  acc.sublist().all_subscriptions(subs);
  // What the other clusters of a supercluster want (the reference's outbound gateways'
  // interest): published on this side of the link, it travels on through our gateways.
  if (auto* gws = server_.gateways()) gws->remote_interest(acc.name(), subs);
  for (auto& s : subs) {
    if (s->closed.load(std::memory_order_relaxed) || s->conn.get() == this || !announces(*s)) continue;
    smap_.add_silently(InterestCounts::key(s->subject, s->queue), interest_weight(*s));
    snapshot_.insert(s.get());
  }
  // The sources of the account's subject mappings (the JetStream domain's among them):
  // publishes to them may be answered on this side, as the reference announces them.
  for (const auto& m : *acc.mappings()) {
    const std::string& src = m.src();
    if (!deny_in_.empty() && denied(deny_in_, src)) continue;
    smap_.add_silently(InterestCounts::key(src, ""), 1);
  }
  if (loop_subject_.empty()) loop_subject_ = mgr_.new_loop_subject(acc.name());
  smap_.add_silently(loop_subject_);
  // With gateways, requests reach a leaf with a `_GR_.` reply: its answers must come back.
  if (!spoke_ && server_.gateways()) smap_.add_silently("_GR_.>");
  for (auto& [key, n] : smap_.counts())
    out += interest_line("LS", "", key, InterestUpdate{true, key.find(' ') != std::string::npos ? n : 0});
  if (!out.empty()) enqueue(out);
}

bool LeafConnection::announces(const Subscription& sub) const {
  if (is_local_only_sub(sub)) return false;
  const bool lds = sub.subject.starts_with("$LDS.");
  if (!deny_in_.empty() && !lds && denied(deny_in_, sub.subject)) return false;
  const Connection* c = sub.conn.get();
  const auto* from_leaf = c && c->kind() == ConnKind::Leaf ? static_cast<const LeafConnection*>(c) : nullptr;
  // Interest of a leaf cluster is not sent back into that cluster (its routes carry it),
  // except the loop-detection subject.
  if (from_leaf && !lds) {
    const std::string rc = from_leaf->remote_cluster();
    if (!rc.empty() && rc == remote_cluster()) return false;
  }
  if (!spoke_) return true;
  // A spoke tells its hub about its own clients, internal subscriptions and the leafs it
  // is the hub for; never about what it learnt from routes or from other hubs.
  if (!c || c->kind() == ConnKind::Client) return true;
  return from_leaf && !from_leaf->spoke();
}

void LeafConnection::update_interest(const Subscription& sub, bool added) {
  if (!announces(sub)) return;
  std::lock_guard lk(smap_mu_);
  if (snapshot_.erase(&sub) && added) return;
  const std::string key = InterestCounts::key(sub.subject, sub.queue);
  const int w = interest_weight(sub);
  if (auto u = smap_.change(key, !sub.queue.empty(), added ? w : -w)) {
    enqueue(interest_line("LS", "", key, *u));
    touch();
  }
}

bool LeafConnection::on_info(std::string_view json) {
  // Async INFO from a leaf changes nothing on the accepting side.
  if (!solicited()) return true;
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    close(CloseReason::ProtocolViolation);
    return false;
  }
  // A websocket remote learns the hub cluster's websocket URLs instead (updateLeafNodeURLs).
  if (auto it = j.find(websocket() ? "ws_connect_urls" : "leafnode_urls"); it != j.end() && it->is_array()) {
    std::vector<std::string> urls;
    for (auto& x : *it)
      if (x.is_string()) urls.push_back(x.get<std::string>());
    mgr_.learn_urls(remote_, urls);
  }
  const bool first = !got_info_;
  got_info_ = true;
  if (first && !send_connect(j)) return false;
  // A 2.9 hub answers our CONNECT with an INFO marked connect_info; older ones do not.
  const bool finish = registered_ ? false
                                  : (first && !util::bool_field(j, "info_on_connect")) || util::bool_field(j, "connect_info");
  if (finish) {
    if (would_extend_jetstream(util::bool_field(j, "jetstream"))) {
      close(CloseReason::ProtocolViolation);
      return false;
    }
    if (!take_account_slot()) {
      log::error("{} - maximum account active connections exceeded", conn_tag(*this));
      send_err_and_close("maximum account active connections exceeded", CloseReason::MaxAccountConnectionsExceeded);
      return false;
    }
    finish_connect();
  }
  return true;
}

bool LeafConnection::would_extend_jetstream(bool remote_jetstream) {
  auto sys = server_.system_account();
  if (!sys || sys.get() != account_.get() || !server_.jetstream_enabled() || !remote_jetstream) return false;
  if (remote_domain_ != server_.options().jetstream.domain) return false;
  log::error("{} - {} (domain \"{}\", remote \"{}\"): give the two sides different JetStream domains "
             "or bind the remote to another account",
             conn_tag(*this), kNoExtension, remote_domain_, remote_name());
  return true;
}

bool LeafConnection::take_account_slot() {
  if (counted_ || !account_) return true;
  int prior = account_->num_leafnodes.fetch_add(1);
  int max = account_->max_leafnodes.load();
  if (max >= 0 && prior >= max) {
    account_->num_leafnodes--;
    return false;
  }
  counted_ = true;
  return true;
}

bool LeafConnection::reject_old_version(const std::string& version) {
  const std::string& mv = server_.options().leafnode.min_version;
  util::SemVer min;
  if (mv.empty() || !util::parse_semver(mv, min).empty() || util::version_at_least(version, min)) return true;
  // The INFO first, as the reference: a 2.9 leaf would drop a link that has not answered its
  // CONNECT within 2 s and dial again, rather than wait for the close.
  enqueue(mgr_.connect_info_line(cid_, account_name_));
  std::string text = "connection rejected since minimum version required is \"" + mv + "\"";
  log::error("{} - {}", conn_tag(*this), text);
  enqueue("-ERR '" + text + "'\r\n");  // after the INFO, through the same queue
  touch();
  discard_input_ = true;
  std::weak_ptr<Connection> weak = weak_from_this();
  loop_.add_timer(kWaitBeforeClose, [weak] {
    if (auto c = weak.lock()) c->close(CloseReason::MinimumVersionRequired);
  });
  return false;
}

void LeafConnection::kick(std::string text, CloseReason reason) {
  auto self = std::static_pointer_cast<LeafConnection>(shared_from_this());
  loop_.post([self, text = std::move(text), reason] {
    if (!self->closing()) self->send_err_and_close(text, reason);
  });
}

bool LeafConnection::on_err(std::string_view text) {
  log::error("{} - Leafnode Error {}", conn_tag(*this), text);
  // The hub saw our loop-detection subject come back: wait before trying again.
  if (solicited() && text.find("Loop detected") != std::string_view::npos) mgr_.delay_reconnect(remote_);
  // As the reference (processErr for a leaf), the link stays until the side that sent the
  // error closes it: a hub holds a leaf it rejected for min_version a while on purpose.
  return true;
}

void LeafConnection::loop_detected() {
  // The reference's text and its default delay before the soliciting side retries.
  if (solicited()) mgr_.delay_reconnect(remote_);
  std::string text = "Loop detected for leafnode account=\"" + account_name_ + "\". Delaying attempt to reconnect for 30s";
  log::error("{} - {}", conn_tag(*this), text);
  send_err_and_close(text, CloseReason::ProtocolViolation);
}

bool LeafConnection::on_rsub(std::string_view, std::string_view subject, std::string_view queue, int32_t weight) {
  if (!registered_) return true;
  if (subject.starts_with("$LDS.") && mgr_.is_loop_subject(account_name_, subject)) {
    loop_detected();
    return false;
  }
  // Interest in what we may not send is not taken (a spoke just ignores it, as the reference).
  if (!deny_out_.empty() && !subject_has_wildcard(subject) && denied(deny_out_, subject)) return true;
  std::string key = InterestCounts::key(subject, queue);
  auto it = subs_.find(key);
  if (it != subs_.end()) {
    if (!queue.empty() && weight > 0 && it->second->qweight != weight)
      account_->sublist().update_queue_weight(it->second, weight);
    return true;
  }
  auto sub = remote_subscription(account_name_, subject, queue, key, weight);
  if (account_->sublist().insert(sub) != SubListStatus::ok) return true;
  {
    std::lock_guard lk(subs_mu_);
    subs_.emplace(std::move(key), sub);
  }
  num_subs_.fetch_add(1, std::memory_order_relaxed);
  propagate(*sub, true);
  return true;
}

void LeafConnection::propagate(const Subscription& sub, bool added) {
  // Interest from a leaf we are the hub for counts as local: routes, gateways and the
  // other leafs hear of it. A hub's interest only concerns our other leafs.
  if (spoke_) mgr_.on_interest(account_name_, sub, added);
  else server_.on_local_interest_change(*account_, sub, added);
}

bool LeafConnection::on_runsub(std::string_view, std::string_view subject, std::string_view queue) {
  auto it = subs_.find(InterestCounts::key(subject, queue));
  if (it == subs_.end()) return true;
  auto sub = it->second;
  {
    std::lock_guard lk(subs_mu_);
    subs_.erase(it);
  }
  num_subs_.fetch_sub(1, std::memory_order_relaxed);
  sub->closed.store(true, std::memory_order_release);
  if (account_->sublist().remove(sub) == SubListStatus::ok) propagate(*sub, false);
  return true;
}

bool LeafConnection::on_rmsg(std::string_view, std::string_view subject, std::string_view reply,
                             proto::QueueNames queues, std::string_view payload) {
  return on_hrmsg({}, subject, reply, queues, {}, payload);
}

bool LeafConnection::on_hrmsg(std::string_view, std::string_view subject, std::string_view reply,
                              proto::QueueNames queues, std::string_view headers, std::string_view payload) {
  in_msgs.fetch_add(1, std::memory_order_relaxed);
  in_bytes.fetch_add(headers.size() + payload.size(), std::memory_order_relaxed);
  if (!registered_) return true;
  if (!deny_in_.empty() && denied(deny_in_, subject)) return true;
  // The account's mappings apply to what a leaf sends, as to a client's publish.
  std::optional<std::string> mapped;
  if (account_->has_mappings()) {
    mapped = account_->map_subject(subject, [this] {
      auto* routes = server_.routes();
      return routes ? routes->cluster_name() : server_.options().cluster.name;
    });
    if (mapped) {
      if (mapped->empty()) return true;  // the dropped share of a weighted mapping
      subject = *mapped;
    }
  }
  server_.process_message(*account_, this, subject, reply, headers, payload, false, &queues);
  return true;
}

bool LeafConnection::send_msg(std::string_view subject, std::string_view reply, std::string_view queues,
                              std::string_view headers, std::string_view payload) {
  if (!deny_out_.empty() && denied(deny_out_, subject)) return false;
  if (!headers_ok_) headers = {};
  proto::MsgLine line;
  proto::MsgLine::leaf(line, subject, reply, queues, !headers.empty(), headers.size(), headers.size() + payload.size());
  return enqueue_message(line.view(), headers, payload);
}

bool LeafConnection::deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
                             std::string_view headers, std::string_view payload) {
  return send_msg(subject, reply, sub.queue, headers, payload);
}

std::vector<std::string> LeafConnection::remote_subjects() const {
  std::lock_guard lk(subs_mu_);
  std::vector<std::string> out;
  for (auto& [_, s] : subs_) out.push_back(s->subject);
  return out;
}

void LeafConnection::on_closed() {
  cancel_auth_timer();
  save_closed_entry();
  log::notice("{} - Leafnode connection closed: {} - Account: {}", conn_tag(*this),
              close_reason_text(close_reason()), account_name_);
  mgr_.on_leaf_closed(this);
  if (!loop_subject_.empty()) mgr_.drop_loop_subject(account_name_, loop_subject_);
  if (counted_ && account_) account_->num_leafnodes--;
  counted_ = false;
  if (registered_)
    if (auto* sys = server_.system_services()) sys->on_leaf_disconnect(account_name_);
  if (!account_) return;
  std::vector<SubscriptionPtr> list;
  {
    std::lock_guard lk(subs_mu_);
    for (auto& [_, s] : subs_) {
      s->closed.store(true, std::memory_order_release);
      list.push_back(s);
    }
    subs_.clear();
  }
  num_subs_ = 0;
  account_->sublist().remove_batch(list);
  for (auto& s : list) propagate(*s, false);
}

LeafConnInfo LeafConnection::conn_info() const {
  LeafConnInfo e;
  e.cid = cid_;
  e.ip = peer_ip_;
  e.port = peer_port_;
  e.start = start_time();
  e.last_activity = last_activity();
  e.rtt_ns = rtt_ns();
  e.pending = pending_bytes();
  e.in_msgs = in_msgs.load();
  e.out_msgs = out_msgs.load();
  e.in_bytes = in_bytes.load();
  e.out_bytes = out_bytes.load();
  e.subs = num_subs_.load(std::memory_order_relaxed);
  if (!solicited()) {
    std::lock_guard lk(info_mu_);
    e.name = remote_name_;
    e.version = connect_version_;
    e.user = connect_user_;
  }
  if (registered_.load()) e.account = account_name_;
  if (tls_established()) {
    e.tls_version = tls_version();
    e.tls_cipher_suite = tls_cipher_suite();
  }
  return e;
}

void LeafConnection::save_closed_entry() {
  // Before the remote interest is dropped: 2.9.10 counts the subscriptions the leaf had.
  LeafConnInfo e = conn_info();
  e.closed = true;
  e.stop = std::chrono::system_clock::now();
  e.reason = close_reason();
  e.pending = 0;
  server_.save_closed_leaf(std::move(e));
}

}  // namespace nats::cluster
