#include "net/event_loop.h"
#include "net/timer_wheel.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nats::net {

namespace {
thread_local EventLoop* t_current = nullptr;
}

EventLoop* EventLoop::current() { return t_current; }

EventLoop::EventLoop(int index) : index_(index) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) throw std::runtime_error("epoll/eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the wake fd
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
}

EventLoop::~EventLoop() {
  stop();
  join();
  ::close(epfd_);
  ::close(wakefd_);
}

void EventLoop::start_thread() {
  thread_ = std::thread([this] { run(); });
}

void EventLoop::join() {
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

void EventLoop::stop() {
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wakefd_, &one, sizeof one);
}

void EventLoop::wake() {
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakefd_, &one, sizeof one);
  }
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lk(post_mu_);
    posted_.push_back(std::move(fn));
  }
  wake();
}

void EventLoop::schedule_flush(std::shared_ptr<Flushable> target) {
  {
    std::lock_guard lk(post_mu_);
    flush_queue_.push_back(std::move(target));
  }
  wake();
}

void EventLoop::add_fd(int fd, uint32_t events, IoHandler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void EventLoop::mod_fd(int fd, uint32_t events, IoHandler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::del_fd(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

TimerId EventLoop::add_timer(Clock::duration after, std::function<void()> fn) {
  TimerId id = next_timer_id_++;
  timer_heap_.push(Timer{Clock::now() + after, id});
  timer_fns_.emplace(id, std::move(fn));
  return id;
}

void EventLoop::cancel_timer(TimerId id) { timer_fns_.erase(id); }

void EventLoop::run_after(Clock::duration after, std::function<void()> fn) {
  if (in_loop_thread()) {
    add_timer(after, std::move(fn));
    return;
  }
  post([this, after, fn = std::move(fn)]() mutable { add_timer(after, std::move(fn)); });
}

int EventLoop::run_timers() {
  // Connections' ping timers are on this loop's timer wheel, everything else on the heap.
  auto& wheel = TimerWheel::current();
  wheel.advance(Clock::now());
  auto now = Clock::now();
  while (!timer_heap_.empty()) {
    const Timer& t = timer_heap_.top();
    auto it = timer_fns_.find(t.id);
    if (it == timer_fns_.end()) {  // cancelled
      timer_heap_.pop();
      continue;
    }
    if (t.when > now) break;
    auto fn = std::move(it->second);
    timer_fns_.erase(it);
    timer_heap_.pop();
    fn();
    now = Clock::now();
  }
  // Again: the heap's callbacks may have armed wheel timers. Whatever this arms on the heap
  // is accounted for below (a cancelled top only wakes the loop early).
  int ms = wheel.advance(Clock::now());
  if (!timer_heap_.empty()) {
    now = Clock::now();
    auto when = timer_heap_.top().when;
    int heap_ms = when <= now ? 0 : static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count()) + 1;
    ms = ms < 0 ? heap_ms : std::min(ms, heap_ms);
  }
  return ms;
}

void EventLoop::drain_posted() {
  std::vector<std::function<void()>> posted;
  std::vector<std::shared_ptr<Flushable>> flushes;
  {
    std::lock_guard lk(post_mu_);
    posted.swap(posted_);
    flushes.swap(flush_queue_);
  }
  // Clear the flag after taking the queues: anything queued after this point wakes us again.
  wake_pending_.store(false, std::memory_order_release);
  for (auto& f : flushes) f->flush_from_loop();
  for (auto& fn : posted) fn();
}

void EventLoop::run() {
  thread_id_ = std::this_thread::get_id();
  t_current = this;
  constexpr int kMaxEvents = 256;
  constexpr int kFlushEvery = 32;
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    int timeout = run_timers();
    for (auto& hook : after_batch_) hook();  // timers' output must not wait for the next wake-up
    int n = epoll_wait(epfd_, events, kMaxEvents, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    bool woke = false;
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<IoHandler*>(events[i].data.ptr);
      if (!h) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(wakefd_, &v, sizeof v);
        woke = true;
        continue;
      }
      h->on_io(events[i].events);
      // Output touched by the handlers so far leaves now rather than after the whole batch
      // (up to kMaxEvents): a long batch (a connect storm) must not hold back deliveries.
      if ((i + 1) % kFlushEvery == 0 && i + 1 < n)
        for (auto& hook : after_batch_) hook();
    }
    if (woke || wake_pending_.load(std::memory_order_acquire)) drain_posted();
    for (auto& hook : after_batch_) hook();
  }
  // Final drain so posted work (e.g. close requests) is not lost at shutdown.
  drain_posted();
  t_current = nullptr;
}

}  // namespace nats::net
