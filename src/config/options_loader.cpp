#include "config/options_loader.h"
#include "util/strings.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <set>

#include "config/duration.h"
#include "config/key_decisions.h"
#include "config/operator_options.h"
#include "net/ws_handshake.h"
#include "config/parser.h"
#include "cluster/cluster_util.h"
#include "util/semver.h"
#include "server/imports.h"
#include "server/jwt_claims.h"
#include "server/url_account_fetcher.h"
#include "subject/subject.h"
#include "subject/subject_mapping.h"
#include "util/nkey.h"

namespace nats::config {

namespace {

// The URL of `resolver: URL("<url>")` as the reference's pattern reads it (case-insensitive
// "URL", then optionally a parenthesised, optionally quoted URL); nullopt if the value has no
// "URL" at all.
std::optional<std::string> resolver_url(const std::string& v) {
  std::string lower = util::ascii_lower(v);
  size_t at = lower.find("url");
  if (at == std::string::npos) return std::nullopt;
  size_t i = at + 3;
  auto skip_spaces = [&] {
    while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
  };
  if (i >= v.size() || v[i] != '(') return std::string();
  ++i;
  skip_spaces();
  if (i < v.size() && v[i] == '"') ++i;
  size_t start = i;
  while (i < v.size() && v[i] != '"' && !std::isspace(static_cast<unsigned char>(v[i]))) ++i;
  std::string url = v.substr(start, i - start);
  if (i < v.size() && v[i] == '"') ++i;
  skip_spaces();
  if (i < v.size() && v[i] == ')') return url;
  // Unquoted, the closing parenthesis was read into the URL: give it back (as the pattern's
  // backtracking does).
  if (!url.empty() && url.back() == ')') {
    url.pop_back();
    return url;
  }
  return std::string();
}

std::string where(const Position& p) {
  return p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
}

struct Loader {
  Options& o;
  bool check;
  LoadReport report;
  std::vector<ConfigError> errors;

  void error(const Position& p, std::string msg) { errors.emplace_back(p, std::move(msg)); }
  void warn(const Position& p, const std::string& msg) {
    report.warnings.push_back(where(p) + ": " + msg);
  }
  void ignore(const MapEntry& e) { report.ignored.push_back(where(e.key_pos) + ": " + e.key); }
  void unknown_permission(const MapEntry& e) {
    if (!e.used_as_variable) error(e.key_pos, "Unknown field \"" + e.key + "\" parsing permissions");
  }
  enum class Unknown { Field, Permission, Tls, MappingDest };
  void report_unknown(const MapEntry& e, Unknown style) {
    if (style == Unknown::Permission) unknown_permission(e);
    else if (style == Unknown::MappingDest) error(e.key_pos, "Unknown field \"" + e.key + "\" for mapping destination");
    else if (style == Unknown::Tls) error(e.key_pos, "error parsing tls config, unknown field [\"" + e.key + "\"]");
    else unknown(e);
  }
  // Every key passes the decision table (config/key_decisions.h) before any handler sees
  // it: true only for honoured keys. Refused keys stop the server; ignored ones are logged.
  bool admit(std::string_view block, const std::string& k, const MapEntry& e, Unknown style = Unknown::Field) {
    auto d = decide_key(block, k);
    if (!d) {
      report_unknown(e, style);
      return false;
    }
    if (*d == KeyDecision::Refused) error(e.key_pos, e.key + " is not supported by this server");
    else if (*d == KeyDecision::Ignored) ignore(e);
    return *d == KeyDecision::Honoured;
  }
  // `each` restricted to the honoured keys of `block`.
  void each_in(std::string_view block, const Value& v, const std::function<void(const std::string&, const MapEntry&)>& fn,
               Unknown style = Unknown::Field) {
    each(v, [&](const std::string& k, const MapEntry& e) {
      if (admit(block, k, e, style)) fn(k, e);
    });
  }

  void operators(const MapEntry& e) {
    if (!e.value.is_string() && !e.value.is_array()) {
      error(e.key_pos, std::string("error parsing operators: unsupported type ") + e.value.type_name());
      return;
    }
    o.operator_jwts.clear();
    for (const auto& f : string_list(e.value))
      if (auto err = add_operator(f, o); !err.empty()) error(e.key_pos, "error parsing operator JWT: " + err);
  }

  // MEMORY, URL("<base url>"), or a map for the directory resolvers (type FULL or CACHE),
  // with the reference's checks and messages. http:// and https:// URLs (resolver_tls) are
  // fetched; others are refused rather than tried.
  void resolver(const MapEntry& e) {
    if (e.value.is_string()) {
      std::string t = util::ascii_lower(e.value.as_string());
      while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
      if (t == "mem" || t == "memory") {
        o.resolver = ResolverOptions{};
        o.resolver.type = "MEMORY";
        return;
      }
      if (auto url = resolver_url(e.value.as_string())) {
        HttpUrl parsed;
        if (!parse_http_url(*url, parsed)) {
          error(e.key_pos, e.key + " URL \"" + *url + "\" is not supported by this server (only http:// and https:// URLs)");
          return;
        }
        o.resolver = ResolverOptions{};
        o.resolver.type = "URL";
        o.resolver.url = *url;
        if (o.resolver.url.back() != '/') o.resolver.url += '/';
        return;
      }
      error(e.key_pos, e.key + " \"" + e.value.as_string() + "\" is not supported by this server");
      return;
    }
    if (!e.value.is_map()) {
      error(e.key_pos, std::string("error parsing operator resolver, wrong type ") + e.value.type_name());
      return;
    }
    ResolverOptions r;
    std::string type;
    bool has_interval = false;
    for (const auto& f : e.value.entries()) {
      const std::string k = util::ascii_lower(f.key);
      if (k == "dir") r.dir = f.value.as_string();
      else if (k == "type") type = f.value.as_string();
      else if (k == "allow_delete") r.allow_delete = f.value.as_bool();
      else if (k == "limit") r.limit = f.value.as_int();
      else if (k == "interval") {
        r.interval = strict_duration(f, "interval");
        has_interval = r.interval.count() != 0;
      } else if (k == "ttl") {
        r.ttl = strict_duration(f, "ttl");
      } else if (k == "timeout") {
        r.fetch_timeout = strict_duration(f, "timeout");
        if (r.fetch_timeout.count() <= 0) {
          error(e.key_pos, "Fetch timeout " + f.value.as_string() + " is too smal");
          return;
        }
      } else error(f.key_pos, "resolver " + f.key + " is not supported by this server");
    }
    if (r.dir.empty()) {
      error(e.key_pos, "dir has no value and needs to point to a directory");
      return;
    }
    std::error_code ec;
    if (std::filesystem::exists(r.dir, ec) && !std::filesystem::is_directory(r.dir, ec)) {
      error(e.key_pos, "dir needs to point to an accessible directory");
      return;
    }
    std::string up = type;
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (up == "CACHE") {
      if (has_interval) error(e.key_pos, "CACHE does not accept sync");
      if (r.allow_delete) error(e.key_pos, "CACHE does not accept allow_delete");
      if (r.limit <= 0) r.limit = 1000;
    } else if (up == "FULL") {
      if (r.ttl.count() != 0) error(e.key_pos, "FULL does not accept ttl");
    } else {
      error(e.key_pos,
            "error parsing account resolver, should be MEM or  URL(\"url\") or a map containing dir and type "
            "state=[FULL|CACHE])");
      return;
    }
    // As the reference: a zero or negative interval means one minute.
    if (r.interval.count() <= 0) r.interval = std::chrono::minutes(1);
    r.type = up;
    o.resolver = r;
  }

  void resolver_preload(const MapEntry& e) {
    if (!e.value.is_map()) {
      error(e.key_pos, "preload should be a map of account_public_key:account_jwt");
      return;
    }
    o.resolver_preload.clear();
    for (const auto& p : e.value.entries()) {
      if (!p.value.is_string()) {
        error(p.value.position(), "preload map value should be a string JWT");
        continue;
      }
      if (std::holds_alternative<std::string>(decode_account_claims(p.value.as_string()))) {
        error(p.value.position(), "invalid account JWT");
        continue;
      }
      o.resolver_preload[p.key] = p.value.as_string();
    }
  }

  // The `tls` block. Settings the reference has but this server does not implement are
  // refused by name rather than ignored.
  // client_ctx: a dialing side's block (a leafnode remote), where a certificate is optional.
  // map_ok: verify_and_map is implemented for this block (every accepting one: client,
  // websocket, cluster, gateway and leafnodes listeners).
  // insecure: resolver_tls's flag (its own key set), else the block's t.insecure.
  // known_urls_ok: verify_cert_and_check_known_urls may be true here (cluster and gateway, the
  // blocks 2.9.10 parses with getTLSConfig).
  void tls(const MapEntry& block, TlsOptions& t, bool client_ctx = false, bool map_ok = false,
           bool* insecure = nullptr, bool known_urls_ok = false) {
    t.enabled = true;
    each_in(insecure ? "resolver_tls" : "tls", block.value, [&](const std::string& k, const MapEntry& e) {
      const Value& v = e.value;
      if (k == "insecure") (insecure ? *insecure : t.insecure) = v.as_bool();
      else if (k == "cert_file") t.cert_file = v.as_string();
      else if (k == "key_file") t.key_file = v.as_string();
      else if (k == "ca_file") t.ca_file = v.as_string();
      else if (k == "verify") t.verify = v.as_bool();
      else if ((k == "verify_and_map" || k == "pinned_certs") && client_ctx) {
        // 2.9.10 parses both in a remote's block and then ignores them (its remotes check the
        // hub against leafnodes { tls { pinned_certs } }); refused rather than ignored.
        error(e.key_pos, e.key + " in a leafnode remote's tls block is not supported by this server");
      } else if (k == "verify_and_map") {
        if (!map_ok) error(e.key_pos, e.key + " is not supported by this server in this tls block");
        t.map = v.as_bool();
        if (t.map) t.verify = true;  // `false` leaves verify as it is (parseTLS)
      } else if (k == "verify_cert_and_check_known_urls") {
        if (!v.is_bool()) {
          error(e.key_pos, "error parsing tls config, expected 'verify_cert_and_check_known_urls' to be a boolean");
          return;
        }
        if (v.as_bool() && !known_urls_ok) {
          error(e.key_pos, "verify_cert_and_check_known_urls not supported in this context");
          return;
        }
        t.check_known_urls = v.as_bool();
        if (t.check_known_urls) t.verify = true;
      } else if (k == "pinned_certs") {
        if (!v.is_array()) {
          error(e.key_pos, "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of "
                           "DER encoded SubjectPublicKeyInfo");
          return;
        }
        t.pinned_certs.clear();
        for (const auto& x : v.as_array()) {
          std::string id = util::ascii_lower(x.as_string());
          bool hex = id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
          if (!hex)
            error(e.key_pos, "error parsing tls config, 'pinned_certs' key " + id +
                                 " does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo");
          else t.pinned_certs.push_back(id);
        }
      } else if (k == "timeout") {
        if (v.is_string()) {
          std::string err;
          auto d = parse_go_duration(v.as_string(), &err);
          if (!d) throw ConfigError(e.key_pos, "error parsing tls timeout: " + err);
          t.timeout = *d;
        } else {
          t.timeout = seconds(v);
        }
      } else error(e.key_pos, "error parsing tls config, unknown field [\"" + e.key + "\"]");
    }, Unknown::Tls);
    if (t.cert_file.empty() && !t.key_file.empty()) error(block.key_pos, "missing 'cert_file' in TLS configuration");
    else if (!t.cert_file.empty() && t.key_file.empty()) error(block.key_pos, "missing 'key_file' in TLS configuration");
    else if (t.cert_file.empty() && !client_ctx) error(block.key_pos, "missing 'cert_file' in TLS configuration");
  }

  void unknown(const MapEntry& e) {
    if (!e.used_as_variable) error(e.key_pos, "unknown field \"" + e.key + "\"");
  }

  // Runs `fn` for each entry of map `v`, with the key lowercased. A ConfigError thrown
  // by a handler (wrong value type) is recorded and the next key is processed, so
  // every problem is reported in one go.
  void each(const Value& v, const std::function<void(const std::string&, const MapEntry&)>& fn) {
    for (const auto& e : v.entries()) {
      try {
        fn(util::ascii_lower(e.key), e);
      } catch (const ConfigError& err) {
        error(err.position(), "field \"" + e.key + "\": " + err.message());
      }
    }
  }

  // ---- scalar helpers --------------------------------------------------------
  static int to_int(const Value& v) {
    int64_t n = v.as_int();
    if (n > INT32_MAX || n < INT32_MIN) throw ConfigError(v.position(), "value is out of range");
    return static_cast<int>(n);
  }

  // Seconds (int or float) as a Duration, rejecting what does not fit in int64 ns.
  static Duration seconds(const Value& v) {
    double secs = v.as_float();
    if (!(secs > -9.2e9 && secs < 9.2e9)) throw ConfigError(v.position(), "duration is out of range");
    if (v.is_int()) return std::chrono::seconds(v.as_int());
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(secs));
  }

  static std::vector<std::string> string_list(const Value& v) {
    std::vector<std::string> out;
    if (v.is_string()) {
      out.push_back(v.as_string());
      return out;
    }
    for (const auto& x : v.as_array()) out.push_back(x.as_string());
    return out;
  }

  // ping_interval and write_deadline: a duration string, or (deprecated) a number of
  // seconds, which the reference accepts with a warning (an error under -t).
  Duration lenient_duration(const MapEntry& e, const std::string& name) {
    const Value& v = e.value;
    if (v.is_string()) {
      std::string err;
      auto d = parse_go_duration(v.as_string(), &err);
      if (!d) throw ConfigError(e.key_pos, "error parsing " + name + ": " + err);
      return *d;
    }
    if (v.is_int()) {
      std::string msg = "invalid use of field \"" + name + "\": " + name +
                        " should be converted to a duration";
      if (check) error(e.key_pos, msg);
      else warn(e.key_pos, msg);
      return seconds(v);
    }
    if (v.is_float()) {
      std::string msg = "invalid use of field \"" + name + "\": " + name +
                        " should be converted to a duration";
      if (check) error(e.key_pos, msg);
      else warn(e.key_pos, msg);
      return seconds(v);
    }
    throw ConfigError(e.key_pos, "error parsing " + name + ": unsupported type " + v.type_name());
  }

  static Duration strict_duration(const MapEntry& e, const std::string& name) {
    std::string err;
    auto d = parse_go_duration(e.value.as_string(), &err);
    if (!d) throw ConfigError(e.key_pos, "error parsing " + name + ": " + err);
    return *d;
  }

  // Authorization "timeout": seconds as a number, or a duration string.
  static Duration seconds_or_duration(const MapEntry& e) {
    const Value& v = e.value;
    if (v.is_string()) return strict_duration(e, e.key);
    return seconds(v);
  }

  // An authorization block's "timeout" (top level, cluster, gateway, leafnodes): seconds as
  // a number, or a duration string. 2.9.10 silently reads any string as 1 s (its parser
  // knows only numbers there; 2.11.2 and later read a duration): a "10s" meant for slow TLS
  // clients or leafnodes would become 1 s and could lock them out. So the duration is kept,
  // with a warning that the reference would use 1 s.
  Duration auth_timeout(const MapEntry& e) {
    Duration d = seconds_or_duration(e);
    if (e.value.is_string())
      warn(e.key_pos, "authorization timeout \"" + e.value.as_string() + "\" is read as the duration " +
                          format_go_duration(d) + " (nats-server 2.9.10 uses 1s for any string timeout)");
    return d;
  }

  // 2.9.10 converts some values (leafnodes { reconnect }) to an integer unchecked, so any
  // other type stops it with Go's conversion panic, reported at the key: the same text.
  static std::string go_int64_conversion_error(const Value& v) {
    const char* go_type = v.is_string() ? "string"
                          : v.is_float() ? "float64"
                          : v.is_bool()  ? "bool"
                          : v.is_array() ? "[]interface {}"
                                         : "map[string]interface {}";
    return std::string("interface conversion: interface {} is ") + go_type + ", not int64";
  }

  // "host:port", ":port", "[v6]:port" or a bare port number.
  static void parse_listen(const Value& v, std::string& host, int& port) {
    if (v.is_int()) {
      port = to_int(v);
      return;
    }
    if (!v.is_string())
      throw ConfigError(v.position(), std::string("expected port or host:port, got ") + v.type_name());
    const std::string& s = v.as_string();
    std::string h, p;
    if (!s.empty() && s[0] == '[') {
      auto close = s.find(']');
      if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
        throw ConfigError(v.position(), "could not parse address string \"" + s + "\"");
      h = s.substr(1, close - 1);
      p = s.substr(close + 2);
    } else {
      auto colon = s.find(':');
      if (colon == std::string::npos || s.find(':', colon + 1) != std::string::npos)
        throw ConfigError(v.position(), "could not parse address string \"" + s + "\"");
      h = s.substr(0, colon);
      p = s.substr(colon + 1);
    }
    // Go's strconv.Atoi: an optional sign, so "127.0.0.1:-1" asks for a random port as `port: -1` does.
    size_t digits = (!p.empty() && (p[0] == '-' || p[0] == '+')) ? 1 : 0;
    bool ok = p.size() > digits && p.size() - digits < 10 &&
              std::all_of(p.begin() + static_cast<std::ptrdiff_t>(digits), p.end(),
                          [](char c) { return c >= '0' && c <= '9'; });
    if (!ok) throw ConfigError(v.position(), "could not parse port \"" + p + "\"");
    port = std::stoi(p);
    if (!h.empty()) host = h;
  }

  // ---- permissions -------------------------------------------------------------
  SubjectPermission subject_permission(const Value& v) {
    SubjectPermission sp;
    if (v.is_map()) {
      each_in("subject_permission", v, [&](const std::string& k, const MapEntry& e) {
        if (k == "allow") sp.allow = string_list(e.value);
        else if (k == "deny") sp.deny = string_list(e.value);
        else unknown_permission(e);
      }, Unknown::Permission);
    } else {
      sp.allow = string_list(v);
    }
    return sp;
  }

  Permissions permissions(const Value& v) {
    Permissions p;
    each_in("permissions", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "publish" || k == "pub" || k == "import") {
        p.publish = subject_permission(e.value);
      } else if (k == "subscribe" || k == "sub" || k == "export") {
        p.subscribe = subject_permission(e.value);
      } else if (k == "allow_responses" || k == "publish_allow_responses") {
        if (e.value.is_bool()) {
          // true: the reference's defaults, one reply within two minutes.
          if (e.value.as_bool()) p.response = ResponsePermission{1, std::chrono::minutes(2)};
        } else {
          ResponsePermission rp{1, std::chrono::minutes(2)};
          each_in("allow_responses", e.value, [&](const std::string& rk, const MapEntry& re) {
            if (rk == "max" || rk == "max_msgs" || rk == "max_messages" || rk == "max_responses")
              rp.max_msgs = to_int(re.value);
            else if (rk == "expires" || rk == "expiration" || rk == "ttl")
              rp.expires = strict_duration(re, "expires");
            else unknown_permission(re);
          }, Unknown::Permission);
          p.response = rp;
        }
      } else {
        unknown_permission(e);
      }
    }, Unknown::Permission);
    return p;
  }

  User user(const Value& v, const std::string& account) {
    User u;
    u.account = account;
    each_in("user", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "user" || k == "username") u.username = e.value.as_string();
      else if (k == "pass" || k == "password") u.password = e.value.as_string();
      else if (k == "nkey") u.nkey = e.value.as_string();
      else if (k == "permission" || k == "permissions" || k == "authorization") u.permissions = permissions(e.value);
      else if (k == "allowed_connection_types" || k == "connection_types" || k == "clients")
        u.allowed_connection_types = connection_types(e);
      else unknown(e);
    });
    // The reference's checks and wording.
    if (u.nkey.empty() && u.username.empty()) error(v.position(), "User entry requires a user");
    else if (!u.nkey.empty() && !nkey::is_valid_public_user_key(u.nkey))
      error(v.position(), "Not a valid public nkey for a user");
    else if (!u.nkey.empty() && (!u.username.empty() || !u.password.empty()))
      error(v.position(), "Nkey users do not take usernames or passwords");
    return u;
  }

  // The reference's connection type names, upper-cased as it stores them.
  std::vector<std::string> connection_types(const MapEntry& e) {
    std::vector<std::string> out;
    for (auto t : string_list(e.value)) {
      std::string up = t;
      for (auto& c : up)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (up != "STANDARD" && up != "WEBSOCKET" && up != "LEAFNODE" && up != "LEAFNODE_WS" && up != "MQTT" &&
          up != "MQTT_WS")
        error(e.key_pos, "unknown connection type \"" + t + "\"");
      out.push_back(up);
    }
    return out;
  }

  std::vector<User> users(const Value& v, const std::string& account) {
    std::vector<User> out;
    for (const auto& x : v.as_array()) out.push_back(user(x, account));
    return out;
  }

  void top_authorization(const Value& v, const Position& key_pos) {
    o.authorization_configured = true;
    each_in("authorization", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "user" || k == "username") o.username = e.value.as_string();
      else if (k == "pass" || k == "password") o.password = e.value.as_string();
      else if (k == "token") o.authorization = e.value.as_string();
      else if (k == "timeout") o.auth_timeout = auth_timeout(e);
      else if (k == "users") {
        auto us = users(e.value, "");
        o.users.insert(o.users.end(), us.begin(), us.end());
      } else if (k == "permission" || k == "permissions" || k == "default_permission" ||
                 k == "default_permissions") {
        o.default_permissions = permissions(e.value);
      } else {
        unknown(e);
      }
    });
    check_duplicate_users(o.users, key_pos);
    // The reference's checks and wording, reported at the authorization key.
    if (!o.users.empty() && !o.authorization.empty())
      error(key_pos, "Can not have a token and a users array");
    else if (!o.users.empty() && !o.username.empty())
      error(key_pos, "Can not have a single user/pass and a users array");
    else if (!o.username.empty() && !o.authorization.empty())
      error(key_pos, "Cannot have a user/pass and token");
  }
  std::set<std::string> account_user_names_{};

  // User names must be unique across all accounts and the authorization block.
  void check_duplicate_users(const std::vector<User>& us, const Position& at) {
    for (const auto& u : us) {
      const std::string& name = u.nkey.empty() ? u.username : u.nkey;
      if (!account_user_names_.insert(name).second) error(at, "Duplicate " + std::string(u.nkey.empty() ? "user" : "nkey") + " \"" + name + "\" detected");
    }
  }

  // ---- subject mappings (parseAccountMappings) ---------------------------------------
  // One destination: {destination: "x", weight: 50%, cluster: "c"}. False on error.
  bool mapping_destination(const Value& v, MappingDestConfig& d) {
    if (!v.is_map()) {
      error(v.position(), "Expected an entry for the mapping destination");
      return false;
    }
    bool weight_seen = false, ok = true;
    each_in("mapping_destination", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "dest" || k == "destination") {
        d.subject = e.value.as_string();
      } else if (k == "weight") {
        // A number or a string with an optional '%', 0 to 100.
        int64_t w = 0;
        if (e.value.is_string()) {
          std::string str = e.value.as_string();
          if (!str.empty() && str.back() == '%') str.pop_back();
          size_t sign = !str.empty() && (str[0] == '-' || str[0] == '+') ? 1 : 0;
          bool digits = str.size() > sign && str.size() < 12 &&
                        std::all_of(str.begin() + static_cast<long>(sign), str.end(), [](char c) { return c >= '0' && c <= '9'; });
          if (!digits) {
            error(e.value.position(), "Invalid weight \"" + str + "\" for mapping destination");
            ok = false;
            return;
          }
          w = std::stoll(str);
        } else if (e.value.is_int()) {
          w = e.value.as_int();
        } else {
          error(e.value.position(), std::string("Unknown entry type for weight of ") + e.value.type_name());
          ok = false;
          return;
        }
        if (w > 100 || w < 0) {
          error(e.value.position(), "Invalid weight " + std::to_string(w) + " for mapping destination");
          ok = false;
          return;
        }
        d.weight = static_cast<int>(w);
        weight_seen = true;
      } else if (k == "cluster") {
        d.cluster = e.value.as_string();
      } else {
        report_unknown(e, Unknown::MappingDest);
      }
    }, Unknown::MappingDest);
    if (ok && !weight_seen) {
      error(v.position(), "Missing weight for mapping destination \"" + d.subject + "\"");
      ok = false;
    }
    return ok;
  }

  // `mappings { src: dest | {destination...} | [ {destination...}, ... ] }`, checked with the
  // same rules the server applies when it installs them.
  std::vector<MappingConfig> mappings(const MapEntry& block) {
    std::vector<MappingConfig> out;
    for (const auto& e : block.value.entries()) {
      if (!is_valid_subject(e.key)) {
        error(block.key_pos, "Subject \"" + e.key + "\" is not a valid subject");
        continue;
      }
      MappingConfig m;
      m.src = e.key;
      const Value& v = e.value;
      bool ok = true;
      if (v.is_string()) {
        m.dests.push_back(MappingDestConfig{v.as_string(), 100, ""});
      } else if (v.is_array()) {
        for (const auto& x : v.as_array()) {
          MappingDestConfig d;
          if (mapping_destination(x, d)) m.dests.push_back(d);
          else ok = false;
        }
      } else {  // one destination; anything but a map is refused there
        MappingDestConfig d;
        if (mapping_destination(v, d)) m.dests.push_back(d);
        else ok = false;
      }
      if (!ok) continue;
      std::vector<MappingDestination> dests;
      for (const auto& d : m.dests) dests.push_back(MappingDestination{d.subject, d.weight, d.cluster});
      auto made = SubjectMapping::create(m.src, dests);
      if (auto* err = std::get_if<std::string>(&made)) {
        std::string to = v.is_string() ? " to \"" + v.as_string() + "\"" : "";
        error(v.position(), "Error adding mapping for \"" + m.src + "\"" + to + " : " + *err);
        continue;
      }
      out.push_back(std::move(m));
    }
    return out;
  }

  // ---- accounts ------------------------------------------------------------------
  void exports(const Value& v, AccountConfig& acc) {
    for (const auto& x : v.as_array()) {
      std::string stream, service, response_type;
      std::vector<std::string> accounts;
      Duration threshold{0};
      std::optional<ServiceLatencyConfig> latency;
      std::optional<Position> latency_pos;
      each_in("export", x, [&](const std::string& k, const MapEntry& e) {
        if (k == "stream") stream = e.value.as_string();
        else if (k == "service") service = e.value.as_string();
        else if (k == "accounts") accounts = string_list(e.value);
        else if (k == "response" || k == "response_type") {
          response_type = e.value.as_string();
          std::string rt = util::ascii_lower(response_type);
          if (rt != "singleton" && rt != "stream" && rt != "chunked")
            error(e.key_pos, "Unknown response type: \"" + response_type + "\"");
        }
        else if (k == "threshold" || k == "response_threshold" || k == "response_max_time" ||
                 k == "response_time")
          threshold = strict_duration(e, k);
        else if (k == "latency") {
          latency_pos = e.key_pos;
          latency = service_latency(e);
        }
        else unknown(e);
      });
      if (!stream.empty() && latency_pos) error(*latency_pos, "Detected latency directive on non-service");
      if (!stream.empty() && !service.empty()) {
        error(x.position(), "Detected stream \"" + stream + "\" but already saw a service");
      } else if (!stream.empty()) {
        acc.stream_exports.push_back(StreamExport{stream, accounts});
      } else if (!service.empty()) {
        acc.service_exports.push_back(ServiceExport{service, accounts,
                                                    response_type.empty() ? "Singleton" : response_type,
                                                    threshold, latency});
      } else {
        error(x.position(), "Export requires a stream or a service");
      }
    }
  }

  // Go's %T of a config value.
  static const char* go_type(const Value& v) {
    return v.is_string()  ? "string"
           : v.is_int()   ? "int64"
           : v.is_float() ? "float64"
           : v.is_bool()  ? "bool"
           : v.is_array() ? "[]interface {}"
                          : "map[string]interface {}";
  }

  // The reference's TrackServiceExportWithSampling checks, run as it adds each account's
  // service exports in order (so a results subject may not fall under that export or an
  // earlier one: no loop back into the account's own services). Reported at `at`, the
  // accounts block, with its messages.
  void validate_latency_tracking(const Position& at) {
    for (const auto& acc : o.accounts) {
      for (size_t i = 0; i < acc.service_exports.size(); ++i) {
        const ServiceExport& se = acc.service_exports[i];
        if (!se.latency) continue;
        const std::string& results = se.latency->subject;
        std::string why;
        if (!is_valid_literal_subject(results)) why = "invalid publish subject";
        for (size_t j = 0; j <= i && why.empty(); ++j)
          if (subject_is_subset_match(results, acc.service_exports[j].subject)) why = "invalid publish subject";
        if (why.empty() && o.no_system_account) {
          error(at, "Error adding service latency sampling for \"" + se.subject + "\": system account not setup");
          continue;
        }
        if (why.empty() && util::ascii_lower(se.response_type) != "singleton") why = "bad service response type";
        if (!why.empty())
          error(at, "Error adding service latency sampling for \"" + se.subject + "\" on subject \"" + results +
                        "\": " + why);
      }
    }
  }

  // An export's `latency` (parseServiceLatency): a results subject alone (100% sampled), or
  // {sampling: 1-100 | "N%" | "headers", subject: ...}.
  std::optional<ServiceLatencyConfig> service_latency(const MapEntry& e) {
    const Value& v = e.value;
    ServiceLatencyConfig l;
    if (v.is_string()) {
      l.subject = v.as_string();
      return l;
    }
    if (!v.is_map()) {
      error(e.key_pos, std::string("Expected latency entry to be a map/struct or string, got ") + go_type(v));
      return std::nullopt;
    }
    bool ok = true, has_subject = false;
    // Like the reference, only these two keys are read; others are not looked at.
    each(v, [&](const std::string& k, const MapEntry& f) {
      if (k == "sampling") {
        const Value& s = f.value;
        if (s.is_int()) {
          l.sampling = static_cast<int>(std::clamp<int64_t>(s.as_int(), -1, 1000));
        } else if (s.is_string()) {
          std::string t = util::ascii_lower(s.as_string());
          while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
          while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
          if (t == "headers") {
            l.sampling = 0;
            return;
          }
          std::string n = s.as_string();
          if (!n.empty() && n.back() == '%') n.pop_back();
          int parsed = 0;
          size_t skip = n.size() > 1 && n[0] == '+' ? 1 : 0;  // Atoi takes a sign
          auto [end, ec] = std::from_chars(n.data() + skip, n.data() + n.size(), parsed);
          if (n.empty() || ec != std::errc() || end != n.data() + n.size()) {
            error(f.key_pos, "Failed to parse latency sample: strconv.Atoi: parsing \"" + n + "\": " +
                                 (ec == std::errc::result_out_of_range ? "value out of range" : "invalid syntax"));
            ok = false;
            return;
          }
          l.sampling = parsed;
        } else {
          error(f.key_pos, std::string("Expected latency sample to be a string or map/struct, got ") + go_type(s));
          ok = false;
          return;
        }
        if (l.sampling < 1 || l.sampling > 100) {
          error(f.key_pos, "bad sampling percentage, should be 1-100");
          ok = false;
        }
      } else if (k == "subject") {
        has_subject = true;
        if (!f.value.is_string()) {
          error(f.key_pos, "Expected latency subject to be a string, got string");
          ok = false;
          return;
        }
        l.subject = f.value.as_string();
      }
    });
    if (!ok) return std::nullopt;
    if (!has_subject) {
      error(e.key_pos, "Latency subject required, but missing");
      return std::nullopt;
    }
    return l;
  }

  void import_source(const Value& v, std::string& account, std::string& subject) {
    each_in("import_source", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "account") account = e.value.as_string();
      else if (k == "subject") subject = e.value.as_string();
      else unknown(e);
    });
  }

  void imports(const Value& v, AccountConfig& acc) {
    for (const auto& x : v.as_array()) {
      bool is_stream = false, is_service = false, share = false;
      std::string account, subject, prefix, to;
      each_in("import", x, [&](const std::string& k, const MapEntry& e) {
        if (k == "stream") {
          is_stream = true;
          import_source(e.value, account, subject);
        } else if (k == "service") {
          is_service = true;
          import_source(e.value, account, subject);
        } else if (k == "prefix") {
          prefix = e.value.as_string();
        } else if (k == "to") {
          to = e.value.as_string();
        } else if (k == "share") {
          share = e.value.as_bool();
        } else {
          unknown(e);
        }
      });
      if (is_stream) acc.stream_imports.push_back(StreamImport{account, subject, prefix, to, false});
      else if (is_service) acc.service_imports.push_back(ServiceImport{account, subject, to, false, share});
      else error(x.position(), "Import requires a stream or a service");
    }
  }

  void account_limits(const std::string& k, const MapEntry& e, AccountConfig& acc) {
    if (k == "max_connections" || k == "max_conn") acc.max_connections = to_int(e.value);
    else if (k == "max_subscriptions" || k == "max_subs") acc.max_subscriptions = to_int(e.value);
    else if (k == "max_payload" || k == "max_pay") acc.max_payload = e.value.as_int();
    else if (k == "max_leafnodes" || k == "max_leafs") acc.max_leafnodes = to_int(e.value);
    else unknown(e);
  }

  // An account's `jetstream`: a bool, "enabled"/"disabled", or a map of limits (the
  // reference's parseJetStreamForAccount: every limit -1 unless set).
  void account_jetstream(const MapEntry& e, AccountConfig& acc) {
    const Value& j = e.value;
    if (j.is_bool()) {
      acc.jetstream = j.as_bool();
    } else if (j.is_string()) {
      std::string s = util::ascii_lower(j.as_string());
      if (s == "enabled" || s == "enable") acc.jetstream = true;
      else if (s == "disabled" || s == "disable") acc.jetstream = false;
      else throw ConfigError(j.position(), "Expected 'enabled' or 'disabled' for string value, got '" + j.as_string() + "'");
    } else if (j.is_map()) {
      acc.jetstream = true;
      JsAccountLimits& l = acc.js_limits;
      each_in("account_jetstream", j, [&](const std::string& k, const MapEntry& le) {
        auto size = [&]() {
          if (!le.value.is_int())
            throw ConfigError(le.value.position(), "Expected a parseable size for \"" + k + "\"");
          return le.value.as_int();
        };
        if (k == "max_memory" || k == "max_mem" || k == "mem" || k == "memory") l.max_memory = size();
        else if (k == "max_store" || k == "max_file" || k == "max_disk" || k == "store" || k == "disk") l.max_store = size();
        else if (k == "max_streams" || k == "streams") l.max_streams = size();
        else if (k == "max_consumers" || k == "consumers") l.max_consumers = size();
        else if (k == "max_bytes_required" || k == "max_stream_bytes" || k == "max_bytes") {
          if (!le.value.is_bool())
            throw ConfigError(le.value.position(), "Expected a parseable bool for \"" + k + "\"");
          l.max_bytes_required = le.value.as_bool();
        } else if (k == "mem_max_stream_bytes" || k == "memory_max_stream_bytes") l.memory_max_stream_bytes = size();
        else if (k == "disk_max_stream_bytes" || k == "store_max_stream_bytes") l.store_max_stream_bytes = size();
        else if (k == "max_ack_pending") l.max_ack_pending = size();
        else unknown(le);
      });
    } else {
      throw ConfigError(j.position(), std::string("Expected map, bool or string to define JetStream, got ") + j.type_name());
    }
  }

  AccountConfig account(const std::string& name, const Value& v) {
    AccountConfig acc;
    acc.name = name;
    if (!v.is_map()) return acc;  // `accounts: { A: {} }` or a bare name list entry
    each_in("account", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "users") {
        acc.users = users(e.value, name);
        check_duplicate_users(acc.users, e.key_pos);
      }
      else if (k == "exports") exports(e.value, acc);
      else if (k == "imports") imports(e.value, acc);
      else if (k == "nkey") {
        acc.nkey = e.value.as_string();
        if (!nkey::is_valid_public_account_key(acc.nkey))
          error(e.key_pos, "Not a valid public nkey for an account: \"" + acc.nkey + "\"");
      }
      else if (k == "default_permissions") acc.default_permissions = permissions(e.value);
      else if (k == "jetstream") account_jetstream(e, acc);
      else if (k == "mappings" || k == "maps") {
        auto ms = mappings(e);
        acc.mappings.insert(acc.mappings.end(), ms.begin(), ms.end());
      }
      else if (k == "limits") {
        each_in("account_limits", e.value, [&](const std::string& lk, const MapEntry& le) { account_limits(lk, le, acc); });
      } else {
        unknown(e);
      }
    });
    return acc;
  }

  void accounts(const Value& v) {
    if (v.is_array()) {
      for (const auto& x : v.as_array()) o.accounts.push_back(account(x.as_string(), x));
      return;
    }
    for (const auto& e : v.entries()) {
      try {
        o.accounts.push_back(account(e.key, e.value));
      } catch (const ConfigError& err) {
        error(err.position(), "account \"" + e.key + "\": " + err.message());
      }
    }
  }

  // ---- cluster / gateway ------------------------------------------------------------
  void route_authorization(std::string_view block, const MapEntry& auth, const std::string& what, std::string& user,
                           std::string& pass, Duration& timeout) {
    each_in(block, auth.value, [&](const std::string& k, const MapEntry& e) {
      if (k == "user" || k == "username") user = e.value.as_string();
      else if (k == "pass" || k == "password") pass = e.value.as_string();
      else if (k == "timeout") timeout = auth_timeout(e);
      else if (k == "users") error(auth.key_pos, what + " authorization does not allow multiple users");
      else if (k == "token") error(auth.key_pos, what + " authorization does not support tokens");
      else unknown(e);
    });
  }

  void cluster(const Value& v) {
    auto& c = o.cluster;
    c.configured = true;
    each_in("cluster", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "name") c.name = e.value.as_string();
      else if (k == "listen") parse_listen(e.value, c.host, c.port);
      else if (k == "host" || k == "net") c.host = e.value.as_string();
      else if (k == "port") c.port = to_int(e.value);
      else if (k == "routes") c.routes = string_list(e.value);
      else if (k == "authorization") route_authorization("cluster_authorization", e, "Cluster", c.username, c.password, c.auth_timeout);
      else if (k == "no_advertise") c.no_advertise = e.value.as_bool();
      else if (k == "connect_retries") c.connect_retries = to_int(e.value);
      else if (k == "advertise" || k == "cluster_advertise") c.advertise = e.value.as_string();
      else if (k == "tls") tls(e, c.tls, false, true, nullptr, true);
      else unknown(e);
    });
  }

  RemoteGateway remote_gateway(const Value& v) {
    RemoteGateway g;
    each_in("remote_gateway", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "name") g.name = e.value.as_string();
      else if (k == "url") g.urls.push_back(e.value.as_string());
      else if (k == "urls") {
        auto u = string_list(e.value);
        g.urls.insert(g.urls.end(), u.begin(), u.end());
      } else unknown(e);
    });
    return g;
  }

  void gateway(const Value& v) {
    auto& g = o.gateway;
    g.configured = true;
    each_in("gateway", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "name") g.name = e.value.as_string();
      else if (k == "listen") parse_listen(e.value, g.host, g.port);
      else if (k == "host" || k == "net") g.host = e.value.as_string();
      else if (k == "port") g.port = to_int(e.value);
      else if (k == "gateways") {
        for (const auto& x : e.value.as_array()) g.gateways.push_back(remote_gateway(x));
      } else if (k == "authorization") {
        route_authorization("gateway_authorization", e, "Gateway", g.username, g.password, g.auth_timeout);
      } else if (k == "advertise") g.advertise = e.value.as_string();
      else if (k == "reject_unknown" || k == "reject_unknown_cluster") g.reject_unknown = e.value.as_bool();
      else if (k == "connect_retries") g.connect_retries = to_int(e.value);
      else if (k == "tls") tls(e, g.tls, false, true, nullptr, true);
      else unknown(e);
    });
  }

  // ---- leafnodes ---------------------------------------------------------------------
  void leafnode_users(const Value& v, std::vector<LeafUser>& out) {
    for (const auto& x : v.as_array()) {
      LeafUser u;
      each_in("leafnode_user", x, [&](const std::string& k, const MapEntry& e) {
        if (k == "user" || k == "username") u.user = e.value.as_string();
        else if (k == "pass" || k == "password") u.password = e.value.as_string();
        else if (k == "account") u.account = e.value.as_string();
      });
      out.push_back(std::move(u));
    }
  }

  RemoteLeaf remote_leaf(const Value& v) {
    RemoteLeaf r;
    each_in("leafnode_remote", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "url" || k == "urls") {
        auto u = e.value.is_array() ? string_list(e.value) : std::vector<std::string>{e.value.as_string()};
        r.urls.insert(r.urls.end(), u.begin(), u.end());
      } else if (k == "account" || k == "local") r.account = e.value.as_string();
      else if (k == "hub") r.hub = e.value.as_bool();
      else if (k == "creds" || k == "credentials") r.credentials = e.value.as_string();
      else if (k == "deny_imports" || k == "deny_import") r.deny_imports = string_list(e.value);
      else if (k == "deny_exports" || k == "deny_export") r.deny_exports = string_list(e.value);
      else if (k == "tls") tls(e, r.tls, true);
      else if (k == "ws_compress" || k == "ws_compression" || k == "websocket_compress" || k == "websocket_compression")
        r.ws_compression = e.value.as_bool();
      else if (k == "ws_no_masking" || k == "websocket_no_masking") r.ws_no_masking = e.value.as_bool();
      // 2.9.10 turns it on whatever the value says (parseRemoteLeafNodes), so does this.
      else if (k == "jetstream_cluster_migrate" || k == "js_cluster_migrate") r.js_cluster_migrate = true;
    });
    // As the reference (validateLeafNode): a remote's URLs are all websocket or none.
    auto is_ws = [](const std::string& x) { return util::ascii_lower(x.substr(0, 2)) == "ws"; };
    for (size_t i = 1; i < r.urls.size(); ++i)
      if (is_ws(r.urls[i]) != is_ws(r.urls[0])) {
        // Go's %q of the list, passwords shown as "xxxxx" (redactURLList).
        std::string list;
        for (std::string x : r.urls) {
          size_t at = x.find('@'), sep = x.find("://");
          size_t colon = sep == std::string::npos ? std::string::npos : x.find(':', sep + 3);
          if (at != std::string::npos && colon != std::string::npos && colon < at) x.replace(colon + 1, at - colon - 1, "xxxxx");
          list += (list.empty() ? "\"" : " \"") + x + "\"";
        }
        error(v.position(), "remote leaf node configuration cannot have a mix of websocket and non-websocket urls: [" +
                                list + "]");
        break;
      }
    return r;
  }

  void leafnodes(const Value& v) {
    auto& l = o.leafnode;
    l.configured = true;
    each_in("leafnodes", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "listen") parse_listen(e.value, l.host, l.port);
      else if (k == "host" || k == "net") l.host = e.value.as_string();
      else if (k == "port") l.port = to_int(e.value);
      else if (k == "advertise" || k == "leafnode_advertise") l.advertise = e.value.as_string();
      else if (k == "no_advertise") l.no_advertise = e.value.as_bool();
      else if (k == "min_version" || k == "minimum_version") {
        // checkLeafMinVersionConfig: a version the reference can read, at least 2.8.0.
        std::string mv = e.value.as_string();
        util::SemVer parsed;
        if (std::string err = util::parse_semver(mv, parsed); !err.empty())
          error(e.value.position(), "invalid leafnode's minimum version: " + err);
        else if (!util::version_at_least(mv, util::SemVer{2, 8, 0}))
          error(e.value.position(), "the minimum version should be at least 2.8.0");
        else l.min_version = mv;
      } else if (k == "tls") tls(e, l.tls, false, true);
      else if (k == "remotes") {
        for (const auto& x : e.value.as_array()) l.remotes.push_back(remote_leaf(x));
      } else if (k == "reconnect" || k == "reconnect_delay" || k == "reconnect_interval") {
        // Whole seconds only, as 2.9.10.
        if (e.value.is_int()) l.reconnect = seconds(e.value);
        else error(e.key_pos, go_int64_conversion_error(e.value));
      } else if (k == "authorization") {
        each_in("leafnode_authorization", e.value, [&](const std::string& ak, const MapEntry& ae) {
          if (ak == "user" || ak == "username") l.username = ae.value.as_string();
          else if (ak == "pass" || ak == "password") l.password = ae.value.as_string();
          else if (ak == "account") l.account = ae.value.as_string();
          else if (ak == "timeout") l.auth_timeout = auth_timeout(ae);
          else if (ak == "users") leafnode_users(ae.value, l.users);
        });
      }
    });
  }

  // ---- websocket ---------------------------------------------------------------------
  void websocket(const Value& v) {
    auto& w = o.websocket;
    w.configured = true;
    each_in("websocket", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "listen") parse_listen(e.value, w.host, w.port);
      else if (k == "port") w.port = to_int(e.value);
      else if (k == "host" || k == "net") w.host = e.value.as_string();
      else if (k == "advertise") w.advertise = e.value.as_string();
      else if (k == "no_tls") w.no_tls = e.value.as_bool();
      else if (k == "tls") tls(e, w.tls, false, true);
      else if (k == "same_origin") w.same_origin = e.value.as_bool();
      else if (k == "allowed_origins" || k == "allowed_origin" || k == "allow_origins" || k == "allow_origin" ||
               k == "origins" || k == "origin")
        w.allowed_origins = string_list(e.value);
      else if (k == "handshake_timeout") w.handshake_timeout = seconds_or_duration(e);
      else if (k == "compress" || k == "compression") w.compression = e.value.as_bool();
      else if (k == "jwt_cookie") w.jwt_cookie = e.value.as_string();
      else if (k == "no_auth_user") w.no_auth_user = e.value.as_string();
      else if (k == "authorization" || k == "authentication") {
        each_in("websocket_authorization", e.value, [&](const std::string& ak, const MapEntry& ae) {
          if (ak == "user" || ak == "username") w.username = ae.value.as_string();
          else if (ak == "pass" || ak == "password") w.password = ae.value.as_string();
          else if (ak == "token") w.token = ae.value.as_string();
          // Seconds as a number; anything else is 1 s, as the reference's parseSimpleAuth.
          else if (ak == "timeout") w.auth_timeout = (ae.value.is_int() || ae.value.is_float()) ? seconds(ae.value) : Duration(std::chrono::seconds(1));
        });
      } else unknown(e);
    });
  }

  // ---- jetstream ---------------------------------------------------------------------
  void jetstream(const MapEntry& top) {
    auto& js = o.jetstream;
    const Value& v = top.value;
    if (v.is_bool()) {
      js.enabled = v.as_bool();
      return;
    }
    if (v.is_string()) {
      std::string s = util::ascii_lower(v.as_string());
      if (s == "enabled" || s == "enable") js.enabled = true;
      else if (s == "disabled" || s == "disable") js.enabled = false;
      else throw ConfigError(v.position(), "Expected 'enabled' or 'disabled' for string value, got '" + v.as_string() + "'");
      return;
    }
    js.enabled = true;
    each_in("jetstream", v, [&](const std::string& k, const MapEntry& e) {
      if (k == "store" || k == "store_dir" || k == "storedir") {
        if (!js.store_dir.empty() && store_dir_from_top_)
          error(e.key_pos, "Duplicate 'store_dir' configuration");
        js.store_dir = e.value.as_string();
      } else if (k == "max_memory_store" || k == "max_mem_store" || k == "max_mem") {
        js.max_memory = e.value.as_int();
      } else if (k == "max_file_store" || k == "max_file") {
        js.max_file = e.value.as_int();
      } else if (k == "enable" || k == "enabled") {
        js.enabled = e.value.as_bool();
      } else if (k == "unique_tag") {
        js.unique_tag = e.value.as_string();
      } else if (k == "domain") {
        js.domain = e.value.as_string();
        // The reference's checks (validateJetStreamOptions): the domain becomes a subject token.
        if (js.domain.empty()) {
        } else if (!is_valid_subject("$JS." + js.domain + ".API.>"))
          error(e.key_pos, "invalid domain name: derived \"$JS." + js.domain + ".API.>\" is not a valid subject");
        else if (js.domain.find_first_of(" \t\r\n\f.*>") != std::string::npos)
          error(e.key_pos, "invalid domain name: may not contain ., * or >");
      } else if (k == "sync_interval") {
        if (e.value.is_string() && util::ascii_lower(e.value.as_string()) == "always") {
          js.sync_always = true;
        } else {
          js.sync_interval = strict_duration(e, "sync_interval");
        }
      } else {
        unknown(e);
      }
    });
  }
  bool store_dir_from_top_ = false;

  // ---- top level -----------------------------------------------------------------------
  void top(const std::string& k, const MapEntry& e) {
    const Value& v = e.value;
    if (k == "listen") parse_listen(v, o.host, o.port);
    else if (k == "port") o.port = to_int(v);
    else if (k == "host" || k == "net") o.host = v.as_string();
    else if (k == "server_name") o.server_name = v.as_string();
    else if (k == "client_advertise") o.client_advertise = v.as_string();
    else if (k == "debug") o.debug = v.as_bool();
    else if (k == "trace") o.trace = v.as_bool();
    else if (k == "trace_verbose") o.trace_verbose = o.trace = v.as_bool();
    else if (k == "logtime") o.logtime = v.as_bool();
    else if (k == "log_file" || k == "logfile") o.log_file = v.as_string();
    else if (k == "pid_file" || k == "pidfile") o.pid_file = v.as_string();
    else if (k == "ports_file_dir") o.ports_file_dir = v.as_string();
    else if (k == "max_control_line") {
      if (v.as_int() > INT32_MAX) error(e.key_pos, e.key + " value is too big");
      else o.max_control_line = static_cast<int>(v.as_int());
    } else if (k == "max_payload") {
      if (v.as_int() > INT32_MAX) error(e.key_pos, e.key + " value is too big");
      else o.max_payload = v.as_int();
    } else if (k == "max_sub_tokens" || k == "max_subscription_tokens") {
      int64_t n = v.as_int();
      if (n > 255) error(e.key_pos, e.key + " value is too big");
      else if (n <= 0) error(e.key_pos, e.key + " value can not be negative");
      else o.max_sub_tokens = static_cast<int>(n);
    } else if (k == "max_pending") o.max_pending = v.as_int();
    else if (k == "no_header_support") o.no_header_support = v.as_bool();
    else if (k == "max_connections" || k == "max_conn") o.max_connections = to_int(v);
    else if (k == "max_subscriptions" || k == "max_subs") o.max_subscriptions = to_int(v);
    else if (k == "ping_interval") o.ping_interval = lenient_duration(e, "ping_interval");
    else if (k == "ping_max") o.ping_max = to_int(v);
    else if (k == "write_deadline") o.write_deadline = lenient_duration(e, "write_deadline");
    else if (k == "lame_duck_duration") {
      Duration d = strict_duration(e, "lame_duck_duration");
      if (d < std::chrono::seconds(30))
        error(e.key_pos, "invalid lame_duck_duration of " + format_go_duration(d) +
                             ", minimum is 30 seconds");
      else o.lame_duck_duration = d;
    } else if (k == "lame_duck_grace_period") {
      Duration d = strict_duration(e, "lame_duck_grace_period");
      if (d < Duration{0}) error(e.key_pos, "invalid lame_duck_grace_period, needs to be positive");
      else o.lame_duck_grace_period = d;
    } else if (k == "authorization") top_authorization(v, e.key_pos);
    else if (k == "accounts") {
      accounts(v);
      // The reference checks imports against exports once all accounts are known, and
      // reports the problem at the accounts block.
      validate_latency_tracking(e.key_pos);
      if (auto msg = validate_account_imports(o.accounts); !msg.empty()) error(e.key_pos, msg);
    }
    else if (k == "mappings" || k == "maps") {
      auto ms = mappings(e);
      o.mappings.insert(o.mappings.end(), ms.begin(), ms.end());
    }
    else if (k == "operator" || k == "operators" || k == "roots" || k == "root" || k == "root_operators" ||
             k == "root_operator")
      operators(e);
    else if (k == "resolver" || k == "account_resolver" || k == "accounts_resolver") resolver(e);
    else if (k == "resolver_preload") resolver_preload(e);
    else if (k == "system_account" || k == "system") o.system_account = v.as_string();
    else if (k == "no_system_account" || k == "no_system" || k == "no_sys_acc") o.no_system_account = v.as_bool();
    else if (k == "no_auth_user") o.no_auth_user = v.as_string();
    else if (k == "http" || k == "monitor") parse_listen(v, o.http_host, o.http_port);
    else if (k == "https") parse_listen(v, o.http_host, o.https_port);
    else if (k == "http_port" || k == "monitor_port") o.http_port = to_int(v);
    else if (k == "https_port") o.https_port = to_int(v);
    else if (k == "http_base_path") o.http_base_path = v.as_string();
    else if (k == "tls") tls(e, o.tls, false, true);
    else if (k == "resolver_tls") tls(e, o.resolver_tls, true, false, &o.resolver_tls_insecure);
    else if (k == "cluster") cluster(v);
    else if (k == "gateway") gateway(v);
    else if (k == "websocket" || k == "ws") websocket(v);
    else if (k == "leafnodes" || k == "leaf") leafnodes(v);
    else if (k == "jetstream") jetstream(e);
    else if (k == "store_dir" || k == "storedir") {
      if (!o.jetstream.store_dir.empty()) error(e.key_pos, "Duplicate 'store_dir' configuration");
      o.jetstream.store_dir = v.as_string();
      store_dir_from_top_ = true;
    } else if (k == "server_tags") {
      auto tags = string_list(v);
      for (auto& t : tags)
        if (std::find(o.tags.begin(), o.tags.end(), t) == o.tags.end()) o.tags.push_back(t);
    } else {
      unknown(e);
    }
  }
};

}  // namespace

// As the reference's validateWebsocketOptions: nothing to check without a port.
void validate_websocket(const Options& o) {
  const WebsocketOptions& w = o.websocket;
  if (w.port == 0) return;
  if (!w.tls.enabled && !w.no_tls) throw std::runtime_error("websocket requires TLS configuration");
  // The reference only finds a bad advertise when it starts listening (a fatal error).
  if (!w.advertise.empty() && cluster::advertise_host_port(w.advertise, 1).empty())
    throw std::runtime_error("Unable to get websocket connect URLs: invalid advertise address " + w.advertise);
  for (const auto& ao : w.allowed_origins) {
    net::ws::AllowedOrigin parsed;
    if (!net::ws::parse_origin(ao, parsed)) throw std::runtime_error("unable to parse allowed origin: " + ao);
  }
  if (!w.no_auth_user.empty()) {
    // validateNoAuthUser: only the users of the authorization block count here.
    if (o.operator_mode()) throw std::runtime_error("no_auth_user not compatible with Trusted Operator");
    if (o.users.empty())
      throw std::runtime_error("no_auth_user: \"" + w.no_auth_user + "\" present, but users are not defined");
    bool found = false;
    for (const auto& u : o.users) found = found || u.username == w.no_auth_user;
    if (!found)
      throw std::runtime_error("no_auth_user: \"" + w.no_auth_user +
                               "\" not present as user in authorization block or account configuration");
  }
  bool has_users = !o.users.empty();  // NKey users are in the same list here
  if (has_users && !w.username.empty())
    throw std::runtime_error("websocket authentication username not compatible with presence of users/nkeys");
  if (has_users && !w.token.empty())
    throw std::runtime_error("websocket authentication token not compatible with presence of users/nkeys");
  if (!w.jwt_cookie.empty() && !o.operator_mode())
    throw std::runtime_error("trusted operators or trusted keys configuration is required for JWT authentication via cookie \"" +
                             w.jwt_cookie + "\"");
}

LoadReport apply_config(const Value& root, Options& opts, bool check_mode) {
  Loader l{opts, check_mode, {}, {}};
  l.each_in("top", root, [&](const std::string& k, const MapEntry& e) { l.top(k, e); });
  if (!l.errors.empty()) throw ConfigError(l.errors);
  if (auto err = validate_trusted_operators(opts); !err.empty()) throw std::runtime_error(err);
  // validateLeafNode: a leafnodes listener next to gateways needs a named system account (the
  // "$SYS" default comes later in the reference, so it does not count).
  if (opts.leafnode.port != 0 && (!opts.gateway.name.empty() || opts.gateway.port != 0) && opts.system_account.empty())
    throw std::runtime_error("leaf nodes and gateways (both being defined) require a system account to also be configured");
  if (opts.lame_duck_duration > Duration{0} && opts.lame_duck_grace_period >= opts.lame_duck_duration)
    throw std::runtime_error("lame duck grace period (" + format_go_duration(opts.lame_duck_grace_period) +
                             ") should be strictly lower than lame duck duration (" +
                             format_go_duration(opts.lame_duck_duration) + ")");
  validate_websocket(opts);
  if (!opts.no_auth_user.empty()) {
    bool found = opts.no_auth_user == opts.username;
    for (const auto& u : opts.users) found = found || u.username == opts.no_auth_user;
    for (const auto& a : opts.accounts)
      for (const auto& u : a.users) found = found || u.username == opts.no_auth_user;
    if (!found)  // the reference reports this one without a position
      throw std::runtime_error("no_auth_user: \"" + opts.no_auth_user +
                               "\" not present as user in authorization block or account configuration");
  }
  return l.report;
}

LoadReport load_config_file(const std::string& path, Options& opts, bool check_mode) {
  Value root = parse_config_file(path);
  opts.config_file = path;
  return apply_config(root, opts, check_mode);
}

}  // namespace nats::config
