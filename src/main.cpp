// nats-server: parse flags and config, print the reference's start-up banner, run until
// SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "config/command_line.h"
#include "config/operator_options.h"
#include "startup_pages.h"
#include "server/server.h"
#include "server/url_account_fetcher.h"
#include "util/log.h"
#include "util/process_signal.h"

namespace {

void block_signals(sigset_t& set) {
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int main(int argc, char** argv) {
  // What the dynamic linker and static initialisers touched (see startup_pages.cpp); dropped
  // again after the config is read and once the server is up, so that the peak stays low too.
  nats::drop_startup_code_pages();
  nats::config::CommandLine cl;
  std::string err;
  if (!nats::config::parse_command_line(argc, argv, cl, err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    std::fputs(nats::config::usage_text().c_str(), stdout);
    return nats::config::kFlagErrorExitCode;
  }
  if (cl.show_help) {
    std::fputs(nats::config::usage_text().c_str(), stdout);
    return 0;
  }
  if (!cl.signal.empty()) {
    std::string err = nats::util::process_signal(cl.signal);
    if (!err.empty()) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
    return 0;
  }
  if (cl.show_version) {
    std::printf("nats-server: v%s\n", nats::kServerVersion);
    return 0;
  }
  nats::Options opts;
  nats::config::LoadReport report;
  try {
    opts = nats::config::build_options(cl, &report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nats-server: %s\n", e.what());
    return 1;
  }
  if (cl.check_config) {
    std::printf("nats-server: configuration file %s is valid\n", cl.config_file.c_str());
    return 0;
  }
  if (auto err = nats::config::check_operator_system_account(opts); !err.empty()) {
    std::fprintf(stderr, "nats-server: %s\n", err.c_str());
    return 1;
  }

  nats::drop_startup_code_pages();

  nats::log::Settings ls;
  ls.time = opts.logtime;
  ls.debug = opts.debug;
  ls.trace = opts.trace;
  ls.file = opts.log_file;
  nats::log::configure(ls);
  for (auto& w : report.warnings) nats::log::warn("{}", w);
  for (auto& k : report.ignored) nats::log::warn("{}: setting is accepted but ignored by this server", k);

  sigset_t sigs;
  block_signals(sigs);

  if (opts.resolver.type == "URL") {
    // As the reference's NewServer: a basic check that the URL resolver's server is there
    // (a GET of the base URL must answer 200), else no start.
    std::shared_ptr<const nats::net::TlsContext> tls;
    try {
      tls = nats::url_resolver_tls(opts);  // configured before the check, as the reference
    } catch (const std::exception& e) {
      std::fprintf(stderr, "nats-server: resolver_tls: %s\n", e.what());
      return 1;
    }
    nats::UrlAccountFetcher probe(opts.resolver.url,
                                  std::chrono::duration_cast<std::chrono::milliseconds>(opts.resolver.fetch_timeout), tls);
    if (auto r = probe.get(""); !r.error.empty()) {
      std::fprintf(stderr, "nats-server: %s\n", r.error.c_str());
      return 1;
    }
  }
  nats::Server server(opts);
  nats::log::notice("Starting nats-server");
  nats::log::notice("  Version:  {}", nats::kServerVersion);
  nats::log::notice("  Git:      [not set]");
  nats::log::notice("  Name:     {}", server.name());
  nats::log::notice("  ID:       {}", server.id());
  if (!opts.config_file.empty()) nats::log::notice("Using configuration file: {}", opts.config_file);
  try {
    server.start();
  } catch (const nats::StartupError& e) {
    nats::log::fatal("{}", e.what());
    return 1;
  } catch (const nats::net::TlsConfigError& e) {
    nats::log::fatal("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    nats::log::fatal("Error listening on port: {}", e.what());
    return 1;
  }

  // Start-up is over (config read, listeners up, JetStream recovered): its code pages need
  // not stay resident, nor the heap pages it freed.
  nats::release_startup_heap();
  nats::drop_startup_code_pages();

  // Signals are handled by this thread synchronously; all others have them blocked. The
  // wait wakes up now and then to notice a shutdown that lame duck mode finished itself.
  while (!server.shutting_down()) {
    timespec tick{0, 250 * 1000 * 1000};
    int sig = sigtimedwait(&sigs, nullptr, &tick);
    if (sig < 0) continue;
    if (sig == SIGINT || sig == SIGTERM) {
      nats::log::notice("Trapped \"{}\" signal", sig == SIGINT ? "interrupt" : "terminated");
      break;
    }
    if (sig == SIGUSR1) nats::log::reopen();
    if (sig == SIGUSR2) server.enter_lame_duck_mode();
    if (sig == SIGHUP) {
      // As the reference: the config file read again with the command-line flags over it.
      if (cl.config_file.empty()) {
        nats::log::error("Failed to reload server configuration: can only reload config when a file is provided using -c or --config");
        continue;
      }
      std::string why;
      try {
        why = server.reload(nats::config::build_options(cl, nullptr));
      } catch (const std::exception& e) {
        why = e.what();
      }
      if (!why.empty()) nats::log::error("Failed to reload server configuration: {}", why);
    }
  }
  server.shutdown();
  server.wait_for_shutdown();
  return 0;
}
