// Test harness: real server processes on loopback ports the test picks, cleaned up by PID,
// each with its own temporary directory.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace testing_harness {

// The binary under test: ours unless NATS_TEST_SERVER_BIN points elsewhere (e.g. the
// reference /usr/sbin/nats-server, to check a test against the reference behaviour).
inline std::string server_binary() {
  if (const char* e = std::getenv("NATS_TEST_SERVER_BIN"); e && *e) return e;
#ifdef NATS_SERVER_BIN
  return NATS_SERVER_BIN;
#else
  return "nats-server";
#endif
}

inline std::string reference_binary() {
  if (const char* e = std::getenv("NATS_REFERENCE_BIN"); e && *e) return e;
  return "/usr/sbin/nats-server";
}

inline bool reference_available() { return access(reference_binary().c_str(), X_OK) == 0; }

// The binaries a differential test runs against: ours, and the reference when it is installed.
inline std::vector<std::string> binaries_to_compare() {
  std::vector<std::string> bins{server_binary()};
  if (reference_available()) bins.push_back(reference_binary());
  return bins;
}

// The slice of the test port range this process may use. Several shards of the integration
// binary run at once: ctest's shards, each a --gtest_filter of suites (tests/CMakeLists.txt,
// NATS_TEST_SHARDS / NATS_TEST_SHARD_INDEX), and scripts/test.sh's gtest shards against a
// sanitized server (GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX). Each shard gets its own slice, so
// two shards can never pick the same port between one's pick and its bind.
struct PortSlice {
  int first;
  int size;
};
inline PortSlice test_port_slice() {
  constexpr int kFirst = 20000, kSize = 12000;
  const bool ours = std::getenv("NATS_TEST_SHARDS") != nullptr;
  const char* total_s = std::getenv(ours ? "NATS_TEST_SHARDS" : "GTEST_TOTAL_SHARDS");
  const char* index_s = std::getenv(ours ? "NATS_TEST_SHARD_INDEX" : "GTEST_SHARD_INDEX");
  int total = total_s ? std::atoi(total_s) : 1;
  int index = index_s ? std::atoi(index_s) : 0;
  if (total < 1 || index < 0 || index >= total) return {kFirst, kSize};
  int size = kSize / total;
  return {kFirst + index * size, size};
}

// Whether a TCP socket can bind `port` (on every address) right now.
inline bool port_bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A port for a test server to listen on. Ports come from below the kernel's ephemeral range
// (32768-60999 by default), so the outgoing connections of running tests and servers cannot
// take a port between its pick and its bind, and no port is handed out twice in one test
// process (two servers of one topology must never share a pick).
inline int free_port() {
  static std::mutex mu;
  static std::set<int> handed_out;
  static std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                          static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  static const PortSlice slice = test_port_slice();
  std::lock_guard lk(mu);
  for (int tries = 0; tries < 2000; ++tries) {
    int port = slice.first + static_cast<int>(rng() % static_cast<unsigned>(slice.size));
    if (handed_out.count(port)) continue;
    if (!port_bindable(port)) continue;
    handed_out.insert(port);
    return port;
  }
  throw std::runtime_error("no free port");
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Whether some socket of this network namespace listens on TCP `port` (any address, IPv4 or
// IPv6), read from /proc/net/tcp{,6}: unlike a probe connection, the server never sees it (a
// probe of a route or gateway port would be a peer that closes at once, logged as one, or a TLS
// handshake error).
inline bool port_listening(int port) {
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // "  sl  local_address rem_address   st ...": the local address ends with :PORT, st 0A is LISTEN.
      std::istringstream f(line);
      std::string sl, local, remote, st;
      f >> sl >> local >> remote >> st;
      if (st == "0A" && local.size() > 5 && local.compare(local.size() - 5, 5, want) == 0) return true;
    }
  }
  return false;
}

// Polls until every port of `ports` (0s skipped) listens or `timeout` passes; whether they all do.
inline bool wait_listening(const std::vector<int>& ports,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all = true;
    for (int p : ports) all = all && (p == 0 || port_listening(p));
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      // Said, not failed: the caller decides; a test whose next step fails shows why.
      std::string missing;
      for (int p : ports)
        if (p != 0 && !port_listening(p)) missing += " " + std::to_string(p);
      std::fprintf(stderr, "[ harness ] still not listening after %lld ms:%s\n",
                   static_cast<long long>(timeout.count()), missing.c_str());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/natscpp-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    if (!p) throw std::runtime_error("mkdtemp");
    path_ = p;
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path_, ec); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
 private:
  std::string path_;
};

// One server process. Output (stdout+stderr) goes to a log file in its own temp dir.
class ServerProcess {
 public:
  // args: extra command-line flags; the port is added unless args already hold -p/--port.
  explicit ServerProcess(std::vector<std::string> args = {}, std::string binary = server_binary(),
                         int port = 0)
      : binary_(std::move(binary)), args_(std::move(args)), port_(port ? port : free_port()) {}
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_; }
  const TempDir& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  // Starts the process and waits until the client port accepts connections.
  void start(bool add_port_flags = true, std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    log_ = dir_.path() + "/server.log";
    std::vector<std::string> argv{binary_};
    if (add_port_flags) {
      argv.push_back("-a");
      argv.push_back("127.0.0.1");
      argv.push_back("-p");
      argv.push_back(std::to_string(port_));
    }
    for (auto& a : args_) argv.push_back(a);
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::setpgid(0, 0);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (port_open(port_)) {
        // Let the server see the probe connection close, so tests of connection limits
        // do not count it.
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        return;
      }
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exit_status_ = st;
        pid_ = -1;
        throw std::runtime_error("server exited at start: " + log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("server did not open port " + std::to_string(port_) + ": " + log());
  }

  // Sends sig and waits for exit; returns the wait status (or -1 if not running).
  int stop(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + grace;
    int st = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) { pid_ = -1; exit_status_ = st; return st; }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    exit_status_ = st;
    return st;
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  TempDir dir_;
  std::string binary_;
  std::vector<std::string> args_;
  int port_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string log_;
};

// Runs a command to completion, returning its exit status and captured stdout+stderr.
struct CommandResult { int status; std::string output; };
inline CommandResult run_command(const std::string& cmd) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace testing_harness
