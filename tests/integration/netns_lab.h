#pragma once
// A small network for partition tests: one network namespace per server, each with a veth
// into a bridge in the test's own namespace, which also holds an address on the bridge so the
// test's clients reach every server directly. A partition between two servers is a pair of
// blackhole routes (each side silently drops packets addressed to the other), the effect of
// a firewall DROP rule: TCP connections stall rather than close, and resume when healed.
// The client path (bridge address <-> server) is never cut.
//
// Needs CAP_NET_ADMIN and the `ip` tool; NetLab::available() says why not otherwise (the
// tests then skip). Names carry the test process id so parallel runs do not collide, and the
// destructor removes everything it made.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace netlab {

inline int sh(const std::string& cmd) { return testing_harness::run_command(cmd).status; }

class NetLab {
 public:
  explicit NetLab(int nodes) : tag_(std::to_string(::getpid() % 100000)) {
    int sub = ::getpid() % 250 + 1;
    prefix_ = "10.213." + std::to_string(sub) + ".";
    if (::access("/usr/sbin/ip", X_OK) != 0 && ::access("/sbin/ip", X_OK) != 0 && sh("command -v ip") != 0) {
      why_ = "the ip tool (iproute2) is not installed";
      return;
    }
    bridge_ = "i9br" + tag_;
    if (sh("ip link add " + bridge_ + " type bridge") != 0) {
      why_ = "no privilege to create network devices (CAP_NET_ADMIN)";
      bridge_.clear();
      return;
    }
    ok_ = sh("ip addr add " + prefix_ + "254/24 dev " + bridge_) == 0 && sh("ip link set " + bridge_ + " up") == 0;
    for (int i = 0; ok_ && i < nodes; ++i) {
      std::string ns = netns(i), host = "i9h" + tag_ + "x" + std::to_string(i), in = "i9n" + tag_ + "x" + std::to_string(i);
      namespaces_.push_back(ns);
      ok_ = sh("ip netns add " + ns) == 0 && sh("ip link add " + host + " type veth peer name " + in) == 0 &&
            sh("ip link set " + in + " netns " + ns) == 0 && sh("ip link set " + host + " master " + bridge_) == 0 &&
            sh("ip link set " + host + " up") == 0 && sh("ip -n " + ns + " link set lo up") == 0 &&
            sh("ip -n " + ns + " addr add " + ip(i) + "/24 dev " + in) == 0 &&
            sh("ip -n " + ns + " link set " + in + " up") == 0;
    }
    if (!ok_) why_ = "could not build the namespaces and bridge";
  }
  ~NetLab() {
    for (auto& ns : namespaces_) sh("ip netns del " + ns);  // takes its veth pair with it
    if (!bridge_.empty()) sh("ip link del " + bridge_);
  }
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  bool available() const { return ok_; }
  const std::string& why_not() const { return why_; }
  std::string netns(int i) const { return "i9ns" + tag_ + "x" + std::to_string(i); }
  std::string ip(int i) const { return prefix_ + std::to_string(i + 1); }

  // Cuts (or restores) the path between servers a and b, both ways.
  bool cut(int a, int b) {
    return sh("ip -n " + netns(a) + " route add blackhole " + ip(b) + "/32") == 0 &&
           sh("ip -n " + netns(b) + " route add blackhole " + ip(a) + "/32") == 0;
  }
  void heal(int a, int b) {
    sh("ip -n " + netns(a) + " route del blackhole " + ip(b) + "/32");
    sh("ip -n " + netns(b) + " route del blackhole " + ip(a) + "/32");
  }

 private:
  std::string tag_, prefix_, bridge_, why_;
  std::vector<std::string> namespaces_;
  bool ok_ = false;
};

// A server process inside one of the lab's namespaces (joined with setns before exec).
class NsServer {
 public:
  NsServer(std::string netns, std::string host, std::string config_path)
      : netns_(std::move(netns)), host_(std::move(host)), conf_(std::move(config_path)) {}
  ~NsServer() { stop(SIGKILL); }

  void start(int port) {
    port_ = port;
    log_ = dir_.path() + "/server.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      int nsfd = ::open(("/var/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
      if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) ::_exit(126);
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::setpgid(0, 0);
      std::string bin = testing_harness::server_binary();
      ::execl(bin.c_str(), bin.c_str(), "-c", conf_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (reachable()) return;
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("server exited at start: " + log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("server in " + netns_ + " did not open its port: " + log());
  }
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a stopped process must see the signal
    ::kill(pid_, sig);
    int st;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, &st, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  std::string url(const std::string& user) const {
    return "nats://" + user + "@" + host_ + ":" + std::to_string(port_);
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  bool reachable() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    ::inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }
  std::string netns_, host_, conf_;
  testing_harness::TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_;
};

}  // namespace netlab
