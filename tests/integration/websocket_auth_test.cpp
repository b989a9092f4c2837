// WebSocket clients' authentication (src/server/ws_auth.cpp), against this server and the
// reference: the websocket block's authorization override (user/password, token, timeout)
// and no_auth_user, jwt_cookie in operator mode, the config checks on them, and
// max_connections applied after the upgrade.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

struct WsSession {
  std::string info;  // the INFO line
  std::string text;  // what followed, up to PONG, an -ERR or the close frame
  int close_status = 0;
};

// Upgrades (with `headers`), reads INFO, sends `connect` then PING (nothing if `connect` is
// empty) and gathers the answer until PONG, the close frame or `wait`.
WsSession ws_session(int port, const std::string& connect, const std::string& headers = "",
                     milliseconds wait = milliseconds(3000)) {
  WsSession s;
  RawClient c(port, false);
  if (!c.send(upgrade_request(port, headers)) || read_head(c).find(" 101 ") == std::string::npos) {
    s.text = "<no upgrade>";
    return s;
  }
  auto first = read_frame(c);
  if (!first) return s;
  std::string d = first->second;
  size_t eol = d.find("\r\n");
  s.info = d.substr(0, eol);
  s.text = eol == std::string::npos ? "" : d.substr(eol + 2);
  if (!connect.empty()) c.send(client_frame(0x82, connect + "\r\nPING\r\n"));
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (s.text.find("PONG") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    auto f = read_frame(c);
    if (!f) {
      if (c.closed()) break;
      continue;
    }
    if (f->first == 8) {
      if (f->second.size() >= 2)
        s.close_status = (static_cast<unsigned char>(f->second[0]) << 8) | static_cast<unsigned char>(f->second[1]);
      break;
    }
    s.text += f->second;
  }
  return s;
}

nlohmann::json info_json(const std::string& info) {
  return nlohmann::json::parse(info.substr(info.find('{')), nullptr, false);
}

std::string connect_json(const std::string& fields) { return "CONNECT {\"verbose\":false" + fields + "}"; }

// websocket { authorization { user, password, timeout } }: WebSocket clients must log in
// with these (INFO says so) while the TCP port stays open; a client that never logs in is
// cut at the websocket timeout with its close frame.
TEST(WebsocketAuth, UserPasswordOverride) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(
        ws_config(ws_port, "  authorization { user: wsu, password: wsp, timeout: 1 }\n"), {}, bin);
    ConnPtr tcp;
    EXPECT_EQ(connect_url(tcp, s->url()), NATS_OK) << bin;
    auto ok = ws_session(ws_port, connect_json(",\"user\":\"wsu\",\"pass\":\"wsp\""));
    EXPECT_EQ(info_json(ok.info).value("auth_required", false), true) << bin << ok.info;
    EXPECT_EQ(ok.text, "PONG\r\n") << bin;
    auto bad = ws_session(ws_port, connect_json(",\"user\":\"wsu\",\"pass\":\"nope\""));
    EXPECT_EQ(bad.text, "-ERR 'Authorization Violation'\r\n") << bin;
    EXPECT_EQ(bad.close_status, 1008) << bin;
    auto none = ws_session(ws_port, connect_json(""));
    EXPECT_EQ(none.text, "-ERR 'Authorization Violation'\r\n") << bin;
    auto t0 = std::chrono::steady_clock::now();
    auto silent = ws_session(ws_port, "", "", milliseconds(4000));
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(silent.text, "-ERR 'Authentication Timeout'\r\n") << bin;
    EXPECT_EQ(silent.close_status, 1008) << bin;
    EXPECT_LT(took, milliseconds(2500)) << bin;  // the websocket block's 1 s, not the default 2 s
  }
}

TEST(WebsocketAuth, TokenOverride) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port, "  authorization { token: s3cr3t }\n"), {}, bin);
    EXPECT_EQ(ws_session(ws_port, connect_json(",\"auth_token\":\"s3cr3t\"")).text, "PONG\r\n") << bin;
    EXPECT_EQ(ws_session(ws_port, connect_json(",\"auth_token\":\"wrong\"")).text,
              "-ERR 'Authorization Violation'\r\n")
        << bin;
  }
}

// websocket { no_auth_user }: WebSocket clients without credentials are that user (with its
// permissions); TCP clients without credentials are refused.
TEST(WebsocketAuth, NoAuthUserForWebsocketOnly) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port, "  no_auth_user: web\n") +
                                   "authorization { users: [\n"
                                   "  { user: web, password: p, permissions: { publish: \"web.>\" } }\n"
                                   "  { user: other, password: p }\n]}\n",
                               {}, bin);
    EXPECT_EQ(ws_session(ws_port, connect_json("")).text, "PONG\r\n") << bin;
    auto denied = ws_session(ws_port, connect_json("") + "\r\nPUB secret 1\r\nx");
    EXPECT_EQ(denied.text, "-ERR 'Permissions Violation for Publish to \"secret\"'\r\nPONG\r\n") << bin;
    EXPECT_EQ(ws_session(ws_port, connect_json(",\"user\":\"other\",\"pass\":\"p\"")).text, "PONG\r\n") << bin;
    ConnPtr tcp;
    EXPECT_NE(connect_url(tcp, s->url()), NATS_OK) << bin;
  }
}

// What the reference refuses at startup, refused here too with its words.
TEST(WebsocketAuth, ConfigChecksAsTheReference) {
  const std::pair<std::string, std::string> cases[] = {
      {"  authorization { users: [ { user: a, password: b } ] }\n", "unknown field"},
      {"  authorization { user: a, password: b }\n",
       "websocket authentication username not compatible with presence of users/nkeys"},
      {"  authorization { token: t }\n", "websocket authentication token not compatible with presence of users/nkeys"},
      {"  no_auth_user: ghost\n", "no_auth_user: \"ghost\" not present as user in authorization block or account configuration"},
      {"  jwt_cookie: my_jwt\n", "trusted operators or trusted keys configuration is required for JWT authentication via cookie \"my_jwt\""},
  };
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const auto& [ws_extra, message] : cases) {
      testing_harness::TempDir dir;
      bool needs_users = message.find("users/nkeys") != std::string::npos || message.find("ghost") != std::string::npos;
      std::string conf = dir.write("ws.conf", ws_config(testing_harness::free_port(), ws_extra) +
                                                  (needs_users ? "authorization { users: [ { user: u, password: p } ] }\n" : ""));
      auto r = testing_harness::run_command("timeout 10 " + bin + " -c " + conf + " -p " +
                                            std::to_string(testing_harness::free_port()));
      EXPECT_NE(r.status, 0) << bin << ": " << ws_extra;
      EXPECT_NE(r.output.find(message), std::string::npos) << bin << ": " << r.output;
    }
  }
}

// max_connections counts a WebSocket client once it is upgraded: it gets the 101 answer and
// its INFO, then the error and a 1008 close frame.
TEST(WebsocketAuth, MaxConnectionsAfterUpgrade) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config("max_connections: 1\n" + ws_config(ws_port), {}, bin);
    ConnPtr tcp;
    ASSERT_EQ(connect_url(tcp, s->url()), NATS_OK) << bin;
    auto over = ws_session(ws_port, "");
    EXPECT_EQ(info_json(over.info).is_object(), true) << bin << over.info;
    EXPECT_EQ(over.text, "-ERR 'maximum connections exceeded'\r\n") << bin;
    EXPECT_EQ(over.close_status, 1008) << bin;
    tcp.reset();
    // Room again once the TCP client is gone.
    EXPECT_TRUE(wait_for([&] { return ws_session(ws_port, connect_json("")).text == "PONG\r\n"; }, milliseconds(5000)))
        << bin;
  }
}

// jwt_cookie: in operator mode a bearer user JWT in that cookie logs the client in without
// a JWT in CONNECT; without the cookie the client is refused.
TEST(WebsocketAuth, JwtCookie) {
  using namespace itest;
  auto op = jwt::operator_keys();
  auto sys = jwt::account_keys();
  auto acc = jwt::account_keys();
  auto user = jwt::user_keys();
  std::string op_jwt = jwt::sign(jwt::operator_claims(op, sys.pub), op);
  std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
  std::string acc_jwt = jwt::sign(jwt::account_claims(acc, "A"), op);
  auto uc = jwt::user_claims(user, "web");
  uc["nats"]["bearer_token"] = true;
  std::string user_jwt = jwt::sign(uc, acc);
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    testing_harness::TempDir dir;
    std::string op_file = dir.write("op.jwt", op_jwt + "\n");
    int ws_port = testing_harness::free_port();
    auto s = start_with_config("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                                   "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" + sys_jwt + "\"\n  " +
                                   acc.pub + ": \"" + acc_jwt + "\"\n}\n" + ws_config(ws_port, "  jwt_cookie: my_jwt\n"),
                               {}, bin);
    EXPECT_EQ(ws_session(ws_port, connect_json(""), "Cookie: other=1; my_jwt=" + user_jwt + "\r\n").text, "PONG\r\n")
        << bin;
    EXPECT_EQ(ws_session(ws_port, connect_json(""), "Cookie: other=" + user_jwt + "\r\n").text,
              "-ERR 'Authorization Violation'\r\n")
        << bin;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
