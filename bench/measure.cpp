#include "measure.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nats::bench {

const std::vector<FigureDef>& figure_defs(Kind kind) {
  static const std::vector<FigureDef> pub_only = {
      {"msgs_per_s", "msgs/s", false},
      {"mb_per_s", "MB/s (payload)", false},
      {"cpu_ns_per_msg", "server CPU ns/msg", true},
      {"peak_mb", "server peak RSS MB", true},
  };
  static const std::vector<FigureDef> pub_sub = {
      {"msgs_per_s", "msgs/s published", false},
      {"delivered_per_s", "msgs/s delivered", false},
      {"mb_per_s", "MB/s delivered (payload)", false},
      {"cpu_ns_per_msg", "server CPU ns/published msg", true},
      {"peak_mb", "server peak RSS MB", true},
  };
  static const std::vector<FigureDef> req_rep = {
      {"p50_us", "latency p50 us", true},
      {"p99_us", "latency p99 us", true},
      {"msgs_per_s", "requests/s", false},
      {"cpu_ns_per_msg", "server CPU ns/request", true},
      {"peak_mb", "server peak RSS MB", true},
  };
  static const std::vector<FigureDef> js_pub = {
      {"msgs_per_s", "msgs/s stored and acked", false},
      {"p50_us", "PubAck latency p50 us", true},
      {"p99_us", "PubAck latency p99 us", true},
      {"mb_per_s", "MB/s (payload)", false},
      {"cpu_ns_per_msg", "server CPU ns/msg", true},
      {"peak_mb", "server peak RSS MB", true},
      // js-restart only (rows without figures are not printed).
      {"restart_s", "restart to healthy s", true},
      {"rss_after_mb", "server RSS after restart MB", true},
  };
  // Many clients (issue 15): per connection, not per message.
  static const std::vector<FigureDef> conns = {
      {"mem_kb_per_conn", "server RSS KB/conn (10 subs)", true},
      {"conns_per_s", "connects/s (to PONG)", false},
      {"connect_cpu_us_per_conn", "server CPU us/connect", true},
      {"runner_cpu_us_per_conn", "runner (clients) CPU us/connect", true},
      {"runner_threads", "runner (clients) threads", false},
      {"idle_cpu_ms_per_s", "idle server CPU ms/s", true},
      {"fanout_cpu_ns_per_delivery", "fan-out server CPU ns/delivery", true},
      {"deliveries_per_s", "fan-out deliveries/s", false},
      {"peak_mb", "server peak RSS MB", true},
  };
  static const std::vector<FigureDef> storm = {
      {"pub_msgs_per_s_alone", "publisher msgs/s, alone", false},
      {"pub_msgs_per_s_storm", "publisher msgs/s, in storm", false},
      {"pub_rate_kept_pct", "publisher rate kept %", false},
      {"conns_per_s", "storm connects/s", false},
      {"peak_mb", "server peak RSS MB", true},
  };
  switch (kind) {
    case Kind::kConns: return conns;
    case Kind::kStorm: return storm;
    case Kind::kPubOnly: return pub_only;
    case Kind::kJsPub: return js_pub;
    case Kind::kPubSub: return pub_sub;
    case Kind::kReqRep: return req_rep;
  }
  return pub_only;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(std::ceil(p / 100.0 * double(v.size()))) - 1;
  return v[std::min(idx, v.size() - 1)];
}

RunSample measure_once(const Scenario& sc, const ServerFlavor& flavor, std::chrono::milliseconds timeout) {
  RunSample out;
  std::unique_ptr<Deployment> dep;
  try {
    dep = start_deployment(sc.layout, flavor);
  } catch (const std::exception& e) {
    out.failure = e.what();
    return out;
  }
  ProcStats before, after;
  MeasureHooks hooks;
  hooks.on_start = [&] { before = dep->stats(); };
  hooks.on_end = [&] { after = dep->stats(); };
  hooks.sample = [&] {
    ProcStats p = dep->stats();
    return ServerSample{p.cpu_seconds, double(p.rss_kb)};
  };
  hooks.restart = [&](Clock::time_point& spawned) { return dep->restart(spawned); };
  WorkloadResult w = run_workload(sc.spec, dep->topology(), hooks, timeout);
  ProcStats end = dep->stats();
  std::string dead = dep->dead_servers();
  dep.reset();

  std::string fail;
  if (!w.error.empty()) fail += "error: " + w.error + "; ";
  if (!dead.empty()) fail += dead;
  if (w.lost || w.duplicated || w.reordered || w.bad_payload)
    fail += fmt::format("lost={} duplicated={} reordered={} bad_payload={}; ", w.lost, w.duplicated, w.reordered,
                        w.bad_payload);
  out.ok = fail.empty();
  out.failure = fail;
  // A failed run's figures would mix into the medians: keep only good runs.
  if (!out.ok || w.seconds <= 0 || w.published == 0) return out;

  auto& f = out.figures;
  f["peak_mb"] = double(std::max(end.vm_hwm_kb, after.vm_hwm_kb)) / 1024.0;
  if (sc.spec.kind == Kind::kConns || sc.spec.kind == Kind::kStorm) {
    for (auto& [k, v] : w.figures) f[k] = v;
    return out;
  }
  double cpu = after.cpu_seconds - before.cpu_seconds;
  f["msgs_per_s"] = double(w.published) / w.seconds;
  f["cpu_ns_per_msg"] = cpu * 1e9 / double(w.published);
  f["peak_mb"] = double(std::max(end.vm_hwm_kb, after.vm_hwm_kb)) / 1024.0;
  f["seconds"] = w.seconds;
  f["server_cpu_s"] = cpu;
  for (auto& [k, v] : w.figures) f[k] = v;
  if (sc.spec.kind == Kind::kPubSub) {
    f["delivered_per_s"] = double(w.delivered) / w.seconds;
    f["mb_per_s"] = double(w.payload_bytes) / w.seconds / 1e6;
  } else if (sc.spec.kind == Kind::kPubOnly || sc.spec.kind == Kind::kJsPub) {
    f["mb_per_s"] = double(w.payload_bytes) / w.seconds / 1e6;
    if (!w.latencies_us.empty()) {
      f["p50_us"] = percentile(w.latencies_us, 50);
      f["p99_us"] = percentile(w.latencies_us, 99);
    }
  } else {
    f["p50_us"] = percentile(w.latencies_us, 50);
    f["p99_us"] = percentile(w.latencies_us, 99);
  }
  return out;
}

}  // namespace nats::bench
