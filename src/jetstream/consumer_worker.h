#pragma once
// The threads that deliver for consumers. A consumer is pinned to one worker: new-message
// signals, acks that free capacity and pull requests post a delivery pass to it, and every
// kTickMs it runs each consumer's timer work (ack deadlines, request expiry, heartbeats,
// inactivity). Publishers only post; they never deliver.
//
// Why not the server's per-core event loops: JetStream restores durable consumers before
// Server::start() creates the loops, and the loops index per-loop caches and counters by
// loop, so a thread that is not one of them must not pose as one. Workers are plain threads:
// matching from them uses the uncached SubList path and the shared counters slot.
#include <functional>

namespace nats::jetstream {

inline constexpr int kConsumerTickMs = 50;

class ConsumerWorker;

// Picks a worker (round robin over a small pool created on first use).
ConsumerWorker& pick_consumer_worker();

class ConsumerWorker {
 public:
  virtual ~ConsumerWorker() = default;
  // Runs fn on the worker thread soon.
  virtual void post(std::function<void()> fn) = 0;
  // Calls tick every kConsumerTickMs on the worker thread until it returns false.
  virtual void add_ticker(std::function<bool()> tick) = 0;
};

}  // namespace nats::jetstream
