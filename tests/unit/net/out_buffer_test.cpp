// OutBuffer keeps bytes in order across appends, partial writes, moves and prepends, and its
// chunks follow the traffic: small for a quiet connection, kChunkSize for a busy one.
#include "net/out_buffer.h"

#include <gtest/gtest.h>

#include <string>

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using nats::net::OutBuffer;

namespace {

std::string contents(const OutBuffer& b) {
  struct iovec iov[4096];
  int n = b.fill_iov(iov, 4096);
  std::string s;
  for (int i = 0; i < n; ++i) s.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return s;
}
int chunks(const OutBuffer& b) {
  struct iovec iov[4096];
  return b.fill_iov(iov, 4096);
}
}  // namespace

TEST(OutBuffer, KeepsOrderAcrossChunksPartialWritesAndPrepend) {
  OutBuffer a;
  std::string expect;
  for (int i = 0; i < 2000; ++i) {
    std::string m = "MSG " + std::to_string(i) + "\r\n";
    a.append(m);
    expect += m;
  }
  EXPECT_GT(chunks(a), 1);
  EXPECT_EQ(a.size(), expect.size());
  EXPECT_EQ(contents(a), expect);
  a.consume(7);
  expect.erase(0, 7);
  EXPECT_EQ(contents(a), expect);
  OutBuffer later;
  later.append("tail");
  later.prepend(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(contents(later), expect + "tail");
  later.consume(later.size());
  EXPECT_TRUE(later.empty());
  EXPECT_EQ(chunks(later), 0);
}

TEST(OutBuffer, LargeWriteFillsTheTailFirst) {
  OutBuffer b;
  b.append("head");
  std::string big(3 * OutBuffer::kChunkSize, 'b');
  b.append(big);
  EXPECT_EQ(contents(b), "head" + big);
  EXPECT_EQ(b.size(), 4 + big.size());
}

TEST(OutBuffer, QuietConnectionsHoldSmallChunksBusyOnesGrow) {
  OutBuffer pending, writing;
  // A quiet client: INFO, then a PONG now and then. Everything fits the first small chunk.
  for (int i = 0; i < 20; ++i) {
    pending.append(std::string(300, 'i'));
    pending.move_to(writing);
    EXPECT_EQ(chunks(writing), 1);
    writing.consume(writing.size());
  }
  // A busy one: 200 KB per flush. After the first overflow its chunks are kChunkSize.
  std::string msg(100, 'm');
  int first = 0, last = 0;
  for (int f = 0; f < 5; ++f) {
    for (int i = 0; i < 2000; ++i) pending.append(msg);
    pending.move_to(writing);
    (f == 0 ? first : last) = chunks(writing);
    EXPECT_EQ(writing.size(), 200000u);
    writing.consume(writing.size());
  }
  EXPECT_LE(last, 200000 / static_cast<int>(OutBuffer::kChunkSize) + 1);
  EXPECT_GT(first, last);
}

TEST(OutBuffer, LongSlowDrainKeepsBytesInOrder) {
  OutBuffer b;
  std::string expect;
  for (int i = 0; i < 100000; ++i) {
    std::string m = std::to_string(i) + ",";
    b.append(m);
    expect += m;
  }
  std::string got;
  while (!b.empty()) {
    struct iovec iov[2];
    int n = b.fill_iov(iov, 2);
    size_t take = 0;
    for (int i = 0; i < n; ++i) take += iov[i].iov_len;
    take = take > 5000 ? take - 4999 : take;  // partial writes that end inside a chunk
    std::string all;
    for (int i = 0; i < n; ++i) all.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    got += all.substr(0, take);
    b.consume(take);
  }
  EXPECT_EQ(got, expect);
}

TEST(OutBuffer, ReleasingTheSpareStartsSmallAgain) {
  OutBuffer pending, writing;
  std::string msg(100, 'm');
  for (int i = 0; i < 2000; ++i) pending.append(msg);  // overflows: full-size chunks from now on
  pending.move_to(writing);
  writing.consume(writing.size());
  pending.release_spare();
  // Two small messages after the release fit one small chunk; a third of 1 KB does not.
  pending.append(std::string(400, 'a'));
  pending.append(std::string(400, 'b'));
  EXPECT_EQ(chunks(pending), 1);
  pending.append(std::string(OutBuffer::kFirstChunkSize, 'c'));
  EXPECT_EQ(chunks(pending), 2);
}

TEST(OutBuffer, QuietConnectionHoldsNothingOnceWritten) {
  OutBuffer pending, writing;
  pending.append("PONG\r\n");
  pending.move_to(writing);
  EXPECT_FALSE(pending.holds_memory());
  writing.consume(writing.size());
  EXPECT_FALSE(writing.holds_memory());  // no small spare, no chunk list
  // A busy connection keeps one full-size spare for its next flush.
  std::string msg(100, 'm');
  for (int i = 0; i < 2000; ++i) pending.append(msg);
  pending.move_to(writing);
  writing.consume(writing.size());
  pending.append("x");
  pending.move_to(writing);
  writing.consume(writing.size());
  EXPECT_TRUE(writing.holds_memory() || pending.holds_memory());
  pending.release_spare();
  writing.release_spare();
}

}  // namespace NATS_TEST_FILE_ID
