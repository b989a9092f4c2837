#include "jetstream/cluster/raft_groups.h"

#include <algorithm>
#include <filesystem>

#include "net/event_loop.h"
#include "server/server.h"

namespace nats::jetstream {

namespace {
// Raft work (fsync on every append) stays off most client loops: at most this many.
constexpr size_t kWorkerLoops = 2;
}  // namespace

RaftGroups::RaftGroups(Server& server, AccountPtr sys, std::string self_id, std::string store_root)
    : server_(server), sys_(std::move(sys)), self_id_(std::move(self_id)), root_(std::move(store_root)) {}

RaftGroups::~RaftGroups() { stop(); }

void RaftGroups::start() {
  // pick_loop() hands out loops round-robin; take distinct ones.
  for (size_t i = 0; i < kWorkerLoops * 4 && loops_.size() < kWorkerLoops; ++i) {
    net::EventLoop* l = &server_.pick_loop();
    if (std::find(loops_.begin(), loops_.end(), l) == loops_.end()) loops_.push_back(l);
  }
  loops_.front()->post([self = shared_from_this()] { self->arm(); });
}

void RaftGroups::stop() {
  std::vector<RaftGroupPtr> gs;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    stopped_ = true;
    gs.swap(groups_);
  }
  for (auto& g : gs) g->stop(false);
}

void RaftGroups::arm() {
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
  }
  loops_.front()->add_timer(kTick, [self = shared_from_this()] { self->on_tick(); });
}

void RaftGroups::on_tick() {
  std::vector<std::vector<RaftGroupPtr>> per_loop(loops_.size());
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    for (const auto& g : groups_) {
      size_t i = std::find(loops_.begin(), loops_.end(), &g->loop()) - loops_.begin();
      per_loop[i].push_back(g);
    }
  }
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (per_loop[i].empty()) continue;
    auto run = [gs = std::move(per_loop[i])] {
      for (const auto& g : gs) g->tick();
    };
    if (i == 0) run();
    else loops_[i]->post(std::move(run));
  }
  arm();
}

RaftGroupPtr RaftGroups::create(const std::string& name, const std::string& account, RaftGroupTiming timing,
                                RaftGroup::Hooks hooks) {
  net::EventLoop& loop = *loops_[std::hash<std::string>{}(name) % loops_.size()];
  std::string dir = root_ + "/" + account + "/_js_/" + name;
  auto g = std::make_shared<RaftGroup>(server_, *sys_, name, self_id_, dir, loop, timing, std::move(hooks));
  g->open();
  std::lock_guard lk(mu_);
  if (stopped_) {
    g->stop(false);
    return nullptr;
  }
  groups_.push_back(g);
  return g;
}

void RaftGroups::remove(const std::string& name, bool remove_files) {
  RaftGroupPtr g;
  {
    std::lock_guard lk(mu_);
    auto it = std::find_if(groups_.begin(), groups_.end(), [&](const RaftGroupPtr& x) { return x->name() == name; });
    if (it == groups_.end()) return;
    g = *it;
    groups_.erase(it);
  }
  g->stop(remove_files);
}

bool RaftGroups::discard_stale(const std::string& name, const std::string& account) {
  std::lock_guard lk(mu_);
  for (const auto& g : groups_)
    if (g->name() == name) return false;
  std::error_code ec;
  return std::filesystem::remove_all(root_ + "/" + account + "/_js_/" + name, ec) > 0 && !ec;
}

RaftGroupPtr RaftGroups::find(const std::string& name) const {
  std::lock_guard lk(mu_);
  for (const auto& g : groups_)
    if (g->name() == name) return g;
  return nullptr;
}

std::vector<RaftGroupPtr> RaftGroups::list() const {
  std::lock_guard lk(mu_);
  return groups_;
}

void RaftGroups::peer_connection_lost(const std::string& peer) {
  for (const auto& g : list()) g->peer_connection_lost(peer);
}

size_t RaftGroups::size() const {
  std::lock_guard lk(mu_);
  return groups_.size();
}

}  // namespace nats::jetstream
