#include "deployment.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace nats::bench {

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::kSingle: return "single";
    case Layout::kRoute: return "route";
    case Layout::kGateway: return "gateway";
    case Layout::kJetStream: return "jetstream";
    case Layout::kJetStreamSyncAlways: return "jetstream-sync-always";
    case Layout::kJetStreamR3: return "jetstream-r3";
    case Layout::kTls: return "tls";
    case Layout::kLeaf: return "leaf";
  }
  return "?";
}

ProcStats Deployment::stats() {
  ProcStats total;
  for (ServerProcess* s : servers()) {
    ProcStats p = s->stats();
    total.cpu_seconds += p.cpu_seconds;
    total.rss_kb += p.rss_kb;
    total.vm_hwm_kb = std::max(total.vm_hwm_kb, p.vm_hwm_kb);
  }
  return total;
}

std::string Deployment::dead_servers() {
  std::string out;
  for (ServerProcess* s : servers())
    if (!s->alive()) out += "server on port " + std::to_string(s->port()) + " died; log: " + s->log_tail(600) + "\n";
  return out;
}

namespace {

class SingleServer : public Deployment {
 public:
  explicit SingleServer(const ServerFlavor& f) : server_(f.binary, f.args, std::chrono::seconds(10), f.cpu) {}
  Topology topology() const override { return Topology::single(server_.url()); }
  std::vector<ServerProcess*> servers() override { return {&server_}; }

 private:
  ServerProcess server_;
};

// A config file that lives as long as the deployment using it.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text) {
    char tmpl[] = "/tmp/nats-bench-conf-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) throw BenchError("mkstemp failed");
    ::close(fd);
    path_ = tmpl;
    std::ofstream(path_) << text;
  }
  ~TempConfig() {
    if (!std::getenv("NATS_BENCH_KEEP_LOGS")) ::unlink(path_.c_str());
  }
  TempConfig(const TempConfig&) = delete;
  TempConfig& operator=(const TempConfig&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One JetStream server whose store directory lives (and is removed) with the deployment.
class JetStreamServer : public Deployment {
 public:
  explicit JetStreamServer(const ServerFlavor& f, bool sync_always = false)
      : flavor_(f), dir_(make_dir()), sync_conf_(sync_always && f.sync_always ? sync_conf(dir_) : nullptr),
        server_(std::make_unique<ServerProcess>(f.binary, args(), std::chrono::seconds(10), f.cpu)) {}
  ~JetStreamServer() override {
    server_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Topology topology() const override { return Topology::single(server_->url()); }
  std::vector<ServerProcess*> servers() override { return {server_.get()}; }
  std::string restart(Clock::time_point& spawned) override {
    server_->stop();
    server_.reset();
    spawned = Clock::now();
    // Recovering a large store may take a while before the port opens.
    server_ = std::make_unique<ServerProcess>(flavor_.binary, args(), std::chrono::seconds(120), flavor_.cpu);
    return server_->url();
  }

 private:
  static std::string make_dir() {
    char tmpl[] = "/tmp/nats-bench-js-XXXXXX";
    if (!::mkdtemp(tmpl)) throw BenchError("mkdtemp failed");
    return tmpl;
  }
  static std::unique_ptr<TempConfig> sync_conf(const std::string& dir) {
    return std::make_unique<TempConfig>("jetstream { store_dir: \"" + dir + "\", sync_interval: always }\n");
  }
  std::vector<std::string> args() const {
    std::vector<std::string> a = {"-js", "-sd", dir_};
    if (sync_conf_) a = {"-c", sync_conf_->path()};
    a.insert(a.end(), flavor_.args.begin(), flavor_.args.end());
    return a;
  }
  ServerFlavor flavor_;
  std::string dir_;
  std::unique_ptr<TempConfig> sync_conf_;
  std::unique_ptr<ServerProcess> server_;
};

// One server requiring TLS, with a fresh self-signed ECDSA P-256 certificate (made by the
// openssl command) in a directory that lives (and is removed) with the deployment.
class TlsServer : public Deployment {
 public:
  explicit TlsServer(const ServerFlavor& f) : dir_(make_cert()), server_(f.binary, args(f, dir_), std::chrono::seconds(10), f.cpu) {}
  ~TlsServer() override {
    server_.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Topology topology() const override { return Topology::single(server_.url()); }
  std::vector<ServerProcess*> servers() override { return {&server_}; }

 private:
  static std::string make_cert() {
    char tmpl[] = "/tmp/nats-bench-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) throw BenchError("mkdtemp failed");
    std::string dir = tmpl;
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " + dir + "/key.pem -out " +
                      dir + "/cert.pem >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw BenchError("openssl could not make a test certificate");
    return dir;
  }
  static std::vector<std::string> args(const ServerFlavor& f, const std::string& dir) {
    std::vector<std::string> a = {"--tls", "--tlscert", dir + "/cert.pem", "--tlskey", dir + "/key.pem"};
    a.insert(a.end(), f.args.begin(), f.args.end());
    return a;
  }
  std::string dir_;
  ServerProcess server_;
};

std::string local_url(const char* scheme, int port) {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
}

// Server 0 carries the publisher/requester, server 1 the subscribers/replier.
class ServerPair : public Deployment {
 public:
  ServerPair(Layout layout, const ServerFlavor& f) {
    int link[2] = {pick_free_port(), pick_free_port()};
    while (link[1] == link[0]) link[1] = pick_free_port();
    for (int i = 0; i < 2; ++i) {
      std::string c = "server_name: bench-" + std::string(i == 0 ? "a" : "b") + "\n";
      if (layout == Layout::kRoute) {
        // One cluster; only the second server solicits the route, so exactly one is made.
        c += "cluster {\n  name: bench\n  listen: 127.0.0.1:" + std::to_string(link[i]) + "\n";
        if (i == 1) c += "  routes: [\"" + local_url("nats-route", link[0]) + "\"]\n";
        c += "}\n";
      } else if (layout == Layout::kLeaf) {
        // Server 0 is the hub (accepts leaf connections), server 1 the leaf that solicits.
        if (i == 0) c += "leafnodes {\n  listen: 127.0.0.1:" + std::to_string(link[0]) + "\n}\n";
        else c += "leafnodes {\n  remotes: [ { url: \"" + local_url("nats-leaf", link[0]) + "\" } ]\n}\n";
      } else {
        // Two single-server clusters, each naming the other's gateway.
        const char* self = i == 0 ? "east" : "west";
        const char* peer = i == 0 ? "west" : "east";
        c += "gateway {\n  name: " + std::string(self) + "\n  listen: 127.0.0.1:" + std::to_string(link[i]) +
             "\n  gateways: [\n    {name: " + peer + ", urls: [\"" + local_url("nats", link[1 - i]) +
             "\"]}\n  ]\n}\n";
      }
      configs_[i] = std::make_unique<TempConfig>(c);
      std::vector<std::string> args = {"-c", configs_[i]->path()};
      args.insert(args.end(), f.args.begin(), f.args.end());
      servers_[i] = std::make_unique<ServerProcess>(f.binary, args, std::chrono::seconds(10), f.cpu);
    }
  }
  Topology topology() const override { return {servers_[0]->url(), {servers_[1]->url()}}; }
  std::vector<ServerProcess*> servers() override { return {servers_[0].get(), servers_[1].get()}; }

 private:
  std::unique_ptr<TempConfig> configs_[2];
  std::unique_ptr<ServerProcess> servers_[2];
};

// Three JetStream servers in one cluster (each lists all routes), with a system account and a
// JetStream account the clients land in without credentials.
class JsCluster3 : public Deployment {
 public:
  explicit JsCluster3(const ServerFlavor& f) {
    int link[3];
    for (int i = 0; i < 3; ++i) {
      link[i] = pick_free_port();
      for (int k = 0; k < i; ++k)
        if (link[k] == link[i]) --i;  // retry a duplicate
    }
    for (int i = 0; i < 3; ++i) {
      char tmpl[] = "/tmp/nats-bench-js-XXXXXX";
      if (!::mkdtemp(tmpl)) throw BenchError("mkdtemp failed");
      dirs_[i] = tmpl;
      std::string c = "server_name: r" + std::to_string(i + 1) + "\n";
      c += "accounts {\n  $SYS { users: [{user: sys, password: pass}] }\n"
           "  B { jetstream: enabled, users: [{user: b, password: b}] }\n}\nno_auth_user: b\n";
      c += "jetstream { store_dir: \"" + dirs_[i] + "\" }\n";
      c += "cluster {\n  name: bench\n  listen: 127.0.0.1:" + std::to_string(link[i]) + "\n  routes: [\n";
      for (int k = 0; k < 3; ++k) c += "    \"" + local_url("nats-route", link[k]) + "\"\n";
      c += "  ]\n}\n";
      configs_[i] = std::make_unique<TempConfig>(c);
      std::vector<std::string> args = {"-c", configs_[i]->path()};
      args.insert(args.end(), f.args.begin(), f.args.end());
      servers_[i] = std::make_unique<ServerProcess>(f.binary, args, std::chrono::seconds(10), f.cpu);
    }
  }
  ~JsCluster3() override {
    for (auto& s : servers_) s->stop();
    std::error_code ec;
    for (auto& d : dirs_) std::filesystem::remove_all(d, ec);
  }
  Topology topology() const override { return Topology::single(servers_[0]->url()); }
  std::vector<ServerProcess*> servers() override { return {servers_[0].get(), servers_[1].get(), servers_[2].get()}; }

 private:
  std::string dirs_[3];
  std::unique_ptr<TempConfig> configs_[3];
  std::unique_ptr<ServerProcess> servers_[3];
};

}  // namespace

std::unique_ptr<Deployment> start_single_server(const ServerFlavor& f) { return std::make_unique<SingleServer>(f); }

std::string Deployment::restart(Clock::time_point&) {
  throw BenchError("this layout cannot restart its server");
}

std::unique_ptr<Deployment> start_deployment(Layout layout, const ServerFlavor& f) {
  if (layout == Layout::kSingle) return start_single_server(f);
  if (layout == Layout::kJetStream) return std::make_unique<JetStreamServer>(f);
  if (layout == Layout::kJetStreamSyncAlways) return std::make_unique<JetStreamServer>(f, true);
  if (layout == Layout::kJetStreamR3) return std::make_unique<JsCluster3>(f);
  if (layout == Layout::kTls) return std::make_unique<TlsServer>(f);
  // A route/gateway port picked free may be taken before the server binds it: one more try
  // with fresh ports.
  try {
    return std::make_unique<ServerPair>(layout, f);
  } catch (const BenchError&) {
    return std::make_unique<ServerPair>(layout, f);
  }
}

}  // namespace nats::bench
