// GroupCommitQueue (sync_always PubAcks): items are committed in order, in batches that take
// everything queued while the previous commit ran; stop() commits what is left; the owner may
// be destroyed on the committer thread itself; pipelined, a second batch's prepare (fsync) runs
// while the first one's is still in flight, and batches finish (PubAcks) in take order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "jetstream/group_commit.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

TEST(GroupCommitQueue, CommitsInOrderAndBatchesWhatArrivesDuringACommit) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<int> seen;
  std::vector<size_t> batches;
  {
    GroupCommitQueue<int> q([&](std::vector<int>& b) {
      std::unique_lock lk(mu);
      batches.push_back(b.size());
      seen.insert(seen.end(), b.begin(), b.end());
      cv.notify_all();
      cv.wait(lk, [&] { return release; });  // the first commit stands for a slow fsync
    });
    ASSERT_TRUE(q.add(0));
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return !batches.empty(); });
    }
    for (int i = 1; i <= 100; ++i) ASSERT_TRUE(q.add(std::move(i)));
    {
      std::lock_guard lk(mu);
      release = true;
      cv.notify_all();
    }
    q.stop();  // commits what is left
    int late = 101;
    EXPECT_FALSE(q.add(std::move(late)));
  }
  ASSERT_EQ(seen.size(), 101u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(seen[i], i);
  ASSERT_EQ(batches.size(), 2u);  // one commit covered all 100 that arrived during the first
  EXPECT_EQ(batches[0], 1u);
  EXPECT_EQ(batches[1], 100u);
}

TEST(GroupCommitQueue, PipelinedPreparesOverlapAndFinishInOrder) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int prepares = 0;
  std::vector<std::vector<int>> finished;
  {
    GroupCommitQueue<int, int> q(
        [&](std::vector<int>& b) {
          std::unique_lock lk(mu);
          ++prepares;
          cv.notify_all();
          if (b.front() == 0) cv.wait(lk, [&] { return release; });  // the first fsync is slow
          return b.front();
        },
        [&](std::vector<int>& b, int r) {
          std::lock_guard lk(mu);
          EXPECT_EQ(r, b.front());
          finished.push_back(b);
        },
        2);
    ASSERT_TRUE(q.add(0));
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return prepares == 1; });
    }
    ASSERT_TRUE(q.add(1));  // a second thread takes it while the first batch's prepare runs
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return prepares == 2; });
      EXPECT_TRUE(finished.empty());  // batch [1] is prepared but waits for batch [0]
    }
    for (int i = 2; i <= 50; ++i) ASSERT_TRUE(q.add(std::move(i)));  // both threads busy: queued
    {
      std::lock_guard lk(mu);
      EXPECT_EQ(prepares, 2);
      release = true;
      cv.notify_all();
    }
    q.stop();
  }
  std::vector<int> order;
  for (auto& b : finished) order.insert(order.end(), b.begin(), b.end());
  ASSERT_EQ(order.size(), 51u);
  for (int i = 0; i <= 50; ++i) EXPECT_EQ(order[i], i);
  ASSERT_EQ(finished.size(), 3u);  // [0], [1], then everything queued while both were busy
  EXPECT_EQ(finished[2].size(), 49u);
}

TEST(GroupCommitQueue, OwnerDestroyedOnTheCommitterThread) {
  struct Owner {
    std::unique_ptr<GroupCommitQueue<int>> q;
  };
  auto owner = std::make_shared<Owner>();
  std::atomic<bool> done{false};
  std::weak_ptr<Owner> weak = owner;
  std::shared_ptr<Owner>* holder = new std::shared_ptr<Owner>(owner);
  owner->q = std::make_unique<GroupCommitQueue<int>>([holder, &done](std::vector<int>&) {
    // The commit drops the last reference: ~Owner -> ~GroupCommitQueue on this thread.
    delete holder;
    done = true;
  });
  GroupCommitQueue<int>* q = owner->q.get();
  owner.reset();
  ASSERT_TRUE(q->add(1));
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_TRUE(done.load());
  EXPECT_TRUE(weak.expired());
}

}  // namespace NATS_TEST_FILE_ID
