#pragma once
// The JetStream meta group: one Raft group (`_meta_`) spanning every JetStream server of the
// supercluster, carried over `$NRG.*` internal subjects in the system account through routes
// and gateways. It elects the leader that places streams and consumers, and reports its
// state for /jsz meta_cluster, /healthz and STATSZ.
#include <memory>

namespace nats {
class Server;
}

namespace nats::jetstream {

class MetaGroup {
 public:
  explicit MetaGroup(Server& server);
  ~MetaGroup();
  MetaGroup(const MetaGroup&) = delete;
  MetaGroup& operator=(const MetaGroup&) = delete;

  void start();
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nats::jetstream
