// One subject mapping of an account (the reference's `mapping`): a source subject and its
// weighted destinations, optionally scoped to a cluster. Weights add up to at most 100;
// when they do not reach 100 the source subject itself takes the rest, unless it is listed
// as a destination, in which case the rest of the messages are dropped. Pure; immutable
// once created, so publishers on any thread may use it without a lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "subject/subject_transform.h"

namespace nats {

struct MappingDestination {
  std::string subject;
  int weight = 100;     // percent
  std::string cluster;  // empty: any cluster
};

class SubjectMapping {
 public:
  // The mapping, or the reference's error text ("total weight needs to be <= 100", ...).
  static std::variant<SubjectMapping, std::string> create(std::string_view src,
                                                          const std::vector<MappingDestination>& dests);

  const std::string& src() const { return src_; }
  bool matches(std::string_view subject) const;
  // Whether select() needs the cluster name (it has cluster-scoped destinations).
  bool cluster_scoped() const { return !cluster_dests_.empty(); }

  // The subject to publish to instead of `subject` (which matches), picking a destination
  // with `random` (uniform over uint32) among those for `cluster`; "" when the pick falls
  // on the dropped share.
  std::string select(std::string_view subject, std::string_view cluster, uint32_t random) const;

 private:
  struct Weighted {
    SubjectTransform transform;
    int cumulative;  // upper bound (exclusive) of this destination's share of [0,100)
  };
  static std::variant<std::vector<Weighted>, std::string> finish(std::string_view src, bool src_wildcard,
                                                                 bool src_listed, std::vector<std::pair<SubjectTransform, int>> dests);

  std::string src_;
  bool wildcard_ = false;
  std::vector<Weighted> dests_;
  std::map<std::string, std::vector<Weighted>, std::less<>> cluster_dests_;
};

}  // namespace nats
