#include "scenarios.h"

#include <algorithm>

namespace nats::bench {

namespace {

std::string size_name(size_t b) {
  if (b >= 1024 && b % 1024 == 0) return std::to_string(b / 1024) + "k";
  return std::to_string(b);
}

uint64_t count_for(const Scale& s, size_t payload, uint64_t divisor = 1) {
  uint64_t by_bytes = s.bytes_per_run / payload;
  return std::max<uint64_t>(100, std::min(s.messages, by_bytes) / divisor);
}

}  // namespace

std::vector<Scenario> default_scenarios(const Scale& scale) {
  std::vector<Scenario> out;
  for (size_t p : {16, 256, 4096, 65536}) {
    WorkloadSpec w;
    w.kind = Kind::kPubOnly;
    w.payload = p;
    w.messages = count_for(scale, p);
    out.push_back({"pub-" + size_name(p), "publish only (no subscribers)", w});
  }
  for (size_t p : {16, 256, 4096, 65536}) {
    WorkloadSpec w;
    w.kind = Kind::kPubSub;
    w.payload = p;
    w.messages = count_for(scale, p);
    out.push_back({"pubsub-" + size_name(p), "pub/sub 1:1", w});
  }
  {
    WorkloadSpec w;
    w.kind = Kind::kPubSub;
    w.client = ClientImpl::kLibnats;
    w.payload = 256;
    w.messages = count_for(scale, 256, 4);
    out.push_back({"pubsub-libnats-256", "pub/sub 1:1", w});
  }
  {
    WorkloadSpec w;
    w.kind = Kind::kPubSub;
    w.payload = 256;
    w.subscribers = 4;
    w.messages = count_for(scale, 256, 2);
    out.push_back({"fanout4-256", "fan-out 1:4", w});
  }
  {
    WorkloadSpec w;
    w.kind = Kind::kPubSub;
    w.payload = 256;
    w.subscribers = 4;
    w.queue = "workers";
    w.messages = count_for(scale, 256, 2);
    out.push_back({"queue4-256", "queue group (4 members)", w});
  }
  {
    WorkloadSpec w;
    w.kind = Kind::kReqRep;
    w.payload = 16;
    w.messages = scale.requests;
    w.warmup = scale.warmup;
    out.push_back({"reqrep-16", "request/reply (sequential)", w});
    w.client = ClientImpl::kLibnats;
    w.messages = std::max<uint64_t>(100, scale.requests / 2);
    out.push_back({"reqrep-libnats-16", "request/reply (sequential)", w});
  }
  // Across servers: the publisher on one server, the subscriber on the other, so every
  // message crosses the route, gateway or leaf connection (and is handled by both servers).
  // Half the single-server counts keep the default run within a few minutes.
  for (Layout l : {Layout::kRoute, Layout::kGateway, Layout::kLeaf}) {
    const std::string name = layout_name(l);
    const std::string group = l == Layout::kRoute     ? "pub/sub 1:1 across a route (2-server cluster)"
                              : l == Layout::kGateway ? "pub/sub 1:1 across a gateway (2 clusters)"
                                                      : "pub/sub 1:1 across a leaf hop (hub to leaf)";
    for (size_t p : {16, 4096}) {
      WorkloadSpec w;
      w.kind = Kind::kPubSub;
      w.payload = p;
      w.messages = count_for(scale, p, 2);
      out.push_back({name + "-" + size_name(p), group, w, l});
    }
  }
  {
    WorkloadSpec w;
    w.kind = Kind::kReqRep;
    w.payload = 16;
    // Full count: a fast server answers in ~35 us, and fewer requests leave its CPU figure
    // under the 10 ms tick resolution.
    w.messages = scale.requests;
    w.warmup = scale.warmup;
    out.push_back({"gateway-reqrep-16", "request/reply across a gateway (sequential)", w, Layout::kGateway});
  }
  // JetStream: every message stored in a stream and acknowledged (PubAck) before it counts.
  for (const char* storage : {"memory", "file"}) {
    for (size_t p : {16, 4096}) {
      WorkloadSpec w;
      w.kind = Kind::kJsPub;
      w.payload = p;
      w.js_storage = storage;
      w.messages = count_for(scale, p, 10);
      out.push_back({std::string("js-pub-") + (storage[0] == 'm' ? "mem" : "file") + "-" + size_name(p),
                     "JetStream publish, acked (window 512)", w, Layout::kJetStream});
    }
  }
  // Pull consumers reading back a file stream (the publishes before are not measured):
  // msgs/s is messages consumed.
  for (const char* ack : {"none", "explicit"}) {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 16;
    w.js_storage = "file";
    w.js_pull_ack = ack;
    w.messages = count_for(scale, 16, 10);
    out.push_back({std::string("js-pull-file-16-") + (ack[0] == 'n' ? "noack" : "ack"),
                   "JetStream pull consume (batch 256), msgs/s = consumed", w, Layout::kJetStream});
  }
  // Issue 11: a large file stream (1M 128-byte messages at the default scale): peak server
  // memory with the whole stream stored, async publish rate, then a pull consumer reading it back.
  {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 128;
    w.js_storage = "file";
    w.messages = count_for(scale, 128, 2);
    out.push_back({"js-pub-file-128", "JetStream publish, acked (window 512), large stream", w, Layout::kJetStream});
    w.js_pull_ack = "none";
    out.push_back({"js-pull-file-128-noack", "JetStream pull consume (batch 256), large stream", w,
                   Layout::kJetStream});
    w.js_pull_ack.clear();
    w.js_restart = true;
    out.push_back({"js-restart-file-128", "JetStream restart with a large file stream (msgs/s = recovered)", w,
                   Layout::kJetStream});
  }
  // Issue 11: restart of a server holding a 10M-message file stream (5x the small-payload
  // message count, past the 1 GiB payload budget: 1.28 GB of payloads, about 1.7 GB of block
  // files per server, removed after the run). The publishes are not measured; they take most
  // of the run (about 30 s ours, 60-80 s the reference's on this box), hence 5x --run-timeout.
  {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 128;
    w.js_storage = "file";
    w.messages = std::max<uint64_t>(100, scale.messages * 5);
    w.js_restart = true;
    w.timeout_factor = 5;
    out.push_back({"js-restart-file-10m-128", "JetStream restart with a 10M-message file stream (msgs/s = recovered)",
                   w, Layout::kJetStream});
  }
  // Per-subject state: the large stream's messages spread over 100k subjects (10 a subject).
  {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 128;
    w.js_storage = "file";
    w.messages = count_for(scale, 128, 2);
    w.js_subjects = std::clamp<uint64_t>(w.messages / 10, 1, 999999);
    out.push_back({"js-pub-file-subjects-128", "JetStream publish over many subjects (1 per 10 msgs)", w,
                   Layout::kJetStream});
  }
  // Synchronous publishing to a single server's file stream: the PubAck round trip.
  {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 128;
    w.js_storage = "file";
    w.js_window = 1;
    w.messages = std::max<uint64_t>(200, scale.requests / 2);
    out.push_back({"js-pub-file-sync-128", "JetStream publish, one at a time", w, Layout::kJetStream});
  }
  // Issue 11: durability on every PubAck. Ours runs with `sync_interval: always` (group commit:
  // one fsync covers the publishes that arrived while the previous one ran); 2.9.10 has no such
  // setting (its config parser refuses `sync_interval`) and runs with its default: its file store
  // fsyncs on a 60 s timer (defaultSyncInterval in v2.9.10 filestore.go), so the ratio is the price of
  // per-ack durability against the reference without it.
  {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 128;
    w.js_storage = "file";
    w.messages = count_for(scale, 128, 20);
    out.push_back({"js-pub-file-syncalways-128", "JetStream publish (window 512), ours with sync always", w,
                   Layout::kJetStreamSyncAlways});
  }
  // R3 file streams in a 3-node cluster: a PubAck only after a quorum stored the message.
  {
    WorkloadSpec w;
    w.kind = Kind::kJsPub;
    w.payload = 128;
    w.js_storage = "file";
    w.js_replicas = 3;
    w.js_window = 1;
    w.messages = std::max<uint64_t>(200, scale.requests / 10);
    out.push_back({"js-r3-file-sync-128", "JetStream R3 file stream, 3-node cluster", w, Layout::kJetStreamR3});
    w.js_window = 512;
    w.messages = count_for(scale, 128, 20);
    out.push_back({"js-r3-file-async-128", "JetStream R3 file stream, 3-node cluster", w, Layout::kJetStreamR3});
  }
  // Many clients (issue 15): N connections with 10 subscriptions each, plain and TLS; then a
  // publisher's rate while N connections arrive. Fan-out messages: about 2M deliveries.
  {
    const std::string n = std::to_string(scale.conns);
    WorkloadSpec w;
    w.kind = Kind::kConns;
    w.payload = 16;
    w.conns = scale.conns;
    w.subs_per_conn = 10;
    w.idle_seconds = scale.idle_seconds;
    w.messages = std::clamp<uint64_t>(2'000'000 / std::max<size_t>(1, scale.conns), 10, 2000);
    out.push_back({"conns-" + n, "many clients (10 subscriptions each)", w});
    w.tls = true;
    // TLS deliveries are ~10x dearer (mostly to the runner's own decryption on this box):
    // a tenth of the messages keeps the run well inside --run-timeout at 10k connections.
    w.messages = std::max<uint64_t>(10, w.messages / 10);
    out.push_back({"conns-tls-" + n, "many clients (10 subscriptions each)", w, Layout::kTls});
    WorkloadSpec st;
    st.kind = Kind::kStorm;
    st.payload = 16;
    st.conns = scale.conns;
    st.subs_per_conn = 0;
    out.push_back({"storm-" + n, "publisher during a connect storm", st});
  }
  return out;
}

std::vector<Scenario> filter_scenarios(const std::vector<Scenario>& all, const std::string& filter) {
  if (filter.empty()) return all;
  std::vector<Scenario> out;
  for (auto& s : all)
    if (s.name == filter || s.name.find(filter) != std::string::npos || s.group.find(filter) != std::string::npos)
      out.push_back(s);
  return out;
}

}  // namespace nats::bench
