// Every config key and flag of the reference 2.9.10 has a decision (honoured, refused or
// ignored with a warning), and the loader behaves as the decision says. The reference
// lists below are taken from server/opts.go at v2.9.10 (processConfigFileLine and its
// sub-parsers, ConfigureOptions for flags); a key added to the loader's table without
// being in them (or in the short list of extensions) fails this test, and so does a
// reference key without a decision.
#include "config/key_decisions.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "config/command_line.h"
#include "config/options_loader.h"
#include "config/parser.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::config::NATS_TEST_FILE_ID {
namespace {

using Keys = std::map<std::string, std::set<std::string>>;

const Keys& reference_keys() {
  static const Keys k = {
      {"top",
       {"listen", "client_advertise", "port", "server_name", "host", "net", "debug", "trace", "trace_verbose",
        "logtime", "mappings", "maps", "disable_sublist_cache", "no_sublist_cache", "accounts", "authorization",
        "http", "https", "http_port", "monitor_port", "https_port", "http_base_path", "cluster", "gateway", "leaf",
        "leafnodes", "store_dir", "storedir", "jetstream", "logfile", "log_file", "logfile_size_limit",
        "log_size_limit", "syslog", "remote_syslog", "pidfile", "pid_file", "ports_file_dir", "prof_port",
        "max_control_line", "max_payload", "max_pending", "max_connections", "max_conn", "max_traced_msg_len",
        "max_subscriptions", "max_subs", "max_sub_tokens", "max_subscription_tokens", "ping_interval", "ping_max",
        "tls", "ocsp", "allow_non_tls", "write_deadline", "lame_duck_duration", "lame_duck_grace_period",
        "operator", "operators", "roots", "root", "root_operators", "root_operator", "resolver", "account_resolver",
        "accounts_resolver", "resolver_tls", "resolver_preload", "resolver_pinned_accounts", "no_auth_user",
        "system_account", "system", "no_system_account", "no_system", "no_sys_acc", "no_header_support", "trusted",
        "trusted_keys", "connect_error_reports", "reconnect_error_reports", "websocket", "ws", "mqtt",
        "server_tags", "default_js_domain"}},
      {"authorization",
       {"user", "username", "pass", "password", "token", "timeout", "users", "default_permission",
        "default_permissions", "permissions"}},
      {"user",
       {"nkey", "user", "username", "pass", "password", "permission", "permissions", "authorization",
        "allowed_connection_types", "connection_types", "clients"}},
      {"permissions",
       {"pub", "publish", "import", "sub", "subscribe", "export", "publish_allow_responses", "allow_responses"}},
      {"subject_permission", {"allow", "deny"}},
      {"allow_responses", {"max", "max_msgs", "max_messages", "max_responses", "expires", "expiration", "ttl"}},
      {"account",
       {"nkey", "imports", "exports", "jetstream", "users", "default_permissions", "mappings", "maps", "limits"}},
      {"account_limits",
       {"max_connections", "max_conn", "max_subscriptions", "max_subs", "max_payload", "max_pay", "max_leafnodes",
        "max_leafs"}},
      {"account_jetstream",
       {"max_memory", "max_mem", "mem", "memory", "max_store", "max_file", "max_disk", "store", "disk",
        "max_streams", "streams", "max_consumers", "consumers", "max_bytes_required", "max_stream_bytes",
        "max_bytes", "mem_max_stream_bytes", "memory_max_stream_bytes", "disk_max_stream_bytes",
        "store_max_stream_bytes", "max_ack_pending"}},
      {"export",
       {"stream", "service", "response", "response_type", "threshold", "response_threshold", "response_max_time",
        "response_time", "accounts", "latency", "account_token_position"}},
      {"import", {"stream", "service", "prefix", "to", "share"}},
      {"import_source", {"account", "subject"}},
      {"cluster",
       {"name", "listen", "port", "host", "net", "authorization", "routes", "tls", "cluster_advertise", "advertise",
        "no_advertise", "connect_retries", "permissions"}},
      // parseCluster and parseGateway read their authorization with parseAuthorization.
      {"cluster_authorization",
       {"user", "username", "pass", "password", "token", "timeout", "users", "default_permission",
        "default_permissions", "permissions"}},
      {"gateway",
       {"name", "listen", "port", "host", "net", "authorization", "tls", "advertise", "connect_retries", "gateways",
        "reject_unknown", "reject_unknown_cluster"}},
      {"gateway_authorization",
       {"user", "username", "pass", "password", "token", "timeout", "users", "default_permission",
        "default_permissions", "permissions"}},
      {"remote_gateway", {"name", "tls", "url", "urls"}},
      {"leafnodes",
       {"listen", "port", "host", "net", "authorization", "remotes", "reconnect", "reconnect_delay",
        "reconnect_interval", "tls", "leafnode_advertise", "advertise", "no_advertise", "min_version",
        "minimum_version"}},
      {"leafnode_authorization", {"user", "username", "pass", "password", "timeout", "users", "account"}},
      {"leafnode_user", {"user", "username", "pass", "password", "account"}},
      {"leafnode_remote",
       {"no_randomize", "dont_randomize", "url", "urls", "account", "local", "creds", "credentials", "tls", "hub",
        "deny_imports", "deny_import", "deny_exports", "deny_export", "ws_compress", "ws_compression",
        "websocket_compress", "websocket_compression", "ws_no_masking", "websocket_no_masking",
        "jetstream_cluster_migrate", "js_cluster_migrate"}},
      {"websocket",
       {"listen", "port", "host", "net", "advertise", "no_tls", "tls", "same_origin", "allowed_origins",
        "allowed_origin", "allow_origins", "allow_origin", "origins", "origin", "handshake_timeout", "compress",
        "compression", "authorization", "authentication", "jwt_cookie", "no_auth_user"}},
      // parseSimpleAuth (the websocket block's authorization).
      {"websocket_authorization", {"user", "username", "pass", "password", "token", "timeout"}},
      {"jetstream",
       {"enabled", "enable", "store", "store_dir", "storedir", "max_memory_store", "max_mem_store", "max_mem",
        "max_file_store", "max_file", "domain", "key", "ek", "encryption_key", "cipher", "extension_hint", "limits",
        "unique_tag", "max_outstanding_catchup"}},
      {"tls",
       {"cert_file", "key_file", "ca_file", "insecure", "verify", "verify_and_map",
        "verify_cert_and_check_known_urls", "cipher_suites", "curve_preferences", "timeout",
        "connection_rate_limit", "pinned_certs"}},
      {"resolver_tls",
       {"cert_file", "key_file", "ca_file", "insecure", "verify", "verify_and_map",
        "verify_cert_and_check_known_urls", "cipher_suites", "curve_preferences", "timeout",
        "connection_rate_limit", "pinned_certs"}},
      {"mapping_destination", {"dest", "destination", "weight", "cluster"}},
      {"flag",
       {"h", "help", "port", "p", "n", "name", "server_name", "addr", "a", "net", "client_advertise", "D",
        "debug", "V", "VV", "trace", "DV", "DVV", "T", "logtime", "user", "pass", "auth", "m", "http_port", "ms",
        "https_port", "c", "config", "t", "sl", "signal", "P", "pid", "ports_file_dir", "l", "log", "s", "syslog",
        "r", "remote_syslog", "version", "v", "profile", "routes", "cluster", "cluster_listen",
        "cluster_advertise", "no_advertise", "connect_retries", "cluster_name", "help_tls", "tls", "tlsverify",
        "tlscert", "tlskey", "tlscacert", "max_traced_msg_len", "js", "jetstream", "sd", "store_dir"}},
  };
  return k;
}

// Keys of later releases this server knows: implemented, or refused by name because they
// are security settings whose absence must not pass unnoticed.
const Keys& extensions() {
  static const Keys k = {
      {"authorization", {"auth_callout"}},
      {"jetstream", {"sync_interval"}},
      {"flag", {"http", "no_auth_user", "log_size_limit"}},
  };
  return k;
}

bool listed(const Keys& keys, std::string_view block, std::string_view key) {
  auto it = keys.find(std::string(block));
  return it != keys.end() && it->second.count(std::string(key));
}

TEST(KeyDecisions, EveryReferenceKeyHasADecision) {
  for (const auto& [block, keys] : reference_keys())
    for (const auto& k : keys) EXPECT_TRUE(decide_key(block, k).has_value()) << block << "." << k;
}

TEST(KeyDecisions, EveryDecidedKeyIsAReferenceKeyOrAKnownExtension) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& r : key_rules()) {
    EXPECT_TRUE(listed(reference_keys(), r.block, r.key) || listed(extensions(), r.block, r.key))
        << r.block << "." << r.key;
    EXPECT_TRUE(seen.insert({r.block, r.key}).second) << "decided twice: " << r.block << "." << r.key;
  }
}

// Ignored keys are few and cannot touch security or routing.
TEST(KeyDecisions, IgnoredKeysAreTheSmallHarmlessList) {
  std::set<std::string> ignored;
  for (const auto& r : key_rules())
    if (r.decision == KeyDecision::Ignored && r.block != "flag") ignored.insert(std::string(r.block) + "." + std::string(r.key));
  std::set<std::string> expected = {
      "top.disable_sublist_cache", "top.no_sublist_cache", "top.logfile_size_limit", "top.log_size_limit",
      "top.syslog", "top.remote_syslog", "top.prof_port", "top.max_traced_msg_len",
      "top.connect_error_reports", "top.reconnect_error_reports",
      "gateway_authorization.permissions", "gateway_authorization.default_permission",
      "gateway_authorization.default_permissions", "jetstream.extension_hint", "jetstream.max_outstanding_catchup"};
  EXPECT_EQ(ignored, expected);
}

// A config with `key` placed in `block`. The rest is valid, so that an ignored key leaves
// a config that loads.
std::string config_with(std::string_view block, const std::string& key) {
  const std::string kv = key + ": 1";
  const std::string b(block);
  if (b == "top") return kv;
  if (b == "authorization") return "authorization { " + kv + " }";
  if (b == "user") return "authorization { users: [ { user: x, " + kv + " } ] }";
  if (b == "permissions") return "authorization { users: [ { user: x, permissions: { " + kv + " } } ] }";
  if (b == "subject_permission")
    return "authorization { users: [ { user: x, permissions: { publish: { " + kv + " } } } ] }";
  if (b == "allow_responses")
    return "authorization { users: [ { user: x, permissions: { allow_responses: { " + kv + " } } } ] }";
  if (b == "account") return "accounts { A { " + kv + " } }";
  if (b == "account_limits") return "accounts { A { limits { " + kv + " } } }";
  if (b == "account_jetstream") return "accounts { A { jetstream { " + kv + " } } }";
  if (b == "export") return "accounts { A { exports: [ { stream: s, " + kv + " } ] } }";
  if (b == "import")
    return "accounts { A { imports: [ { stream: { account: B, subject: s }, " + kv +
           " } ] }, B { exports: [ { stream: s } ] } }";
  if (b == "import_source") return "accounts { A { imports: [ { stream: { " + kv + " } } ] } }";
  if (b == "cluster") return "cluster { " + kv + " }";
  if (b == "cluster_authorization") return "cluster { authorization { " + kv + " } }";
  if (b == "gateway") return "gateway { name: g, " + kv + " }";
  if (b == "gateway_authorization") return "gateway { name: g, authorization { " + kv + " } }";
  if (b == "remote_gateway") return "gateway { name: g, gateways: [ { name: h, " + kv + " } ] }";
  if (b == "jetstream") return "jetstream { " + kv + " }";
  if (b == "websocket") return "websocket { " + kv + " }";
  if (b == "websocket_authorization") return "websocket { authorization { " + kv + " } }";
  if (b == "leafnodes") return "leafnodes { " + kv + " }";
  if (b == "leafnode_authorization") return "leafnodes { authorization { " + kv + " } }";
  if (b == "leafnode_remote") return "leafnodes { remotes: [ { " + kv + " } ] }";
  if (b == "leafnode_user") return "leafnodes { authorization { users: [ { " + kv + " } ] } }";
  // leafnodes { tls }: the one block where every honoured tls key is (verify_and_map).
  if (b == "tls") return "leafnodes { tls { cert_file: a, key_file: b, " + kv + " } }";
  if (b == "resolver_tls") return "resolver_tls { " + kv + " }";
  if (b == "mapping_destination") return "mappings { foo: [ { destination: bar, weight: 50%, " + kv + " } ] }";
  ADD_FAILURE() << "no config template for block " << b;
  return "";
}

TEST(KeyDecisions, LoaderActsAsDecided) {
  for (const auto& r : key_rules()) {
    if (r.block == "flag") continue;
    const std::string key(r.key);
    const std::string text = config_with(r.block, key);
    SCOPED_TRACE(std::string(r.block) + "." + key + " in: " + text);
    Options o;
    LoadReport report;
    std::string error;
    try {
      report = apply_config(parse_config_string(text, "t.conf"), o, true);
    } catch (const std::exception& e) {
      error = e.what();
    }
    const std::string refusal = ": " + key + " is not supported by this server";
    bool was_ignored = false;
    for (const auto& i : report.ignored) was_ignored |= i.size() > key.size() && i.ends_with(": " + key);
    switch (r.decision) {
      case KeyDecision::Refused:
        EXPECT_NE(error.find(refusal), std::string::npos) << error;
        EXPECT_EQ(error.rfind("t.conf:1:", 0), 0u) << error;
        break;
      case KeyDecision::Ignored:
        EXPECT_EQ(error, "");
        EXPECT_TRUE(was_ignored);
        break;
      case KeyDecision::Honoured:
        // The value 1 may be the wrong type for the key; what matters is that the key was
        // taken for what it is.
        EXPECT_EQ(error.find(refusal), std::string::npos) << error;
        EXPECT_EQ(error.find("unknown field \"" + key + "\""), std::string::npos) << error;
        EXPECT_EQ(error.find("Unknown field \"" + key + "\""), std::string::npos) << error;
        EXPECT_EQ(error.find("unknown field [\"" + key + "\"]"), std::string::npos) << error;
        EXPECT_FALSE(was_ignored);
        break;
    }
  }
}

TEST(KeyDecisions, CommandLineActsAsDecided) {
  for (const auto& r : key_rules()) {
    if (r.block != "flag") continue;
    const std::string flag = "-" + std::string(r.key);
    SCOPED_TRACE(flag);
    CommandLine cl;
    std::string error;
    // `=value` works for every kind of flag; "1" parses as bool, int and string.
    bool ok = parse_command_line(std::vector<std::string>{flag + "=1"}, cl, error);
    switch (r.decision) {
      case KeyDecision::Refused:
        EXPECT_FALSE(ok);
        EXPECT_EQ(error, flag + " is not supported by this server");
        break;
      case KeyDecision::Ignored:
        EXPECT_TRUE(ok) << error;
        EXPECT_EQ(cl.ignored.count(std::string(r.key)), 1u);
        break;
      case KeyDecision::Honoured:
        EXPECT_TRUE(ok) << error;
        EXPECT_EQ(cl.ignored.count(std::string(r.key)), 0u);
        break;
    }
  }
  // A flag unknown to the table is refused as Go's flag package refuses it.
  CommandLine cl;
  std::string error;
  EXPECT_FALSE(parse_command_line(std::vector<std::string>{"--pool_size=3"}, cl, error));
  EXPECT_EQ(error, "flag provided but not defined: -pool_size");
}

TEST(KeyDecisions, WebsocketNeedsTlsOrNoTls) {
  auto load = [](const std::string& text) {
    Options o;
    try {
      apply_config(parse_config_string(text, "ws.conf"), o, false);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(load("websocket { port: 8080 }"), "websocket requires TLS configuration");
  EXPECT_EQ(load("websocket { no_tls: true }"), "");  // no port: nothing to check, as the reference
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, compression: false, same_origin: true,\n"
                 "allowed_origins: [\"https://example.com\"], handshake_timeout: \"3s\" }"),
            "");
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, allowed_origins: [\"example\"] }"),
            "unable to parse allowed origin: example");
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, compression: true }"), "");
  EXPECT_EQ(load("websocket { port: 8080, tls { cert_file: a, key_file: b } }"), "");  // wss needs no no_tls
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, jwt_cookie: c }"),
            "trusted operators or trusted keys configuration is required for JWT authentication via cookie \"c\"");
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, authorization { user: a, pass: b, timeout: 3 } }"), "");
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, advertise: \"h:1\" }"), "");
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, advertise: \"[::1]\" }"), "");
  EXPECT_EQ(load("websocket { port: 8080, no_tls: true, advertise: \"a:b:c\" }"),
            "Unable to get websocket connect URLs: invalid advertise address a:b:c");

  Options o;
  apply_config(parse_config_string("ws { listen: \"127.0.0.1:8081\", no_tls: true, handshake_timeout: 3 }", "w.conf"), o, false);
  EXPECT_TRUE(o.websocket.configured);
  EXPECT_EQ(o.websocket.host, "127.0.0.1");
  EXPECT_EQ(o.websocket.port, 8081);
  EXPECT_EQ(o.websocket.handshake_timeout, std::chrono::seconds(3));
}

TEST(KeyDecisions, RefusalNamesFileLineAndColumn) {
  Options o;
  try {
    apply_config(parse_config_string("port: 4222\n  trusted_keys: /x.jwt\n", "op.conf"), o, false);
    FAIL() << "trusted_keys accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "op.conf:2:3: trusted_keys is not supported by this server");
  }
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID
