#pragma once
// sync_always group commit off the client loops. A publish is stored by the publishing
// connection's thread; its PubAck waits in this queue. A committer thread takes everything
// queued, makes it durable (one fsync, which covers every record appended before it started)
// and then sends those PubAcks; whatever arrives meanwhile goes to the next commit. The loops
// keep reading and storing during an fsync (when the loop ran the fsync itself at the end of
// its input batch, it stopped reading for the whole fsync, and every other connection of that
// loop waited too).
//
// Pipelined commits (the two-function constructor, max_parallel > 1): while one fsync runs,
// up to max_parallel - 1 more committer threads may each take what has queued since and start
// their own fsync. On the disks this runs on, an fsync issued while another is in flight
// finishes far sooner than one issued alone (the device or the journal serves them together),
// so with only one in flight a publisher's window was acknowledged in halves, one per fsync
// latency. The finish step (the PubAcks) still runs strictly in take order, each batch only
// after every earlier batch finished, so PubAcks keep their order and no PubAck leaves before
// the fsyncs of earlier batches (which may cover blocks this one's fsync did not) are done.
//
// Threads start when needed (the first with the first queued item, another only when every
// running one is busy committing). The state is shared with the threads: if the owner is
// destroyed on a committer thread itself (a commit function held the last reference), the
// threads are detached and end on their own.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace nats::jetstream {

template <typename Item, typename Result = int>
class GroupCommitQueue {
 public:
  using Batch = std::vector<Item>;
  using CommitFn = std::function<void(Batch&)>;
  // prepare may run on several threads at once (one batch each); finish runs one batch at a
  // time, in the order the batches were taken, with that batch's prepare result.
  using PrepareFn = std::function<Result(Batch&)>;
  using FinishFn = std::function<void(Batch&, Result)>;

  // One commit at a time: commit is called with one batch at a time, in queue order.
  explicit GroupCommitQueue(CommitFn commit)
      : GroupCommitQueue([commit = std::move(commit)](Batch& b) {
          commit(b);
          return Result{};
        },
        [](Batch&, Result) {}, 1) {}
  GroupCommitQueue(PrepareFn prepare, FinishFn finish, size_t max_parallel)
      : st_(std::make_shared<State>()), prepare_(std::move(prepare)), finish_(std::move(finish)),
        max_threads_(max_parallel < 1 ? 1 : max_parallel) {}
  GroupCommitQueue(const GroupCommitQueue&) = delete;
  GroupCommitQueue& operator=(const GroupCommitQueue&) = delete;
  ~GroupCommitQueue() { stop(); }

  // Queues an item; false once stopped (the caller then commits it itself or drops it).
  bool add(Item&& item) {
    std::lock_guard lk(st_->mu);
    if (st_->stopping) return false;
    st_->queue.push_back(std::move(item));
    if (st_->wake_pending) return true;  // a thread is already on its way to take the queue
    if (st_->idle > 0) {
      st_->wake_pending = true;
      st_->cv.notify_one();
    } else if (threads_.size() < max_threads_) {
      // Every thread is committing: one more may start its fsync now.
      st_->wake_pending = true;
      threads_.emplace_back([st = st_, prepare = prepare_, finish = finish_] { run(st, prepare, finish); });
    }
    return true;
  }

  // Commits what is queued, then ends the threads. Idempotent.
  void stop() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lk(st_->mu);
      st_->stopping = true;
      st_->cv.notify_all();
      threads.swap(threads_);
    }
    bool on_own_thread = false;
    for (auto& t : threads) on_own_thread |= t.get_id() == std::this_thread::get_id();
    for (auto& t : threads) {
      // On a committer thread, another committer may be waiting for this one's batch to
      // finish: joining it here would never return.
      if (on_own_thread) t.detach();
      else t.join();
    }
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;       // work queued, or stopping
    std::condition_variable turn_cv;  // a batch finished
    Batch queue;
    size_t idle = 0;             // threads waiting for work
    bool wake_pending = false;   // a thread was woken or started for the queue and has not taken it
    bool stopping = false;
    uint64_t next_take = 0;      // ticket of the next batch taken
    uint64_t next_finish = 0;    // ticket of the batch whose turn it is to finish
  };

  static void run(std::shared_ptr<State> st, PrepareFn prepare, FinishFn finish) {
    std::unique_lock lk(st->mu);
    for (;;) {
      ++st->idle;
      st->cv.wait(lk, [&] { return st->stopping || !st->queue.empty(); });
      --st->idle;
      st->wake_pending = false;
      if (st->queue.empty()) return;  // stopping, all taken
      Batch batch;
      batch.swap(st->queue);
      const uint64_t ticket = st->next_take++;
      lk.unlock();
      Result r = prepare(batch);
      lk.lock();
      st->turn_cv.wait(lk, [&] { return st->next_finish == ticket; });
      lk.unlock();
      finish(batch, std::move(r));
      lk.lock();
      ++st->next_finish;
      st->turn_cv.notify_all();
    }
  }

  std::shared_ptr<State> st_;
  PrepareFn prepare_;
  FinishFn finish_;
  const size_t max_threads_;
  std::vector<std::thread> threads_;  // guarded by st_->mu
};

}  // namespace nats::jetstream
