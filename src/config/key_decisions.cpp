#include "config/key_decisions.h"

#include <initializer_list>

namespace nats::config {

namespace {

using D = KeyDecision;

void add(std::vector<KeyRule>& t, std::string_view block, D d, std::initializer_list<std::string_view> keys) {
  for (auto k : keys) t.push_back(KeyRule{block, k, d});
}

std::vector<KeyRule> build() {
  std::vector<KeyRule> t;
  // Top level (the reference's processConfigFileLine).
  add(t, "top", D::Honoured,
      {"listen", "client_advertise", "port", "server_name", "host", "net", "debug", "trace", "trace_verbose",
       "logtime", "accounts", "authorization", "http", "http_port", "monitor_port", "http_base_path", "cluster", "gateway", "leafnodes", "leaf", "store_dir", "storedir", "jetstream", "websocket", "ws", "logfile", "log_file",
       "https", "https_port",
       "pidfile", "pid_file", "max_control_line", "max_payload", "max_pending", "max_connections", "max_conn",
       "max_subscriptions", "max_subs", "max_sub_tokens", "max_subscription_tokens", "no_header_support", "ports_file_dir", "ping_interval", "ping_max", "tls", "write_deadline",
       "lame_duck_duration", "lame_duck_grace_period", "no_auth_user", "system_account", "system",
       "no_system_account", "no_system", "no_sys_acc", "server_tags", "mappings", "maps", "operator", "operators",
       "roots", "root", "root_operators", "root_operator", "resolver", "account_resolver", "accounts_resolver",
       "resolver_preload", "resolver_tls"});
  // Performance knobs, logging destinations and diagnostics: no client sees a difference.
  add(t, "top", D::Ignored,
      {"disable_sublist_cache", "no_sublist_cache", "logfile_size_limit", "log_size_limit", "syslog",
       "remote_syslog", "prof_port", "max_traced_msg_len", "connect_error_reports",
       "reconnect_error_reports"});
  add(t, "top", D::Refused,
      {"mqtt", "resolver_pinned_accounts", "trusted",
       "trusted_keys", "ocsp", "allow_non_tls",
       "default_js_domain"});

  // authorization { } (parseAuthorization). auth_callout is 2.10's; named so that it is
  // refused clearly rather than reported as unknown.
  add(t, "authorization", D::Honoured,
      {"user", "username", "pass", "password", "token", "timeout", "users", "default_permission",
       "default_permissions", "permissions"});
  add(t, "authorization", D::Refused, {"auth_callout"});

  // One entry of a users list (parseUsers), at the top level or in an account.
  add(t, "user", D::Honoured,
      {"nkey", "user", "username", "pass", "password", "permission", "permissions", "authorization",
       "allowed_connection_types", "connection_types", "clients"});

  add(t, "permissions", D::Honoured,
      {"pub", "publish", "import", "sub", "subscribe", "export", "publish_allow_responses", "allow_responses"});
  add(t, "subject_permission", D::Honoured, {"allow", "deny"});
  add(t, "allow_responses", D::Honoured,
      {"max", "max_msgs", "max_messages", "max_responses", "expires", "expiration", "ttl"});

  // One account of the accounts block (parseAccounts). An account's nkey has no effect
  // outside operator mode, in the reference as here; it is validated.
  add(t, "account", D::Honoured,
      {"nkey", "imports", "exports", "jetstream", "users", "default_permissions", "limits", "mappings", "maps"});
  add(t, "account_limits", D::Honoured,
      {"max_connections", "max_conn", "max_subscriptions", "max_subs", "max_payload", "max_pay", "max_leafnodes",
       "max_leafs"});
  // Per-account JetStream limits, enforced at stream/consumer create and at store time.
  add(t, "account_jetstream", D::Honoured,
      {"max_memory", "max_mem", "mem", "memory", "max_store", "max_file", "max_disk", "store", "disk",
       "max_streams", "streams", "max_consumers", "consumers", "max_bytes_required", "max_stream_bytes",
       "max_bytes", "mem_max_stream_bytes", "memory_max_stream_bytes", "disk_max_stream_bytes",
       "store_max_stream_bytes", "max_ack_pending"});
  // latency: service latency tracking (server/service_latency.h); its block's keys are read
  // as the reference reads them (sampling, subject; others not looked at).
  add(t, "export", D::Honoured,
      {"stream", "service", "response", "response_type", "threshold", "response_threshold", "response_max_time",
       "response_time", "accounts", "latency"});
  add(t, "export", D::Refused, {"account_token_position"});
  // share: whether latency reports carry the importer's details.
  add(t, "import", D::Honoured, {"stream", "service", "prefix", "to", "share"});
  add(t, "import_source", D::Honoured, {"account", "subject"});

  // One weighted destination of a subject mapping (parseAccountMapDest).
  add(t, "mapping_destination", D::Honoured, {"dest", "destination", "weight", "cluster"});

  // cluster { } (parseCluster) and its authorization (parseAuthorization, restricted).
  add(t, "cluster", D::Honoured,
      {"name", "listen", "port", "host", "net", "authorization", "routes", "tls", "cluster_advertise", "advertise",
       "no_advertise", "connect_retries"});
  add(t, "cluster", D::Refused, {"permissions"});
  // timeout: how long an accepted route may take to send its CONNECT (when a user is
  // required) and an accepted gateway (always), as 2.9.10 (cluster/link_connection.h).
  add(t, "cluster_authorization", D::Honoured, {"user", "username", "pass", "password", "users", "token", "timeout"});
  add(t, "cluster_authorization", D::Refused, {"permissions", "default_permission", "default_permissions"});

  // gateway { } (parseGateway). The reference parses and then drops permissions in the
  // gateway's authorization block.
  add(t, "gateway", D::Honoured,
      {"name", "listen", "port", "host", "net", "authorization", "tls", "advertise", "gateways", "reject_unknown",
       "reject_unknown_cluster", "connect_retries"});
  add(t, "gateway_authorization", D::Honoured, {"user", "username", "pass", "password", "users", "token", "timeout"});
  add(t, "gateway_authorization", D::Ignored, {"permissions", "default_permission", "default_permissions"});
  add(t, "remote_gateway", D::Honoured, {"name", "url", "urls"});

  // leafnodes { } (parseLeafNodes): both sides; min_version rejects older accepted leafs.
  // Leaf authorization has no
  // token or permissions in the reference either: those are unknown fields there and here.
  add(t, "leafnodes", D::Honoured,
      {"listen", "port", "host", "net", "authorization", "advertise", "leafnode_advertise", "no_advertise", "remotes",
       "reconnect", "reconnect_delay", "reconnect_interval", "tls", "min_version", "minimum_version"});
  // One remote (parseRemoteLeafNodes). URLs are tried in order (no_randomize is what this
  // server always does); ws:// and wss:// URLs go to a hub's websocket port.
  add(t, "leafnode_remote", D::Honoured,
      {"url", "urls", "account", "local", "hub", "no_randomize", "dont_randomize", "deny_imports", "deny_import",
       "deny_exports", "deny_export", "creds", "credentials", "tls", "ws_compress", "ws_compression",
       "websocket_compress", "websocket_compression", "ws_no_masking", "websocket_no_masking",
       "jetstream_cluster_migrate", "js_cluster_migrate"});
  add(t, "leafnode_authorization", D::Honoured, {"user", "username", "pass", "password", "account", "timeout", "users"});
  add(t, "leafnode_user", D::Honoured, {"user", "username", "pass", "password", "account"});

  // websocket { } (parseWebsocket): wss with a tls block, permessage-deflate, the
  // authorization override and jwt_cookie (src/server/ws_auth.cpp); advertise is the URL
  // gossiped to the cluster's websocket clients (ws_connect_urls).
  add(t, "websocket", D::Honoured,
      {"listen", "port", "host", "net", "advertise", "no_tls", "tls", "same_origin", "allowed_origins", "allowed_origin",
       "allow_origins", "allow_origin", "origins", "origin", "handshake_timeout", "compress", "compression",
       "authorization", "authentication", "jwt_cookie", "no_auth_user"});
  // parseSimpleAuth: `users` is an unknown field there, as here.
  add(t, "websocket_authorization", D::Honoured, {"user", "username", "pass", "password", "token", "timeout"});
  add(t, "remote_gateway", D::Refused, {"tls"});

  // jetstream { } (parseJetStream). sync_interval is 2.10's and implemented.
  add(t, "jetstream", D::Honoured,
      {"enabled", "enable", "store", "store_dir", "storedir", "max_memory_store", "max_mem_store", "max_mem",
       "max_file_store", "max_file", "sync_interval", "unique_tag", "domain"});
  // extension_hint and max_outstanding_catchup tune the reference's clustered catch-up.
  add(t, "jetstream", D::Ignored, {"extension_hint", "max_outstanding_catchup"});
  add(t, "jetstream", D::Refused, {"key", "ek", "encryption_key", "cipher", "limits"});

  // tls { } (parseTLS), wherever it appears.
  // verify_and_map in every accepting block; pinned_certs but in a leaf remote's block:
  // the loader refuses them there.
  // insecure skips the server certificate's checks where this side dials (leaf remotes,
  // routes, gateways); elsewhere it does nothing, in the reference too.
  // verify_cert_and_check_known_urls: true only in the cluster and gateway blocks (accepted
  // routes' and gateways' certificates against the configured URLs); elsewhere refused with
  // 2.9.10's "not supported in this context".
  add(t, "tls", D::Honoured,
      {"cert_file", "key_file", "ca_file", "verify", "timeout", "verify_and_map", "pinned_certs", "insecure",
       "verify_cert_and_check_known_urls"});
  add(t, "tls", D::Refused, {"cipher_suites", "curve_preferences", "connection_rate_limit"});
  // resolver_tls { } (parseTLS for a client: the URL resolver's HTTPS client).
  add(t, "resolver_tls", D::Honoured, {"cert_file", "key_file", "ca_file", "verify", "timeout", "insecure"});
  add(t, "resolver_tls", D::Refused,
      {"verify_and_map", "verify_cert_and_check_known_urls", "cipher_suites", "curve_preferences",
       "connection_rate_limit", "pinned_certs"});

  // Command-line flags (ConfigureOptions). http, no_auth_user and log_size_limit are later
  // releases' flags.
  add(t, "flag", D::Honoured,
      {"h", "help", "port", "p", "n", "name", "server_name", "addr", "a", "net", "client_advertise", "D", "debug",
       "V", "VV", "trace", "DV", "DVV", "T", "logtime", "user", "pass", "auth", "m", "http_port", "c", "config", "t", "sl", "signal", "P", "pid", "l", "log", "version", "v", "routes",
       "cluster", "cluster_listen", "cluster_advertise", "no_advertise", "cluster_name", "help_tls", "tls",
       "tlsverify", "tlscert", "tlskey", "tlscacert", "js", "jetstream", "sd", "store_dir", "http", "ports_file_dir",
       "no_auth_user", "connect_retries", "ms", "https_port"});
  add(t, "flag", D::Ignored,
      {"s", "syslog", "r", "remote_syslog", "profile", "max_traced_msg_len", "log_size_limit"});
  return t;
}

}  // namespace

const std::vector<KeyRule>& key_rules() {
  static const std::vector<KeyRule> t = build();
  return t;
}

std::optional<KeyDecision> decide_key(std::string_view block, std::string_view key) {
  for (const auto& r : key_rules())
    if (r.block == block && r.key == key) return r.decision;
  return std::nullopt;
}

}  // namespace nats::config
