#include "sys/server_directory.h"
#include "util/json_fields.h"

#include <algorithm>

namespace nats {

namespace {
}  // namespace

bool ServerDirectory::update(const nlohmann::json& msg, std::chrono::steady_clock::time_point now) {
  if (!msg.is_object()) return false;
  auto sit = msg.find("server");
  if (sit == msg.end() || !sit->is_object()) return false;
  const auto& si = *sit;
  std::string id = util::string_field(si, "id");
  if (id.empty() || id == self_id_) return false;
  uint64_t seq = 0;
  if (auto it = si.find("seq"); it != si.end() && it->is_number_unsigned()) seq = it->get<uint64_t>();
  std::lock_guard lk(mu_);
  auto& e = by_id_[id];
  // Peers may see our updates out of order across routes and gateways: keep the newest.
  if (e.seq != 0 && seq != 0 && seq <= e.seq && !e.offline) return false;
  e.id = id;
  e.name = util::string_field(si, "name");
  e.host = util::string_field(si, "host");
  e.cluster = util::string_field(si, "cluster");
  e.domain = util::string_field(si, "domain");
  e.version = util::string_field(si, "ver");
  e.tags.clear();
  if (auto it = si.find("tags"); it != si.end() && it->is_array())
    for (auto& t : *it)
      if (t.is_string()) e.tags.push_back(t.get<std::string>());
  auto js = si.find("jetstream");
  e.jetstream = js != si.end() && js->is_boolean() && js->get<bool>();
  e.seq = seq;
  e.offline = false;
  e.last_seen = now;
  if (auto st = msg.find("statsz"); st != msg.end()) e.statsz = *st;
  return true;
}

void ServerDirectory::remove(const std::string& id) {
  std::lock_guard lk(mu_);
  by_id_.erase(id);
}

void ServerDirectory::sweep(std::chrono::steady_clock::time_point now) {
  std::lock_guard lk(mu_);
  for (auto& [_, e] : by_id_)
    if (now - e.last_seen > kOrphanAfter) e.offline = true;
}

std::vector<KnownServer> ServerDirectory::known_servers() const {
  std::vector<KnownServer> out;
  {
    std::lock_guard lk(mu_);
    for (auto& [_, e] : by_id_) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const KnownServer& a, const KnownServer& b) { return a.name < b.name; });
  return out;
}

size_t ServerDirectory::num_online() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (auto& [_, e] : by_id_)
    if (!e.offline) ++n;
  return n;
}

}  // namespace nats
