// Why libnats: it is the official NATS C client, so the CLI gets the same reconnect
// handling, header (HPUB/HMSG) support, no-responders detection and request/inbox machinery
// that users' own applications run — the CLI exercises the server exactly as real clients do.
#include "cli/connection.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/context_store.h"
#include "cli/format.h"
#include "util/nkey.h"

namespace nats::cli {

void register_global_flags(Registry& r) {
  r.add_global({"server", 's', false, "NATS server urls", "", "NATS_URL"});
  r.add_global({"user", 0, false, "Username or Token", "", "NATS_USER"});
  r.add_global({"password", 0, false, "Password", "", "NATS_PASSWORD"});
  r.add_global({"creds", 0, false, "User credentials", "", "NATS_CREDS"});
  r.add_global({"nkey", 0, false, "User NKEY", "", "NATS_NKEY"});
  r.add_global({"timeout", 0, false, "Time to wait on responses from NATS", "5s", "NATS_TIMEOUT"});
  r.add_global({"context", 0, false, "Configuration context", "", "NATS_CONTEXT"});
  r.add_global({"inbox-prefix", 0, false, "Custom inbox prefix to use for inboxes", "", "NATS_INBOX_PREFIX"});
  r.add_global({"js-domain", 0, false, "JetStream domain to use", "", "NATS_JS_DOMAIN"});
  r.add_global({"js-api-prefix", 0, false, "Subject prefix for access to JetStream API", "", ""});
  r.add_global({"trace", 0, true, "Trace API interactions", "", ""});
}

Settings resolve_settings(const Invocation& inv) {
  Settings s;
  std::string ctx_name = inv.get("context");
  if (ctx_name.empty()) ctx_name = selected_context();
  if (!ctx_name.empty()) {
    ContextSettings c = load_context(ctx_name);
    s.context = ctx_name;
    if (!c.str("url").empty()) s.url = c.str("url");
    s.user = c.str("user");
    s.password = c.str("password");
    s.token = c.str("token");
    s.creds = c.str("creds");
    s.nkey = c.str("nkey");
    s.inbox_prefix = c.str("inbox_prefix");
    s.js_domain = c.str("jetstream_domain");
    s.js_api_prefix = c.str("jetstream_api_prefix");
  }
  if (auto v = inv.get("server"); !v.empty()) s.url = v;
  std::string user = inv.get("user"), pass = inv.get("password");
  if (!user.empty() && pass.empty()) {
    s.token = user;  // natscli: a user without password is a token
    s.user.clear();
    s.password.clear();
  } else if (!user.empty()) {
    s.user = user;
    s.password = pass;
  }
  if (auto v = inv.get("creds"); !v.empty()) s.creds = v;
  if (auto v = inv.get("nkey"); !v.empty()) s.nkey = v;
  if (auto v = inv.get("inbox-prefix"); !v.empty()) s.inbox_prefix = v;
  if (auto v = inv.get("js-domain"); !v.empty()) s.js_domain = v;
  if (auto v = inv.get("js-api-prefix"); !v.empty()) s.js_api_prefix = v;
  if (auto v = inv.get("timeout"); !v.empty()) {
    if (!parse_duration(v, s.timeout_ns) || s.timeout_ns <= 0) throw CliError("invalid timeout \"" + v + "\"");
  }
  return s;
}

std::string status_text(natsStatus s) {
  switch (s) {
    case NATS_NO_SERVER: return "nats: no servers available for connection";
    case NATS_TIMEOUT: return "nats: timeout";
    case NATS_NO_RESPONDERS: return "nats: no responders available for request";
    case NATS_CONNECTION_AUTH_FAILED: return "nats: Authorization Violation";
    case NATS_NOT_PERMITTED: return "nats: permissions violation";
    case NATS_CONNECTION_CLOSED: return "nats: connection closed";
    default: break;
  }
  std::string t = nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "";
  if (t.empty()) t = natsStatus_GetText(s);
  return "nats: " + t;
}

namespace {
// The public key of the user seed ("SU...") in an NKey seed file, as natscli reads it: the
// first line that holds a user seed.
std::string nkey_public_key(const std::string& seed_file) {
  std::ifstream in(seed_file);
  if (!in) throw CliError("could not read NKey seed file " + seed_file);
  for (std::string line; std::getline(in, line);) {
    auto b = line.find("SU");
    if (b == std::string::npos) continue;
    auto e = line.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b);
    std::string pub = nkey::public_key_of_seed(line.substr(b, e == std::string::npos ? e : e - b));
    if (!pub.empty()) return pub;
  }
  throw CliError("no valid user NKey seed found in " + seed_file);
}
}  // namespace

void fail(natsStatus s, const std::string& what) {
  throw CliError(what.empty() ? status_text(s) : what + ": " + status_text(s));
}

void check(natsStatus s, const std::string& what) {
  if (s != NATS_OK) fail(s, what);
}

Connection::Connection(const Settings& s) : settings_(s) {
  natsOptions* o = nullptr;
  check(natsOptions_Create(&o));
  natsOptions_SetURL(o, s.url.c_str());
  natsOptions_SetName(o, "NATS CLI Version 0.1.0 (natscpp)");
  natsOptions_SetTimeout(o, s.timeout_ns / 1000000);
  natsOptions_SetMaxReconnect(o, -1);
  if (!s.user.empty()) natsOptions_SetUserInfo(o, s.user.c_str(), s.password.c_str());
  if (!s.token.empty()) natsOptions_SetToken(o, s.token.c_str());
  if (!s.creds.empty()) {
    natsStatus st = natsOptions_SetUserCredentialsFromFiles(o, s.creds.c_str(), nullptr);
    if (st != NATS_OK) { natsOptions_Destroy(o); fail(st, "could not load credentials"); }
  }
  if (!s.nkey.empty()) {
    std::string pub;
    try {
      pub = nkey_public_key(s.nkey);
    } catch (...) {
      natsOptions_Destroy(o);
      throw;
    }
    natsStatus ns = natsOptions_SetNKeyFromSeed(o, pub.c_str(), s.nkey.c_str());
    if (ns != NATS_OK) { natsOptions_Destroy(o); fail(ns, "could not load NKey seed"); }
  }
  if (!s.inbox_prefix.empty()) natsOptions_SetCustomInboxPrefix(o, s.inbox_prefix.c_str());
  natsStatus st = natsConnection_Connect(&nc_, o);
  // libnats 3.4.1 leaves "sig" out of CONNECT when the nonce's signature begins with a zero
  // byte (1 connection in 256) and the server refuses it; a new connection signs a new nonce.
  bool signs_nonce = !s.creds.empty() || !s.nkey.empty();
  for (int retry = 0; signs_nonce && st == NATS_CONNECTION_AUTH_FAILED && retry < 2; ++retry)
    st = natsConnection_Connect(&nc_, o);
  natsOptions_Destroy(o);
  if (st != NATS_OK) {
    std::string last = nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "";
    if (st == NATS_CONNECTION_AUTH_FAILED || last.find("uthorization") != std::string::npos)
      throw CliError("nats: Authorization Violation");
    fail(st);
  }
}

Connection::~Connection() {
  if (nc_) {
    natsConnection_FlushTimeout(nc_, 1000);
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

std::string Connection::new_inbox() const {
  natsInbox* in = nullptr;
  natsInbox_Create(&in);
  std::string s = in;
  natsInbox_Destroy(in);
  if (!settings_.inbox_prefix.empty()) {
    auto dot = s.find('.');
    s = settings_.inbox_prefix + s.substr(dot);
  }
  return s;
}

void apply_headers(natsMsg* msg, const std::vector<std::string>& hdrs, int) {
  for (auto& h : hdrs) {
    auto c = h.find(':');
    if (c == std::string::npos) throw CliError("invalid header \"" + h + "\"");
    auto trim = [](std::string v) {
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
      return v;
    };
    check(natsMsgHeader_Add(msg, trim(h.substr(0, c)).c_str(), trim(h.substr(c + 1)).c_str()));
  }
}

std::vector<std::pair<std::string, std::string>> headers_of(natsMsg* m) {
  std::vector<std::pair<std::string, std::string>> out;
  const char** keys = nullptr;
  int n = 0;
  if (natsMsgHeader_Keys(m, &keys, &n) != NATS_OK) return out;
  for (int i = 0; i < n; ++i) {
    const char** vals = nullptr;
    int vn = 0;
    if (natsMsgHeader_Values(m, keys[i], &vals, &vn) == NATS_OK) {
      for (int j = 0; j < vn; ++j) out.emplace_back(keys[i], vals[j]);
      free(vals);
    }
  }
  free(keys);
  return out;
}

MsgPtr request(Connection& c, const std::string& subj, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& hdrs) {
  natsMsg* msg = nullptr;
  check(natsMsg_Create(&msg, subj.c_str(), nullptr, body.data(), static_cast<int>(body.size())));
  for (auto& [k, v] : hdrs) natsMsgHeader_Set(msg, k.c_str(), v.c_str());
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestMsg(&reply, c.get(), msg, c.settings().timeout_ns / 1000000);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) fail(s);
  return MsgPtr(reply);
}

void collect(Connection& c, const std::string& subj, const std::string& body, int want,
             const std::function<void(const std::string&)>& cb) {
  std::string inbox = c.new_inbox();
  natsSubscription* sub = nullptr;
  check(natsConnection_SubscribeSync(&sub, c.get(), inbox.c_str()));
  natsMsg* msg = nullptr;
  check(natsMsg_Create(&msg, subj.c_str(), inbox.c_str(), body.data(), static_cast<int>(body.size())));
  natsStatus s = natsConnection_PublishMsg(c.get(), msg);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) { natsSubscription_Destroy(sub); fail(s); }
  natsConnection_Flush(c.get());

  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::nanoseconds(c.settings().timeout_ns);
  auto finish = deadline;
  int got = 0;
  std::string err;
  while (true) {
    auto now = clock::now();
    auto until = std::min(deadline, finish);
    if (now >= until) break;
    int64_t wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    if (wait_ms <= 0) wait_ms = 1;
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, wait_ms);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK && s != NATS_NO_RESPONDERS) { err = status_text(s); break; }
    MsgPtr owned(m);
    finish = clock::now() + std::chrono::milliseconds(300);
    if (s == NATS_NO_RESPONDERS || natsMsg_IsNoResponders(m)) {
      err = subj.rfind("$SYS", 0) == 0
                ? "server request failed, ensure the account used has system privileges and appropriate permissions"
                : status_text(NATS_NO_RESPONDERS);
      break;
    }
    cb(owned.data());
    if (want > 0 && ++got == want) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  if (!err.empty()) throw CliError(err);
}

static std::string js_subject(Connection& c, const std::string& suffix) {
  const Settings& s = c.settings();
  if (!s.js_api_prefix.empty()) return s.js_api_prefix + "." + suffix;
  if (!s.js_domain.empty()) return "$JS." + s.js_domain + ".API." + suffix;
  return "$JS.API." + suffix;
}

nlohmann::json js_api_raw(Connection& c, const std::string& suffix, const std::string& body) {
  natsMsg* reply = nullptr;
  std::string subj = js_subject(c, suffix);
  natsStatus s = natsConnection_Request(&reply, c.get(), subj.c_str(), body.data(), static_cast<int>(body.size()),
                                        c.settings().timeout_ns / 1000000);
  if (s == NATS_NO_RESPONDERS) throw CliError("nats: no responders available for request (is JetStream enabled?)");
  if (s != NATS_OK) fail(s);
  MsgPtr owned(reply);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(owned.data());
  } catch (const std::exception&) {
    throw CliError("invalid JetStream API response: " + owned.data());
  }
  if (j.contains("error") && j["error"].is_object()) {
    auto& e = j["error"];
    std::string d = e.value("description", "unknown error");
    int code = e.value("err_code", 0);
    throw CliError(code ? d + " (" + std::to_string(code) + ")" : d);
  }
  return j;
}

nlohmann::json js_api(Connection& c, const std::string& suffix, const nlohmann::json& body) {
  return js_api_raw(c, suffix, body.is_null() ? std::string() : body.dump());
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

}  // namespace nats::cli
