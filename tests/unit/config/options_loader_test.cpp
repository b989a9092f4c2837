#include "config/options_loader.h"

#include <gtest/gtest.h>

#include "config/parser.h"
#include "test_util.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::config::NATS_TEST_FILE_ID {
namespace {

using namespace std::chrono_literals;
using testing::error_of;
using testing::TempDir;

Options load(const std::string& text, LoadReport* report = nullptr, bool check = false) {
  Options o;
  LoadReport r = apply_config(parse_config_string(text, "t.conf"), o, check);
  if (report) *report = r;
  return o;
}

std::string load_error(const std::string& text, bool check = false) {
  return error_of([&] { load(text, nullptr, check); });
}

TEST(OptionsLoader, DefaultsUntouchedByEmptyConfig) {
  Options o = load("");
  EXPECT_EQ(o.port, kDefaultPort);
  EXPECT_EQ(o.host, "0.0.0.0");
  EXPECT_EQ(o.max_payload, kDefaultMaxPayload);
  EXPECT_EQ(o.ping_interval, 2min);
}

TEST(OptionsLoader, ClientListenerAndLimits) {
  Options o = load(
      "listen: 127.0.0.1:4333\nserver_name: n1\nmax_payload: 2MB\nmax_control_line: 8kb\n"
      "max_pending: 1k\nmax_connections: 100\nmax_subscriptions: 7\nping_interval: \"1m30s\"\n"
      "ping_max: 3\nwrite_deadline: 500ms\nclient_advertise: \"x:1\"\n"
      "lame_duck_duration: \"45s\"\nlame_duck_grace_period: 5s\n");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 4333);
  EXPECT_EQ(o.server_name, "n1");
  EXPECT_EQ(o.max_payload, 2 * 1024 * 1024);
  EXPECT_EQ(o.max_control_line, 8192);
  EXPECT_EQ(o.max_pending, 1000);
  EXPECT_EQ(o.max_connections, 100);
  EXPECT_EQ(o.max_subscriptions, 7);
  EXPECT_EQ(o.ping_interval, 90s);
  EXPECT_EQ(o.ping_max, 3);
  EXPECT_EQ(o.write_deadline, 500ms);
  EXPECT_EQ(o.client_advertise, "x:1");
  EXPECT_EQ(o.lame_duck_duration, 45s);
  EXPECT_EQ(o.lame_duck_grace_period, 5s);
}

TEST(OptionsLoader, KeysAreCaseInsensitiveAndAliased) {
  Options o = load("PORT: 5000\nNet: 10.0.0.1\nMax_Conn: 5\nmax_subs: 6\nLogFile: /tmp/x.log\n"
                   "pidfile: /tmp/p\nmonitor_port: 9000\n");
  EXPECT_EQ(o.port, 5000);
  EXPECT_EQ(o.host, "10.0.0.1");
  EXPECT_EQ(o.max_connections, 5);
  EXPECT_EQ(o.max_subscriptions, 6);
  EXPECT_EQ(o.log_file, "/tmp/x.log");
  EXPECT_EQ(o.pid_file, "/tmp/p");
  EXPECT_EQ(o.http_port, 9000);
}

TEST(OptionsLoader, ListenForms) {
  EXPECT_EQ(load("listen: 4555").port, 4555);
  Options o = load("listen: \":4556\"");
  EXPECT_EQ(o.port, 4556);
  EXPECT_EQ(o.host, "0.0.0.0");
  o = load("listen: \"[::1]:4557\"");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 4557);
  EXPECT_EQ(load_error("listen: \"abc\""), "t.conf:1:9: field \"listen\": could not parse address string \"abc\"");
  EXPECT_NE(load_error("listen: \"h:x\"").find("could not parse port \"x\""), std::string::npos);
  // A signed port as Go's Atoi reads it: -1 is the random port, as `port: -1`.
  o = load("listen: \"127.0.0.1:-1\"\nhttp: \"127.0.0.1:-1\"\ncluster { listen: \"127.0.0.1:-1\" }");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, -1);
  EXPECT_EQ(o.http_port, -1);
  EXPECT_NE(load_error("listen: \"h:-\"").find("could not parse port \"-\""), std::string::npos);
}

// An authorization timeout given as a string is read as a duration (2.11.2 and later; 2.9.10
// uses 1 s for any string), with a warning that says so. A number is seconds, no warning.
TEST(OptionsLoader, AuthTimeoutStringWarnsThatTheReferenceUsesOneSecond) {
  LoadReport r;
  EXPECT_EQ(load("authorization { user: u, password: p, timeout: \"5s\" }\n", &r).auth_timeout, 5s);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("authorization timeout \"5s\" is read as the duration 5s (nats-server 2.9.10 uses 1s"),
            std::string::npos)
      << r.warnings[0];
  LoadReport leaf;
  EXPECT_EQ(load("leafnodes { port: 7422, authorization { timeout: \"2s\" } }\n", &leaf).leafnode.auth_timeout, 2s);
  EXPECT_EQ(leaf.warnings.size(), 1u);
  LoadReport n;
  EXPECT_EQ(load("authorization { user: u, password: p, timeout: 3 }\n", &n).auth_timeout, 3s);
  EXPECT_TRUE(n.warnings.empty());
}

TEST(OptionsLoader, IntegerDurationsWarnOrFailUnderCheck) {
  LoadReport r;
  Options o = load("ping_interval: 5\nwrite_deadline: 3\n", &r);
  EXPECT_EQ(o.ping_interval, 5s);
  EXPECT_EQ(o.write_deadline, 3s);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0], "t.conf:1:1: invalid use of field \"ping_interval\": ping_interval "
                           "should be converted to a duration");
  std::string e = load_error("ping_interval: 5\nwrite_deadline: 3\n", true);
  EXPECT_EQ(e, "t.conf:1:1: invalid use of field \"ping_interval\": ping_interval should be converted to a duration\n"
               "t.conf:2:1: invalid use of field \"write_deadline\": write_deadline should be converted to a duration");
}

TEST(OptionsLoader, DurationErrors) {
  EXPECT_EQ(load_error("ping_interval: \"abc\""),
            "t.conf:1:1: field \"ping_interval\": error parsing ping_interval: time: invalid duration \"abc\"");
  EXPECT_EQ(load_error("lame_duck_duration: \"5s\""),
            "t.conf:1:1: invalid lame_duck_duration of 5s, minimum is 30 seconds");
  EXPECT_NE(load_error("lame_duck_duration: 2m").find("expected string, got integer"), std::string::npos);
}

TEST(OptionsLoader, UnknownFieldsAreErrors) {
  EXPECT_EQ(load_error("port: 4222\nfoo: bar\n"), "t.conf:2:1: unknown field \"foo\"");
  EXPECT_EQ(load_error("port: 4222\ncluster { foo: 1, port: 6222 }\n"),
            "t.conf:2:11: unknown field \"foo\"");
  // A key only used as a variable is not reported.
  Options o = load("P = 4333\nport: $P\n");
  EXPECT_EQ(o.port, 4333);
  // Known keys that cannot change behaviour are accepted and listed; others stop the server.
  LoadReport r;
  load("prof_port: 6060\nmax_traced_msg_len: 10\n", &r);
  EXPECT_EQ(r.ignored, (std::vector<std::string>{"t.conf:1:1: prof_port", "t.conf:2:1: max_traced_msg_len"}));
  EXPECT_EQ(load_error("port: 1\njetstream { key: abc }\n"), "t.conf:2:13: key is not supported by this server");
}

TEST(OptionsLoader, TlsBlock) {
  Options o = load("tls {\n  cert_file: \"s.pem\"\n  key_file: s.key\n  ca_file: ca.pem\n  verify: true\n  timeout: 0.5\n}\n");
  EXPECT_TRUE(o.tls.enabled);
  EXPECT_EQ(o.tls.cert_file, "s.pem");
  EXPECT_EQ(o.tls.key_file, "s.key");
  EXPECT_EQ(o.tls.ca_file, "ca.pem");
  EXPECT_TRUE(o.tls.verify);
  EXPECT_EQ(o.tls.timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(load("tls { cert_file: a, key_file: b, timeout: \"3s\" }").tls.timeout, std::chrono::seconds(3));
  EXPECT_FALSE(load("port: 4222").tls.enabled);
  EXPECT_EQ(load_error("tls { key_file: b }"), "t.conf:1:1: missing 'cert_file' in TLS configuration");
  EXPECT_EQ(load_error("tls { cert_file: a }"), "t.conf:1:1: missing 'key_file' in TLS configuration");
  EXPECT_EQ(load_error("tls { cert_file: a, key_file: b, nope: 1 }"),
            "t.conf:1:34: error parsing tls config, unknown field [\"nope\"]");
  // Settings this server cannot honour stop it rather than being silently dropped.
  EXPECT_EQ(load_error("tls { cert_file: a, key_file: b, cipher_suites: [] }"),
            "t.conf:1:34: cipher_suites is not supported by this server");
  Options c = load("cluster { port: 6222, tls { cert_file: a, key_file: b, verify: true } }\n"
                   "gateway { name: x, port: 7222, tls { cert_file: c, key_file: d } }");
  EXPECT_TRUE(c.cluster.tls.enabled);
  EXPECT_TRUE(c.cluster.tls.verify);
  EXPECT_EQ(c.gateway.tls.cert_file, "c");
  EXPECT_FALSE(c.tls.enabled);
  // Leafnodes: the accepting side's block as any server's; a remote's, as a dialing side's,
  // needs no certificate (only a CA, or nothing).
  Options l = load("leafnodes { port: 7422, tls { cert_file: a, key_file: b, verify: true },\n"
                   "  remotes [ { url: \"tls://h:7422\", tls { ca_file: ca.pem } } ] }");
  EXPECT_TRUE(l.leafnode.tls.verify);
  ASSERT_EQ(l.leafnode.remotes.size(), 1u);
  EXPECT_TRUE(l.leafnode.remotes[0].tls.enabled);
  EXPECT_EQ(l.leafnode.remotes[0].tls.ca_file, "ca.pem");
  EXPECT_EQ(load_error("leafnodes { port: 7422, tls { ca_file: x } }"),
            "t.conf:1:25: missing 'cert_file' in TLS configuration");
  // insecure: where this side dials (a remote, routes, gateways) the server's certificate is
  // not checked, as 2.9.10.
  EXPECT_TRUE(load("leafnodes { remotes [ { url: \"h\", tls { ca_file: x, insecure: true } } ] }")
                  .leafnode.remotes[0].tls.insecure);
  EXPECT_TRUE(load("cluster { port: 6222, tls { cert_file: a, key_file: b, insecure: true } }").cluster.tls.insecure);
  // Websocket remotes: all URLs websocket or none (2.9.10's validateLeafNode), passwords hidden.
  Options w = load("leafnodes { remotes [ { urls: [\"ws://h:80\", \"wss://h:443/p\"], ws_compression: true, "
                   "ws_no_masking: true, jetstream_cluster_migrate: false } ] }");
  ASSERT_EQ(w.leafnode.remotes.size(), 1u);
  EXPECT_TRUE(w.leafnode.remotes[0].ws_compression);
  EXPECT_TRUE(w.leafnode.remotes[0].ws_no_masking);
  EXPECT_TRUE(w.leafnode.remotes[0].js_cluster_migrate);  // any value turns it on, as 2.9.10
  EXPECT_EQ(load_error("leafnodes { remotes [ { urls: [\"ws://u:pw@h:80\", \"nats-leaf://h:7422\"] } ] }"),
            "t.conf:1:23: remote leaf node configuration cannot have a mix of websocket and non-websocket urls: "
            "[\"ws://u:xxxxx@h:80\" \"nats-leaf://h:7422\"]");
}

TEST(OptionsLoader, TypeErrorsHavePositions) {
  EXPECT_EQ(load_error("port: \"abc\""), "t.conf:1:7: field \"port\": expected integer, got string");
  EXPECT_EQ(load_error("port: 4222\n  http_port: true"),
            "t.conf:2:14: field \"http_port\": expected integer, got bool");
  EXPECT_EQ(load_error("max_payload: 2T"), "t.conf:1:1: max_payload value is too big");
  // All errors are reported, one per line.
  std::string e = load_error("port: x\ndebug: 3\n");
  EXPECT_NE(e.find("t.conf:1:7:"), std::string::npos);
  EXPECT_NE(e.find("\nt.conf:2:8:"), std::string::npos);
}

TEST(OptionsLoader, LoggingAndMonitoring) {
  Options o = load("debug: true\ntrace: on\nlogtime: false\n"
                   "http: \"127.0.0.1:8333\"\nhttp_base_path: /mon\n");
  EXPECT_TRUE(o.debug);
  EXPECT_TRUE(o.trace);
  EXPECT_FALSE(o.logtime);
  EXPECT_EQ(o.http_host, "127.0.0.1");
  EXPECT_EQ(o.http_port, 8333);
  EXPECT_EQ(o.http_base_path, "/mon");
}

TEST(OptionsLoader, Authorization) {
  Options o = load("authorization { user: u, password: p, timeout: 0.5 }");
  EXPECT_TRUE(o.authorization_configured);
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "p");
  EXPECT_EQ(o.auth_timeout, 500ms);
  o = load("authorization { token: s3cr3t, timeout: 3 }");
  EXPECT_EQ(o.authorization, "s3cr3t");
  EXPECT_EQ(o.auth_timeout, 3s);
  o = load(R"(authorization {
    permissions: { publish: "a.>", subscribe: { allow: ["b.*"], deny: "b.x" } }
    users: [
      {user: alice, password: "$2a$11$abc", permissions: {publish: {deny: ">"}, allow_responses: true}}
      {user: bob, password: pw, permissions: {allow_responses: {max: 5, expires: "1m"}}}
    ]
  })");
  ASSERT_EQ(o.users.size(), 2u);
  EXPECT_EQ(o.users[0].username, "alice");
  EXPECT_EQ(o.users[0].password, "$2a$11$abc");
  ASSERT_TRUE(o.users[0].permissions);
  EXPECT_EQ(o.users[0].permissions->publish->deny, std::vector<std::string>{">"});
  ASSERT_TRUE(o.users[0].permissions->response);
  EXPECT_EQ(o.users[0].permissions->response->max_msgs, 1);
  EXPECT_EQ(o.users[1].permissions->response->max_msgs, 5);
  EXPECT_EQ(o.users[1].permissions->response->expires, 1min);
  ASSERT_TRUE(o.default_permissions);
  EXPECT_EQ(o.default_permissions->publish->allow, std::vector<std::string>{"a.>"});
  EXPECT_EQ(o.default_permissions->subscribe->allow, std::vector<std::string>{"b.*"});
  EXPECT_EQ(o.default_permissions->subscribe->deny, std::vector<std::string>{"b.x"});
  EXPECT_NE(load_error("authorization { user: a, users: [{user: b}] }").find("single user/pass"),
            std::string::npos);
}

TEST(OptionsLoader, Accounts) {
  Options o = load(R"(
accounts: {
  A: {
    users: [{user: a, password: a}]
    exports: [
      {stream: "pub.>"}
      {service: "req.*", accounts: [B], response_type: stream, threshold: "2s"}
    ]
    jetstream: enabled
    limits: {max_connections: 3}
  }
  B: {
    users: [{user: b, password: b}]
    imports: [
      {stream: {account: A, subject: "pub.>"}, prefix: from_a}
      {service: {account: A, subject: "req.x"}, to: "a.req"}
    ]
  }
  $SYS: { users: [{user: sys, password: pass}] }
}
system_account: "$SYS"
no_auth_user: a
)");
  ASSERT_EQ(o.accounts.size(), 3u);
  const AccountConfig& a = o.accounts[0];
  EXPECT_EQ(a.name, "A");
  ASSERT_EQ(a.users.size(), 1u);
  EXPECT_EQ(a.users[0].account, "A");
  ASSERT_EQ(a.stream_exports.size(), 1u);
  EXPECT_EQ(a.stream_exports[0].subject, "pub.>");
  ASSERT_EQ(a.service_exports.size(), 1u);
  EXPECT_EQ(a.service_exports[0].accounts, std::vector<std::string>{"B"});
  EXPECT_EQ(a.service_exports[0].response_type, "stream");
  EXPECT_EQ(a.service_exports[0].response_threshold, 2s);
  EXPECT_TRUE(a.jetstream);
  EXPECT_EQ(a.max_connections, 3);
  const AccountConfig& b = o.accounts[1];
  ASSERT_EQ(b.stream_imports.size(), 1u);
  EXPECT_EQ(b.stream_imports[0].account, "A");
  EXPECT_EQ(b.stream_imports[0].subject, "pub.>");
  EXPECT_EQ(b.stream_imports[0].prefix, "from_a");
  ASSERT_EQ(b.service_imports.size(), 1u);
  EXPECT_EQ(b.service_imports[0].to, "a.req");
  EXPECT_EQ(o.accounts[2].name, "$SYS");
  EXPECT_EQ(o.system_account, "$SYS");
  EXPECT_EQ(o.no_auth_user, "a");
  EXPECT_NE(load_error("accounts { A { bogus: 1 } }").find("unknown field \"bogus\""), std::string::npos);
}

TEST(OptionsLoader, ClusterAndGateway) {
  Options o = load(R"(
cluster {
  name: c1
  listen: 0.0.0.0:6222
  routes: [nats-route://a:6222, "nats-route://b:6222"]
  authorization { user: ru, password: rp }
  no_advertise: true
  connect_retries: 4
  advertise: "x:6222"
}
gateway {
  name: g1
  port: 7222
  gateways: [
    {name: g2, url: "nats://h:7223"}
    {name: g3, urls: ["nats://h:7224", "nats://i:7224"]}
  ]
  reject_unknown_cluster: true
  connect_retries: 2
  advertise: "y:7222"
}
)");
  EXPECT_TRUE(o.cluster.configured);
  EXPECT_EQ(o.cluster.name, "c1");
  EXPECT_EQ(o.cluster.port, 6222);
  EXPECT_EQ(o.cluster.routes.size(), 2u);
  EXPECT_EQ(o.cluster.username, "ru");
  EXPECT_TRUE(o.cluster.no_advertise);
  EXPECT_EQ(o.cluster.connect_retries, 4);
  EXPECT_EQ(o.cluster.advertise, "x:6222");
  EXPECT_TRUE(o.gateway.configured);
  EXPECT_EQ(o.gateway.name, "g1");
  EXPECT_EQ(o.gateway.port, 7222);
  ASSERT_EQ(o.gateway.gateways.size(), 2u);
  EXPECT_EQ(o.gateway.gateways[0].urls, std::vector<std::string>{"nats://h:7223"});
  EXPECT_EQ(o.gateway.gateways[1].urls.size(), 2u);
  EXPECT_TRUE(o.gateway.reject_unknown);
  EXPECT_EQ(o.gateway.advertise, "y:7222");
}

// cluster and gateway { authorization { timeout } }: enforced on accepted links (and
// compared by config reload as 2.9.10 does), so loaded and not reported as ignored.
TEST(OptionsLoader, ClusterAndGatewayAuthorizationTimeout) {
  LoadReport r;
  Options o = load("gateway { name: g, port: 7222, authorization { user: u, password: p, timeout: 3 } }\n"
                   "cluster { port: 6222, authorization { user: r, password: p, timeout: 0.5 } }", &r);
  EXPECT_EQ(o.gateway.auth_timeout, 3s);
  EXPECT_EQ(o.gateway.username, "u");
  EXPECT_EQ(o.cluster.auth_timeout, 500ms);
  EXPECT_EQ(o.cluster.username, "r");
  bool reported = false;
  for (const auto& k : r.ignored) reported |= k.find("timeout") != std::string::npos;
  EXPECT_FALSE(reported);
  EXPECT_EQ(load("gateway { name: g, port: 7222, authorization { timeout: \"500ms\" } }").gateway.auth_timeout, 500ms);
  EXPECT_EQ(load("cluster { port: 6222 }").cluster.auth_timeout, 0s);  // unset: the default applies
}

TEST(OptionsLoader, JetStreamForms) {
  EXPECT_TRUE(load("jetstream: enabled").jetstream.enabled);
  EXPECT_TRUE(load("jetstream: true").jetstream.enabled);
  EXPECT_FALSE(load("jetstream: disabled").jetstream.enabled);
  Options o = load("jetstream { store_dir: /data, max_mem: 1G, max_file_store: 10GB, "
                   "sync_interval: \"10s\", unique_tag: az }");
  EXPECT_TRUE(o.jetstream.enabled);
  EXPECT_EQ(o.jetstream.store_dir, "/data");
  EXPECT_EQ(o.jetstream.max_memory, 1000000000);
  EXPECT_EQ(o.jetstream.max_file, 10LL * 1024 * 1024 * 1024);
  EXPECT_EQ(o.jetstream.sync_interval, 10s);
  EXPECT_EQ(o.jetstream.unique_tag, "az");
  EXPECT_TRUE(load("jetstream { sync_interval: always }").jetstream.sync_always);
  EXPECT_FALSE(load("jetstream { enabled: false }").jetstream.enabled);
  EXPECT_EQ(load("store_dir: /x").jetstream.store_dir, "/x");
}

TEST(OptionsLoader, ServerTags) {
  EXPECT_EQ(load("server_tags: [a, b, a]").tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(load("server_tags: \"one\"").tags, std::vector<std::string>{"one"});
}

// The supercluster example from the seed (east.conf with `include sys.conf`, written by
// a shell heredoc, so `\$SYS` reached the file as `$SYS`).
TEST(OptionsLoader, SeedSuperclusterEast) {
  TempDir dir;
  dir.write("sys.conf", "accounts: {\n  $SYS: {\n    users: [{user: sys, password: pass}]\n  }\n}\n");
  std::string east = dir.write("east.conf", R"(port: 4222
http_port: 8222
server_name: n1


include sys.conf


jetstream: {
  store_dir: /tmp/nats/storage/n1
}


cluster: {
  name: east,
  port: 6222,
  routes: [
    "nats-route://0.0.0.0:6222"
  ],
}


gateway: {
  name: "east",
  port: 7222,
  gateways: [
    {name: "east", urls: ["nats://0.0.0.0:7222"]},
    {name: "central", urls: ["nats://0.0.0.0:7223"]},
    {name: "west", urls: ["nats://0.0.0.0:7224"]},
  ]
}
)");
  Options o;
  load_config_file(east, o);
  EXPECT_EQ(o.config_file, east);
  EXPECT_EQ(o.port, 4222);
  EXPECT_EQ(o.http_port, 8222);
  EXPECT_EQ(o.server_name, "n1");
  ASSERT_EQ(o.accounts.size(), 1u);
  EXPECT_EQ(o.accounts[0].name, "$SYS");
  ASSERT_EQ(o.accounts[0].users.size(), 1u);
  EXPECT_EQ(o.accounts[0].users[0].username, "sys");
  EXPECT_EQ(o.accounts[0].users[0].password, "pass");
  EXPECT_TRUE(o.jetstream.enabled);
  EXPECT_EQ(o.jetstream.store_dir, "/tmp/nats/storage/n1");
  EXPECT_TRUE(o.cluster.configured);
  EXPECT_EQ(o.cluster.name, "east");
  EXPECT_EQ(o.cluster.port, 6222);
  EXPECT_EQ(o.cluster.routes, std::vector<std::string>{"nats-route://0.0.0.0:6222"});
  EXPECT_EQ(o.gateway.name, "east");
  EXPECT_EQ(o.gateway.port, 7222);
  ASSERT_EQ(o.gateway.gateways.size(), 3u);
  EXPECT_EQ(o.gateway.gateways[1].name, "central");
  EXPECT_EQ(o.gateway.gateways[1].urls, std::vector<std::string>{"nats://0.0.0.0:7223"});
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID

namespace nats::config::NATS_TEST_FILE_ID {
namespace {

TEST(OptionsLoader, ReferenceWordingForNestedErrors) {
  Options o;
  auto err = [](const std::string& text) {
    return testing::error_of([&] {
      Options o;
      apply_config(parse_config_string(text, "t.conf"), o);
    });
  };
  EXPECT_EQ(err("authorization { users: [{user: a, password: b, permissions: {foo: 1}}] }"),
            "t.conf:1:62: Unknown field \"foo\" parsing permissions");
  EXPECT_EQ(err("cluster { port: 6222, authorization { users: [{user: a, password: b}] } }"),
            "t.conf:1:23: Cluster authorization does not allow multiple users");
  EXPECT_EQ(err("jetstream: foo"),
            "t.conf:1:12: field \"jetstream\": Expected 'enabled' or 'disabled' for string value, got 'foo'");
  EXPECT_EQ(err("authorization { foo: 1 }"), "t.conf:1:17: unknown field \"foo\"");
  // Errors inside an included file name that file.
  testing::TempDir dir;
  dir.write("sub/inc.conf", "bogus: 1\n");
  std::string main = dir.write("main.conf", "port: 1\ninclude sub/inc.conf\n");
  std::string e = testing::error_of([&] { load_config_file(main, o); });
  EXPECT_NE(e.find("sub/inc.conf:1:1: unknown field \"bogus\""), std::string::npos) << e;
}

TEST(OptionsLoader, AccountsAsNameList) {
  Options o;
  apply_config(parse_config_string("accounts: [A, B]", "t.conf"), o);
  ASSERT_EQ(o.accounts.size(), 2u);
  EXPECT_EQ(o.accounts[1].name, "B");
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID

namespace nats::config::NATS_TEST_FILE_ID {
namespace {

// Found by fuzzing: huge second counts overflowed the nanosecond conversion.
TEST(OptionsLoader, HugeSecondCountsAreErrors) {
  auto err = [](const std::string& text) {
    return testing::error_of([&] {
      Options o;
      apply_config(parse_config_string(text, "t.conf"), o);
    });
  };
  EXPECT_NE(err("write_deadline: 5444444444444").find("out of range"), std::string::npos);
  EXPECT_NE(err("authorization { timeout: 1e300 }"), "");
  EXPECT_NE(err("authorization { timeout: 99999999999999.5 }").find("out of range"), std::string::npos);
  EXPECT_NE(err("ping_interval: \"9999999999h\"").find("invalid duration"), std::string::npos);
}

// validateLeafNode: a leafnodes listener next to gateways needs a named system account.
TEST(OptionsLoader, LeafNodesWithGatewaysNeedASystemAccount) {
  auto err = [](const std::string& text) -> std::string {
    try {
      Options o;
      apply_config(parse_config_string(text, "t.conf"), o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  const std::string both = "gateway { name: A, port: 7222 }\nleafnodes { port: 7422 }\n";
  EXPECT_EQ(err(both), "leaf nodes and gateways (both being defined) require a system account to also be configured");
  EXPECT_EQ(err(both + "accounts { SYS {} }\nsystem_account: SYS\n"), "");
  EXPECT_EQ(err("gateway { name: A, port: 7222 }\nleafnodes { remotes [ { url: \"nats://127.0.0.1:7422\" } ] }\n"), "");
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID

namespace nats::config::NATS_TEST_FILE_ID {
namespace {

TEST(OptionsLoader, Mappings) {
  Options o = load(
      "mappings { foo: bar, \"a.*\": [ {destination: \"b.$1\", weight: 40%}, {dest: \"c.$1\", weight: 10, cluster: east} ] }\n"
      "accounts { A { maps { x: {destination: y, weight: \"100\"} } } }\n");
  ASSERT_EQ(o.mappings.size(), 2u);
  EXPECT_EQ(o.mappings[0].src, "foo");
  ASSERT_EQ(o.mappings[0].dests.size(), 1u);
  EXPECT_EQ(o.mappings[0].dests[0].subject, "bar");
  EXPECT_EQ(o.mappings[0].dests[0].weight, 100);
  ASSERT_EQ(o.mappings[1].dests.size(), 2u);
  EXPECT_EQ(o.mappings[1].dests[0].weight, 40);
  EXPECT_EQ(o.mappings[1].dests[1].cluster, "east");
  ASSERT_EQ(o.accounts.size(), 1u);
  ASSERT_EQ(o.accounts[0].mappings.size(), 1u);
  EXPECT_EQ(o.accounts[0].mappings[0].dests[0].subject, "y");

  EXPECT_EQ(load_error("mappings { foo: [ {destination: a, weight: 60}, {destination: b, weight: 50} ] }"),
            "t.conf:1:17: Error adding mapping for \"foo\" : total weight needs to be <= 100");
  EXPECT_EQ(load_error("mappings { \"foo.*\": \"bar.*\" }"),
            "t.conf:1:21: Error adding mapping for \"foo.*\" to \"bar.*\" : invalid subject");
  EXPECT_EQ(load_error("mappings { foo: [ {destination: a, weight: 101} ] }"),
            "t.conf:1:44: Invalid weight 101 for mapping destination");
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID
