#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace nats::bench {

namespace {

// PIDs of live servers. A fixed array of atomics so the signal handler can read it safely.
constexpr int kMaxServers = 64;
std::atomic<pid_t> g_servers[kMaxServers];

void register_pid(pid_t pid) {
  for (auto& s : g_servers) {
    pid_t empty = 0;
    if (s.compare_exchange_strong(empty, pid)) return;
  }
}

void unregister_pid(pid_t pid) {
  for (auto& s : g_servers) {
    pid_t p = pid;
    if (s.compare_exchange_strong(p, 0)) return;
  }
}

bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void fatal_signal(int sig) {
  kill_all_servers();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void kill_all_servers() {
  for (auto& s : g_servers) {
    pid_t p = s.exchange(0);
    if (p > 0) ::kill(p, SIGKILL);
  }
}

void install_cleanup_handlers() {
  std::atexit(kill_all_servers);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGABRT}) ::signal(sig, fatal_signal);
  ::signal(SIGPIPE, SIG_IGN);
}

bool pin_self_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

bool read_proc_stats(pid_t pid, ProcStats& out) {
  std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(st, line)) return false;
  // The command name (field 2) may contain spaces; fields after the last ')' are fixed.
  auto rp = line.rfind(')');
  if (rp == std::string::npos) return false;
  std::istringstream rest(line.substr(rp + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // Fields 3..13 precede utime (14) and stime (15).
  for (int i = 3; i <= 15 && (rest >> f); ++i) {
    if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  out.cpu_seconds = double(utime + stime) / double(ticks);

  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) out.vm_hwm_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
    if (line.rfind("VmRSS:", 0) == 0) out.rss_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return true;
}

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw BenchError("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw BenchError("bind failed");
  }
  socklen_t l = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  ::close(fd);
  return ntohs(a.sin_port);
}

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& extra_args,
                             std::chrono::milliseconds start_timeout, int cpu) {
  if (::access(binary.c_str(), X_OK) != 0) throw BenchError("server binary not executable: " + binary);
  char tmpl[] = "/tmp/nats-bench-log-XXXXXX";
  int log_fd = ::mkstemp(tmpl);
  if (log_fd < 0) throw BenchError("mkstemp failed");
  log_path_ = tmpl;

  // A few tries: the port picked may be taken by someone else before the server binds it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = pick_free_port();
    std::vector<std::string> args = {binary, "-a", "127.0.0.1", "-p", std::to_string(port_)};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw BenchError("fork failed");
    if (pid == 0) {
      // The server must not outlive the runner, whatever way the runner ends.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      if (cpu >= 0) pin_self_to_cpu(cpu);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    reaped_ = false;
    register_pid(pid_);

    Deadline dl = Deadline::in(start_timeout);
    bool up = false;
    while (!dl.expired()) {
      if (!alive()) break;
      if (port_accepts(port_)) { up = true; break; }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (up) { ::close(log_fd); return; }
    bool died = !alive();
    stop();
    if (!died) break;  // hung rather than lost the port race: do not retry
  }
  ::close(log_fd);
  std::string tail = log_tail();
  throw BenchError("server " + binary + " did not start on port " + std::to_string(port_) +
                   "; log: " + tail);
}

ServerProcess::~ServerProcess() {
  stop();
  if (!log_path_.empty() && !std::getenv("NATS_BENCH_KEEP_LOGS")) ::unlink(log_path_.c_str());
}

std::string ServerProcess::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

bool ServerProcess::alive() {
  if (pid_ <= 0 || reaped_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    unregister_pid(pid_);
    return false;
  }
  return true;
}

ProcStats ServerProcess::stats() const {
  ProcStats s;
  if (pid_ > 0 && !reaped_) read_proc_stats(pid_, s);
  return s;
}

std::string ServerProcess::log_tail(size_t max_bytes) const {
  std::ifstream f(log_path_);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = s.substr(s.size() - max_bytes);
  return s;
}

void ServerProcess::stop() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGTERM);
  Deadline dl = Deadline::in(std::chrono::milliseconds(3000));
  while (!dl.expired()) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) { reaped_ = true; break; }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
  unregister_pid(pid_);
}

}  // namespace nats::bench
