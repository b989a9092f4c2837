#include "util/process_signal.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace nats::util {

namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Every running process named nats-server except this one.
std::vector<pid_t> running_servers() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (!all_digits(name)) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    std::ifstream comm(e.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c == "nats-server") out.push_back(pid);
  }
  return out;
}

}  // namespace

std::string process_signal(const std::string& command) {
  static const std::map<std::string, int> kSignals = {{"stop", SIGKILL},   {"quit", SIGINT},  {"term", SIGTERM},
                                                      {"reopen", SIGUSR1}, {"reload", SIGHUP}, {"ldm", SIGUSR2}};
  std::string cmd = command, target;
  if (auto eq = command.find('='); eq != std::string::npos) {
    cmd = command.substr(0, eq);
    target = command.substr(eq + 1);
  }
  auto it = kSignals.find(cmd);
  if (it == kSignals.end()) return "unknown signal \"" + cmd + "\"";
  pid_t pid = 0;
  if (target.empty()) {
    auto pids = running_servers();
    if (pids.empty()) return "no nats-server processes running";
    if (pids.size() > 1) {
      std::string msg = "multiple nats-server processes running:";
      for (pid_t p : pids) msg += "\n" + std::to_string(p);
      return msg;
    }
    pid = pids[0];
  } else if (all_digits(target)) {
    pid = static_cast<pid_t>(std::stol(target));
  } else {
    // A pid file, as written by -P.
    std::ifstream f(target);
    std::string text;
    if (!f || !std::getline(f, text)) return "could not read pid file \"" + target + "\"";
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (!all_digits(text)) return "invalid pid \"" + text + "\" in pid file \"" + target + "\"";
    pid = static_cast<pid_t>(std::stol(text));
  }
  if (::kill(pid, it->second) != 0) return "failed to signal process " + std::to_string(pid);
  return "";
}

}  // namespace nats::util
