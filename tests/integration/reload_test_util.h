// Config reload in tests: rewrite a server's config file, send SIGHUP, and read the outcome from
// the log lines 2.9.10 and ours both write ("Reloaded server configuration" or "Failed to
// reload server configuration: <why>").
#pragma once

#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "both_servers_test.h"
#include "test_util.h"

namespace itest {

inline size_t occurrences_in_log(const std::string& log, const std::string& what) {
  size_t n = 0;
  for (size_t p = log.find(what); p != std::string::npos; p = log.find(what, p + 1)) ++n;
  return n;
}

// Writes `text` to `conf_path`, reloads `srv` and waits up to 5 s: "" when the reload was
// applied, the error the server logged when it was refused, "<no outcome>" otherwise.
inline std::string reload_config(testing_harness::ServerProcess& srv, const std::string& conf_path,
                                 const std::string& text) {
  std::ofstream(conf_path, std::ios::trunc) << text;
  const std::string ok = "Reloaded server configuration", failed = "Failed to reload server configuration: ";
  const std::string before = srv.log();
  size_t ok_before = occurrences_in_log(before, ok), failed_before = occurrences_in_log(before, failed);
  EXPECT_EQ(::kill(srv.pid(), SIGHUP), 0);
  std::string out = "<no outcome>";
  wait_for(
      [&] {
        std::string log = srv.log();
        if (occurrences_in_log(log, ok) != ok_before) {
          out = "";
          return true;
        }
        if (occurrences_in_log(log, failed) == failed_before) return false;
        size_t p = log.rfind(failed) + failed.size();
        out = log.substr(p, log.find('\n', p) - p);
        return true;
      },
      milliseconds(5000));
  return out;
}

// One server from a config file the test rewrites and reloads, run against our server and the
// reference 2.9.10 (the test parameter is the server binary).
class ReloadServerTest : public BothServersTest {
 protected:
  // Starts the server from `text` (config file `name`), with monitoring on http_port_ when
  // `monitor`.
  void start(const std::string& text, const std::string& name = "reload.conf", bool monitor = true) {
    conf_ = dir_.write(name, text);
    std::vector<std::string> args{"-c", conf_};
    if (monitor) {
      http_port_ = testing_harness::free_port();
      args.insert(args.end(), {"-m", std::to_string(http_port_)});
    }
    srv_ = std::make_unique<testing_harness::ServerProcess>(args, GetParam());
    srv_->start();
  }
  // Rewrites the config, sends SIGHUP and waits for the outcome: "" when it was applied, else
  // the error the server logged.
  std::string reload(const std::string& text) { return reload_config(*srv_, conf_, text); }
  nlohmann::json varz() {
    auto r = testing_harness::run_command("curl -s http://127.0.0.1:" + std::to_string(http_port_) + "/varz");
    return nlohmann::json::parse(r.output, nullptr, false);
  }

  testing_harness::TempDir dir_;
  std::string conf_;
  int http_port_ = 0;
  std::unique_ptr<testing_harness::ServerProcess> srv_;
};

}  // namespace itest
