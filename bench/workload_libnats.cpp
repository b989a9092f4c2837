// Workloads driven by the official C client (libnats): what a real application sees. On a
// 2-core machine the client's own CPU use is large, so these complement, not replace, the
// raw-socket workloads that isolate the server.
#include <nats/nats.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "seq_track.h"
#include "workload.h"

namespace nats::bench {

namespace {

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw BenchError(std::string(what) + ": " + natsStatus_GetText(s));
}

struct ConnDeleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
};
struct SubDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using ConnPtr = std::unique_ptr<natsConnection, ConnDeleter>;
using SubPtr = std::unique_ptr<natsSubscription, SubDeleter>;

// send_asap: write each publish at once instead of leaving it to the flusher thread (which
// adds up to a millisecond); right for request/reply, wrong for throughput.
ConnPtr connect(const std::string& url, bool send_asap = false) {
  natsOptions* opts = nullptr;
  check(natsOptions_Create(&opts), "options");
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetAllowReconnect(opts, false);
  natsOptions_SetMaxPendingMsgs(opts, 10'000'000);
  natsOptions_SetSendAsap(opts, send_asap);
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  check(s, ("connect to " + url).c_str());
  return ConnPtr(nc);
}

void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* t = static_cast<SubTracker*>(closure);
  t->on_payload(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  t->stamp();
  natsMsg_Destroy(msg);
}

void on_request(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  if (const char* reply = natsMsg_GetReply(msg))
    natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

}  // namespace

WorkloadResult run_libnats_pub_sub(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                                   Deadline dl) {
  WorkloadResult r;
  const bool queue = !spec.queue.empty();
  const uint64_t n = spec.messages;
  Trackers trackers;
  std::vector<ConnPtr> sub_conns;
  std::vector<SubPtr> subs;
  auto stop_subs = [&] {
    for (auto& s : subs) natsSubscription_Unsubscribe(s.get());
    // A callback already running may still touch its tracker: let it finish before the
    // trackers are read.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    subs.clear();
    sub_conns.clear();
  };
  try {
    for (size_t i = 0; i < spec.subscribers; ++i) {
      trackers.push_back(std::make_unique<SubTracker>(n, spec.payload));
      sub_conns.push_back(connect(topo.sub_url(i)));
      natsSubscription* s = nullptr;
      if (queue)
        check(natsConnection_QueueSubscribe(&s, sub_conns.back().get(), spec.subject.c_str(), spec.queue.c_str(),
                                            on_msg, trackers.back().get()),
              "queue subscribe");
      else
        check(natsConnection_Subscribe(&s, sub_conns.back().get(), spec.subject.c_str(), on_msg,
                                       trackers.back().get()),
              "subscribe");
      subs.emplace_back(s);
      check(natsSubscription_SetPendingLimits(s, -1, -1), "pending limits");
      check(natsConnection_FlushTimeout(sub_conns.back().get(), 2000), "flush");
    }
    ConnPtr pub = connect(topo.pub_url);
    std::string payload(spec.payload, 'x');
    if (topo.multi_server()) {
      std::string probe = payload;
      put_seq(probe.data(), kProbeSeq);
      wait_probes(trackers, [&] {
        natsConnection_Publish(pub.get(), spec.subject.c_str(), probe.data(), int(probe.size()));
        natsConnection_FlushTimeout(pub.get(), 1000);
      }, dl);
    }
    const uint64_t window = std::max<uint64_t>(1024, spec.inflight_bytes / (spec.payload + 40));
    hooks.on_start();
    auto t0 = Clock::now();
    int64_t t0_ns = now_ns();
    for (uint64_t seq = 0; seq < n; ++seq) {
      if ((seq & 1023) == 0) {
        if (dl.expired()) throw BenchError("run timed out after " + std::to_string(seq) + " published");
        wait_window(trackers, queue, seq, window, dl);
      }
      put_seq(payload.data(), seq);
      check(natsConnection_Publish(pub.get(), spec.subject.c_str(), payload.data(), int(payload.size())), "publish");
    }
    check(natsConnection_FlushTimeout(pub.get(), 5000), "flush");
    Delivery delivery = wait_delivered(trackers, queue, n, dl);
    hooks.on_end();
    auto t_now = Clock::now();
    stop_subs();
    int64_t last = summarize(trackers, queue, n, spec.payload, r);
    r.seconds = last > t0_ns ? double(last - t0_ns) / 1e9 : seconds_between(t0, t_now);
    r.published = n;
    // A stall with nothing missing means the counts disagree; a timeout is reported as such
    // even though the undelivered rest also shows up as lost.
    if (delivery == Delivery::kTimedOut || (delivery == Delivery::kStalled && r.lost == 0))
      r.error = delivery_error(delivery, trackers, queue, n);
  } catch (const std::exception& e) {
    stop_subs();
    r.error = e.what();
  }
  return r;
}

WorkloadResult run_libnats_req_rep(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                                   Deadline dl) {
  WorkloadResult r;
  const std::string req_subject = spec.subject + ".req";
  try {
    ConnPtr rep = connect(topo.sub_url(0), true);
    natsSubscription* s = nullptr;
    check(natsConnection_Subscribe(&s, rep.get(), req_subject.c_str(), on_request, nullptr), "subscribe");
    SubPtr sub(s);
    check(natsConnection_FlushTimeout(rep.get(), 2000), "flush");
    ConnPtr req = connect(topo.pub_url, true);
    std::string payload(spec.payload, 'x');

    auto one = [&](uint64_t seq, int timeout_ms, bool strict) -> bool {
      put_seq(payload.data(), seq);
      natsMsg* reply = nullptr;
      natsStatus st = natsConnection_Request(&reply, req.get(), req_subject.c_str(), payload.data(),
                                             int(payload.size()), timeout_ms);
      if (st != NATS_OK) return false;
      const char* d = natsMsg_GetData(reply);
      int len = natsMsg_GetDataLength(reply);
      bool ok = len >= 8 && get_seq(d) == seq;
      if (strict && !ok) ++r.reordered;
      if (strict && len != int(spec.payload)) ++r.bad_payload;
      natsMsg_Destroy(reply);
      return ok;
    };
    uint64_t answered = 0;
    for (uint64_t i = 0; answered < std::max<uint64_t>(spec.warmup, 1); ++i) {
      if (dl.expired()) throw BenchError("timed out in warm-up: no replies");
      if (one((uint64_t{1} << 62) + i, 50, false)) ++answered;
    }
    r.latencies_us.reserve(spec.messages);
    hooks.on_start();
    auto t0 = Clock::now();
    for (uint64_t seq = 0; seq < spec.messages; ++seq) {
      if (dl.expired()) throw BenchError("timed out");
      auto a = Clock::now();
      if (!one(seq, 2000, true)) {
        ++r.lost;
        if (r.lost >= 3) throw BenchError("requests unanswered");
        continue;
      }
      r.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
    }
    auto t1 = Clock::now();
    hooks.on_end();
    r.seconds = seconds_between(t0, t1);
    r.published = spec.messages;
    r.delivered = r.latencies_us.size();
    r.payload_bytes = r.delivered * spec.payload * 2;
    natsSubscription_Unsubscribe(sub.get());
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace nats::bench
