#include "jetstream/consumer_worker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nats::jetstream {

namespace {

class Worker final : public ConsumerWorker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void post(std::function<void()> fn) override {
    bool wake;
    {
      std::lock_guard lk(mu_);
      wake = queue_.empty();
      queue_.push_back(std::move(fn));
    }
    if (wake) cv_.notify_one();
  }
  void add_ticker(std::function<bool()> tick) override {
    std::lock_guard lk(mu_);
    new_tickers_.push_back(std::move(tick));
  }

 private:
  void run() {
    using clock = std::chrono::steady_clock;
    auto next_tick = clock::now() + std::chrono::milliseconds(kConsumerTickMs);
    std::deque<std::function<void()>> batch;
    for (;;) {
      {
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, next_tick, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        batch.swap(queue_);
        for (auto& t : new_tickers_) tickers_.push_back(std::move(t));
        new_tickers_.clear();
      }
      for (auto& fn : batch) fn();
      batch.clear();
      if (clock::now() >= next_tick) {
        // Tickers are only touched by this thread once moved in.
        std::erase_if(tickers_, [](std::function<bool()>& t) { return !t(); });
        next_tick = clock::now() + std::chrono::milliseconds(kConsumerTickMs);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::function<bool()>> new_tickers_;
  std::vector<std::function<bool()>> tickers_;
  bool stop_ = false;
  std::thread thread_;
};

struct Pool {
  Pool() {
    unsigned n = std::clamp(std::thread::hardware_concurrency() / 2, 1u, 4u);
    for (unsigned i = 0; i < n; ++i) workers.push_back(std::make_unique<Worker>());
  }
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<size_t> next{0};
};

}  // namespace

ConsumerWorker& pick_consumer_worker() {
  static Pool pool;
  return *pool.workers[pool.next.fetch_add(1) % pool.workers.size()];
}

}  // namespace nats::jetstream
