// JsCluster, an account's JetStream switched on or off by a JWT update in a cluster (every
// server gets the update): the assets the meta state assigns to this server start again, or
// stop with their Raft groups. The meta state itself does not change (as 2.9.10, whose
// assignments outlive a disable): re-enabled, the account finds its streams as they were.
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "server/account.h"

namespace nats::jetstream {

void JsCluster::host_account(const std::string& account) {
  MetaState now;
  {
    std::lock_guard lk(mu_);
    now = state_;
  }
  // As after a restart from a snapshot: what is assigned here and not running starts.
  reconcile_local_assets(MetaState{}, now, &account);
}

void JsCluster::unhost_account(JsAccount& jsa) {
  const std::string& account = jsa.account.name();
  for (const auto& sa : streams(account))
    for (const auto& [name, ca] : sa.consumers)
      if (ca.group.replicas() > 1 && ca.group.has_peer(self_id_))
        if (auto cg = ConsumerGroup::find(js_, account, sa.name(), name)) cg->stop(false);
  std::vector<StreamPtr> hosted;
  {
    std::lock_guard lk(jsa.mu);
    for (auto& [_, s] : jsa.streams) hosted.push_back(s);
  }
  // A replicated stream's group goes with it; a plain one (R1) just stops. Files stay.
  for (auto& s : hosted) stop_replicated_stream(s, false);
}

}  // namespace nats::jetstream
