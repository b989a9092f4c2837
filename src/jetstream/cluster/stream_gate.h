#pragma once
// The window in which this server changes a stream under a meta-log entry (JsCluster::apply
// of a stream update or removal): a scale-down to R1 stops the kept replica, closing its
// store, and reopens the files as a plain stream a few ms later; a removal or a move stops a
// replica for good. A request about that stream (any stream-scoped API request: STREAM.INFO,
// CONSUMER.INFO/CREATE, MSG.GET, DIRECT.GET, PURGE, MSG.DELETE, ...) that read the stream
// in between would answer from a closed store (an empty stream), or miss the stream.
//
// So the apply opens a window for the stream (begin): requests that arrive meanwhile are held
// and routed again once it closes (end), against the stream then registered; and the window
// opens only once the requests already past the gate on other threads have left (they read
// the old stream while it was whole). 2.9.10 keeps the same stream object through a
// scale-down, so its readers never see the gap.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace nats::jetstream {

class StreamGate {
 public:
  using Replay = std::function<void()>;
  // A request about stream `key` (account + ' ' + stream). False: the stream is in a window;
  // make_replay() was called (under the gate's lock) and its result runs after the window.
  // True: go on, and call leave(key) once done.
  bool enter(const std::string& key, const std::function<Replay()>& make_replay);
  void leave(const std::string& key);

  // Opens the window for `key` (held: new requests; waited for, at most `wait_ms`: those in
  // flight on other threads). Windows of one key nest.
  void begin(const std::string& key, int wait_ms = 2000);
  // Closes it; returns the held requests (the caller runs them, on no lock of its own).
  std::vector<Replay> end(const std::string& key);

 private:
  std::mutex mu_;
  std::condition_variable left_;
  std::unordered_map<std::string, int> inflight_;
  struct Window {
    int depth = 0;
    std::vector<Replay> held;
  };
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace nats::jetstream
