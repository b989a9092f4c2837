// Config reload in tests: rewrite a server's config file, send SIGHUP, and read the outcome from
// the log lines 2.9.10 and ours both write ("Reloaded server configuration" or "Failed to
// reload server configuration: <why>").
#pragma once

#include <signal.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

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

}  // namespace itest
