// Flag parsing with Go `flag` package rules. Not CLI11: its syntax differs in ways
// users of nats-server rely on (single-dash long names like -js and -DV, `-p=4222`,
// bool flags never taking a separate value) and its messages differ from Go's.
#include "config/command_line.h"

#include <cerrno>
#include <climits>
#include <functional>

#include "config/key_decisions.h"
#include "config/value.h"

namespace nats::config {

namespace {

enum class Kind { Bool, Int, String };

struct Flag {
  std::vector<const char*> names;
  Kind kind;
  std::function<void(CommandLine&, const std::string& raw, int64_t i, bool b)> apply;
};

// Go's strconv.ParseBool.
bool parse_go_bool(const std::string& s, bool& out) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") {
    out = true;
    return true;
  }
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
    out = false;
    return true;
  }
  return false;
}

// Go's strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b/0 prefixes, '_' after a prefix.
// Returns "" on success, else "parse error" or "value out of range".
std::string parse_go_int(const std::string& s, int64_t& out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  int base = 10;
  bool prefixed = false;
  if (i + 1 < s.size() && s[i] == '0') {
    char p = s[i + 1];
    if (p == 'x' || p == 'X') base = 16, i += 2, prefixed = true;
    else if (p == 'b' || p == 'B') base = 2, i += 2, prefixed = true;
    else if (p == 'o' || p == 'O') base = 8, i += 2, prefixed = true;
    else base = 8, i += 1, prefixed = true;
  }
  if (i >= s.size() && !(prefixed && base == 8)) return "parse error";
  unsigned long long v = 0;
  bool overflow = false;
  bool last_underscore = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (!prefixed || last_underscore) return "parse error";
      last_underscore = true;
      continue;
    }
    last_underscore = false;
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    else return "parse error";
    if (d >= base) return "parse error";
    if (v > (ULLONG_MAX - static_cast<unsigned>(d)) / static_cast<unsigned>(base)) overflow = true;
    else v = v * base + d;
  }
  if (last_underscore) return "parse error";
  unsigned long long limit = neg ? static_cast<unsigned long long>(INT64_MAX) + 1 : INT64_MAX;
  if (overflow || v > limit) return "value out of range";
  out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return "";
}

int clamp_int(int64_t v) {
  if (v > INT_MAX) return INT_MAX;
  if (v < INT_MIN) return INT_MIN;
  return static_cast<int>(v);
}

const std::vector<Flag>& flag_table() {
  using CL = CommandLine;
  static const std::vector<Flag> t = {
      {{"h", "help"}, Kind::Bool, [](CL& c, auto&, auto, bool b) { c.show_help = b; }},
      {{"v", "version"}, Kind::Bool, [](CL& c, auto&, auto, bool b) { c.show_version = b; }},
      {{"help_tls"}, Kind::Bool, [](CL& c, auto&, auto, bool b) { c.show_tls_help = b; }},
      {{"t"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.check_config = b;
         c.flags.check_config = b;
         c.set_fields.insert("check_config");
       }},
      {{"c", "config"}, Kind::String, [](CL& c, auto& s, auto, bool) { c.config_file = s; }},
      {{"sl", "signal"}, Kind::String, [](CL& c, auto& s, auto, bool) { c.signal = s; }},
      {{"p", "port"}, Kind::Int, [](CL& c, auto&, int64_t i, bool) {
         c.flags.port = clamp_int(i);
         c.set_fields.insert("port");
       }},
      {{"a", "addr", "net"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.host = s;
         c.set_fields.insert("host");
       }},
      {{"n", "name", "server_name"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.server_name = s;
         c.set_fields.insert("server_name");
       }},
      {{"client_advertise"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.client_advertise = s;
         c.set_fields.insert("client_advertise");
       }},
      {{"P", "pid"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.pid_file = s;
         c.set_fields.insert("pid_file");
       }},
      {{"m", "http_port"}, Kind::Int, [](CL& c, auto&, int64_t i, bool) {
         c.flags.http_port = clamp_int(i);
         c.set_fields.insert("http_port");
       }},
      // Not in 2.9.10 (later releases and the issue ask for them): monitoring as host:port,
      // and the no-auth user. Extra flags harm no script written for the reference.
      {{"http"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         size_t colon = s.rfind(':');
         if (colon == std::string::npos) {
           c.flags.http_host = s;
         } else {
           c.flags.http_host = s.substr(0, colon);
           try {
             c.flags.http_port = std::stoi(s.substr(colon + 1));
           } catch (...) {
             c.flags.http_port = 0;
           }
           c.set_fields.insert("http_port");
         }
         c.set_fields.insert("http_host");
       }},
      {{"no_auth_user"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.no_auth_user = s;
         c.set_fields.insert("no_auth_user");
       }},
      {{"ms", "https_port"}, Kind::Int, [](CL& c, auto&, int64_t i, bool) {
         c.flags.https_port = clamp_int(i);
         c.set_fields.insert("https_port");
       }},
      {{"ports_file_dir"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.ports_file_dir = s;
         c.set_fields.insert("ports_file_dir");
       }},
      {{"l", "log"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.log_file = s;
         c.set_fields.insert("log_file");
       }},
      {{"T", "logtime"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.logtime = b;
         c.set_fields.insert("logtime");
       }},
      {{"s", "syslog"}, Kind::Bool, nullptr},
      {{"D", "debug"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.debug = b;
         c.set_fields.insert("debug");
       }},
      {{"V", "trace"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.trace = b;
         c.set_fields.insert("trace");
       }},
      {{"VV"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         if (!b) return;
         c.flags.trace = c.flags.trace_verbose = true;
         c.set_fields.insert({"trace", "trace_verbose"});
       }},
      {{"DV"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         if (!b) return;
         c.flags.debug = c.flags.trace = true;
         c.set_fields.insert({"debug", "trace"});
       }},
      {{"DVV"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         if (!b) return;
         c.flags.debug = c.flags.trace = c.flags.trace_verbose = true;
         c.set_fields.insert({"debug", "trace", "trace_verbose"});
       }},
      {{"log_size_limit"}, Kind::Int, nullptr},
      {{"js", "jetstream"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.jetstream.enabled = b;
         c.set_fields.insert("jetstream");
       }},
      {{"sd", "store_dir"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.jetstream.store_dir = s;
         c.set_fields.insert("store_dir");
       }},
      {{"user"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.username = s;
         c.set_fields.insert("username");
       }},
      {{"pass"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.password = s;
         c.set_fields.insert("password");
       }},
      {{"auth"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.authorization = s;
         c.set_fields.insert("authorization");
       }},
      {{"routes"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.cluster.routes.clear();
         size_t start = 0;
         while (start <= s.size()) {
           size_t comma = s.find(',', start);
           std::string r = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
           size_t b = r.find_first_not_of(" \t"), e = r.find_last_not_of(" \t");
           if (b != std::string::npos) c.flags.cluster.routes.push_back(r.substr(b, e - b + 1));
           if (comma == std::string::npos) break;
           start = comma + 1;
         }
         c.set_fields.insert("routes");
       }},
      {{"cluster", "cluster_listen"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.cluster_listen_url = s;  // resolved in build_options
         c.set_fields.insert("cluster_listen");
       }},
      {{"cluster_name"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.cluster.name = s;
         c.set_fields.insert("cluster_name");
       }},
      {{"cluster_advertise"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.cluster.advertise = s;
         c.set_fields.insert("cluster_advertise");
       }},
      {{"no_advertise"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.cluster.no_advertise = b;
         c.set_fields.insert("cluster_no_advertise");
       }},
      {{"connect_retries"}, Kind::Int, [](CL& c, auto&, int64_t i, bool) {
         c.flags.cluster.connect_retries = clamp_int(i);
         c.set_fields.insert("cluster_connect_retries");
       }},
      // Ignored (see key_decisions.cpp): no handler.
      {{"r", "remote_syslog"}, Kind::String, nullptr},
      {{"max_traced_msg_len"}, Kind::Int, nullptr},
      {{"profile"}, Kind::Int, nullptr},
      {{"tls"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.tls.enabled = b;
         c.set_fields.insert("tls");
       }},
      {{"tlsverify"}, Kind::Bool, [](CL& c, auto&, auto, bool b) {
         c.flags.tls.verify = b;
         if (b) c.flags.tls.enabled = true;
         c.set_fields.insert({"tls", "tlsverify"});
       }},
      {{"tlscert"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.tls.cert_file = s;
         c.set_fields.insert("tlscert");
       }},
      {{"tlskey"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.tls.key_file = s;
         c.set_fields.insert("tlskey");
       }},
      {{"tlscacert"}, Kind::String, [](CL& c, auto& s, auto, bool) {
         c.flags.tls.ca_file = s;
         c.set_fields.insert("tlscacert");
       }},
  };
  return t;
}

const Flag* find_flag(const std::string& name) {
  for (const auto& f : flag_table())
    for (const char* n : f.names)
      if (name == n) return &f;
  return nullptr;
}

// Splits "nats://user:pass@host:port" into its parts; false when it does not parse.
bool parse_url_host_port(const std::string& url, std::string& user, std::string& pass,
                         std::string& host, int& port) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string rest = url.substr(scheme + 3);
  auto slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = info.find(':');
    user = info.substr(0, colon);
    if (colon != std::string::npos) pass = info.substr(colon + 1);
  }
  std::string p;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return false;
      p = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) p = rest.substr(colon + 1);
  }
  if (p.empty()) return false;
  int64_t v;
  if (!parse_go_int(p, v).empty() || v < 0 || v > 65535) return false;
  port = static_cast<int>(v);
  return true;
}

}  // namespace

bool parse_command_line(const std::vector<std::string>& args, CommandLine& out, std::string& error) {
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') break;  // first non-flag argument
    size_t dashes = 1;
    if (a[1] == '-') {
      dashes = 2;
      if (a.size() == 2) {  // "--" ends the flags
        ++i;
        break;
      }
    }
    std::string name = a.substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      error = "bad flag syntax: " + a;
      return false;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* f = find_flag(name);
    auto decision = decide_key("flag", name);
    if (f == nullptr || !decision) {
      error = "flag provided but not defined: -" + name;
      return false;
    }
    if (*decision == KeyDecision::Refused) {
      error = "-" + name + " is not supported by this server";
      return false;
    }
    if (f->kind == Kind::Bool) {
      bool b = true;
      if (has_value && !parse_go_bool(value, b)) {
        error = "invalid boolean value \"" + value + "\" for -" + name + ": parse error";
        return false;
      }
      if (*decision == KeyDecision::Ignored || !f->apply) out.ignored[name] = has_value ? value : "true";
      else f->apply(out, has_value ? value : "true", 0, b);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        error = "flag needs an argument: -" + name;
        return false;
      }
      value = args[++i];
    }
    int64_t n = 0;
    if (f->kind == Kind::Int) {
      std::string why = parse_go_int(value, n);
      if (!why.empty()) {
        error = "invalid value \"" + value + "\" for flag -" + name + ": " + why;
        return false;
      }
    }
    if (*decision == KeyDecision::Ignored || !f->apply) out.ignored[name] = value;
    else f->apply(out, value, n, false);
  }
  // Like the reference, the only words allowed after the flags are "version"/"help".
  for (; i < args.size(); ++i) {
    if (args[i] == "version") out.show_version = true;
    else if (args[i] == "help") out.show_help = true;
    else {
      error = "unrecognized command: \"" + args[i] + "\"";
      return false;
    }
  }
  return true;
}

bool parse_command_line(int argc, const char* const* argv, CommandLine& out, std::string& error) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_command_line(args, out, error);
}

Options build_options(const CommandLine& cl, LoadReport* report) {
  Options o;
  if (!cl.config_file.empty()) {
    LoadReport r = load_config_file(cl.config_file, o, cl.check_config);
    if (report) *report = std::move(r);
  }
  if (report)
    for (const auto& [name, value] : cl.ignored) report->ignored.push_back("<command line>: -" + name);
  const Options& f = cl.flags;
  auto given = [&](const char* field) { return cl.set_fields.count(field) > 0; };
  if (given("host")) o.host = f.host;
  if (given("port")) o.port = f.port;
  if (given("server_name")) o.server_name = f.server_name;
  if (given("client_advertise")) o.client_advertise = f.client_advertise;
  if (given("pid_file")) o.pid_file = f.pid_file;
  if (given("http_port")) o.http_port = f.http_port;
  if (given("http_host")) o.http_host = f.http_host;
  if (given("no_auth_user")) o.no_auth_user = f.no_auth_user;
  if (given("https_port")) o.https_port = f.https_port;
  if (given("log_file")) o.log_file = f.log_file;
  if (given("ports_file_dir")) o.ports_file_dir = f.ports_file_dir;
  if (given("logtime")) o.logtime = f.logtime;
  if (given("debug")) o.debug = f.debug;
  if (given("trace")) o.trace = f.trace;
  if (given("trace_verbose")) o.trace_verbose = f.trace_verbose;
  if (given("jetstream")) o.jetstream.enabled = f.jetstream.enabled;
  if (given("store_dir")) o.jetstream.store_dir = f.jetstream.store_dir;
  if (given("username")) o.username = f.username;
  if (given("password")) o.password = f.password;
  if (given("authorization")) o.authorization = f.authorization;
  if (given("check_config")) o.check_config = f.check_config;
  if (given("routes")) {
    o.cluster.routes = f.cluster.routes;
    o.cluster.configured = true;
  }
  if (given("cluster_name")) o.cluster.name = f.cluster.name;
  if (given("cluster_advertise")) o.cluster.advertise = f.cluster.advertise;
  if (given("cluster_no_advertise")) o.cluster.no_advertise = f.cluster.no_advertise;
  if (given("cluster_connect_retries")) o.cluster.connect_retries = f.cluster.connect_retries;
  if (given("cluster_listen")) {
    const std::string& url = cl.cluster_listen_url;
    std::string user, pass, host;
    int port = 0;
    if (!parse_url_host_port(url, user, pass, host, port))
      throw ConfigError(Position{"<command line>", 0, 0}, "error parsing cluster URL \"" + url + "\"");
    o.cluster.configured = true;
    if (!host.empty()) o.cluster.host = host;
    o.cluster.port = port;
    if (!user.empty()) {
      o.cluster.username = user;
      o.cluster.password = pass;
    }
  }
  if (o.jetstream.enabled && o.cluster.configured && o.server_name.empty())
    throw std::runtime_error("jetstream cluster requires `server_name` to be set");
  // TLS flags: the reference needs --tls (or --tlsverify) plus a certificate and key.
  if (given("tls")) o.tls.enabled = f.tls.enabled;
  if (given("tlsverify")) o.tls.verify = f.tls.verify;
  if (given("tlscert")) o.tls.cert_file = f.tls.cert_file;
  if (given("tlskey")) o.tls.key_file = f.tls.key_file;
  if (given("tlscacert")) o.tls.ca_file = f.tls.ca_file;
  if (o.tls.enabled && (o.tls.cert_file.empty() || o.tls.key_file.empty()))
    throw ConfigError(Position{"<command line>", 0, 0}, "TLS Server certificate and key must be specified with --tlscert and --tlskey");
  if (!cl.config_file.empty()) o.config_file = cl.config_file;
  return o;
}

}  // namespace nats::config
