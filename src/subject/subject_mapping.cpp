#include "subject/subject_mapping.h"

#include <algorithm>
#include <set>

#include "subject/subject.h"

namespace nats {

std::variant<std::vector<SubjectMapping::Weighted>, std::string> SubjectMapping::finish(
    std::string_view src, bool src_wildcard, bool src_listed, std::vector<std::pair<SubjectTransform, int>> dests) {
  int total = 0;
  for (const auto& d : dests) total += d.second;
  // The source takes the rest, unless it was listed itself: then the rest is dropped.
  if (total != 100 && !src_listed) {
    std::string self = src_wildcard ? tokenize_wildcards(src) : std::string(src);
    auto tr = SubjectTransform::create(src, self);
    if (auto* err = std::get_if<std::string>(&tr)) return *err;
    dests.emplace_back(std::get<SubjectTransform>(std::move(tr)), dests.empty() ? 100 : 100 - total);
  }
  std::stable_sort(dests.begin(), dests.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<Weighted> out;
  int cumulative = 0;
  for (auto& d : dests) {
    cumulative += d.second;
    out.push_back(Weighted{std::move(d.first), cumulative});
  }
  return out;
}

std::variant<SubjectMapping, std::string> SubjectMapping::create(std::string_view src,
                                                                 const std::vector<MappingDestination>& dests) {
  if (!is_valid_subject(src)) return std::string("invalid subject");
  SubjectMapping m;
  m.src_ = src;
  m.wildcard_ = subject_has_wildcard(src);
  std::set<std::string> seen;
  std::vector<std::pair<SubjectTransform, int>> plain;
  std::map<std::string, std::vector<std::pair<SubjectTransform, int>>> scoped;
  int total = 0;  // over all destinations, cluster-scoped or not, as the reference counts
  for (const auto& d : dests) {
    if (!seen.insert(d.subject).second) return "duplicate entry for \"" + d.subject + "\"";
    if (d.weight > 100) return std::string("individual weights need to be <= 100");
    total += d.weight;
    if (total > 100) return std::string("total weight needs to be <= 100");
    if (auto err = validate_mapping_destination(d.subject); !err.empty()) return err;
    auto tr = SubjectTransform::create(src, d.subject);
    if (auto* err = std::get_if<std::string>(&tr)) return *err;
    auto& group = d.cluster.empty() ? plain : scoped[d.cluster];
    group.emplace_back(std::get<SubjectTransform>(std::move(tr)), d.weight);
  }
  bool src_listed = seen.count(std::string(src)) > 0;
  auto main = finish(src, m.wildcard_, src_listed, std::move(plain));
  if (auto* err = std::get_if<std::string>(&main)) return *err;
  m.dests_ = std::get<0>(std::move(main));
  for (auto& [cluster, group] : scoped) {
    auto r = finish(src, m.wildcard_, src_listed, std::move(group));
    if (auto* err = std::get_if<std::string>(&r)) return *err;
    m.cluster_dests_[cluster] = std::get<0>(std::move(r));
  }
  return m;
}

bool SubjectMapping::matches(std::string_view subject) const {
  return wildcard_ ? subject_is_subset_match(subject, src_) : subject == src_;
}

std::string SubjectMapping::select(std::string_view subject, std::string_view cluster, uint32_t random) const {
  const std::vector<Weighted>* dests = &dests_;
  if (!cluster_dests_.empty()) {
    auto it = cluster_dests_.find(cluster);
    if (it != cluster_dests_.end()) dests = &it->second;
  }
  const int w = static_cast<int>(random % 100);
  for (const auto& d : *dests)
    if (w < d.cumulative) return d.transform.apply(subject);
  return "";
}

}  // namespace nats
