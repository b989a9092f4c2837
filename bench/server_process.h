// One server process started by the runner: spawned with the flags the runner chooses,
// watched through /proc, and always ended by its PID (also on abnormal exit of the runner).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace nats::bench {

// CPU time and memory of a process as the kernel accounts them.
struct ProcStats {
  double cpu_seconds = 0;   // utime + stime of all threads, from /proc/<pid>/stat
  uint64_t vm_hwm_kb = 0;   // peak resident set, VmHWM from /proc/<pid>/status
  uint64_t rss_kb = 0;      // resident set now, VmRSS
};

bool read_proc_stats(pid_t pid, ProcStats& out);

// A free loopback TCP port right now (bind to 0, read it back, close).
int pick_free_port();

class ServerProcess {
 public:
  // Starts `binary -a 127.0.0.1 -p <port> <extra_args...>` with its output in a log file and
  // waits (bounded) until the port accepts connections. Throws BenchError on failure.
  // cpu >= 0 pins the server to that CPU (see --pin).
  ServerProcess(const std::string& binary, const std::vector<std::string>& extra_args,
                std::chrono::milliseconds start_timeout, int cpu = -1);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string url() const;
  bool alive();
  ProcStats stats() const;
  // The tail of the server's log, for error messages.
  std::string log_tail(size_t max_bytes = 2000) const;
  // SIGTERM, bounded wait, then SIGKILL. Idempotent.
  void stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  bool reaped_ = false;
};

// Kills every still-registered server by PID; installed for atexit and fatal signals.
void kill_all_servers();
// Pins the calling process (all its future threads) to one CPU; false if not possible.
bool pin_self_to_cpu(int cpu);
// The 1-minute load average: other work on the machine is the main source of noise.
double load_average();
void install_cleanup_handlers();

}  // namespace nats::bench
