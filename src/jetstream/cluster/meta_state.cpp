#include "jetstream/cluster/meta_state.h"

#include <nlohmann/json.hpp>

namespace nats::jetstream {

namespace {
// The reference's JSConsumerNotFoundErr.
constexpr ErrDef kConsumerNotFound{404, 10014, "consumer not found"};
}  // namespace

MetaChange MetaState::apply(const MetaEntry& e) {
  MetaChange ch;
  ch.op = e.op;
  switch (e.op) {
    case MetaOp::remove_peer:
      removed_.insert(e.peer);
      break;
    case MetaOp::assign_stream: {
      if (!e.stream) break;
      auto& streams = accounts_[e.stream->account];
      if (streams.count(e.stream->name())) {
        // Two creates raced through the leader: the first one wins.
        ch.rejected = api_error(err::StreamNameExist);
        break;
      }
      StreamAssignment sa = *e.stream;
      sa.consumers.clear();
      streams[sa.name()] = sa;
      ch.stream_after = std::move(sa);
      break;
    }
    case MetaOp::update_stream: {
      if (!e.stream) break;
      auto* cur = find(e.stream->account, e.stream->name());
      if (!cur) {
        ch.rejected = api_error(err::StreamNotFound);
        break;
      }
      ch.stream_before = *cur;
      cur->config = e.stream->config;
      cur->group = e.stream->group;
      cur->origin = e.stream->origin;
      // Consumers follow the stream's peers in the same entry, so no server ever holds a
      // consumer placed outside its stream. Matched by group name: a consumer deleted and
      // created again meanwhile keeps its own group. An R1 durable becoming replicated gets
      // a group of a new name (consumer_follow.h): matched by its creation time then.
      for (const auto& [name, moved] : e.stream->consumers) {
        auto it = cur->consumers.find(name);
        if (it == cur->consumers.end()) continue;
        const ConsumerAssignment& was = it->second;
        const bool renamed = was.group.replicas() <= 1 && moved.group.replicas() > 1 && was.created_ns != 0 &&
                             was.created_ns == moved.created_ns;
        if (was.group.name == moved.group.name || renamed) it->second.group = moved.group;
      }
      // An R1 ephemeral whose server the stream leaves goes with it on a move or a peer
      // removal (as 2.9.10, which deletes ephemerals on a move away and never remaps them):
      // the stream stops there, and so does the consumer. Not on a replica change (a
      // scale-down): 2.9.10 keeps its assignment on the dropped server, so it stays listed
      // (CONSUMER.NAMES / LIST) and its host answers CONSUMER.INFO "stream not found"
      // (10059) until it is deleted with CONSUMER.DELETE or with the stream. Upstream kept
      // that for limits-policy streams in later releases too; a client re-creates it.
      if (e.stream->config.num_replicas != ch.stream_before->config.num_replicas) {
        ch.stream_after = *cur;
        break;
      }
      std::erase_if(cur->consumers, [&](const auto& kv) {
        const ConsumerAssignment& ca = kv.second;
        return ca.config.durable_name.empty() && ca.group.replicas() == 1 && !cur->group.has_peer(ca.group.peers.front());
      });
      ch.stream_after = *cur;
      break;
    }
    case MetaOp::remove_stream: {
      if (!e.stream) break;
      auto* cur = find(e.stream->account, e.stream->name());
      if (!cur) {
        ch.rejected = api_error(err::StreamNotFound);
        break;
      }
      ch.stream_before = std::move(*cur);
      ch.stream_before->origin = e.stream->origin;  // who asked for the removal
      auto acc = accounts_.find(e.stream->account);
      acc->second.erase(e.stream->name());
      if (acc->second.empty()) accounts_.erase(acc);
      break;
    }
    case MetaOp::assign_consumer: {
      if (!e.consumer) break;
      auto* sa = find(e.consumer->account, e.consumer->stream);
      if (!sa) {
        ch.rejected = api_error(err::StreamNotFound);
        break;
      }
      if (auto it = sa->consumers.find(e.consumer->name); it != sa->consumers.end()) ch.consumer_before = it->second;
      sa->consumers[e.consumer->name] = *e.consumer;
      ch.consumer_after = *e.consumer;
      ch.stream_after = *sa;
      break;
    }
    case MetaOp::remove_consumer: {
      if (!e.consumer) break;
      auto* sa = find(e.consumer->account, e.consumer->stream);
      if (!sa) {
        ch.rejected = api_error(err::StreamNotFound);
        break;
      }
      auto it = sa->consumers.find(e.consumer->name);
      if (it == sa->consumers.end()) {
        ch.rejected = api_error(kConsumerNotFound);
        break;
      }
      ch.consumer_before = std::move(it->second);
      ch.consumer_before->origin = e.consumer->origin;
      sa->consumers.erase(it);
      ch.stream_after = *sa;
      break;
    }
  }
  return ch;
}

StreamAssignment* MetaState::find(const std::string& account, const std::string& name) {
  auto acc = accounts_.find(account);
  if (acc == accounts_.end()) return nullptr;
  auto it = acc->second.find(name);
  return it == acc->second.end() ? nullptr : &it->second;
}

const StreamAssignment* MetaState::stream(const std::string& account, const std::string& name) const {
  return const_cast<MetaState*>(this)->find(account, name);
}

const ConsumerAssignment* MetaState::consumer(const std::string& account, const std::string& stream_name,
                                              const std::string& name) const {
  const auto* sa = stream(account, stream_name);
  if (!sa) return nullptr;
  auto it = sa->consumers.find(name);
  return it == sa->consumers.end() ? nullptr : &it->second;
}

std::vector<StreamAssignment> MetaState::streams(const std::string& account) const {
  std::vector<StreamAssignment> out;
  auto acc = accounts_.find(account);
  if (acc == accounts_.end()) return out;
  for (const auto& [_, sa] : acc->second) out.push_back(sa);
  return out;
}

std::vector<std::string> MetaState::accounts() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : accounts_) out.push_back(name);
  return out;
}

std::map<std::string, int> MetaState::assets_per_peer() const {
  std::map<std::string, int> n;
  for (const auto& [_, streams] : accounts_)
    for (const auto& [__, sa] : streams) {
      for (const auto& p : sa.group.peers) ++n[p];
      for (const auto& [___, ca] : sa.consumers)
        for (const auto& p : ca.group.peers) ++n[p];
    }
  return n;
}

size_t MetaState::stream_count() const {
  size_t n = 0;
  for (const auto& [_, streams] : accounts_) n += streams.size();
  return n;
}

std::string MetaState::snapshot() const {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& [_, streams] : accounts_)
    for (const auto& [__, sa] : streams) all.push_back(stream_assignment_json(sa, true));
  return nlohmann::json{{"streams", std::move(all)}, {"removed", removed_}}.dump();
}

bool MetaState::restore(std::string_view blob) {
  auto doc = nlohmann::json::parse(blob, nullptr, false);
  if (!doc.is_object() || !doc.contains("streams") || !doc["streams"].is_array()) return false;
  decltype(accounts_) fresh;
  for (const auto& j : doc["streams"]) {
    auto sa = stream_assignment_from_json(j);
    if (!sa) return false;
    std::string acc = sa->account, name = sa->name();
    fresh[acc][name] = std::move(*sa);
  }
  std::set<std::string> removed;
  if (auto r = doc.find("removed"); r != doc.end()) {
    if (!r->is_array()) return false;
    for (const auto& p : *r) {
      if (!p.is_string()) return false;
      removed.insert(p.get<std::string>());
    }
  }
  accounts_ = std::move(fresh);
  removed_ = std::move(removed);
  return true;
}

}  // namespace nats::jetstream
