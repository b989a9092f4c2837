// Requests about one account ($SYS.REQ.ACCOUNT.<acc>.CONNZ|SUBSZ|INFO|CONNS|STATZ, and
// $SYS.REQ.ACCOUNT.PING.STATZ) and about the requesting user ($SYS.REQ.USER.INFO, answered
// by the server the user is connected to, as in the reference 2.10).
#include <algorithm>

#include "monitor/endpoints.h"
#include "server/client.h"
#include "server/server.h"
#include "sys/requester.h"
#include "sys/system_services.h"
#include "util/time_format.h"

namespace nats {

namespace sys {
namespace {
thread_local const ClientConnection* t_requester = nullptr;
}
const ClientConnection* current_requester() { return t_requester; }

RequesterScope::RequesterScope(const ClientConnection* c, std::string_view subject) {
  if (subject.size() < 5 || subject.substr(0, 5) != "$SYS.") return;
  prev_ = t_requester;
  t_requester = c;
  set_ = true;
}
RequesterScope::~RequesterScope() {
  if (set_) t_requester = prev_;
}
}  // namespace sys

namespace {
constexpr std::string_view kAccPrefix = "$SYS.REQ.ACCOUNT.";

// The <acc> token of $SYS.REQ.ACCOUNT.<acc>.<X>.
std::string account_token(std::string_view subject) {
  if (subject.size() <= kAccPrefix.size()) return {};
  std::string_view rest = subject.substr(kAccPrefix.size());
  auto dot = rest.rfind('.');
  return dot == std::string_view::npos ? std::string() : std::string(rest.substr(0, dot));
}

nlohmann::ordered_json subject_permission(const SubjectPermission& p) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!p.allow.empty()) j["allow"] = p.allow;
  if (!p.deny.empty()) j["deny"] = p.deny;
  return j;
}

// The configured permissions of `user` (in any account), or the default permissions.
std::optional<Permissions> user_permissions(const Options& o, const std::string& user) {
  auto find = [&](const std::vector<User>& users) -> const User* {
    for (auto& u : users)
      if (u.username == user || (!u.nkey.empty() && u.nkey == user)) return &u;
    return nullptr;
  };
  const User* u = find(o.users);
  for (size_t i = 0; !u && i < o.accounts.size(); ++i) u = find(o.accounts[i].users);
  if (u && u->permissions) return u->permissions;
  return o.default_permissions;
}

nlohmann::ordered_json statz_entry(const nlohmann::ordered_json& conns) {
  // AccountStat: AccountNumConns without the event envelope.
  nlohmann::ordered_json e;
  for (const char* k : {"acc", "conns", "leafnodes", "total_conns", "sent", "received", "slow_consumers"})
    if (conns.contains(k)) e[k] = conns[k];
  return e;
}
}  // namespace

void SystemServices::subscribe_account_requests() {
  for (const char* kind : {"CONNZ", "SUBSZ", "INFO", "CONNS", "STATZ"}) {
    std::string k = kind;
    subscribe("$SYS.REQ.ACCOUNT.*." + k, [this, k](const Subscription&, std::string_view subject,
                                                   std::string_view reply, std::string_view, std::string_view payload) {
      handle_account_request(k, subject, reply, payload);
    });
  }
  // USER.INFO is answered where the user is connected: a local-only subscription in every
  // account (interest is not propagated, so no other server answers too).
  for (auto& acc : server_.accounts()) {
    auto sub = std::make_shared<Subscription>();
    sub->subject = "$SYS.REQ.USER.INFO";
    sub->sid = std::string(kLocalOnlySid);  // never announced on a link
    sub->handler = [this](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                          std::string_view) { handle_user_info(reply); };
    acc->sublist().insert(sub);
    local_subs_.emplace_back(acc, sub);
  }
}

void SystemServices::handle_account_request(const std::string& kind, std::string_view subject,
                                            std::string_view reply_subject, std::string_view payload) {
  if (reply_subject.empty()) return;
  std::string acc_name = account_token(subject);
  nlohmann::json body = nlohmann::json::object();
  if (!payload.empty()) {
    body = nlohmann::json::parse(payload, nullptr, false);
    if (body.is_discarded()) body = nlohmann::json::object();
  }
  if (kind == "CONNS") {
    // Only servers with local connections of the account answer (as the reference).
    auto acc = server_.lookup_account(acc_name);
    if (acc && acc->num_local_connections.load() > 0) send_account_conns(*acc, reply_subject);
    return;
  }
  nlohmann::ordered_json m;
  m["server"] = server_info();
  try {
    if (kind == "CONNZ") {
      ConnzOptions o;
      o.account = acc_name;
      if (body.is_object()) {
        if (auto it = body.find("subscriptions"); it != body.end() && it->is_boolean()) o.subs = *it;
        if (auto it = body.find("offset"); it != body.end() && it->is_number_integer()) o.offset = *it;
        if (auto it = body.find("limit"); it != body.end() && it->is_number_integer() && it->get<int>() > 0) o.limit = *it;
      }
      if (server_.lookup_account(acc_name)) {
        m["data"] = connz(server_, o);
      } else {
        // The reference answers an unknown account (also "PING" from a system user, which has
        // no import mapping it) with an empty Connz: no server id and null connections.
        nlohmann::ordered_json d;
        d["server_id"] = "";
        d["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
        d["num_connections"] = 0;
        d["total"] = 0;
        d["offset"] = 0;
        d["limit"] = 1024;
        d["connections"] = nullptr;
        m["data"] = std::move(d);
      }
    } else if (kind == "SUBSZ") {
      SubszOptions o;
      o.account = acc_name;
      o.subs = true;  // the reference always lists them for an account
      m["data"] = subsz(server_, o);
    } else if (kind == "INFO") {
      auto z = accountz(server_, acc_name);
      m["data"] = z.contains("account_detail") ? z["account_detail"] : nlohmann::ordered_json::object();
    } else if (kind == "STATZ") {
      // PING: every account with local connections (or those listed); else the named one.
      std::vector<std::string> wanted;
      bool include_unused = body.is_object() && body.value("include_unused", false);
      if (acc_name != "PING") wanted.push_back(acc_name);
      else if (body.is_object() && body.contains("accounts") && body["accounts"].is_array())
        for (auto& a : body["accounts"])
          if (a.is_string()) wanted.push_back(a.get<std::string>());
      auto d = account_statz(wanted, include_unused);
      if (d["account_statz"].empty() && !include_unused) return;
      m["data"] = std::move(d);
    }
  } catch (const MonitorError& e) {
    m.erase("data");
    m["error"] = {{"code", e.code}, {"description", e.description}};
  }
  reply(reply_subject, m.dump());
}

void SystemServices::handle_user_info(std::string_view reply_subject) {
  if (reply_subject.empty() || stopped_) return;
  // Only the server the requester is connected to answers: a copy that arrived over a route
  // or gateway (no local publishing client on this thread) is ignored.
  const ClientConnection* c = sys::current_requester();
  if (!c) return;
  nlohmann::ordered_json m;
  m["server"] = server_info();
  {
    auto o = c->connect_options();
    nlohmann::ordered_json d;
    d["user"] = o.user;
    d["account"] = c->account_name();
    if (auto p = user_permissions(server_.options(), o.user)) {
      nlohmann::ordered_json perms = nlohmann::ordered_json::object();
      if (p->publish) perms["publish"] = subject_permission(*p->publish);
      if (p->subscribe) perms["subscribe"] = subject_permission(*p->subscribe);
      if (p->response) {
        perms["responses"] = {{"max", p->response->max_msgs},
                              {"ttl", std::chrono::duration_cast<std::chrono::nanoseconds>(p->response->expires).count()}};
      }
      d["permissions"] = std::move(perms);
    }
    m["data"] = std::move(d);
  }
  // The reply goes back into the requester's account (where its inbox is).
  if (auto acc = server_.lookup_account(c->account_name())) server_.publish_internal(*acc, reply_subject, {}, {}, m.dump());
}

nlohmann::ordered_json SystemServices::account_statz(const std::vector<std::string>& wanted, bool include_unused) {
  auto list = nlohmann::ordered_json::array();
  for (auto& acc : server_.accounts()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), acc->name()) == wanted.end()) continue;
    if (!include_unused && acc->num_local_connections.load() == 0) continue;
    list.push_back(statz_entry(account_conns(*acc)));
  }
  nlohmann::ordered_json d;
  d["server_id"] = server_.id();
  d["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  d["account_statz"] = std::move(list);
  return d;
}

}  // namespace nats
