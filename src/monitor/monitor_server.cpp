#include "monitor/monitor_server.h"

#include <httplib.h>

#include <stdexcept>

#include "monitor/endpoints.h"
#include "monitor/metrics.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {
std::multimap<std::string, std::string> query_of(const httplib::Request& req) {
  std::multimap<std::string, std::string> q;
  for (auto& [k, v] : req.params) q.emplace(k, v);
  return q;
}

void reply_json(httplib::Response& res, const Json& j, int status = 200) {
  res.status = status;
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_content(j.dump(2), "application/json");
}

// Serves `make` at path, counting requests and mapping MonitorError to HTTP 400.
template <typename F>
void route(httplib::Server& http, const std::string& path, F make,
           std::function<void(const std::string&)> count) {
  http.Get(path, [make, count, path](const httplib::Request& req, httplib::Response& res) {
    count(path);
    try {
      int status = 200;
      Json j = make(req, status);
      reply_json(res, j, status);
    } catch (const MonitorError& e) {
      res.status = e.code;
      res.set_content(e.description, "text/plain");
    }
  });
}
}  // namespace

MonitorServer::MonitorServer(Server& server) : server_(server), http_(std::make_unique<httplib::Server>()) {}

MonitorServer::~MonitorServer() { stop(); }

void MonitorServer::count(const std::string& path) {
  std::lock_guard lk(mu_);
  stats_[path]++;
}

std::map<std::string, uint64_t> MonitorServer::request_stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

int MonitorServer::start(const std::string& host, int port) {
  auto& http = *http_;
  Server& s = server_;
  auto cnt = [this](const std::string& p) { count(p); };
  const std::string base = server_.options().http_base_path;
  auto p = [&](const char* path) {
    std::string b = base;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b + path;
  };
  route(http, p("/varz"), [&s](const httplib::Request&, int&) { return varz(s); }, cnt);
  route(http, p("/connz"), [&s](const httplib::Request& r, int&) { return connz(s, connz_options_from_query(query_of(r))); }, cnt);
  route(http, p("/subsz"), [&s](const httplib::Request& r, int&) { return subsz(s, subsz_options_from_query(query_of(r))); }, cnt);
  route(http, p("/subscriptionsz"), [&s](const httplib::Request& r, int&) { return subsz(s, subsz_options_from_query(query_of(r))); }, cnt);
  route(http, p("/routez"), [&s](const httplib::Request&, int&) { return routez(s); }, cnt);
  route(http, p("/gatewayz"), [&s](const httplib::Request&, int&) { return gatewayz(s); }, cnt);
  route(http, p("/leafz"), [&s](const httplib::Request& r, int&) {
    const std::string v = r.has_param("subs") ? r.get_param_value("subs") : "";
    return leafz(s, v == "1" || v == "true");
  }, cnt);
  route(http, p("/jsz"), [&s](const httplib::Request& r, int&) { return jsz(s, jsz_options_from_query(query_of(r))); }, cnt);
  route(http, p("/accountz"), [&s](const httplib::Request& r, int&) {
    return accountz(s, r.has_param("acc") ? r.get_param_value("acc") : "");
  }, cnt);
  route(http, p("/healthz"), [&s](const httplib::Request& r, int& status) {
    auto on = [&](const char* k) { return r.has_param(k) && (r.get_param_value(k) == "true" || r.get_param_value(k) == "1"); };
    auto j = healthz(s, &status, on("js-enabled-only") || on("js-enabled"));
    if (status != 200) log::warn("Healthcheck failed: \"{}\"", j.value("error", ""));
    return j;
  }, cnt);
  // Not in the reference: Prometheus text format (see monitor/metrics.h).
  http.Get(p("/metrics"), [this, &s](const httplib::Request&, httplib::Response& res) {
    count("/metrics");
    res.set_content(metrics_text(s), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get(p("/"), [this](const httplib::Request&, httplib::Response& res) {
    count("/");
    res.set_content(
        "<html><head><title>NATS Server</title></head><body><h1>NATS Server</h1>"
        "<a href=./varz>General</a><br/><a href=./jsz>JetStream</a><br/><a href=./connz>Connections</a><br/>"
        "<a href=./accountz>Accounts</a><br/><a href=./subsz>Subscriptions</a><br/><a href=./routez>Routes</a><br/>"
        "<a href=./leafz>LeafNodes</a><br/><a href=./gatewayz>Gateways</a><br/><a href=./healthz>Health Probe</a><br/>"
        "</body></html>",
        "text/html");
  });

  int bound = port;
  std::string bind_host = host.empty() ? "0.0.0.0" : host;
  if (port <= 0) {
    bound = http.bind_to_any_port(bind_host);
  } else if (!http.bind_to_port(bind_host, port)) {
    bound = -1;
  }
  if (bound <= 0) throw std::runtime_error("can not listen for monitoring on " + bind_host + ":" + std::to_string(port));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return bound;
}

void MonitorServer::stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace nats
