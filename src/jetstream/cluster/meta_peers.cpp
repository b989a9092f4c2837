#include "jetstream/cluster/meta_peers.h"

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

std::vector<std::string> known_js_peers(const std::string& self_name, const std::vector<KnownServer>& servers) {
  std::vector<std::string> ids{util::hash_name(self_name)};
  for (const auto& s : servers)
    if (s.jetstream && !s.offline && !s.name.empty()) ids.push_back(util::hash_name(s.name));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace nats::jetstream
