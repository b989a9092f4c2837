// JetStream publish: a raw-socket publisher creates a stream, then publishes with a reply
// subject so that every message is acknowledged (PubAck) once stored, keeping at most
// `js_window` publishes unacknowledged, as an async JetStream publisher does. Only acked
// messages count, and the stream's last sequence must equal the number published.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "raw_conn.h"
#include "seq_track.h"
#include "workload.h"

namespace nats::bench {

namespace {

constexpr const char* kStream = "BENCH";
constexpr const char* kAckInbox = "_INBOX.benchjs.ack";
constexpr const char* kApiInbox = "_INBOX.benchjs.api";
constexpr const char* kPullInbox = "_INBOX.benchjs.pull";

std::string pub_frame(const std::string& subject, const std::string& reply, std::string_view payload) {
  return "PUB " + subject + " " + reply + " " + std::to_string(payload.size()) + "\r\n" + std::string(payload) + "\r\n";
}

// One $JS.API request and its JSON answer; throws on an API error.
nlohmann::json api(RawConn& c, const std::string& subject, const std::string& body, Deadline dl) {
  c.write_all(pub_frame(subject, kApiInbox, body), dl);
  nlohmann::json answer;
  bool got = false;
  while (!got) {
    if (dl.expired()) throw BenchError("no answer to " + subject);
    c.poll([&](const MsgView& m) {
      if (m.subject != kApiInbox) return;
      answer = nlohmann::json::parse(m.payload, nullptr, false);
      got = true;
    }, dl);
  }
  if (answer.is_discarded() || answer.contains("error"))
    throw BenchError(subject + " failed: " + (answer.is_discarded() ? "bad JSON" : answer["error"].dump()));
  return answer;
}

// Replicated streams: STREAM.CREATE with num_replicas 3, retried while the cluster forms (no
// meta leader yet: no answer or 10008). Both servers answer once the stream's group is placed.
void create_replicated(RawConn& pub, const nlohmann::json& cfg, Deadline dl) {
  std::string last_error;
  for (;;) {
    if (dl.expired()) throw BenchError("could not create the R3 stream: " + last_error);
    try {
      api(pub, std::string("$JS.API.STREAM.CREATE.") + kStream, cfg.dump(), Deadline::in(std::chrono::milliseconds(3000)));
      return;
    } catch (const BenchError& e) {
      last_error = e.what();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
}

// Publishes probes until one is acknowledged (a stream leader is elected and its
// subscription reached the publisher's server); returns the highest sequence seen.
uint64_t wait_writable(RawConn& pub, const std::string& subject, size_t payload, Deadline dl) {
  uint64_t seq = 0;
  auto on_ack = [&](const MsgView& m) {
    if (m.subject != kAckInbox) return;
    auto pos = m.payload.find("\"seq\":");
    if (pos != std::string_view::npos)
      seq = std::max<uint64_t>(seq, std::strtoull(m.payload.data() + pos + 6, nullptr, 10));
  };
  std::string probe = pub_frame(subject, kAckInbox, std::string(payload, 'p'));
  while (seq == 0) {
    if (dl.expired()) throw BenchError("the replicated stream never acknowledged a publish");
    pub.write_all(probe, dl);
    Deadline round = Deadline::in(std::chrono::milliseconds(500));
    while (!round.expired() && seq == 0) pub.poll(on_ack, dl);
  }
  // Late acks of earlier probes.
  Deadline settle = Deadline::in(std::chrono::milliseconds(500));
  while (!settle.expired()) pub.poll(on_ack, dl);
  return seq;
}

// A durable pull consumer reads the whole stream back with batch requests (at most two
// batches outstanding), acking each message when the policy asks for it.
WorkloadResult consume_pull(RawConn& c, const WorkloadSpec& spec, const MeasureHooks& hooks, Deadline dl) {
  nlohmann::json cc = {{"stream_name", kStream},
                       {"config", {{"durable_name", "PULL"}, {"ack_policy", spec.js_pull_ack}, {"max_ack_pending", 100000}}}};
  api(c, std::string("$JS.API.CONSUMER.DURABLE.CREATE.") + kStream + ".PULL", cc.dump(), dl);
  c.write_all(std::string("SUB ") + kPullInbox + " 3\r\n", dl);
  const uint64_t batch = 256;
  const std::string next = pub_frame(std::string("$JS.API.CONSUMER.MSG.NEXT.") + kStream + ".PULL", kPullInbox,
                                     "{\"batch\":" + std::to_string(batch) + "}");
  const bool ack = spec.js_pull_ack != "none";
  uint64_t requested = 0, received = 0;
  std::string acks;
  WorkloadResult r;
  hooks.on_start();
  auto t0 = Clock::now();
  while (received < spec.messages) {
    if (dl.expired())
      throw BenchError("pull timed out: " + std::to_string(received) + " of " + std::to_string(spec.messages));
    if (requested < spec.messages && requested - received <= batch) {
      c.write_all(next, dl);
      requested += batch;
      continue;
    }
    c.poll([&](const MsgView& m) {
      // Deliveries show the message's own subject; only they carry an ack subject.
      if (m.reply.substr(0, 8) != "$JS.ACK.") return;
      ++received;
      if (ack) acks += "PUB " + std::string(m.reply) + " 0\r\n\r\n";
    }, dl);
    if (!acks.empty()) {
      c.write_all(acks, dl);
      acks.clear();
    }
  }
  auto t1 = Clock::now();
  hooks.on_end();
  r.seconds = seconds_between(t0, t1);
  r.published = spec.messages;
  r.delivered = received;
  r.payload_bytes = spec.messages * spec.payload;
  return r;
}

// js-restart: restart the server on its store, then poll STREAM.INFO on fresh connections
// until it reports every message. Figures: seconds from spawn to that answer, and the
// server's resident memory then (peak_mb is the new process's peak).
WorkloadResult measure_restart(const WorkloadSpec& spec, const MeasureHooks& hooks, uint64_t expect, Deadline dl) {
  if (!hooks.restart) throw BenchError("the runner cannot restart this layout");
  WorkloadResult r;
  Clock::time_point spawned;
  // No on_start: the CPU figure is the new process's whole CPU time, recovery included.
  std::string url = hooks.restart(spawned);
  for (;;) {
    if (dl.expired()) throw BenchError("the stream did not come back with every message after the restart");
    try {
      RawConn c(url, Deadline::in(std::chrono::milliseconds(2000)));
      c.write_all(std::string("SUB ") + kApiInbox + " 2\r\n", dl);
      auto info = api(c, std::string("$JS.API.STREAM.INFO.") + kStream, "", Deadline::in(std::chrono::milliseconds(5000)));
      if (info["state"]["messages"].get<uint64_t>() >= expect) break;
    } catch (const BenchError&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto healthy = Clock::now();
  hooks.on_end();
  r.seconds = seconds_between(spawned, healthy);
  r.published = expect;
  r.delivered = expect;
  r.figures["restart_s"] = r.seconds;
  r.figures["rss_after_mb"] = hooks.sample().rss_kb / 1024.0;
  (void)spec;
  return r;
}

}  // namespace

WorkloadResult run_raw_js_pub(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks, Deadline dl) {
  WorkloadResult r;
  RawConn pub(topo.pub_url, dl);
  pub.write_all(std::string("SUB ") + kAckInbox + " 1\r\nSUB " + kApiInbox + " 2\r\n", dl);
  // Many subjects: fixed-width names so that each frame's subject digits can be patched in place.
  const bool many = spec.js_subjects > 0;
  const std::string pub_subject = many ? spec.subject + ".000000" : spec.subject;
  const std::string stream_subject = many ? spec.subject + ".*" : spec.subject;
  nlohmann::json cfg = {{"name", kStream},       {"subjects", {stream_subject}}, {"storage", spec.js_storage},
                        {"retention", "limits"}, {"discard", "old"},           {"num_replicas", spec.js_replicas}};
  uint64_t base = 0;  // probes stored before the measured publishes
  if (spec.js_replicas > 1) {
    create_replicated(pub, cfg, dl);
    base = wait_writable(pub, pub_subject, spec.payload, dl);
  } else {
    api(pub, std::string("$JS.API.STREAM.CREATE.") + kStream, cfg.dump(), dl);
  }

  // A batch of frames whose payloads carry the sequence number (integrity as elsewhere).
  const size_t per_batch = std::max<size_t>(1, spec.js_window / 4);
  std::string one = pub_frame(pub_subject, kAckInbox, std::string(spec.payload, 'x'));
  const size_t subj_digits = 4 + pub_subject.size() - 6;  // "PUB " + name up to the digits
  const size_t seq_off = one.size() - 2 - spec.payload;
  std::string batch;
  for (size_t i = 0; i < per_batch; ++i) batch += one;

  uint64_t sent = 0, acked = 0, errors = 0, last_seq = 0;
  // Synchronous mode (window 1): the time from each publish to its PubAck.
  const bool sync = spec.js_window == 1;
  Clock::time_point sent_at;
  std::string first_error;
  auto on_ack = [&](const MsgView& m) {
    if (m.subject != kAckInbox) return;
    ++acked;
    // {"stream":"BENCH","seq":N} — an error ack carries "error" instead.
    auto pos = m.payload.find("\"seq\":");
    if (pos == std::string_view::npos) {
      if (errors++ == 0) first_error = std::string(m.payload);
      return;
    }
    last_seq = std::max<uint64_t>(last_seq, std::strtoull(m.payload.data() + pos + 6, nullptr, 10));
    if (sync) r.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count());
  };

  const bool pull = !spec.js_pull_ack.empty() || spec.js_restart;
  if (!pull) hooks.on_start();
  auto t0 = Clock::now();
  while (acked < spec.messages) {
    if (dl.expired())
      throw BenchError("run timed out: " + std::to_string(acked) + " of " + std::to_string(spec.messages) + " acked");
    if (sent < spec.messages && sent - acked + per_batch <= spec.js_window) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(per_batch, spec.messages - sent));
      for (size_t i = 0; i < n; ++i) {
        char* f = batch.data() + i * one.size();
        put_seq(f + seq_off, sent + i);
        if (many) {
          uint64_t v = (sent + i) % spec.js_subjects;
          for (int k = 5; k >= 0; --k, v /= 10) f[subj_digits + k] = static_cast<char>('0' + v % 10);
        }
      }
      if (sync) sent_at = Clock::now();
      pub.write_all(batch.data(), n * one.size(), dl);
      sent += n;
      continue;
    }
    pub.poll(on_ack, dl);
  }
  auto t1 = Clock::now();
  if (!pull) hooks.on_end();
  if (errors) throw BenchError(std::to_string(errors) + " publishes failed, first: " + first_error);
  if (last_seq != base + spec.messages)
    throw BenchError("stream's last sequence " + std::to_string(last_seq) + " after " + std::to_string(spec.messages) +
                     " acked publishes (and " + std::to_string(base) + " probes)");
  if (spec.js_restart) return measure_restart(spec, hooks, base + spec.messages, dl);
  if (pull) return consume_pull(pub, spec, hooks, dl);
  r.seconds = seconds_between(t0, t1);
  r.published = spec.messages;
  r.delivered = acked;
  r.payload_bytes = spec.messages * spec.payload;
  return r;
}

}  // namespace nats::bench
