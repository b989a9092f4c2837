// The reference's ports file: with ports_file_dir set, the server writes
// <dir>/<program>_<pid>.ports, a JSON object with the URLs it listens on ("nats",
// "monitoring", "cluster"), and removes it on shutdown. Test harnesses use it to find
// servers started on random ports.
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cluster/route_manager.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {

std::string join_host_port(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                            : host + ":" + std::to_string(port);
}

// As the reference's resolveHostPorts: every interface address when listening on all.
std::vector<std::string> listen_urls(const std::string& scheme, const std::string& host, int port) {
  std::vector<std::string> out;
  if (!host.empty() && host != "0.0.0.0" && host != "::") return {scheme + "://" + join_host_port(host, port)};
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return {scheme + "://" + join_host_port("127.0.0.1", port)};
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN] = {0};
    if (i->ifa_addr->sa_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    else if (i->ifa_addr->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf, sizeof buf);
    else
      continue;
    out.push_back(scheme + "://" + join_host_port(buf, port));
  }
  freeifaddrs(ifs);
  return out;
}

std::string ports_file_path(const std::string& dir) {
  return dir + "/" + program_invocation_short_name + "_" + std::to_string(getpid()) + ".ports";
}

}  // namespace

void Server::write_ports_file() {
  std::string dir;
  {
    std::lock_guard lk(live_mu_);
    dir = live_ports_dir_;
  }
  if (dir.empty()) return;
  nlohmann::ordered_json j;
  j["nats"] = listen_urls(tls_context() ? "tls" : "nats", opts_.host, client_port_);
  if (http_port_ > 0) j["monitoring"] = listen_urls(opts_.https_port != 0 ? "https" : "http", opts_.http_host.empty() ? opts_.host : opts_.http_host, http_port_);
  if (routes_) j["cluster"] = listen_urls(opts_.cluster.tls.enabled ? "tls" : "nats", opts_.cluster.host, routes_->cluster_port());
  if (websocket_port_ > 0) j["websocket"] = listen_urls(ws_tls_context() ? "wss" : "ws", opts_.websocket.host, websocket_port_);
  std::string path = ports_file_path(dir);
  std::ofstream out(path);
  out << j.dump();
  if (!out) log::error("Error writing ports file ({})", path);
}

void Server::remove_ports_file(const std::string& dir) {
  if (dir.empty()) return;
  std::string path = ports_file_path(dir);
  if (::unlink(path.c_str()) != 0) log::error("Error cleaning up ports file {}", path);
}

}  // namespace nats
