// Accounts: isolation, stream and service imports with subject remapping, import validation
// at start, and the accounts block parsing as a whole.
#include <gtest/gtest.h>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

std::string login(const std::string& u) {
  return "CONNECT {\"verbose\":false,\"user\":\"" + u + "\",\"pass\":\"" + u + "\"}\r\n";
}

// Reads lines up to the next PONG; returns everything before it joined with '\n'.
std::string until_pong(RawClient& c) {
  std::string seen;
  c.expect_line("PONG", milliseconds(2000), &seen);
  return seen;
}

const char* kImportConf = R"(
accounts {
  A {
    users [{user: a, password: a}]
    imports [
      {stream {account: B, subject: "ev.>"}, prefix: "pre"}
      {stream {account: B, subject: "one"}, to: "uno"}
      {service {account: B, subject: "svc.*"}, to: "call.*"}
      {service {account: B, subject: "multi"}}
    ]
  }
  B {
    users [{user: b, password: b}]
    exports [
      {stream: "ev.>"}
      {stream: "one", accounts: [A]}
      {service: "svc.*"}
      {service: "multi", response_type: "stream"}
    ]
  }
  C { users [{user: c, password: c}] }
}
)";

TEST(AccountsIsolation, SameSubjectNeverCrossesAccounts) {
  auto srv = start_with_config(kImportConf);
  RawClient a(srv->port()), b(srv->port()), c(srv->port());
  a.send(login("a") + "SUB x.> 1\r\nPING\r\n");
  c.send(login("c") + "SUB > 1\r\nPING\r\n");
  until_pong(a);
  until_pong(c);
  b.send(login("b") + "SUB x.> 1\r\nPING\r\n");
  until_pong(b);
  b.send("PUB x.y 1\r\nb\r\n");
  a.send("PUB x.y 1\r\na\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "MSG x.y 1 1\na\n");  // only its own message
  b.send("PING\r\n");
  EXPECT_EQ(until_pong(b), "MSG x.y 1 1\nb\n");
  c.send("PING\r\n");
  EXPECT_EQ(until_pong(c), "");  // C imports nothing: sees nothing
}

TEST(AccountsImports, StreamImportWithPrefixAndTo) {
  auto srv = start_with_config(kImportConf);
  RawClient a(srv->port()), b(srv->port());
  a.send(login("a") + "SUB > 1\r\nPING\r\n");
  until_pong(a);
  b.send(login("b") + "PUB ev.x 1\r\n1\r\nPUB one 1\r\n2\r\nPUB other 1\r\n3\r\nPING\r\n");
  until_pong(b);
  a.send("PING\r\n");
  EXPECT_EQ(until_pong(a), "MSG pre.ev.x 1 1\n1\nMSG uno 1 1\n2\n");
}

TEST(AccountsImports, ServiceRequestReplyWithRemap) {
  auto srv = start_with_config(kImportConf);
  // Responder in B on the exported subject.
  RawClient b(srv->port());
  b.send(login("b") + "SUB svc.* 1\r\nPING\r\n");
  until_pong(b);
  RawClient a(srv->port());
  a.send(login("a") + "SUB inbox.1 1\r\nPUB call.q inbox.1 3\r\nreq\r\nPING\r\n");
  until_pong(a);
  auto msg = b.read_line();
  ASSERT_TRUE(msg.has_value());
  // "MSG svc.q 1 _R_.<pfx>.<tok> 3": the importer's reply is hidden from the exporter.
  ASSERT_TRUE(msg->starts_with("MSG svc.q 1 _R_.")) << *msg;
  std::string reply = msg->substr(12, msg->rfind(' ') - 12);
  EXPECT_EQ(b.read_line().value_or(""), "req");
  b.send("PUB " + reply + " 3\r\nrep\r\nPUB " + reply + " 4\r\nrep2\r\nPING\r\n");
  until_pong(b);
  a.send("PING\r\n");
  // Singleton: only the first response reaches the requester.
  EXPECT_EQ(until_pong(a), "MSG inbox.1 1 3\nrep\n");

  // The same through libnats request/reply.
  ConnPtr ca, cb;
  OptsPtr oa, ob;
  natsOptions_SetUserInfo(oa.p, "a", "a");
  natsOptions_SetUserInfo(ob.p, "b", "b");
  ASSERT_EQ(connect_url(ca, srv->url(), oa.p), NATS_OK);
  ASSERT_EQ(connect_url(cb, srv->url(), ob.p), NATS_OK);
  SubPtr svc;
  ASSERT_EQ(natsConnection_Subscribe(&svc.p, cb.p, "svc.echo",
                                     [](natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
                                       natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m),
                                                              natsMsg_GetDataLength(m));
                                       natsMsg_Destroy(m);
                                     },
                                     nullptr),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(cb.p), NATS_OK);
  MsgPtr resp;
  ASSERT_EQ(natsConnection_RequestString(&resp.p, ca.p, "call.echo", "ping", 2000), NATS_OK);
  EXPECT_EQ(resp.data(), "ping");
  EXPECT_EQ(resp.subject().rfind("_INBOX.", 0), 0u);
}

TEST(AccountsImports, StreamResponseTypeAllowsManyResponses) {
  auto srv = start_with_config(kImportConf);
  RawClient b(srv->port());
  b.send(login("b") + "SUB multi 1\r\nPING\r\n");
  until_pong(b);
  RawClient a(srv->port());
  a.send(login("a") + "SUB in 1\r\nPUB multi in 1\r\nq\r\nPING\r\n");
  until_pong(a);
  auto msg = b.read_line();
  ASSERT_TRUE(msg && msg->starts_with("MSG multi 1 _R_.")) << msg.value_or("");
  std::string reply = msg->substr(12, msg->rfind(' ') - 12);
  b.send("PUB " + reply + " 1\r\n1\r\nPUB " + reply + " 1\r\n2\r\nPUB " + reply + " 1\r\n3\r\nPING\r\n");
  until_pong(b);
  a.send("PING\r\n");
  EXPECT_EQ(until_pong(a), "MSG in 1 1\n1\nMSG in 1 1\n2\nMSG in 1 1\n3\n");
}

// Runs the server on a config expected to be refused; returns its output.
std::string refused(const std::string& conf) {
  static testing_harness::TempDir dir;
  static int n = 0;
  std::string path = dir.write("bad" + std::to_string(++n) + ".conf", conf);
  auto r = testing_harness::run_command("timeout 5 " + testing_harness::server_binary() + " -c " + path +
                                        " -p " + std::to_string(testing_harness::free_port()));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "server did not refuse the config";
  return r.output;
}

TEST(AccountsImports, InvalidImportsRefusedAtStart) {
  auto out = refused("\naccounts {\n  A { imports [{stream {account: B, subject: foo}}] }\n  B {}\n}\n");
  EXPECT_NE(out.find(".conf:2:1: Error adding stream import \"foo\": stream import not authorized"), std::string::npos)
      << out;
  out = refused("port: 4222\naccounts {\n  A { imports [{service {account: Z, subject: foo}}] }\n}\n");
  EXPECT_NE(out.find(".conf:2:1: \"Z\" account not defined for service import"), std::string::npos) << out;
  out = refused(
      "accounts {\n  A { exports [{service: foo}], imports [{service {account: B, subject: foo}}] }\n"
      "  B { exports [{service: foo}], imports [{service {account: A, subject: foo}}] }\n}\n");
  EXPECT_NE(out.find("Error adding service import \"foo\": import forms a cycle"), std::string::npos) << out;
  out = refused("accounts { A { imports [{stream {account: B, subject: \"foo.*\"}}] }, B { exports [{stream: foo.bar}] } }");
  EXPECT_NE(out.find("stream import not authorized"), std::string::npos) << out;
  // Restricted to another account.
  out = refused("accounts { A { imports [{stream {account: B, subject: foo}}] }, B { exports [{stream: foo, accounts: [C]}] }, C {} }");
  EXPECT_NE(out.find("stream import not authorized"), std::string::npos) << out;
  out = refused("accounts { A { exports [{service: foo, response_type: bad}] } }");
  EXPECT_NE(out.find("Unknown response type: \"bad\""), std::string::npos) << out;
}

TEST(AccountsConfig, ConflictingAuthRefused) {
  auto out = refused("port: 1\naccounts { A { users [{user: a, password: a}] }, B { users [{user: a, password: b}] } }\n");
  EXPECT_NE(out.find(".conf:2:54: Duplicate user \"a\" detected"), std::string::npos) << out;
  out = refused("port: 1\nauthorization { users [{user: a, password: a}] }\naccounts { A { users [{user: a, password: a}] } }\n");
  // The reference walks top-level keys in Go map order, so which of the two it blames varies.
  EXPECT_NE(out.find(": Duplicate user \"a\" detected"), std::string::npos) << out;
  out = refused("port: 1\nauthorization {\n token: t, users [{user: a, password: a}] }\n");
  EXPECT_NE(out.find(".conf:2:1: Can not have a token and a users array"), std::string::npos) << out;
  out = refused("port: 1\nauthorization { user: u, password: p, users [{user: a, password: a}] }\n");
  EXPECT_NE(out.find(".conf:2:1: Can not have a single user/pass and a users array"), std::string::npos) << out;
  out = refused("port: 1\nauthorization { user: u, password: p, token: t }\n");
  EXPECT_NE(out.find(".conf:2:1: Cannot have a user/pass and token"), std::string::npos) << out;
  out = refused("no_auth_user: zz\naccounts { A { users [{user: a, password: a}] } }\n");
  EXPECT_NE(out.find("nats-server: no_auth_user: \"zz\" not present as user in authorization block or account "
                     "configuration"),
            std::string::npos)
      << out;
}

TEST(AccountsConfig, EveryBlockParsesAndBrokenOneNamesPosition) {
  const std::string every = R"(
authorization {
  timeout: 1
  default_permissions { publish: {deny: "secret.>"} }
  users [
    {user: top, password: top, permissions: {publish: {allow: ["a.>", "b"], deny: "a.x"}, subscribe: {allow: ["a.>", "q.* grp"], deny: ["a.y"]}, allow_responses: {max: 2, expires: "1s"}}}
    {user: top2, password: top2, permissions: {subscribe: "req", allow_responses: true}}
  ]
}
no_auth_user: top
system_account: SYS
accounts {
  SYS { users [{user: sys, password: sys}] }
  A {
    users [{user: a, password: a}]
    default_permissions { subscribe { deny: ">" } }
    exports [{stream: "s.>"}, {service: "svc", response_type: chunked, accounts: [B]}]
    limits { max_connections: 10, max_subscriptions: 100, max_payload: 1024 }
  }
  B {
    users [{user: b, password: b}]
    imports [{stream {account: A, subject: "s.>"}, prefix: p}, {service {account: A, subject: svc}, to: local}]
  }
}
)";
  static testing_harness::TempDir dir;
  auto path = dir.write("every.conf", every);
  auto r = testing_harness::run_command(testing_harness::server_binary() + " -t -c " + path);
  EXPECT_EQ(r.status, 0) << r.output;
  auto srv = start_with_config(every);
  RawClient b(srv->port());
  b.send(login("b") + "PING\r\n");
  EXPECT_EQ(until_pong(b), "");

  auto out = refused("accounts {\n  A {\n    users [{user: a, password: a}]\n    bogus: 1\n  }\n}\n");
  EXPECT_NE(out.find("bad"), std::string::npos);
  EXPECT_NE(out.find(".conf:4:5: unknown field \"bogus\""), std::string::npos) << out;
}

TEST(AccountsMonitor, AccountzAndConnzByAccount) {
  int http = testing_harness::free_port();
  auto srv = start_with_config(std::string(kImportConf) + "http: " + std::to_string(http) + "\n");
  RawClient a(srv->port()), b(srv->port());
  a.send("CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"a\",\"name\":\"ca\"}\r\nSUB x 1\r\nPING\r\n");
  b.send(login("b") + "PING\r\n");
  until_pong(a);
  until_pong(b);
  auto get = [&](const std::string& path) {
    return testing_harness::run_command("curl -s 'http://127.0.0.1:" + std::to_string(http) + path + "'").output;
  };
  auto list = get("/accountz");
  for (const char* n : {"\"$G\"", "\"A\"", "\"B\"", "\"C\"", "\"$SYS\""}) EXPECT_NE(list.find(n), std::string::npos) << list;
  EXPECT_NE(list.find("\"system_account\": \"$SYS\""), std::string::npos) << list;
  auto detail = get("/accountz?acc=A");
  EXPECT_NE(detail.find("\"account_name\": \"A\""), std::string::npos) << detail;
  EXPECT_NE(detail.find("\"client_connections\": 1"), std::string::npos) << detail;
  EXPECT_NE(detail.find("\"local_subject\": \"pre.ev."), std::string::npos) << detail;
  EXPECT_NE(detail.find("\"to\": \"svc.*\""), std::string::npos) << detail;
  auto bd = get("/accountz?acc=B");
  EXPECT_NE(bd.find("\"type\": \"stream\""), std::string::npos) << bd;
  EXPECT_NE(bd.find("\"subject\": \"ev."), std::string::npos) << bd;
  EXPECT_NE(get("/accountz?acc=nope").find("Account nope does not exist"), std::string::npos);

  auto connz = get("/connz?acc=A&auth=true");
  EXPECT_NE(connz.find("\"num_connections\": 1,"), std::string::npos) << connz;
  EXPECT_NE(connz.find("\"name\": \"ca\""), std::string::npos) << connz;
  EXPECT_NE(connz.find("\"authorized_user\": \"a\""), std::string::npos) << connz;
  EXPECT_NE(connz.find("\"account\": \"A\""), std::string::npos) << connz;
  auto connz_c = get("/connz?acc=C");
  EXPECT_NE(connz_c.find("\"num_connections\": 0,"), std::string::npos) << connz_c;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
