// nats-bench: runs the same client workloads against our server and the reference server,
// alternating between them over several rounds, and prints medians and ratios (ours/reference).
#include <nats/nats.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "report.h"
#include "scenarios.h"
#include "server_process.h"

using namespace nats::bench;

namespace {

std::string default_ours() {
#ifdef NATS_BENCH_OURS
  if (::access(NATS_BENCH_OURS, X_OK) == 0) return NATS_BENCH_OURS;
#endif
  // Next to the runner's build directory: <build>/bench/nats-bench -> <build>/nats-server.
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto dir : {self.parent_path(), self.parent_path().parent_path()}) {
      auto p = dir / "nats-server";
      if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
#ifdef NATS_BENCH_OURS
  return NATS_BENCH_OURS;
#else
  return "nats-server";
#endif
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Last line of defence: whatever happens, the runner ends and takes its servers with it.
void start_watchdog(int seconds) {
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    std::fprintf(stderr, "nats-bench: total time limit of %d s reached, killing servers and exiting\n", seconds);
    kill_all_servers();
    ::_exit(3);
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compare our nats-server with the reference nats-server (ratios ours/reference)"};
  std::string ours = default_ours();
  std::string ref = "/usr/sbin/nats-server";
  int rounds = 3;
  uint64_t msgs = 0;
  bool quick = false, json_out = false, list = false, pin = false;
  std::string scenario_filter;
  int run_timeout = 60, max_seconds = 1200;
  std::vector<std::string> server_args;
  size_t conns = 0;
  double idle_seconds = -1;
  app.add_option("--ours", ours, "our server binary")->capture_default_str();
  app.add_option("--ref", ref, "reference server binary")->capture_default_str();
  app.add_option("--rounds", rounds, "rounds per scenario (alternating ours/reference)")->capture_default_str()
      ->check(CLI::Range(1, 50));
  app.add_option("--msgs", msgs, "messages per run for small payloads (large payloads are capped at 1 GiB)");
  app.add_flag("--quick", quick, "small counts and 1 round: a smoke run");
  app.add_option("--scenario", scenario_filter, "only scenarios whose name or group contains this (comma list)");
  app.add_flag("--json", json_out, "print JSON instead of tables");
  app.add_flag("--list", list, "list scenarios and exit");
  app.add_flag("--pin", pin, "pin servers to CPU 0 and the clients to CPU 1 (less noise, single-core server)");
  app.add_option("--run-timeout", run_timeout, "seconds one run may take")->capture_default_str();
  app.add_option("--max-seconds", max_seconds, "seconds the whole benchmark may take")->capture_default_str();
  app.add_option("--conns", conns, "connections in the many-clients scenarios (default 10000; 200 with --quick)");
  app.add_option("--idle-seconds", idle_seconds, "how long those connections sit idle (default 10; 1 with --quick)");
  app.add_option("--server-arg", server_args, "extra flag passed to both servers (repeatable)");
  // A later --rounds (etc.) overrides an earlier one, so wrappers can set defaults.
  for (auto* opt : app.get_options())
    if (opt->get_name() != "--server-arg" && opt->get_expected_max() == 1)
      opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  CLI11_PARSE(app, argc, argv);

  Scale scale = quick ? Scale::quick() : Scale{};
  if (quick && app.count("--rounds") == 0) rounds = 1;
  if (msgs > 0) {
    scale.messages = msgs;
    scale.requests = std::max<uint64_t>(100, msgs / 100);
  }
  if (conns > 0) scale.conns = conns;
  if (idle_seconds >= 0) scale.idle_seconds = idle_seconds;
  std::vector<Scenario> all = default_scenarios(scale), selected;
  if (scenario_filter.empty()) {
    selected = all;
  } else {
    for (auto& f : split_commas(scenario_filter))
      for (auto& s : filter_scenarios(all, f))
        if (std::none_of(selected.begin(), selected.end(), [&](auto& x) { return x.name == s.name; }))
          selected.push_back(s);
  }
  if (list) {
    for (auto& s : all) std::printf("%-22s %-32s %llu msgs\n", s.name.c_str(), s.group.c_str(),
                                    static_cast<unsigned long long>(s.spec.messages));
    return 0;
  }
  if (selected.empty()) {
    std::fprintf(stderr, "no scenario matches '%s' (see --list)\n", scenario_filter.c_str());
    return 2;
  }
  for (auto* b : {&ours, &ref}) {
    if (::access(b->c_str(), X_OK) != 0) {
      std::fprintf(stderr, "server binary not found or not executable: %s\n", b->c_str());
      return 2;
    }
  }

  // The many-clients scenarios hold a socket per connection here and in the server (which
  // inherits the limit): as far as the hard limit allows.
  if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                   rl.rlim_cur < scale.conns + 1000) {
    bool wants = std::any_of(selected.begin(), selected.end(), [](auto& s) {
      return s.spec.kind == Kind::kConns || s.spec.kind == Kind::kStorm;
    });
    if (wants) {
      std::fprintf(stderr, "--conns %zu needs about %zu open files; the limit here is %llu (hard limit)\n",
                   scale.conns, scale.conns + 1000, static_cast<unsigned long long>(rl.rlim_cur));
      return 2;
    }
  }
  install_cleanup_handlers();
  start_watchdog(max_seconds);
  nats_Open(-1);

  ServerFlavor f_ours{"ours", ours, server_args, pin ? 0 : -1, ours != ref};
  ServerFlavor f_ref{"reference", ref, server_args, pin ? 0 : -1};
  if (pin && !pin_self_to_cpu(1)) {
    std::fprintf(stderr, "--pin: cannot pin to CPU 1\n");
    return 2;
  }
  double load_before = load_average();
  auto started = Clock::now();
  std::vector<ScenarioOutcome> outcomes;
  for (auto& sc : selected) {
    ScenarioOutcome o{sc, {}, {}};
    for (int r = 0; r < rounds; ++r) {
      // Alternate who goes first, so slow drift of the machine does not favour one side.
      bool ours_first = r % 2 == 0;
      for (int k = 0; k < 2; ++k) {
        bool is_ours = (k == 0) == ours_first;
        RunSample s = measure_once(sc, is_ours ? f_ours : f_ref, std::chrono::seconds(run_timeout * sc.spec.timeout_factor));
        // msgs/s, or the first figure of the scenario's table (the many-clients scenarios).
        auto it = s.figures.find("msgs_per_s");
        if (it == s.figures.end()) it = s.figures.find(figure_defs(sc.spec.kind).front().key);
        std::fprintf(stderr, "  %-20s round %d %-9s %s %s\n", sc.name.c_str(), r + 1, is_ours ? "ours" : "reference",
                     it == s.figures.end() ? "-" : (std::to_string(static_cast<long long>(it->second)) + " " + it->first).c_str(),
                     s.ok ? "" : ("FAIL: " + s.failure).c_str());
        (is_ours ? o.ours : o.ref).push_back(std::move(s));
      }
    }
    outcomes.push_back(std::move(o));
  }
  nats_Close();
  double load_after = load_average();
  double elapsed = seconds_between(started, Clock::now());

  auto targets = evaluate_targets(outcomes);
  if (json_out) {
    nlohmann::json cfg = {{"ours", ours}, {"reference", ref}, {"rounds", rounds}, {"quick", quick},
                          {"server_args", server_args}, {"pinned", pin},
                          {"load_average_before", load_before}, {"load_average_after", load_after},
                          {"elapsed_seconds", elapsed},
                          {"peak_memory", "VmHWM of fresh servers per scenario and round (largest server of the layout)"},
                          {"cpu", "utime+stime over the measured interval, summed over the servers of the layout"},
                          {"client", "raw sockets unless the scenario name says libnats"}};
    std::cout << render_json(outcomes, targets, cfg).dump(2) << std::endl;
  } else {
    std::printf("ours: %s\nreference: %s\nrounds: %d (medians; servers restarted per scenario and round, "
                "so peak RSS is per scenario)%s\n"
                "load average before/after: %.2f/%.2f (other work on this machine is noise); took %.0f s\n",
                ours.c_str(), ref.c_str(), rounds, pin ? "; pinned: server CPU 0, clients CPU 1" : "",
                load_before, load_after, elapsed);
    std::fputs(render_tables(outcomes, targets).c_str(), stdout);
  }
  bool fail = std::any_of(outcomes.begin(), outcomes.end(), [](auto& o) { return o.failed(); });
  return fail ? 1 : 0;
}
