#pragma once
// The owner of every Raft group on this server (meta, streams, consumers). One timer ticks
// all of them: each tick posts one closure per worker loop that ticks that loop's groups, so
// an idle group costs a tick call and its leader's heartbeats, nothing else. Groups are
// spread over a small fixed set of event loops (by name), never a thread or timer each.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jetstream/cluster/raft_group.h"
#include "server/account.h"

namespace nats {
class Server;
}

namespace nats::jetstream {

class RaftGroups : public std::enable_shared_from_this<RaftGroups> {
 public:
  static constexpr auto kTick = std::chrono::milliseconds(100);

  RaftGroups(Server& server, AccountPtr sys, std::string self_id, std::string store_root);
  ~RaftGroups();

  void start();
  void stop();

  // Creates, opens and registers a group (store under <store_root>/<account>/_js_/<name>/).
  // Throws on store errors. The group is ticked from the next tick on.
  RaftGroupPtr create(const std::string& name, const std::string& account, RaftGroupTiming timing,
                      RaftGroup::Hooks hooks);
  // Stops and forgets a group; with remove_files, deletes its store.
  void remove(const std::string& name, bool remove_files);
  // Deletes the store a group of that name left here, unless such a group runs. For a server
  // that enters a group it was not a member of (its old files would bring back a stale log
  // and membership). True when there was one.
  bool discard_stale(const std::string& name, const std::string& account);
  RaftGroupPtr find(const std::string& name) const;
  size_t size() const;
  // Every registered group (for /metrics).
  std::vector<RaftGroupPtr> list() const;
  // The connection to the server of node id `peer` closed: every group it leads here
  // campaigns early (RaftGroup::peer_connection_lost). Any thread.
  void peer_connection_lost(const std::string& peer);

  Server& server() const { return server_; }
  const std::string& self_id() const { return self_id_; }

 private:
  void arm();
  void on_tick();

  Server& server_;
  AccountPtr sys_;
  const std::string self_id_, root_;
  std::vector<net::EventLoop*> loops_;  // the worker loops groups run on
  bool stopped_ = false;

  mutable std::mutex mu_;
  std::vector<RaftGroupPtr> groups_;
};

}  // namespace nats::jetstream
