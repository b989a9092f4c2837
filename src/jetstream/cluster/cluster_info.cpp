#include "jetstream/cluster/cluster_info.h"

namespace nats::jetstream {

nlohmann::ordered_json cluster_info_json(const std::string& cluster_name, const GroupStatus& st) {
  nlohmann::ordered_json c;
  if (!cluster_name.empty()) c["name"] = cluster_name;
  if (!st.leader.empty()) c["leader"] = st.leader;
  if (!st.replicas.empty()) {
    auto& arr = c["replicas"] = nlohmann::ordered_json::array();
    for (const auto& r : st.replicas) {
      nlohmann::ordered_json p;
      p["name"] = r.name;
      p["current"] = r.current;
      if (r.offline) p["offline"] = true;
      p["active"] = r.active_ns;
      if (r.lag) p["lag"] = r.lag;
      p["peer"] = r.peer;
      arr.push_back(std::move(p));
    }
  }
  return c;
}

}  // namespace nats::jetstream
