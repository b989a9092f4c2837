// Workloads: the client side of each benchmark scenario. A workload knows nothing about
// server processes; it is given a Topology (where the publisher and each subscriber connect),
// so the same code measures one server, or a publisher and subscribers on different servers
// joined by routes or gateways.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common.h"

namespace nats::bench {

struct Topology {
  std::string pub_url;                // publisher / requester
  std::vector<std::string> sub_urls;  // subscriber i (or the replier) connects to sub_urls[i % size]

  const std::string& sub_url(size_t i) const { return sub_urls[i % sub_urls.size()]; }
  // Interest crosses servers asynchronously; only then must the workload wait for it.
  bool multi_server() const {
    for (auto& u : sub_urls)
      if (u != pub_url) return true;
    return false;
  }
  static Topology single(const std::string& url) { return {url, {url}}; }
};

// kConns: many connections (conn_fleet.h); kStorm: a publisher while connections arrive.
enum class Kind { kPubOnly, kPubSub, kReqRep, kJsPub, kConns, kStorm };
enum class ClientImpl { kRaw, kLibnats };

struct WorkloadSpec {
  Kind kind = Kind::kPubSub;
  ClientImpl client = ClientImpl::kRaw;
  size_t payload = 16;       // bytes; at least 8 (the sequence number lives in the first 8)
  size_t subscribers = 1;    // kPubSub: number of subscribers
  std::string queue;         // kPubSub: non-empty makes them one queue group
  uint64_t messages = 0;     // messages published (requests, for kReqRep)
  uint64_t warmup = 0;       // kReqRep: requests sent before measuring
  size_t inflight_bytes = 8 << 20;  // kPubSub: publisher stays at most this far ahead of subscribers
  std::string subject = "bench.s";
  // kJsPub: the stream's storage ("memory" or "file") and how many publishes may await
  // their PubAck at once (as an async JetStream publisher keeps a window).
  std::string js_storage = "memory";
  size_t js_window = 512;  // 1: synchronous publishing, one latency sample per message
  int js_replicas = 1;     // > 1: a clustered layout (kJetStreamR3)
  // Non-empty: the publishes are not measured; a durable pull consumer with this ack policy
  // ("none" or "explicit", acking every message) then reads the stream back, and that is.
  std::string js_pull_ack;
  // kJsPub: after the (unmeasured) publishes the server is restarted on its store; measured is
  // the time from spawning it until STREAM.INFO shows every message (and its memory then).
  bool js_restart = false;
  // Runs this many times --run-timeout (the 10M-message restart publishes for minutes).
  int timeout_factor = 1;
  // kJsPub: > 0 spreads the publishes over this many subjects (<subject>.NNNNNN, round robin;
  // the stream takes <subject>.*), so per-subject state is what the store holds most of.
  size_t js_subjects = 0;
  // kConns / kStorm: how many connections, subscriptions on each (kConns), whether the
  // server requires TLS (the Tls layout), and how long the connections sit idle (kConns).
  size_t conns = 0;
  size_t subs_per_conn = 10;
  bool tls = false;
  double idle_seconds = 10;
};

// What a workload can read of the servers meanwhile (summed over a layout's servers).
struct ServerSample {
  double cpu_seconds = 0;
  double rss_kb = 0;  // resident now (VmRSS), not the peak
};

// Called by the workload right before the first measured message and right after the last
// one is accounted for; the runner samples the servers' CPU there.
struct MeasureHooks {
  std::function<void()> on_start = [] {};
  std::function<void()> on_end = [] {};
  std::function<ServerSample()> sample = [] { return ServerSample{}; };
  // Restarts the server on the same store (Deployment::restart); empty when not supported.
  std::function<std::string(Clock::time_point&)> restart;
};

struct WorkloadResult {
  double seconds = 0;          // measured interval
  uint64_t published = 0;      // messages (or requests) sent in the interval
  uint64_t delivered = 0;      // messages received by subscribers (replies, for kReqRep)
  uint64_t payload_bytes = 0;  // payload bytes delivered (published, for kPubOnly)
  // Integrity, from the sequence numbers carried in payloads.
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t bad_payload = 0;  // wrong size
  std::vector<double> latencies_us;  // kReqRep: one per measured request
  std::string error;                 // non-empty: the run failed (timeout, server gone, ...)
  std::map<std::string, double> figures;  // kConns / kStorm / js-restart: their own figures (measure.cpp)

  bool ok() const { return error.empty() && lost == 0 && duplicated == 0 && reordered == 0 && bad_payload == 0; }
};

// Runs one workload against the topology; never throws, never runs past `timeout`.
WorkloadResult run_workload(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                            std::chrono::milliseconds timeout);

// Implementations, one per client kind.
WorkloadResult run_raw_pub_only(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_raw_pub_sub(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_raw_req_rep(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_libnats_pub_sub(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_libnats_req_rep(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_raw_js_pub(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_conns(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);
WorkloadResult run_storm(const WorkloadSpec&, const Topology&, const MeasureHooks&, Deadline);

}  // namespace nats::bench
