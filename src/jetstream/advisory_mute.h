#pragma once
// Replaying the meta log (after a restart, or from a snapshot) re-runs the API requests that
// created R1 assets on their host. 2.9.10 sends no action advisory and no API audit for a
// replayed assignment, so such a replay runs inside an AdvisoryMute: advisories.cpp drops
// the action and audit advisories sent from this thread meanwhile. The replay dispatches
// synchronously, so a thread-scoped mute covers exactly it.
namespace nats::jetstream {

class AdvisoryMute {
 public:
  AdvisoryMute() { ++depth(); }
  ~AdvisoryMute() { --depth(); }
  AdvisoryMute(const AdvisoryMute&) = delete;
  AdvisoryMute& operator=(const AdvisoryMute&) = delete;
  static bool active() { return depth() > 0; }

 private:
  static int& depth() {
    static thread_local int d = 0;
    return d;
  }
};

}  // namespace nats::jetstream
