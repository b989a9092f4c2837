#pragma once
// sync_always group commit off the client loops. A publish is stored by the publishing
// connection's thread; its PubAck waits in this queue. One committer thread per stream takes
// everything queued, runs one fsync (which covers every record appended before it started)
// and then sends those PubAcks; whatever arrives meanwhile waits for the next fsync. So one
// fsync covers every publish that arrived while the previous one ran, and the loops keep
// reading and storing during an fsync (when the loop ran the fsync itself at the end of its
// input batch, it stopped reading for the whole fsync, and every other connection of that
// loop waited too).
//
// The thread starts with the first queued item. The commit function is called on the
// committer thread with one batch at a time, in queue order (so PubAcks keep their order).
// The state is shared with the thread: if the owner is destroyed on the committer thread itself
// (the commit function held the last reference), the thread is detached and ends on its own.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace nats::jetstream {

template <typename Item>
class GroupCommitQueue {
 public:
  using Batch = std::vector<Item>;
  using CommitFn = std::function<void(Batch&)>;

  explicit GroupCommitQueue(CommitFn commit) : st_(std::make_shared<State>()), commit_(std::move(commit)) {}
  GroupCommitQueue(const GroupCommitQueue&) = delete;
  GroupCommitQueue& operator=(const GroupCommitQueue&) = delete;
  ~GroupCommitQueue() { stop(); }

  // Queues an item; false once stopped (the caller then commits it itself or drops it).
  bool add(Item&& item) {
    std::lock_guard lk(st_->mu);
    if (st_->stopping) return false;
    st_->queue.push_back(std::move(item));
    if (!thread_.joinable()) {
      thread_ = std::thread([st = st_, commit = commit_] { run(st, commit); });
    } else if (!st_->busy) {
      st_->cv.notify_one();
    }
    return true;
  }

  // Commits what is queued, then ends the thread. Idempotent.
  void stop() {
    {
      std::lock_guard lk(st_->mu);
      st_->stopping = true;
      st_->cv.notify_one();
    }
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
    else thread_.join();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    Batch queue;
    bool busy = false;  // the thread is committing (an add need not wake it)
    bool stopping = false;
  };

  static void run(std::shared_ptr<State> st, CommitFn commit) {
    Batch batch;
    std::unique_lock lk(st->mu);
    for (;;) {
      st->busy = false;
      st->cv.wait(lk, [&] { return st->stopping || !st->queue.empty(); });
      if (st->queue.empty()) return;  // stopping, all committed
      batch.clear();
      batch.swap(st->queue);
      st->busy = true;
      lk.unlock();
      commit(batch);
      lk.lock();
    }
  }

  std::shared_ptr<State> st_;
  CommitFn commit_;
  std::thread thread_;  // guarded by st_->mu in add(); stop() runs after the last add
};

}  // namespace nats::jetstream
