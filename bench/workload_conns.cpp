// Many-clients workloads (issue 15), on a ConnFleet:
// - kConns: N connections with `subs_per_conn` subscriptions each arrive (connect rate, and
//   server CPU per connect), then sit idle (server memory per connection from the RSS delta,
//   idle server CPU), then one publisher fans messages out to all of them (server CPU per
//   delivery).
// - kStorm: a publisher's sustained rate alone, then while N connections arrive.
// The connections are split over one fleet per runner thread (kRunnerThreads): one thread's
// TLS client handshakes cost about as much CPU as the server's side, so a single thread
// capped the connect rate it could observe near the same figure for either server.
#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "conn_fleet.h"
#include "raw_conn.h"
#include "workload.h"

namespace nats::bench {

namespace {

constexpr size_t kRunnerThreads = 2;  // the machines this runs on have 2 cores

FleetOptions fleet_options(const WorkloadSpec& spec, const Topology& topo) {
  Endpoint ep = parse_url(topo.pub_url);
  FleetOptions fo;
  fo.host = ep.host;
  fo.port = ep.port;
  fo.tls = spec.tls;
  fo.subs_per_conn = spec.subs_per_conn;
  // TLS: 256 handshakes in flight on a loaded 2-core box outlast the servers' 2 s TLS
  // timeout (either server); 64 still keep both cores busy.
  if (spec.tls) fo.max_inflight = 64;
  return fo;
}

// CPU of the calling thread (a fleet's loop), in seconds: when the server is not the limit,
// the runner's own TLS handshakes are.
double thread_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// `total` connections split over kRunnerThreads fleets, each driven by its own thread for
// the duration of one call.
class FleetGroup {
 public:
  FleetGroup(const FleetOptions& base, size_t total) {
    size_t threads = std::max<size_t>(1, std::min(kRunnerThreads, total));
    for (size_t i = 0; i < threads; ++i) {
      FleetOptions fo = base;
      fo.first_index = total * i / threads;
      fo.max_inflight = std::max<size_t>(1, base.max_inflight / threads);
      shares_.push_back(total * (i + 1) / threads - fo.first_index);
      fleets_.push_back(std::make_unique<ConnFleet>(fo));
    }
  }
  size_t size() const { return fleets_.size(); }
  ConnFleet& fleet(size_t i) { return *fleets_[i]; }
  size_t share(size_t i) const { return shares_[i]; }
  uint64_t delivered() const {
    uint64_t d = 0;
    for (auto& f : fleets_) d += f->fan_delivered();
    return d;
  }
  // Runs fn(i) for every fleet i, fleet 0 on the calling thread, the others on their own
  // threads; returns the CPU seconds all of them used; rethrows the first failure.
  double run_each(const std::function<void(size_t)>& fn) {
    std::mutex mu;
    std::exception_ptr err;
    double cpu = 0;
    auto body = [&](size_t i) {
      double c0 = thread_cpu_seconds();
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lk(mu);
        if (!err) err = std::current_exception();
      }
      std::lock_guard lk(mu);
      cpu += thread_cpu_seconds() - c0;
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < fleets_.size(); ++i) threads.emplace_back(body, i);
    body(0);
    for (auto& t : threads) t.join();
    if (err) std::rethrow_exception(err);
    return cpu;
  }
  void connect(Deadline dl, double* cpu_s = nullptr) {
    double c = run_each([&](size_t i) { fleets_[i]->connect(shares_[i], dl); });
    if (cpu_s) *cpu_s = c;
  }
  void poll_for(std::chrono::milliseconds d, Deadline dl) {
    run_each([&](size_t i) { fleets_[i]->poll_for(d, dl); });
  }

 private:
  std::vector<std::unique_ptr<ConnFleet>> fleets_;
  std::vector<size_t> shares_;
};

}  // namespace

WorkloadResult run_conns(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks, Deadline dl) {
  WorkloadResult r;
  if (spec.conns == 0 || spec.subs_per_conn == 0) throw BenchError("conns scenario needs connections and subscriptions");
  FleetGroup fleets(fleet_options(spec, topo), spec.conns);
  const double n = double(spec.conns);

  ServerSample before = hooks.sample();
  double runner_cpu = 0;
  auto t0 = Clock::now();
  fleets.connect(dl, &runner_cpu);
  auto t1 = Clock::now();
  ServerSample connected = hooks.sample();
  // Let the server settle (no connection mid-way) before reading its resident memory.
  fleets.poll_for(std::chrono::milliseconds(300), dl);
  ServerSample settled = hooks.sample();
  fleets.poll_for(std::chrono::milliseconds(static_cast<long>(spec.idle_seconds * 1000)), dl);
  ServerSample idle = hooks.sample();

  // Fan-out: every message reaches every connection (the publishing one included). Fleet 0
  // publishes and stays at most one window ahead of its own deliveries; the other fleets
  // read theirs on their threads, so nobody becomes a slow consumer.
  constexpr uint64_t kWindow = 16;
  std::string payload(spec.payload, 'f');
  hooks.on_start();
  ServerSample fan0 = hooks.sample();
  auto f0 = Clock::now();
  fleets.run_each([&](size_t i) {
    ConnFleet& fleet = fleets.fleet(i);
    const uint64_t mine = fleets.share(i);
    if (i != 0) return fleet.await_delivered(spec.messages * mine, dl);
    uint64_t sent = 0;
    while (sent < spec.messages) {
      for (uint64_t k = 0; k < kWindow && sent < spec.messages; ++k, ++sent) fleet.publish("fleet.all", payload);
      fleet.await_delivered(sent * mine, dl);
    }
  });
  auto f1 = Clock::now();
  hooks.on_end();
  ServerSample fan1 = hooks.sample();

  uint64_t deliveries = spec.messages * spec.conns;
  if (fleets.delivered() > deliveries) r.duplicated = fleets.delivered() - deliveries;
  r.published = spec.messages;
  r.delivered = fleets.delivered();
  r.seconds = seconds_between(f0, f1);
  auto& f = r.figures;
  f["conns_per_s"] = n / seconds_between(t0, t1);
  f["connect_cpu_us_per_conn"] = (connected.cpu_seconds - before.cpu_seconds) * 1e6 / n;
  f["connect_cpu_s"] = connected.cpu_seconds - before.cpu_seconds;
  f["runner_cpu_us_per_conn"] = runner_cpu * 1e6 / n;
  f["runner_threads"] = double(fleets.size());
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
    FleetGroup fleets(fleet_options(spec, topo), spec.conns);
    hooks.on_start();
    uint64_t c0 = done.load();
    auto t0 = Clock::now();
    fleets.connect(dl);
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
