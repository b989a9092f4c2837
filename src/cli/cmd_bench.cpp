// `nats bench`: throughput and latency measurements in the shape of natscli's bench —
// core pub/sub, request/reply (with latency percentiles), JetStream publish and JetStream
// consume (ordered ephemeral push, or a shared durable pull/push consumer with explicit acks),
// each client on its own connection and thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/command.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "cli/progress.h"

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace nats::cli {
namespace {

struct Sample {
  int64_t msgs = 0, bytes = 0;
  Clock::time_point start, end;
  double secs() const { return std::max(1e-9, std::chrono::duration<double>(end - start).count()); }
  double rate() const { return static_cast<double>(msgs) / secs(); }
  double throughput() const { return static_cast<double>(bytes) / secs(); }
};

std::string human_bytes(double b) {
  static const char* pre[] = {"K", "M", "G", "T", "P", "E"};
  if (b < 1024) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f B", b);
    return buf;
  }
  int exp = static_cast<int>(std::log(b) / std::log(1024.0));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %sB", b / std::pow(1024.0, exp), pre[exp - 1]);
  return buf;
}

std::string sample_str(const Sample& s) {
  return comma(static_cast<int64_t>(s.rate())) + " msgs/sec ~ " + human_bytes(s.throughput()) + "/sec";
}

Sample group(const std::vector<Sample>& v) {
  Sample g;
  if (v.empty()) return g;
  g.start = v[0].start;
  g.end = v[0].end;
  for (auto& s : v) {
    g.msgs += s.msgs;
    g.bytes += s.bytes;
    g.start = std::min(g.start, s.start);
    g.end = std::max(g.end, s.end);
  }
  return g;
}

// As nats.go's bench report: under a combined heading the group line and its per-client lines
// are indented one space more; a lone group is the heading itself.
void report_group(const std::string& name, const std::vector<Sample>& v, bool nested = true) {
  Sample g = group(v);
  std::string indent = nested ? " " : "";
  if (nested) std::cout << indent << name << " stats: " << sample_str(g) << "\n";
  if (v.size() > 1) {
    double mn = 1e300, mx = 0, sum = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      std::cout << indent << " [" << i + 1 << "] " << sample_str(v[i]) << " (" << comma(v[i].msgs) << " msgs)\n";
      mn = std::min(mn, v[i].rate());
      mx = std::max(mx, v[i].rate());
      sum += v[i].rate();
    }
    double avg = sum / static_cast<double>(v.size()), var = 0;
    for (auto& s : v) var += (s.rate() - avg) * (s.rate() - avg);
    std::cout << indent << " min " << comma(static_cast<int64_t>(mn)) << " | avg " << comma(static_cast<int64_t>(avg)) << " | max "
              << comma(static_cast<int64_t>(mx)) << " | stddev "
              << comma(static_cast<int64_t>(std::sqrt(var / static_cast<double>(v.size())))) << " msgs\n";
  }
}

std::vector<int64_t> split_msgs(int64_t total, int64_t parts) {
  std::vector<int64_t> out(static_cast<size_t>(parts), total / parts);
  for (int64_t i = 0; i < total % parts; ++i) out[static_cast<size_t>(i)]++;
  return out;
}

// How --js subscribers consume, as natscli's bench: each one an ordered ephemeral push consumer
// (every subscriber sees every message), or all sharing one durable explicitly-acked consumer
// (--pull fetching batches, --push through a queue group) that splits the messages.
enum class JsConsumeMode { Ordered, Pull, Push };

struct JsConsumeSpec {
  JsConsumeMode mode = JsConsumeMode::Ordered;
  std::string stream, consumer, subject;
  int pull_batch = 100;
};

std::string js_error_text(natsStatus s, jsErrCode jerr) {
  return jerr ? status_text(s) + " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")" : status_text(s);
}

// Receives `expect` messages into smp; returns an error text, empty on success. `ready` is
// signalled once the subscription exists so publishers start only after it.
// With --push the queue group does not split the messages evenly, so those subscribers share
// one count (`shared`, of `expect` in total) and stop together once it is reached.
std::string js_consume(Connection& c, const JsConsumeSpec& spec, int64_t expect, int64_t idle_timeout_ms,
                       Sample& smp, ProgressBars::Bar* bar, std::atomic<int>& ready, const std::atomic<bool>& failed,
                       std::atomic<int64_t>* shared) {
  const Settings& st = c.settings();
  jsOptions jo;
  jsOptions_Init(&jo);
  std::string prefix = st.js_api_prefix;
  if (!prefix.empty()) jo.Prefix = prefix.c_str();
  if (!st.js_domain.empty()) jo.Domain = st.js_domain.c_str();
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_JetStream(&js, c.get(), &jo);
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (s == NATS_OK) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = spec.stream.c_str();
    switch (spec.mode) {
      case JsConsumeMode::Ordered:
        so.Ordered = true;
        s = js_SubscribeSync(&sub, js, spec.subject.c_str(), &jo, &so, &jerr);
        break;
      case JsConsumeMode::Pull:
        so.Consumer = spec.consumer.c_str();
        s = js_PullSubscribe(&sub, js, spec.subject.c_str(), spec.consumer.c_str(), &jo, &so, &jerr);
        break;
      case JsConsumeMode::Push:
        so.Consumer = spec.consumer.c_str();
        so.Queue = spec.consumer.c_str();  // the consumer's deliver group
        s = js_SubscribeSync(&sub, js, spec.subject.c_str(), &jo, &so, &jerr);
        break;
    }
    if (s == NATS_OK) natsSubscription_SetPendingLimits(sub, -1, -1);
  }
  ready++;
  std::string err;
  if (s != NATS_OK) {
    err = "subscribing to stream " + spec.stream + ": " + js_error_text(s, jerr);
    if (js) jsCtx_Destroy(js);
    return err;
  }
  bool ack = spec.mode != JsConsumeMode::Ordered;
  int64_t got = 0;
  auto last = Clock::now();
  auto take = [&](natsMsg* m) {
    if (got == 0) smp.start = Clock::now();
    ++got;
    smp.bytes += natsMsg_GetDataLength(m);
    if (ack) natsMsg_Ack(m, &jo);
    smp.end = last = Clock::now();
    if (bar) bar->current.store(got, std::memory_order_relaxed);
  };
  auto done = [&] { return shared ? shared->load() >= expect : got >= expect; };
  while (!failed && !done()) {
    if (Clock::now() - last > std::chrono::milliseconds(idle_timeout_ms)) {
      err = "timed out waiting for JetStream messages (" + comma(got) + " of " + comma(expect) + " received)";
      break;
    }
    if (spec.mode == JsConsumeMode::Pull) {
      natsMsgList list{};
      int want = static_cast<int>(std::min<int64_t>(spec.pull_batch, expect - got));
      s = natsSubscription_Fetch(&list, sub, want, 1000, &jerr);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) { err = "fetch: " + js_error_text(s, jerr); break; }
      for (int k = 0; k < list.Count; ++k) take(list.Msgs[k]);
      natsMsgList_Destroy(&list);
    } else {
      natsMsg* m = nullptr;
      s = natsSubscription_NextMsg(&m, sub, 100);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) { err = "next message: " + status_text(s); break; }
      if (!shared || shared->fetch_add(1) < expect) take(m);
      natsMsg_Destroy(m);
    }
  }
  smp.msgs = got;
  natsConnection_Flush(c.get());  // the acks
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  return err;
}

int bench(Invocation& inv) {
  Settings settings = resolve_settings(inv);
  std::string subject = inv.arg(0);
  int64_t pubs = inv.integer("pub", 0), subs = inv.integer("sub", 0), msgs = inv.integer("msgs", 100000);
  int64_t size = 128;
  if (inv.has("size") && !parse_bytes(inv.get("size"), size)) throw CliError("invalid --size");
  bool req_mode = inv.on("request"), reply_mode = inv.on("reply"), js = inv.on("js");
  if (pubs == 0 && subs == 0 && !reply_mode) pubs = 1;
  if (msgs <= 0) throw CliError("--msgs must be positive");
  std::string payload(static_cast<size_t>(size), 'x');

  bool pull = inv.on("pull"), push = inv.on("push");
  if (pull && push) throw CliError("--pull and --push are mutually exclusive");
  if ((pull || push) && !js) throw CliError("--pull and --push need --js");
  if (js && (req_mode || reply_mode)) throw CliError("--js cannot be combined with --request or --reply");
  JsConsumeSpec jspec;
  jspec.mode = pull ? JsConsumeMode::Pull : push ? JsConsumeMode::Push : JsConsumeMode::Ordered;
  jspec.stream = inv.get("stream", "benchstream");
  jspec.consumer = inv.get("consumer", "natscli-bench");
  jspec.subject = subject;
  jspec.pull_batch = static_cast<int>(inv.integer("pullbatch", 100));
  if (jspec.pull_batch <= 0) throw CliError("--pullbatch must be positive");
  int64_t replicas = inv.integer("replicas", 1);
  bool shared_consumer = js && subs > 0 && (pull || push);

  const char* kind = req_mode ? "request-reply" : reply_mode ? "reply" : js ? (pubs ? "JetStream publish" : "JetStream consume") : "Core NATS pub/sub";
  std::cout << log_prefix() << "Starting " << kind << " benchmark [subject=" << subject << ", msgs=" << comma(msgs)
            << ", msgsize=" << ibytes(static_cast<uint64_t>(size)) << ", pubs=" << pubs << ", subs=" << subs
            << (js ? ", stream=" + jspec.stream + ", storage=" + inv.get("storage", "memory") + ", replicas=" + std::to_string(replicas) +
                         ", consumer=" + (pull ? "pull" : push ? "push" : "ordered") + (pull ? ", pullbatch=" + std::to_string(jspec.pull_batch) : "") +
                         ", purge=" + (inv.on("purge") ? "true" : "false")
                   : "")
            << "]" << std::endl;

  std::vector<std::unique_ptr<Connection>> conns;
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex mu;
  auto set_error = [&](const std::string& e) {
    std::lock_guard<std::mutex> l(mu);
    if (error.empty()) error = e;
    failed = true;
  };

  // As natscli: the stream is added when missing and otherwise used as it is (so a consume run
  // reads what an earlier publish run stored); --purge empties it first. Subscribers sharing a
  // durable consumer get one created here, removed again after the run.
  std::unique_ptr<Connection> admin;
  if (js) {
    admin = std::make_unique<Connection>(settings);
    const std::string& stream = jspec.stream;
    bool exists = true;
    try { js_api(*admin, "STREAM.INFO." + stream, json::object()); } catch (const CliError&) { exists = false; }
    if (!exists) {
      json cfg = {{"name", stream}, {"subjects", json::array({subject})}, {"storage", inv.get("storage", "memory")},
                  {"retention", "limits"}, {"max_msgs", -1}, {"max_bytes", -1}, {"max_age", 0}, {"num_replicas", replicas},
                  {"discard", "old"}, {"duplicate_window", 120000000000LL}};
      js_api(*admin, "STREAM.CREATE." + stream, cfg);
    }
    if (inv.on("purge")) js_api(*admin, "STREAM.PURGE." + stream, json::object());
    if (shared_consumer) {
      try { js_api(*admin, "CONSUMER.DELETE." + stream + "." + jspec.consumer, json::object()); } catch (const CliError&) {}
      json cc = {{"durable_name", jspec.consumer}, {"deliver_policy", "all"}, {"ack_policy", "explicit"},
                 {"replay_policy", "instant"}, {"filter_subject", subject}};
      if (push) {
        cc["deliver_subject"] = admin->new_inbox();
        cc["deliver_group"] = jspec.consumer;
      }
      js_api(*admin, "CONSUMER.DURABLE.CREATE." + stream + "." + jspec.consumer, {{"stream_name", stream}, {"config", cc}});
    }
  }

  // Progress bars only on a terminal (natscli draws them unless --no-progress); piped output
  // stays exactly the report.
  bool show_progress = inv.on("progress") && ProgressBars::is_terminal(1);
  ProgressBars progress;
  std::vector<ProgressBars::Bar*> sub_bars(static_cast<size_t>(subs), nullptr), pub_bars(static_cast<size_t>(pubs), nullptr);

  // Responders (--reply, or in-process ones for --request with --sub).
  std::vector<std::thread> threads;
  std::vector<Sample> sub_samples(static_cast<size_t>(subs));
  std::atomic<int> ready{0};
  int64_t expect_per_sub = req_mode || reply_mode ? 0 : msgs;
  // A shared durable consumer hands each message to one subscriber; ordered consumers each see all.
  auto sub_counts = shared_consumer ? split_msgs(msgs, subs) : std::vector<int64_t>(static_cast<size_t>(subs), msgs);
  if (show_progress && !req_mode)
    for (size_t i = 0; i < sub_bars.size(); ++i) sub_bars[i] = &progress.add(sub_counts[i]);
  std::atomic<int64_t> push_taken{0};
  // A consumer fails after --timeout without any message (natscli: its JS timeout).
  int64_t js_idle_ms = std::max<int64_t>(settings.timeout_ns / 1000000, 100);
  for (int64_t i = 0; i < subs; ++i) {
    conns.push_back(std::make_unique<Connection>(settings));
    Connection* c = conns.back().get();
    if (js) {
      threads.emplace_back([&, c, i] {
        auto idx = static_cast<size_t>(i);
        std::string e = js_consume(*c, jspec, push ? msgs : sub_counts[idx], js_idle_ms, sub_samples[idx], sub_bars[idx],
                                   ready, failed, push ? &push_taken : nullptr);
        if (!e.empty()) set_error(e);
      });
      continue;
    }
    threads.emplace_back([&, c, i] {
      natsSubscription* sub = nullptr;
      natsStatus s = (req_mode || reply_mode)
                         ? natsConnection_QueueSubscribeSync(&sub, c->get(), subject.c_str(), "NATS-BENCH")
                         : natsConnection_SubscribeSync(&sub, c->get(), subject.c_str());
      if (s != NATS_OK) { set_error(status_text(s)); ready++; return; }
      natsSubscription_SetPendingLimits(sub, -1, -1);
      natsConnection_Flush(c->get());
      ready++;
      Sample& smp = sub_samples[static_cast<size_t>(i)];
      int64_t got = 0;
      auto idle_deadline = Clock::now() + std::chrono::nanoseconds(settings.timeout_ns) + std::chrono::seconds(60);
      while (!failed && (expect_per_sub == 0 || got < expect_per_sub)) {
        natsMsg* m = nullptr;
        s = natsSubscription_NextMsg(&m, sub, 100);
        if (s == NATS_TIMEOUT) {
          if (Clock::now() > idle_deadline) { if (expect_per_sub) set_error("timed out waiting for messages"); break; }
          if (expect_per_sub == 0 && reply_mode == false && got > 0 && smp.end + std::chrono::seconds(2) < Clock::now()) break;
          continue;
        }
        if (s != NATS_OK) break;
        if (got == 0) smp.start = Clock::now();
        ++got;
        if (ProgressBars::Bar* bar = sub_bars[static_cast<size_t>(i)]) bar->current.store(got, std::memory_order_relaxed);
        smp.bytes += natsMsg_GetDataLength(m);
        smp.end = Clock::now();
        if (const char* r = natsMsg_GetReply(m); r && *r) natsConnection_Publish(c->get(), r, natsMsg_GetData(m), natsMsg_GetDataLength(m));
        natsMsg_Destroy(m);
        if (reply_mode && !req_mode && msgs > 0 && got >= msgs) break;
      }
      smp.msgs = got;
      natsConnection_Flush(c->get());
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    });
  }
  while (ready < subs) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  std::vector<Sample> pub_samples(static_cast<size_t>(pubs));
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(pubs));
  auto counts = pubs > 0 ? split_msgs(msgs, pubs) : std::vector<int64_t>{};
  if (show_progress)
    for (size_t i = 0; i < pub_bars.size(); ++i) pub_bars[i] = &progress.add(counts[i]);
  if (show_progress) progress.start();
  std::vector<std::thread> pthreads;
  for (int64_t i = 0; i < pubs; ++i) {
    conns.push_back(std::make_unique<Connection>(settings));
    Connection* c = conns.back().get();
    pthreads.emplace_back([&, c, i] {
      Sample& smp = pub_samples[static_cast<size_t>(i)];
      auto& lat = latencies[static_cast<size_t>(i)];
      int64_t n = counts[static_cast<size_t>(i)];
      smp.start = Clock::now();
      for (int64_t k = 0; k < n && !failed; ++k) {
        if (req_mode || js) {
          auto t0 = Clock::now();
          natsMsg* reply = nullptr;
          natsStatus s = natsConnection_Request(&reply, c->get(), subject.c_str(), payload.data(),
                                                static_cast<int>(payload.size()), settings.timeout_ns / 1000000);
          if (s != NATS_OK) { set_error(status_text(s)); break; }
          if (js) {
            std::string body(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
            if (body.find("\"error\"") != std::string::npos) { set_error("publish failed: " + body); natsMsg_Destroy(reply); break; }
          }
          natsMsg_Destroy(reply);
          lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
        } else {
          natsStatus s = natsConnection_Publish(c->get(), subject.c_str(), payload.data(), static_cast<int>(payload.size()));
          if (s != NATS_OK) { set_error(status_text(s)); break; }
        }
        smp.msgs++;
        smp.bytes += size;
        if (ProgressBars::Bar* bar = pub_bars[static_cast<size_t>(i)]) bar->current.store(smp.msgs, std::memory_order_relaxed);
      }
      natsConnection_FlushTimeout(c->get(), 60000);
      smp.end = Clock::now();
    });
  }
  for (auto& t : pthreads) t.join();
  if (req_mode) failed = true;  // stop in-process responders
  for (auto& t : threads) t.join();
  progress.stop();
  if (shared_consumer) {
    // The server applies acks asynchronously (the reference queues them per consumer), so a
    // delete sent right after the last ack can overtake it and lose it: on a work-queue stream
    // the acked messages would stay. Wait, bounded, until the consumer has nothing pending.
    auto settle_deadline = Clock::now() + std::chrono::seconds(5);
    while (error.empty() && Clock::now() < settle_deadline) {
      try {
        json info = js_api(*admin, "CONSUMER.INFO." + jspec.stream + "." + jspec.consumer, json::object());
        if (info.value("num_ack_pending", 0) == 0) break;
      } catch (const CliError&) { break; }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    try { js_api(*admin, "CONSUMER.DELETE." + jspec.stream + "." + jspec.consumer, json::object()); } catch (const CliError&) {}
  }
  if (!error.empty()) throw CliError(error);

  std::cout << "\n";
  std::vector<Sample> all = pub_samples;
  if (!req_mode) all.insert(all.end(), sub_samples.begin(), sub_samples.end());
  std::string title = req_mode ? "NATS request-reply"
                      : pubs && subs ? (js ? "JetStream Pub/Sub" : "NATS Pub/Sub")
                      : pubs ? (js ? "JetStream" : "Pub")
                             : "Sub";
  std::cout << title << " stats: " << sample_str(group(all)) << "\n";
  if (pubs && (subs || req_mode || js)) report_group(req_mode ? "Req" : "Pub", pub_samples);
  else if (pubs > 1) report_group("Pub", pub_samples, false);
  if (subs && !req_mode && pubs) report_group(reply_mode ? "Reply" : "Sub", sub_samples);
  else if (subs > 1 && !req_mode) report_group(reply_mode ? "Reply" : "Sub", sub_samples, false);

  std::vector<int64_t> lat;
  for (auto& l : latencies) lat.insert(lat.end(), l.begin(), l.end());
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) { return lat[std::min(lat.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(lat.size())))]; };
    double sum = 0;
    for (auto v : lat) sum += static_cast<double>(v);
    std::cout << "\nLatencies:\n"
              << "  min: " << go_duration(lat.front()) << "  avg: " << go_duration(static_cast<int64_t>(sum / static_cast<double>(lat.size())))
              << "  max: " << go_duration(lat.back()) << "\n"
              << "  p50: " << go_duration(pct(50)) << "  p90: " << go_duration(pct(90)) << "  p99: " << go_duration(pct(99))
              << "  p99.9: " << go_duration(pct(99.9)) << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace

void register_bench_commands(Registry& r) {
  r.add({{"bench"}, {}, "Benchmark utility", {{"subject", "Subject to use for the benchmark", true}},
         {{"pub", 0, false, "Number of concurrent publishers", "", ""},
          {"sub", 0, false, "Number of concurrent subscribers", "", ""},
          {"msgs", 0, false, "Number of messages to publish", "100000", ""},
          {"size", 0, false, "Size of the test messages", "128", ""},
          {"request", 0, true, "Request-Reply mode: publishers send requests and wait for replies", "", ""},
          {"reply", 0, true, "Request-Reply mode: subscribers send replies", "", ""},
          {"js", 0, true, "Use JetStream (publish with acknowledgements into a stream)", "", ""},
          {"stream", 0, false, "The name of the stream to create or use with --js", "benchstream", ""},
          {"storage", 0, false, "JetStream storage (memory/file) for the --js stream", "memory", ""},
          {"replicas", 0, false, "Number of stream replicas when the --js stream is created", "1", ""},
          {"purge", 0, true, "Purge the --js stream before running", "", ""},
          {"pull", 0, true, "Use a shared durable explicitly acknowledged JS pull consumer rather than individual ephemeral consumers", "", ""},
          {"push", 0, true, "Use a shared durable explicitly acknowledged JS push consumer with a queue group rather than individual ephemeral consumers", "", ""},
          {"pullbatch", 0, false, "Sets the batch size for the JS durable pull consumer", "100", ""},
          {"consumer", 0, false, "Specify the durable consumer name to use with --pull/--push", "natscli-bench", ""},
          {"progress", 0, true, "Enable or disable the progress bar (only drawn on a terminal)", "true", ""}},
         bench, ""});
}

}  // namespace nats::cli
