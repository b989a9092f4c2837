// Many-clients workloads (issue 15), on a ConnFleet:
// - kConns: N connections with `subs_per_conn` subscriptions each arrive (connect rate, and
//   server CPU per connect), then sit idle (server memory per connection from the RSS delta,
//   idle server CPU), then one publisher fans messages out to all of them (server CPU per
//   delivery).
// - kStorm: a publisher's sustained rate alone, then while N connections arrive.
#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "conn_fleet.h"
#include "raw_conn.h"
#include "workload.h"

namespace nats::bench {

namespace {

FleetOptions fleet_options(const WorkloadSpec& spec, const Topology& topo) {
  Endpoint ep = parse_url(topo.pub_url);
  FleetOptions fo;
  fo.host = ep.host;
  fo.port = ep.port;
  fo.tls = spec.tls;
  fo.subs_per_conn = spec.subs_per_conn;
  return fo;
}

// CPU of the calling thread (the fleet's loop), in seconds: when the server is not the limit,
// the runner's own TLS handshakes are.
double thread_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

WorkloadResult run_conns(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks, Deadline dl) {
  WorkloadResult r;
  if (spec.conns == 0 || spec.subs_per_conn == 0) throw BenchError("conns scenario needs connections and subscriptions");
  ConnFleet fleet(fleet_options(spec, topo));
  const double n = double(spec.conns);

  ServerSample before = hooks.sample();
  double runner0 = thread_cpu_seconds();
  auto t0 = Clock::now();
  fleet.connect(spec.conns, dl);
  auto t1 = Clock::now();
  double runner1 = thread_cpu_seconds();
  ServerSample connected = hooks.sample();
  // Let the server settle (no connection mid-way) before reading its resident memory.
  fleet.poll_for(std::chrono::milliseconds(300), dl);
  ServerSample settled = hooks.sample();
  fleet.poll_for(std::chrono::milliseconds(static_cast<long>(spec.idle_seconds * 1000)), dl);
  ServerSample idle = hooks.sample();

  // Fan-out: every message reaches every connection (the publishing one included); the
  // publisher stays at most one window ahead so nobody becomes a slow consumer.
  constexpr uint64_t kWindow = 16;
  std::string payload(spec.payload, 'f');
  hooks.on_start();
  ServerSample fan0 = hooks.sample();
  auto f0 = Clock::now();
  uint64_t sent = 0;
  while (sent < spec.messages) {
    for (uint64_t k = 0; k < kWindow && sent < spec.messages; ++k, ++sent) fleet.publish("fleet.all", payload);
    fleet.await_delivered(sent * spec.conns, dl);
  }
  auto f1 = Clock::now();
  hooks.on_end();
  ServerSample fan1 = hooks.sample();

  uint64_t deliveries = spec.messages * spec.conns;
  if (fleet.fan_delivered() > deliveries) r.duplicated = fleet.fan_delivered() - deliveries;
  r.published = spec.messages;
  r.delivered = fleet.fan_delivered();
  r.seconds = seconds_between(f0, f1);
  auto& f = r.figures;
  f["conns_per_s"] = n / seconds_between(t0, t1);
  f["connect_cpu_us_per_conn"] = (connected.cpu_seconds - before.cpu_seconds) * 1e6 / n;
  f["connect_cpu_s"] = connected.cpu_seconds - before.cpu_seconds;
  f["runner_cpu_us_per_conn"] = (runner1 - runner0) * 1e6 / n;
  f["mem_kb_per_conn"] = (settled.rss_kb - before.rss_kb) / n;
  f["idle_cpu_s"] = idle.cpu_seconds - settled.cpu_seconds;
  f["idle_cpu_ms_per_s"] = f["idle_cpu_s"] * 1000 / std::max(0.001, spec.idle_seconds);
  f["server_cpu_s"] = fan1.cpu_seconds - fan0.cpu_seconds;
  f["fanout_cpu_ns_per_delivery"] = f["server_cpu_s"] * 1e9 / double(deliveries);
  f["deliveries_per_s"] = double(deliveries) / r.seconds;
  return r;
}

WorkloadResult run_storm(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks, Deadline dl) {
  WorkloadResult r;
  // The publisher: batches of PUBs, each followed by a PING whose PONG says the server has
  // processed the batch; `done` counts processed messages.
  RawConn pub(topo.pub_url, dl);
  std::string frame = "PUB storm.p " + std::to_string(spec.payload) + "\r\n" + std::string(spec.payload, 's') + "\r\n";
  std::string batch;
  while (batch.size() < (64u << 10)) batch += frame;
  const uint64_t per_batch = batch.size() / frame.size();
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::string pub_error;
  std::thread publisher([&] {
    try {
      while (!stop.load()) {
        pub.write_all(batch, dl);
        pub.round_trip(dl);
        done.fetch_add(per_batch);
      }
    } catch (const std::exception& e) {
      pub_error = e.what();
    }
  });
  auto rate_over = [&](std::chrono::milliseconds d) {
    uint64_t c0 = done.load();
    auto t0 = Clock::now();
    std::this_thread::sleep_for(d);
    return double(done.load() - c0) / seconds_between(t0, Clock::now());
  };
  double alone = 0, during = 0, conn_rate = 0;
  try {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // warm-up
    alone = rate_over(std::chrono::milliseconds(1500));
    FleetOptions fo = fleet_options(spec, topo);
    ConnFleet fleet(fo);
    hooks.on_start();
    uint64_t c0 = done.load();
    auto t0 = Clock::now();
    fleet.connect(spec.conns, dl);
    auto t1 = Clock::now();
    hooks.on_end();
    during = double(done.load() - c0) / seconds_between(t0, t1);
    conn_rate = double(spec.conns) / seconds_between(t0, t1);
    r.seconds = seconds_between(t0, t1);
  } catch (...) {
    stop = true;
    publisher.join();
    throw;
  }
  stop = true;
  publisher.join();
  if (!pub_error.empty()) throw BenchError("publisher: " + pub_error);
  r.published = done.load();
  auto& f = r.figures;
  f["pub_msgs_per_s_alone"] = alone;
  f["pub_msgs_per_s_storm"] = during;
  f["pub_rate_kept_pct"] = alone > 0 ? during / alone * 100 : 0;
  f["conns_per_s"] = conn_rate;
  return r;
}

}  // namespace nats::bench
