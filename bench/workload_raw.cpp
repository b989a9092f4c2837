// Raw-socket workloads: the publisher stamps sequence numbers into a prebuilt batch of PUB
// frames and writes the whole batch at once; subscribers parse MSG frames in place.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include "raw_conn.h"
#include "seq_track.h"
#include "workload.h"

namespace nats::bench {

namespace {

constexpr size_t kWriteBatchBytes = 256 << 10;

// A buffer of identical PUB frames; only the sequence numbers change between writes.
class PubBatch {
 public:
  PubBatch(const std::string& subject, const std::string& reply, size_t payload, size_t target_bytes) {
    std::string header = "PUB " + subject + (reply.empty() ? "" : " " + reply) + " " +
                         std::to_string(payload) + "\r\n";
    seq_off_ = header.size();
    stride_ = header.size() + payload + 2;
    per_batch_ = std::max<size_t>(1, target_bytes / stride_);
    buf_.resize(per_batch_ * stride_);
    for (size_t i = 0; i < per_batch_; ++i) {
      char* m = buf_.data() + i * stride_;
      std::memcpy(m, header.data(), header.size());
      std::memset(m + header.size(), 'x', payload);
      std::memcpy(m + header.size() + payload, "\r\n", 2);
    }
  }
  size_t per_batch() const { return per_batch_; }
  size_t stride() const { return stride_; }
  // Stamps first..first+n-1 into the first n frames; returns how many bytes to send.
  size_t stamp(uint64_t first, size_t n) {
    for (size_t i = 0; i < n; ++i) put_seq(buf_.data() + i * stride_ + seq_off_, first + i);
    return n * stride_;
  }
  const char* data() const { return buf_.data(); }

 private:
  std::vector<char> buf_;
  size_t seq_off_ = 0, stride_ = 0, per_batch_ = 0;
};

std::string probe_frame(const std::string& subject, const std::string& reply, size_t payload) {
  std::string f = "PUB " + subject + (reply.empty() ? "" : " " + reply) + " " + std::to_string(payload) + "\r\n";
  std::string body(payload, 'p');
  put_seq(body.data(), kProbeSeq);
  return f + body + "\r\n";
}

}  // namespace

WorkloadResult run_raw_pub_only(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                                Deadline dl) {
  WorkloadResult r;
  RawConn pub(topo.pub_url, dl);
  PubBatch batch(spec.subject, "", spec.payload, kWriteBatchBytes);
  hooks.on_start();
  auto t0 = Clock::now();
  for (uint64_t seq = 0; seq < spec.messages;) {
    if (dl.expired()) throw BenchError("run timed out after " + std::to_string(seq) + " published");
    size_t n = static_cast<size_t>(std::min<uint64_t>(batch.per_batch(), spec.messages - seq));
    pub.write_all(batch.data(), batch.stamp(seq, n), dl);
    seq += n;
  }
  // The PONG comes after the server has processed every PUB before it.
  pub.round_trip(dl);
  auto t1 = Clock::now();
  hooks.on_end();
  r.seconds = seconds_between(t0, t1);
  r.published = spec.messages;
  r.payload_bytes = spec.messages * spec.payload;
  return r;
}

WorkloadResult run_raw_pub_sub(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                               Deadline dl) {
  WorkloadResult r;
  const bool queue = !spec.queue.empty();
  const uint64_t n = spec.messages;

  std::vector<std::unique_ptr<RawConn>> conns;
  Trackers trackers;
  for (size_t i = 0; i < spec.subscribers; ++i) {
    conns.push_back(std::make_unique<RawConn>(topo.sub_url(i), dl));
    trackers.push_back(std::make_unique<SubTracker>(n, spec.payload));
    std::string sub = "SUB " + spec.subject + (queue ? " " + spec.queue : "") + " 1\r\n";
    conns.back()->write_all(sub, dl);
    conns.back()->round_trip(dl);  // the SUB is registered on that server
  }
  RawConn pub(topo.pub_url, dl);

  std::atomic<bool> stop{false};
  std::vector<std::string> errors(spec.subscribers);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < spec.subscribers; ++i) {
    threads.emplace_back([&, i] {
      SubTracker& t = *trackers[i];
      auto on_msg = [&t](const MsgView& m) { t.on_payload(m.payload.data(), m.payload.size()); };
      try {
        while (!stop.load(std::memory_order_acquire)) {
          if (conns[i]->poll(on_msg, dl) > 0) t.stamp();
        }
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  auto stop_all = [&] {
    stop.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();
    threads.clear();
  };

  try {
    if (topo.multi_server()) {
      std::string probe = probe_frame(spec.subject, "", spec.payload);
      wait_probes(trackers, [&] { pub.write_all(probe, dl); }, dl);
    }
    PubBatch batch(spec.subject, "", spec.payload, kWriteBatchBytes);
    const uint64_t window = std::max<uint64_t>(2 * batch.per_batch(), spec.inflight_bytes / batch.stride());
    hooks.on_start();
    auto t0 = Clock::now();
    int64_t t0_ns = now_ns();
    for (uint64_t seq = 0; seq < n;) {
      if (dl.expired()) throw BenchError("run timed out after " + std::to_string(seq) + " published");
      wait_window(trackers, queue, seq, window, dl);
      size_t k = static_cast<size_t>(std::min<uint64_t>(batch.per_batch(), n - seq));
      pub.write_all(batch.data(), batch.stamp(seq, k), dl);
      seq += k;
    }
    Delivery delivery = wait_delivered(trackers, queue, n, dl);
    hooks.on_end();
    auto t_now = Clock::now();
    stop_all();
    int64_t last = summarize(trackers, queue, n, spec.payload, r);
    r.seconds = last > t0_ns ? double(last - t0_ns) / 1e9 : seconds_between(t0, t_now);
    r.published = n;
    // A stall with nothing missing means the counts disagree; a timeout is reported as such
    // even though the undelivered rest also shows up as lost.
    if (delivery == Delivery::kTimedOut || (delivery == Delivery::kStalled && r.lost == 0))
      r.error = delivery_error(delivery, trackers, queue, n);
  } catch (const std::exception& e) {
    stop_all();
    r.error = e.what();
  }
  for (auto& e : errors)
    if (!e.empty() && r.error.empty()) r.error = "subscriber: " + e;
  return r;
}

WorkloadResult run_raw_req_rep(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                               Deadline dl) {
  WorkloadResult r;
  const std::string req_subject = spec.subject + ".req";
  const std::string inbox = "_INBOX.bench.rr";

  RawConn rep(topo.sub_url(0), dl);
  rep.write_all("SUB " + req_subject + " 1\r\n", dl);
  rep.round_trip(dl);
  RawConn req(topo.pub_url, dl);
  req.write_all("SUB " + inbox + " 1\r\n", dl);
  req.round_trip(dl);

  // The replier echoes each request to its reply subject; replies read in one batch go out
  // in one write.
  std::atomic<bool> stop{false};
  std::string rep_error;
  std::thread replier([&] {
    std::string out;
    auto on_msg = [&](const MsgView& m) {
      if (m.reply.empty()) return;
      out.append("PUB ").append(m.reply).append(" ").append(std::to_string(m.payload.size())).append("\r\n");
      out.append(m.payload).append("\r\n");
    };
    try {
      while (!stop.load(std::memory_order_acquire)) {
        rep.poll(on_msg, dl);
        if (!out.empty()) {
          rep.write_all(out, dl);
          out.clear();
        }
      }
    } catch (const std::exception& e) {
      rep_error = e.what();
    }
  });

  std::string frame = probe_frame(req_subject, inbox, spec.payload);
  const size_t seq_off = frame.find("\r\n") + 2;
  // Sends request `seq` and waits for its echo; returns false if none came within `wait`.
  auto one = [&](uint64_t seq, std::chrono::milliseconds wait, bool strict) -> bool {
    put_seq(frame.data() + seq_off, seq);
    req.write_all(frame, dl);
    Deadline per = Deadline(std::min(dl.at(), Clock::now() + wait));
    bool got = false;
    auto on_msg = [&](const MsgView& m) {
      if (m.payload.size() < 8) { ++r.bad_payload; return; }
      uint64_t s = get_seq(m.payload.data());
      if (s == seq) {
        got = true;
        if (m.payload.size() != spec.payload) ++r.bad_payload;
      } else if (strict && s < seq) {
        ++r.duplicated;  // an old reply again, or one that overtook
      }
    };
    while (!got && !per.expired()) {
      try {
        req.poll(on_msg, per);
      } catch (const BenchError&) {
        if (!per.expired()) throw;
      }
    }
    return got;
  };

  try {
    // Warm-up (and, across servers, waiting for interest): tolerant of missing replies.
    const uint64_t warm_base = uint64_t{1} << 62;
    uint64_t answered = 0;
    for (uint64_t i = 0; answered < std::max<uint64_t>(spec.warmup, 1); ++i) {
      if (dl.expired()) throw BenchError("timed out in warm-up: no replies");
      if (one(warm_base + i, std::chrono::milliseconds(50), false)) ++answered;
    }
    r.latencies_us.reserve(spec.messages);
    hooks.on_start();
    auto t0 = Clock::now();
    for (uint64_t seq = 0; seq < spec.messages; ++seq) {
      auto a = Clock::now();
      if (dl.expired()) throw BenchError("run timed out after " + std::to_string(seq) + " requests");
      if (!one(seq, std::chrono::milliseconds(2000), true)) {
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
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  stop.store(true, std::memory_order_release);
  replier.join();
  // The replier's failure (e.g. its connection dropped) explains unanswered requests: say it first.
  if (!rep_error.empty()) r.error = "replier: " + rep_error + (r.error.empty() ? "" : "; " + r.error);
  return r;
}

}  // namespace nats::bench
