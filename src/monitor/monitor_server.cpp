#include "monitor/monitor_server.h"

#include <cctype>
#include <functional>
#include <stdexcept>

#include "monitor/endpoints.h"
#include "monitor/metrics.h"
#include "net/tls.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {

using MonRequest = net::http::Request;
using MonResponse = net::http::Response;
using MonQuery = std::multimap<std::string, std::string>;

constexpr const char* kMonPlainText = "text/plain; charset=utf-8";

// The reference's ResponseHandler: JSON, or JSONP when ?callback= is given. A non-200 answer
// (healthz's 503) has its status written before the Content-Type, so Go sniffs it instead:
// text/plain.
MonResponse mon_json(const Json& j, int status, const MonQuery& q, bool indent = true) {
  MonResponse r;
  r.code = status;
  std::string body = indent ? j.dump(2) : j.dump();
  std::string callback = net::http::query_get(q, "callback");
  if (!callback.empty()) {
    r.body = callback + "(" + body + ")";
    r.content_type = "application/javascript";
  } else {
    r.body = std::move(body);
    r.content_type = "application/json";
  }
  if (status != 200) r.content_type = kMonPlainText;
  return r;
}

// Go's strconv.ParseBool, as the reference's decodeBool applies it to healthz's options.
bool mon_decode_bool(const MonQuery& q, const char* key) {
  std::string v = net::http::query_get(q, key);
  if (v.empty()) return false;
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") return false;
  throw MonitorError{400, std::string("Error decoding boolean for '") + key + "': strconv.ParseBool: parsing \"" + v +
                              "\": invalid syntax"};
}

MonResponse mon_not_found() {
  return MonResponse{404, kMonPlainText, "404 page not found\n", "X-Content-Type-Options: nosniff\r\n"};
}

// The path as a Location header carries it: bytes outside the unreserved and path
// characters %-escaped (what Go's url.URL.String does for a path).
std::string mon_escape_path(const std::string& p) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : p) {
    if (std::isalnum(c) || std::string_view("-._~/!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// ServeMux's redirect to the cleaned path (Go's http.Redirect: a small HTML body for GET).
MonResponse mon_redirect(const MonRequest& req, const std::string& to) {
  std::string url = mon_escape_path(to);
  if (!req.raw_query.empty()) url += "?" + req.raw_query;
  MonResponse r;
  r.code = 301;
  r.extra_headers = "Location: " + url + "\r\n";
  if (req.method == "GET" || req.method == "HEAD") {
    r.content_type = "text/html; charset=utf-8";
    std::string esc;
    for (char c : url) {
      switch (c) {
        case '&': esc += "&amp;"; break;
        case '<': esc += "&lt;"; break;
        case '>': esc += "&gt;"; break;
        case '"': esc += "&#34;"; break;
        case '\'': esc += "&#39;"; break;
        default: esc.push_back(c);
      }
    }
    if (req.method == "GET") r.body = "<a href=\"" + esc + "\">Moved Permanently</a>.\n\n";
  }
  return r;
}

constexpr const char* kMonRootPage =
    "<html><head><title>NATS Server</title></head><body><h1>NATS Server</h1>"
    "<a href=./varz>General</a><br/><a href=./jsz>JetStream</a><br/><a href=./connz>Connections</a><br/>"
    "<a href=./accountz>Accounts</a><br/><a href=./accstatz>Account Stats</a><br/>"
    "<a href=./subsz>Subscriptions</a><br/><a href=./routez>Routes</a><br/>"
    "<a href=./leafz>LeafNodes</a><br/><a href=./gatewayz>Gateways</a><br/><a href=./healthz>Health Probe</a><br/>"
    "</body></html>";

}  // namespace

MonitorServer::MonitorServer(Server& server)
    : server_(server), base_(normalize_base_path(server.options().http_base_path)) {}

MonitorServer::~MonitorServer() { stop(); }

std::string MonitorServer::normalize_base_path(const std::string& p) {
  if (p.empty()) return "/";
  std::string clean = net::http::clean_path(p.front() == '/' ? p : "/" + p);
  // path.Clean drops a trailing slash (clean_path keeps it, as ServeMux does).
  if (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  return clean;
}

void MonitorServer::count(const std::string& path) {
  std::lock_guard lk(mu_);
  stats_[path]++;
}

std::map<std::string, uint64_t> MonitorServer::request_stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void MonitorServer::open() {
  state_.store(1, std::memory_order_release);
  state_.notify_all();
}

net::http::Response MonitorServer::handle(const net::http::Request& req) {
  state_.wait(0, std::memory_order_acquire);
  if (state_.load(std::memory_order_acquire) != 1) return {503, "text/plain", "server stopping\n", ""};
  // OPTIONS * is answered by Go's server itself.
  if (req.path == "*") return MonResponse{req.method == "OPTIONS" ? 200 : 400, "", "", ""};
  // ServeMux serves only clean paths; others are redirected to their clean form.
  std::string clean = net::http::clean_path(req.path);
  if (clean != req.path && req.method != "CONNECT") return mon_redirect(req, clean);

  // What follows the base path ("/varz"), or the root page when it is the base itself.
  std::string rel;
  if (req.path == base_) {
    rel = "/";
  } else {
    std::string prefix = base_ == "/" ? "" : base_;
    if (req.path.compare(0, prefix.size(), prefix) != 0) return mon_not_found();
    rel = req.path.substr(prefix.size());
  }
  Server& s = server_;
  MonQuery q = net::http::parse_query(req.raw_query);
  try {
    if (rel == "/varz") {
      count("/varz");
      return mon_json(varz(s), 200, q);
    }
    if (rel == "/connz") {
      count("/connz");
      return mon_json(connz(s, connz_options_from_query(q)), 200, q);
    }
    if (rel == "/subsz" || rel == "/subscriptionsz") {
      count("/subsz");
      return mon_json(subsz(s, subsz_options_from_query(q)), 200, q);
    }
    if (rel == "/routez") {
      count("/routez");
      return mon_json(routez(s), 200, q);
    }
    if (rel == "/gatewayz") {
      count("/gatewayz");
      return mon_json(gatewayz(s), 200, q);
    }
    if (rel == "/leafz") {
      count("/leafz");
      std::string v = net::http::query_get(q, "subs");
      return mon_json(leafz(s, v == "1" || v == "true"), 200, q);
    }
    if (rel == "/jsz") {
      count("/jsz");
      return mon_json(jsz(s, jsz_options_from_query(q)), 200, q);
    }
    if (rel == "/accountz") {
      count("/accountz");
      return mon_json(accountz(s, net::http::query_get(q, "acc")), 200, q);
    }
    if (rel == "/accstatz") {
      count("/accstatz");
      bool unused = mon_decode_bool(q, "unused");
      return mon_json(accstatz(s, unused), 200, q);
    }
    if (rel == "/healthz") {
      count("/healthz");
      bool js_enabled = mon_decode_bool(q, "js-enabled");
      if (js_enabled) log::warn("Healthcheck: js-enabled deprecated, use js-enabled-only instead");
      bool js_enabled_only = mon_decode_bool(q, "js-enabled-only");
      mon_decode_bool(q, "js-server-only");  // validated; the full check covers it
      int status = 200;
      Json j = healthz(s, &status, js_enabled_only || js_enabled);
      if (status != 200) log::warn("Healthcheck failed: \"{}\"", j.value("error", ""));
      return mon_json(j, status, q, false);
    }
    // Not in the reference: Prometheus text format (see monitor/metrics.h).
    if (rel == "/metrics") {
      count("/metrics");
      return MonResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_text(s), ""};
    }
    if (rel == "/") {
      count("/");
      return MonResponse{200, "text/html; charset=utf-8", kMonRootPage, ""};
    }
  } catch (const MonitorError& e) {
    return MonResponse{e.code, kMonPlainText, e.description, ""};
  }
  return mon_not_found();
}

int MonitorServer::start(const std::string& host, int port, bool secure) {
  if (secure) {
    const auto& t = server_.options().tls;
    tls_ = std::make_unique<net::TlsContext>(t.cert_file, t.key_file, t.ca_file, false);
    tls_->release_idle_buffers();
  }
  http_ = std::make_unique<net::http::Server>([this](const MonRequest& r) { return handle(r); }, tls_.get());
  std::string bind_host = host.empty() ? "0.0.0.0" : host;
  try {
    return http_->start(bind_host, port < 0 ? 0 : port);
  } catch (const std::exception&) {
    throw std::runtime_error("can not listen for monitoring on " + bind_host + ":" + std::to_string(port));
  }
}

void MonitorServer::stop() {
  // A start-up that failed never opened: release waiting requests (they answer 503) so
  // that stopping the HTTP thread cannot wait on them.
  int starting = 0;
  if (state_.compare_exchange_strong(starting, 2)) state_.notify_all();
  if (http_) http_->stop();
}

}  // namespace nats
