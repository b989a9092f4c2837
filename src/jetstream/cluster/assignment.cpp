#include "jetstream/cluster/assignment.h"

#include <algorithm>

#include "util/ids.h"

namespace nats::jetstream {

using json = nlohmann::json;

bool RaftGroupSpec::has_peer(std::string_view node_id) const {
  return std::find(peers.begin(), peers.end(), node_id) != peers.end();
}

json RaftGroupSpec::to_json() const {
  json j{{"name", name}, {"peers", peers}, {"store", storage}};
  if (!cluster.empty()) j["cluster"] = cluster;
  if (!preferred.empty()) j["preferred"] = preferred;
  return j;
}

namespace {

std::string str_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t int_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

json origin_json(const RequestOrigin& o) {
  json j{{"acc", o.account}, {"server", o.server}, {"cluster", o.cluster}, {"reply", o.reply},
         {"proposed", o.proposed_ns}, {"api", o.api}, {"body", o.body}};
  if (o.rtt_ns > 0) j["rtt"] = o.rtt_ns;
  return j;
}

RequestOrigin origin_from(const json& j) {
  RequestOrigin o;
  if (!j.is_object()) return o;
  o.account = str_of(j, "acc");
  o.server = str_of(j, "server");
  o.cluster = str_of(j, "cluster");
  o.reply = str_of(j, "reply");
  o.proposed_ns = int_of(j, "proposed");
  o.api = str_of(j, "api");
  o.body = str_of(j, "body");
  o.rtt_ns = int_of(j, "rtt");
  return o;
}

}  // namespace

std::optional<RaftGroupSpec> RaftGroupSpec::from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  RaftGroupSpec g;
  g.name = str_of(j, "name");
  if (auto it = j.find("peers"); it != j.end() && it->is_array())
    for (const auto& p : *it)
      if (p.is_string()) g.peers.push_back(p.get<std::string>());
  g.storage = str_of(j, "store");
  g.cluster = str_of(j, "cluster");
  g.preferred = str_of(j, "preferred");
  if (g.name.empty() || g.peers.empty()) return std::nullopt;
  return g;
}

json consumer_assignment_json(const ConsumerAssignment& ca) {
  json j{{"account", ca.account}, {"stream", ca.stream},         {"name", ca.name},
         {"created", ca.created_ns}, {"group", ca.group.to_json()}, {"client", origin_json(ca.origin)}};
  j["consumer"] = json::parse(consumer_config_json(ca.config).dump());
  if (!ca.api_subject.empty()) j["subject"] = ca.api_subject;
  return j;
}

std::optional<ConsumerAssignment> consumer_assignment_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  ConsumerAssignment ca;
  ca.account = str_of(j, "account");
  ca.stream = str_of(j, "stream");
  ca.name = str_of(j, "name");
  ca.created_ns = int_of(j, "created");
  ca.api_subject = str_of(j, "subject");
  if (auto it = j.find("client"); it != j.end()) ca.origin = origin_from(*it);
  if (auto it = j.find("group"); it != j.end() && !it->is_null()) {
    auto g = RaftGroupSpec::from_json(*it);
    if (!g) return std::nullopt;
    ca.group = std::move(*g);
  }
  if (auto it = j.find("consumer"); it != j.end() && it->is_object()) {
    if (parse_consumer_config(*it, ca.config)) return std::nullopt;
  }
  if (ca.account.empty() || ca.stream.empty() || ca.name.empty()) return std::nullopt;
  return ca;
}

json stream_assignment_json(const StreamAssignment& sa, bool with_consumers) {
  json j{{"account", sa.account},
         {"stream", json::parse(sa.config.to_json().dump())},
         {"created", sa.created_ns},
         {"group", sa.group.to_json()},
         {"client", origin_json(sa.origin)}};
  if (with_consumers && !sa.consumers.empty()) {
    json cs = json::array();
    for (const auto& [_, ca] : sa.consumers) cs.push_back(consumer_assignment_json(ca));
    j["consumers"] = std::move(cs);
  }
  return j;
}

std::optional<StreamAssignment> stream_assignment_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  StreamAssignment sa;
  sa.account = str_of(j, "account");
  sa.created_ns = int_of(j, "created");
  if (auto it = j.find("client"); it != j.end()) sa.origin = origin_from(*it);
  auto cfg_it = j.find("stream");
  if (cfg_it == j.end() || !cfg_it->is_object()) return std::nullopt;
  ApiError err;
  auto cfg = parse_stream_config_json(nlohmann::ordered_json::parse(cfg_it->dump()), err);
  if (!cfg) return std::nullopt;
  sa.config = std::move(*cfg);
  if (auto it = j.find("group"); it != j.end() && !it->is_null()) {
    auto g = RaftGroupSpec::from_json(*it);
    if (!g) return std::nullopt;
    sa.group = std::move(*g);
  }
  if (auto it = j.find("consumers"); it != j.end() && it->is_array())
    for (const auto& c : *it) {
      auto ca = consumer_assignment_from_json(c);
      if (!ca) return std::nullopt;
      sa.consumers[ca->name] = std::move(*ca);
    }
  if (sa.account.empty() || sa.config.name.empty()) return std::nullopt;
  return sa;
}

std::string encode_meta_entry(const MetaEntry& e) {
  std::string out(1, static_cast<char>(e.op));
  json body;
  switch (e.op) {
    case MetaOp::assign_stream:
    case MetaOp::remove_stream:
      if (e.stream) body = stream_assignment_json(*e.stream, false);
      break;
    case MetaOp::update_stream:  // its consumers: the ones whose peers follow the stream's
      if (e.stream) body = stream_assignment_json(*e.stream, true);
      break;
    case MetaOp::assign_consumer:
    case MetaOp::remove_consumer:
      if (e.consumer) body = consumer_assignment_json(*e.consumer);
      break;
    case MetaOp::remove_peer:
      body = json{{"peer", e.peer}};
      break;
  }
  out += body.dump();
  return out;
}

std::optional<MetaEntry> decode_meta_entry(std::string_view data) {
  if (data.empty()) return std::nullopt;
  auto op = static_cast<uint8_t>(data[0]);
  if (op < 1 || op > 6) return std::nullopt;
  auto body = json::parse(data.substr(1), nullptr, false);
  if (body.is_discarded()) return std::nullopt;
  MetaEntry e;
  e.op = static_cast<MetaOp>(op);
  if (e.op == MetaOp::remove_peer) {
    if (!body.is_object() || !body.contains("peer") || !body["peer"].is_string()) return std::nullopt;
    e.peer = body["peer"].get<std::string>();
    if (e.peer.empty()) return std::nullopt;
  } else if (e.op == MetaOp::assign_consumer || e.op == MetaOp::remove_consumer) {
    e.consumer = consumer_assignment_from_json(body);
    if (!e.consumer) return std::nullopt;
  } else {
    e.stream = stream_assignment_from_json(body);
    if (!e.stream) return std::nullopt;
  }
  return e;
}

std::string group_name(char prefix, int replicas, StorageType storage, std::string_view id) {
  std::string s(1, prefix);
  s += "-R" + std::to_string(replicas);
  s += storage == StorageType::memory ? 'M' : 'F';
  s += '-';
  s += id;
  return s;
}

std::string random_group_id() { return util::hash_name(util::next_nuid()); }

}  // namespace nats::jetstream
