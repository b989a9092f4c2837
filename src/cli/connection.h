// Connecting to NATS with the official C client (libnats), resolving settings the way natscli
// does: command-line flags and NATS_* environment override the selected (or --context)
// context. Also request helpers: single request, scatter-gather collection (natscli's
// doReqAsync) and JetStream API calls that turn API errors into one clear line.
#pragma once

#include <nats/nats.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"

namespace nats::cli {

struct Settings {
  std::string url = "nats://127.0.0.1:4222";
  std::string user, password, token, creds, nkey, inbox_prefix;
  std::string js_domain, js_api_prefix;
  std::string context;
  int64_t timeout_ns = 5000000000LL;
};

Settings resolve_settings(const Invocation& inv);
void register_global_flags(Registry& r);

// An open connection, closed and destroyed on scope exit.
class Connection {
 public:
  explicit Connection(const Settings& s);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  natsConnection* get() const { return nc_; }
  const Settings& settings() const { return settings_; }
  std::string new_inbox() const;

 private:
  natsConnection* nc_ = nullptr;
  Settings settings_;
};

// Owns a natsMsg.
struct MsgPtr {
  natsMsg* m = nullptr;
  MsgPtr() = default;
  explicit MsgPtr(natsMsg* x) : m(x) {}
  MsgPtr(MsgPtr&& o) noexcept : m(std::exchange(o.m, nullptr)) {}
  MsgPtr& operator=(MsgPtr&& o) noexcept { std::swap(m, o.m); return *this; }
  ~MsgPtr() { if (m) natsMsg_Destroy(m); }
  std::string data() const { return m ? std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)) : ""; }
};

// natscli-style text for a libnats status ("nats: timeout", "nats: no responders ...").
std::string status_text(natsStatus s);
[[noreturn]] void fail(natsStatus s, const std::string& what = "");
void check(natsStatus s, const std::string& what = "");

// "K:V" flags to headers on msg.
void apply_headers(natsMsg* msg, const std::vector<std::string>& hdrs, int seq);
// Header keys and values, in arrival order.
std::vector<std::pair<std::string, std::string>> headers_of(natsMsg* m);

// One request, waiting up to the timeout; throws CliError on no responders / timeout.
MsgPtr request(Connection& c, const std::string& subj, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& hdrs = {});

// Scatter-gather as natscli's doReqAsync: wait up to the timeout for the first reply, then
// stop 300ms after the last one (or after want replies when want > 0). A 503 status on a
// $SYS subject becomes "server request failed, ensure the account used has system
// privileges and appropriate permissions".
void collect(Connection& c, const std::string& subj, const std::string& body, int want,
             const std::function<void(const std::string&)>& cb);

// JetStream API call ($JS.API.<suffix>, honouring domain/prefix): returns the parsed reply,
// throwing CliError("<description> (<err_code>)") when it carries an error.
nlohmann::json js_api(Connection& c, const std::string& suffix, const nlohmann::json& body);
nlohmann::json js_api_raw(Connection& c, const std::string& suffix, const std::string& body);

// Prints JSON indented two spaces, as Go's json.MarshalIndent.
void print_json(const nlohmann::json& j);

}  // namespace nats::cli
