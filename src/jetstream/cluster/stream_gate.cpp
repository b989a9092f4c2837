#include "jetstream/cluster/stream_gate.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "util/log.h"

namespace nats::jetstream {

namespace {
// The keys this thread is inside (enter without leave yet): a window opened on this thread,
// from inside a request (an apply run inline), must not wait for that request.
thread_local std::vector<const std::string*> t_entered;

int entered_here(const std::string& key) {
  return static_cast<int>(std::count_if(t_entered.begin(), t_entered.end(), [&](const std::string* k) { return *k == key; }));
}
}  // namespace

bool StreamGate::enter(const std::string& key, const std::function<Replay()>& make_replay) {
  std::lock_guard lk(mu_);
  if (auto w = windows_.find(key); w != windows_.end()) {
    w->second.held.push_back(make_replay());
    return false;
  }
  ++inflight_[key];
  t_entered.push_back(&key);
  return true;
}

void StreamGate::leave(const std::string& key) {
  {
    std::lock_guard lk(mu_);
    if (auto it = inflight_.find(key); it != inflight_.end() && --it->second <= 0) inflight_.erase(it);
    for (auto it = t_entered.rbegin(); it != t_entered.rend(); ++it)
      if (**it == key) {
        t_entered.erase(std::next(it).base());
        break;
      }
  }
  left_.notify_all();
}

void StreamGate::begin(const std::string& key, int wait_ms) {
  std::unique_lock lk(mu_);
  ++windows_[key].depth;
  const int own = entered_here(key);
  auto others_gone = [&] {
    auto it = inflight_.find(key);
    return it == inflight_.end() || it->second <= own;
  };
  if (!left_.wait_for(lk, std::chrono::milliseconds(wait_ms), others_gone))
    log::warn("JetStream cluster: requests about stream '{}' still running after {} ms; changing it anyway", key,
              wait_ms);
}

std::vector<StreamGate::Replay> StreamGate::end(const std::string& key) {
  std::lock_guard lk(mu_);
  auto w = windows_.find(key);
  if (w == windows_.end()) return {};
  if (--w->second.depth > 0) return {};
  auto held = std::move(w->second.held);
  windows_.erase(w);
  return held;
}

}  // namespace nats::jetstream
