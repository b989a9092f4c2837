// Options: every setting the server runs with, filled from defaults, then the config
// file, then command-line flags (flags win). Field names follow the reference server's
// config keys so a reader can map one to the other.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nats {

using Duration = std::chrono::nanoseconds;

// Defaults of the reference server (server/const.go).
inline constexpr int kDefaultPort = 4222;
inline constexpr int kDefaultHttpPort = 8222;
inline constexpr int64_t kDefaultMaxPayload = 1024 * 1024;
inline constexpr int kDefaultMaxControlLine = 4096;
inline constexpr int64_t kDefaultMaxPending = 64 * 1024 * 1024;
inline constexpr int kDefaultMaxConnections = 64 * 1024;
inline constexpr int kDefaultPingMax = 2;

struct SubjectPermission {
  std::vector<std::string> allow;
  std::vector<std::string> deny;

  bool operator==(const SubjectPermission&) const = default;
};

struct ResponsePermission {
  int max_msgs = 0;
  Duration expires{0};

  bool operator==(const ResponsePermission&) const = default;
};

struct Permissions {
  std::optional<SubjectPermission> publish;
  std::optional<SubjectPermission> subscribe;
  std::optional<ResponsePermission> response;  // allow_responses

  bool operator==(const Permissions&) const = default;
};

struct User {
  std::string username;
  std::string password;  // plain or bcrypt ("$2a$...")
  std::string nkey;
  std::string account;   // empty: global account
  std::optional<Permissions> permissions;
  std::vector<std::string> allowed_connection_types;

  bool operator==(const User&) const = default;
};

// One entry of an account's exports or imports.
struct StreamExport {
  std::string subject;
  std::vector<std::string> accounts;
  bool operator==(const StreamExport&) const = default;
};
// Latency tracking of a service export (`latency` in the config, `service_latency` in an
// account JWT): a sampled request's measurement is published on `subject` in the exporting
// account (service_latency.h).
struct ServiceLatencyConfig {
  int sampling = 100;  // percent 1-100; 0: only requests whose tracing headers ask for it
  std::string subject;

  bool operator==(const ServiceLatencyConfig&) const = default;
};

struct ServiceExport {
  std::string subject;
  std::vector<std::string> accounts;
  std::string response_type;  // "Singleton" (default), "Stream", "Chunked"
  Duration response_threshold{0};
  std::optional<ServiceLatencyConfig> latency;

  bool operator==(const ServiceExport&) const = default;
};
// One destination of a subject mapping (`mappings` at the top level or in an account).
struct MappingDestConfig {
  std::string subject;
  int weight = 100;     // percent
  std::string cluster;  // empty: any cluster

  bool operator==(const MappingDestConfig&) const = default;
};
struct MappingConfig {
  std::string src;
  std::vector<MappingDestConfig> dests;

  bool operator==(const MappingConfig&) const = default;
};

// `invalid`: operator mode, an import whose activation token expired while the server ran
// (2.9.10 marks it invalid: listed in /accountz, a stream import delivers nothing, a service
// import keeps its subscription but forwards nothing); the next account update drops it.
struct StreamImport {
  std::string account, subject, prefix, to;
  bool invalid = false;
  bool operator==(const StreamImport&) const = default;
};
struct ServiceImport {
  std::string account, subject, to;
  bool invalid = false;
  bool share = false;  // latency reports carry the requester's details, not only acc and rtt
  bool operator==(const ServiceImport&) const = default;
};

// An account's JetStream limits (the reference's JetStreamAccountLimits, the same from the
// config and from an account JWT): -1 unlimited; a byte limit of 0 allows nothing.
struct JsAccountLimits {
  int64_t max_memory = -1;
  int64_t max_store = -1;
  int64_t max_streams = -1;
  int64_t max_consumers = -1;
  int64_t max_ack_pending = -1;
  int64_t memory_max_stream_bytes = -1;
  int64_t store_max_stream_bytes = -1;
  bool max_bytes_required = false;

  bool operator==(const JsAccountLimits&) const = default;
};

struct AccountConfig {
  std::string name;
  std::vector<User> users;
  std::vector<StreamExport> stream_exports;
  std::vector<ServiceExport> service_exports;
  std::vector<StreamImport> stream_imports;
  std::vector<ServiceImport> service_imports;
  std::optional<Permissions> default_permissions;
  int max_connections = -1;
  int max_subscriptions = -1;
  int64_t max_payload = -1;
  int max_leafnodes = -1;  // leaf connections bound to the account (limits { max_leafnodes })
  std::vector<MappingConfig> mappings;
  bool jetstream = false;       // jetstream: enabled
  JsAccountLimits js_limits;    // jetstream { max_memory, max_streams, ... }
  std::string nkey;

  bool operator==(const AccountConfig&) const = default;
};

// A `tls` block (top level: client connections; in cluster and gateway: routes and gateways). The reference's default handshake timeout is 2 s.
struct TlsOptions {
  bool enabled = false;
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool verify = false;  // require and verify a client certificate
  bool map = false;     // verify_and_map: the certificate names the user
  // verify_cert_and_check_known_urls (cluster and gateway blocks only): an accepted peer's
  // certificate must have a DNS name matching the host of one of the configured routes or
  // gateway URLs (RFC 6125 rules, a leftmost "*" label as wildcard); implies verify.
  bool check_known_urls = false;
  std::vector<std::string> pinned_certs;  // lower-case hex SHA-256 of the DER SubjectPublicKeyInfo
  Duration timeout{std::chrono::seconds(2)};
  // insecure: a dialing side (leaf remotes, routes, gateways) does not check the server's
  // certificate chain nor its name (Go's InsecureSkipVerify); no effect on accepted sides.
  bool insecure = false;

  bool operator==(const TlsOptions&) const = default;
};

struct RemoteGateway {
  std::string name;
  std::vector<std::string> urls;

  bool operator==(const RemoteGateway&) const = default;
};

struct ClusterOptions {
  bool configured = false;
  TlsOptions tls;
  std::string name;
  std::string host = "0.0.0.0";
  int port = 0;
  std::vector<std::string> routes;  // nats-route:// URLs
  std::string username, password;   // authorization for routes
  Duration auth_timeout{0};         // authorization { timeout }; 0: the default (config/link_auth_timeout.h)
  bool no_advertise = false;
  int connect_retries = 0;
  std::string advertise;

  bool operator==(const ClusterOptions&) const = default;
};

struct GatewayOptions {
  bool configured = false;
  TlsOptions tls;
  std::string name;
  std::string host = "0.0.0.0";
  int port = 0;
  std::vector<RemoteGateway> gateways;
  std::string username, password;
  Duration auth_timeout{0};  // as the cluster's (accepted gateways, with or without a user)
  int connect_retries = 0;
  std::string advertise;
  bool reject_unknown = false;

  bool operator==(const GatewayOptions&) const = default;
};

// leafnodes { }: the accepting side (a listener other servers solicit as their hub).
// Users of `authorization` bind a leaf connection to an account; without them the
// client users apply, as the reference does.
struct LeafUser {
  std::string user, password, account;
  bool operator==(const LeafUser&) const = default;
};
// One entry of leafnodes { remotes: [...] }: a hub this server solicits.
struct RemoteLeaf {
  std::vector<std::string> urls;  // nats-leaf://[user:pass@]host:port, or ws[s]://host:port[/path]
  std::string account;            // the local account bound to it (empty: $G)
  bool hub = false;               // we are the hub on this connection
  std::string credentials;        // creds file: its user JWT and the nonce signed by its seed
  std::vector<std::string> deny_imports;  // subjects we neither subscribe to nor accept from the hub
  std::vector<std::string> deny_exports;  // subjects we do not send to the hub
  // tls { }: this side is the TLS client; cert_file/key_file only for a client certificate.
  // TLS is also used when the hub's INFO requires it (then against the system's roots).
  TlsOptions tls;
  // ws:// or wss:// URLs (all or none): the hub's websocket port, ws_compression asks for
  // permessage-deflate, ws_no_masking for unmasked frames (Nats-No-Masking).
  bool ws_compression = false;
  bool ws_no_masking = false;
  // jetstream_cluster_migrate: while the hub cannot be reached, this server gives up leading
  // the account's replicated streams and consumers (LeafManager::migrate_jetstream).
  bool js_cluster_migrate = false;
  bool operator==(const RemoteLeaf&) const = default;
};
struct LeafNodeOptions {
  bool configured = false;
  std::vector<RemoteLeaf> remotes;
  Duration reconnect{std::chrono::seconds(1)};  // delay between connection attempts
  std::string host = "0.0.0.0";
  int port = 0;  // 0: no listener (-1: a random port)
  std::string advertise;
  bool no_advertise = false;
  std::string username, password, account;  // authorization { user, password, account }
  std::vector<LeafUser> users;               // authorization { users: [...] }
  Duration auth_timeout{0};                  // 0: the default (config/link_auth_timeout.h)
  TlsOptions tls;                            // accepted leafs: INFO in clear, then TLS
  std::string min_version;                   // accepted leafs older than this are rejected (>= 2.8.0)

  bool operator==(const LeafNodeOptions&) const = default;
};

// websocket { } for NATS clients (browsers, nats.ws). Without a tls block the reference
// requires no_tls: true.
struct WebsocketOptions {
  bool configured = false;
  std::string host = "0.0.0.0";
  int port = 0;  // 0: no listener (-1: a random port)
  std::string advertise;  // host[:port] announced as ws_connect_urls (port defaults to the listener's)
  bool no_tls = false;
  TlsOptions tls;  // wss: used whenever present, even with no_tls (as the reference)
  bool compression = false;  // permessage-deflate when the client offers it
  // authorization { user, password, token, timeout }: an override for websocket clients.
  std::string username, password, token;
  Duration auth_timeout{0};  // 0: the server's auth timeout
  std::string no_auth_user;
  std::string jwt_cookie;  // a cookie holding the user JWT (operator mode)
  bool same_origin = false;
  std::vector<std::string> allowed_origins;
  Duration handshake_timeout{0};  // 0: the client authentication timeout bounds it

  bool operator==(const WebsocketOptions&) const = default;
};

struct JetStreamOptions {
  bool enabled = false;
  std::string store_dir;
  int64_t max_memory = -1;   // -1: computed from the machine
  int64_t max_file = -1;
  std::string domain;
  Duration sync_interval{std::chrono::minutes(2)};
  bool sync_always = false;
  std::string unique_tag;

  bool operator==(const JetStreamOptions&) const = default;
};

// The account resolver of operator mode (`resolver`). MEMORY: accounts only from
// resolver_preload; FULL: a directory of account JWTs that takes updates; CACHE: a directory
// of the JWTs looked up from other servers (at most `limit`, LRU, each kept `ttl` after its
// last use, or until it expires if ttl is 0); URL: each account JWT fetched over HTTP from
// `url` followed by the account's public key.
struct ResolverOptions {
  std::string type;  // empty: none; "MEMORY", "FULL", "CACHE" or "URL"
  std::string dir;
  std::string url;  // URL: the base URL, ending in '/'
  bool allow_delete = false;
  int64_t limit = 0;  // most JWTs stored; 0: no limit (CACHE: 1,000)
  Duration interval{std::chrono::minutes(1)};
  Duration ttl{0};
  // How long a lookup of a missing account JWT from the other servers waits for an answer.
  Duration fetch_timeout{std::chrono::milliseconds(1900)};

  bool operator==(const ResolverOptions&) const = default;
};

struct Options {
  std::string config_file;

  // Client listener.
  std::string host = "0.0.0.0";
  int port = kDefaultPort;
  std::string server_name;
  std::string client_advertise;
  bool no_advertise = false;

  // Limits.
  int64_t max_payload = kDefaultMaxPayload;
  int max_control_line = kDefaultMaxControlLine;
  int64_t max_pending = kDefaultMaxPending;
  int max_connections = kDefaultMaxConnections;
  int max_subscriptions = 0;  // 0: unlimited
  int max_sub_tokens = 0;     // 0: unlimited; else SUBs with more tokens are refused
  bool no_header_support = false;  // INFO says headers:false; HPUB refused
  Duration ping_interval{std::chrono::minutes(2)};
  int ping_max = kDefaultPingMax;
  Duration write_deadline{std::chrono::seconds(10)};
  Duration auth_timeout{std::chrono::seconds(2)};  // "timeout" in authorization

  // Authentication (top-level authorization block or flags).
  bool authorization_configured = false;
  std::string username;
  std::string password;
  std::string authorization;  // token
  std::vector<User> users;
  std::optional<Permissions> default_permissions;
  std::string no_auth_user;

  // Accounts.
  std::vector<AccountConfig> accounts;
  std::vector<MappingConfig> mappings;  // top-level `mappings`: the global account's
  std::string system_account;  // empty: "$SYS" when that account exists
  bool no_system_account = false;

  // Operator mode (decentralized JWT auth): the operator JWTs as given, the public keys
  // trusted to sign account JWTs (each operator's identity and signing keys), the resolver,
  // and the account JWTs preloaded into it (by account public key).
  std::vector<std::string> operator_jwts;
  std::vector<std::string> trusted_keys;
  ResolverOptions resolver;
  // resolver_tls { cert_file, key_file, ca_file, verify, insecure } for an https URL
  // resolver, as 2.9.10 behaves: cert/key are the client certificate, the server's
  // certificate is checked against ca_file, else the system's roots, unless `insecure`;
  // verify (a server-side setting) has no effect on a client.
  TlsOptions resolver_tls;
  bool resolver_tls_insecure = false;
  std::map<std::string, std::string> resolver_preload;
  bool operator_mode() const { return !trusted_keys.empty(); }

  // Monitoring.
  std::string http_host;  // empty: same as host
  int http_port = 0;      // 0: off
  int https_port = 0;
  std::string http_base_path;

  // Logging.
  std::string log_file;
  bool logtime = true;
  bool debug = false;
  bool trace = false;
  bool trace_verbose = false;  // -VV: also trace the system account
  std::string pid_file;
  std::string ports_file_dir;

  Duration lame_duck_duration{std::chrono::minutes(2)};
  Duration lame_duck_grace_period{std::chrono::seconds(10)};

  ClusterOptions cluster;
  GatewayOptions gateway;
  LeafNodeOptions leafnode;
  WebsocketOptions websocket;
  JetStreamOptions jetstream;
  TlsOptions tls;

  std::map<std::string, std::string> tags_metadata;
  std::vector<std::string> tags;

  bool check_config = false;  // -t: test the config and exit

  bool operator==(const Options&) const = default;
};

}  // namespace nats
