#include "jetstream/cluster/placement.h"

#include <algorithm>

namespace nats::jetstream {

namespace {
// Servers tagged so never take assets (the reference's jsExcludePlacement).
constexpr const char* kExcludeTag = "!jetstream";

bool has_tag(const PlacementCandidate& c, const std::string& t) {
  return std::find(c.tags.begin(), c.tags.end(), t) != c.tags.end();
}

// The reference's selectPeerError text: "no suitable peers for placement" plus the reasons
// seen while discarding servers.
struct Reasons {
  bool offline = false, exclude_tag = false;
  std::vector<std::string> missing_tags;  // in the order first seen

  std::string text() const {
    std::string s = "no suitable peers for placement";
    if (offline) s += ", peer offline";
    if (exclude_tag) s += ", exclude tag set";
    if (!missing_tags.empty()) {
      s += ", tags not matched [";
      for (size_t i = 0; i < missing_tags.size(); ++i) s += (i ? ", '" : "'") + missing_tags[i] + "'";
      s += "]";
    }
    return s;
  }
};
}  // namespace

PlacementResult place(const PlacementRequest& req, const std::vector<PlacementCandidate>& servers) {
  PlacementResult res;
  res.cluster = req.cluster.empty() ? req.default_cluster : req.cluster;
  Reasons why;
  std::vector<const PlacementCandidate*> fit;
  for (const auto& c : servers) {
    if (!c.jetstream || c.cluster != res.cluster) continue;
    if (c.offline) {
      why.offline = true;
      continue;
    }
    if (std::find(req.exclude.begin(), req.exclude.end(), c.node_id) != req.exclude.end()) continue;
    if (has_tag(c, kExcludeTag)) {
      why.exclude_tag = true;
      continue;
    }
    auto missing = std::find_if(req.tags.begin(), req.tags.end(), [&](const auto& t) { return !has_tag(c, t); });
    if (missing != req.tags.end()) {
      if (std::find(why.missing_tags.begin(), why.missing_tags.end(), *missing) == why.missing_tags.end())
        why.missing_tags.push_back(*missing);
      continue;
    }
    fit.push_back(&c);
  }
  int want = std::max(req.replicas, 1);
  if (res.cluster.empty() || static_cast<int>(fit.size()) < want) {
    res.error = api_error(err::ClusterNoPeers, why.text());
    return res;
  }
  // Least loaded first; the name breaks ties so the choice does not depend on input order.
  std::sort(fit.begin(), fit.end(), [](const auto* a, const auto* b) {
    return a->assets != b->assets ? a->assets < b->assets : a->name < b->name;
  });
  for (int i = 0; i < want; ++i) res.peers.push_back(fit[static_cast<size_t>(i)]->node_id);
  return res;
}

void placement_from_json(const nlohmann::ordered_json& p, std::string& cluster, std::vector<std::string>& tags) {
  cluster.clear();
  tags.clear();
  if (!p.is_object()) return;
  if (auto it = p.find("cluster"); it != p.end() && it->is_string()) cluster = it->get<std::string>();
  if (auto it = p.find("tags"); it != p.end() && it->is_array())
    for (const auto& t : *it)
      if (t.is_string()) tags.push_back(t.get<std::string>());
}

}  // namespace nats::jetstream
