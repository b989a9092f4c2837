// One epoll event loop per core, each owning the connections assigned to it.
//
// Written on epoll directly rather than on Asio: the hot path is "read a large buffer,
// parse in place, append to other connections' outbound buffers, wake their loops once per
// batch", and owning the loop lets us batch those wake-ups (one eventfd write per target
// loop per read batch) and flush with writev without any per-message allocation.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

namespace nats::net {

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  virtual void on_io(uint32_t events) = 0;
};

// Something with pending output that its owning loop must write out (see EventLoop::
// schedule_flush). Ref-counted by its owner; the loop holds a shared_ptr while queued.
class Flushable {
 public:
  virtual ~Flushable() = default;
  virtual void flush_from_loop() = 0;
};

using Clock = std::chrono::steady_clock;
using TimerId = uint64_t;

class EventLoop {
 public:
  explicit EventLoop(int index);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  int index() const { return index_; }

  // Runs the loop in the calling thread until stop().
  void run();
  // Starts a thread running the loop.
  void start_thread();
  void stop();
  void join();

  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

  // Thread-safe: runs fn on the loop thread soon.
  void post(std::function<void()> fn);
  // Thread-safe: asks the loop to call target->flush_from_loop(). Wakes the loop at most
  // once per batch: the wake-up is sent only when the queue was empty.
  void schedule_flush(std::shared_ptr<Flushable> target);

  // fd registration (loop thread only, except del which is also safe from others).
  void add_fd(int fd, uint32_t events, IoHandler* h);
  void mod_fd(int fd, uint32_t events, IoHandler* h);
  void del_fd(int fd);

  // Timers (loop thread only). Callbacks run on the loop thread.
  TimerId add_timer(Clock::duration after, std::function<void()> fn);
  void cancel_timer(TimerId id);
  // Thread-safe, fire and forget: fn runs on the loop thread after `after` (armed directly on
  // the loop thread, else through post), for callers on other threads (Raft apply, API
  // requests) that never cancel.
  void run_after(Clock::duration after, std::function<void()> fn);

  // The loop in whose thread we are, or nullptr.
  static EventLoop* current();

  // Hooks run after each batch of timers and of I/O events and posted tasks: used to flush
  // the connections a batch touched. Add them before start_thread().
  void add_after_batch_hook(std::function<void()> fn) { after_batch_.push_back(std::move(fn)); }

 private:
  void wake();
  void drain_posted();
  int run_timers();  // returns ms until next timer or -1

  int index_;
  int epfd_;
  int wakefd_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::thread::id thread_id_;

  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::shared_ptr<Flushable>> flush_queue_;
  std::atomic<bool> wake_pending_{false};

  struct Timer {
    Clock::time_point when;
    TimerId id;
    bool operator>(const Timer& o) const { return when > o.when; }
  };
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timer_heap_;
  std::unordered_map<TimerId, std::function<void()>> timer_fns_;
  TimerId next_timer_id_ = 1;

  std::vector<std::function<void()>> after_batch_;
};

}  // namespace nats::net
