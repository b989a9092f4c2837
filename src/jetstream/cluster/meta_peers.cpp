#include "jetstream/cluster/meta_peers.h"
#include "util/json_fields.h"

#include <algorithm>

#include "config/options.h"
#include "util/ids.h"

namespace nats::jetstream {

int expected_cluster_size(const Options& opts, size_t known_peers) {
  size_t configured = opts.cluster.routes.size();
  if (opts.gateway.configured) {
    for (const auto& g : opts.gateway.gateways)
      if (g.name != opts.gateway.name) configured += g.urls.size();
  }
  return static_cast<int>(std::max<size_t>({2, known_peers, configured}));
}

std::vector<std::string> known_js_peers(const std::string& self_name, const std::vector<KnownServer>& servers,
                                        const std::string& domain) {
  std::vector<std::string> ids{util::hash_name(self_name)};
  for (const auto& s : servers) {
    // The reference's sameDomain: a server in another (named) domain is never a peer.
    bool same_domain = domain.empty() || s.domain.empty() || s.domain == domain;
    if (s.jetstream && !s.offline && !s.name.empty() && same_domain) ids.push_back(util::hash_name(s.name));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace nats::jetstream

namespace nats::jetstream {

namespace {
}  // namespace

bool meta_group_runs_without(const std::string& self_id, const std::vector<KnownServer>& servers) {
  for (const auto& s : servers) {
    if (s.offline || s.name.empty() || !s.statsz.is_object()) continue;
    auto js = s.statsz.find("jetstream");
    if (js == s.statsz.end() || !js->is_object()) continue;
    auto meta = js->find("meta");
    if (meta == js->end() || !meta->is_object() || util::string_field(*meta, "leader") != s.name) continue;
    if (util::hash_name(s.name) == self_id) return false;
    auto reps = meta->find("replicas");
    if (reps == meta->end() || !reps->is_array()) continue;
    bool member = false;
    for (const auto& r : *reps)
      if (r.is_object() && util::string_field(r, "peer") == self_id) member = true;
    return !member;
  }
  return false;
}

}  // namespace nats::jetstream
