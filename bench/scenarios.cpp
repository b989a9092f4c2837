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
