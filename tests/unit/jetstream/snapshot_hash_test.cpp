// Record hashes in snapshot archives (snapshot_archive.cpp): records are checked against their
// HighwayHash-64 keyed by sha256("<stream>-<block>") as 2.9.10 checks them. With a trusted
// index (its last checksum is the block's last 8 bytes) a failing record is left out and the
// rest kept; without one (2.9.10 rebuilds the block) the block is cut at the failing record.
#include <gtest/gtest.h>

#include "jetstream/snapshot/s2_stream.h"
#include "jetstream/snapshot/snapshot_archive.h"
#include "jetstream/snapshot/tar_archive.h"
#include "util/highwayhash.h"
#include "util/little_endian.h"
#include "util/varint.h"

namespace nats::NATS_TEST_FILE_ID {
namespace {

using namespace nats::jetstream;

// One record in 2.9.10's layout, hashed with `key` (seq, ts, subject, payload; no headers).
std::string record(uint64_t seq, const std::string& subj, const std::string& payload, const std::string& key) {
  std::string r;
  util::append_le(r, 22 + subj.size() + payload.size() + 8, 4);
  util::append_le(r, seq, 8);
  util::append_le(r, 1000 + seq, 8);
  util::append_le(r, subj.size(), 2);
  r += subj + payload;
  util::HighwayHash64 h(util::highway_key_sha256(key));
  h.write(r.data() + 4, 16);
  h.write(subj);
  h.write(payload);
  return r + h.sum_bytes();
}

std::string index_of(uint64_t msgs, uint64_t first, uint64_t last, const std::string& lchk) {
  std::string b = {22, 1};
  util::append_uvarint(b, msgs);
  util::append_uvarint(b, msgs * 40);
  util::append_uvarint(b, first);
  util::append_varint(b, static_cast<int64_t>(1000 + first));
  util::append_uvarint(b, last);
  util::append_varint(b, static_cast<int64_t>(1000 + last));
  util::append_uvarint(b, 0);
  return b + lchk;
}

std::string archive(const std::string& blk, const std::string* idx) {
  tar::Writer w(1700000000);
  w.add("meta.inf", R"({"name":"S","subjects":["s.>"]})");
  w.add("msgs/1.blk", blk);
  if (idx) w.add("msgs/1.idx", *idx);
  return s2::frame(w.finish());
}

std::vector<uint64_t> seqs(const ArchivedStream& a) {
  std::vector<uint64_t> out;
  for (const auto& m : a.msgs) out.push_back(m.seq);
  return out;
}

std::string three_records(bool corrupt_second) {
  std::string blk;
  for (uint64_t s = 1; s <= 3; ++s) {
    std::string r = record(s, "s.x", "payload-" + std::to_string(s), "S-1");
    if (corrupt_second && s == 2) r[r.size() - 9] ^= 1;  // a payload byte, hash unchanged
    blk += r;
  }
  return blk;
}

TEST(SnapshotHash, GoodRecordsAreKept) {
  std::string blk = three_records(false);
  std::string idx = index_of(3, 1, 3, blk.substr(blk.size() - 8));
  ArchivedStream a;
  std::string err;
  ASSERT_TRUE(read_snapshot(archive(blk, &idx), a, err)) << err;
  EXPECT_EQ(seqs(a), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(a.msgs[1].payload, "payload-2");
}

TEST(SnapshotHash, TrustedIndexLeavesOutTheFailingRecord) {
  std::string blk = three_records(true);
  std::string idx = index_of(3, 1, 3, blk.substr(blk.size() - 8));
  ArchivedStream a;
  std::string err;
  ASSERT_TRUE(read_snapshot(archive(blk, &idx), a, err)) << err;
  EXPECT_EQ(seqs(a), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(a.last_seq, 3u);
}

TEST(SnapshotHash, RebuiltBlockIsCutAtTheFailingRecord) {
  std::string blk = three_records(true);
  ArchivedStream a;
  std::string err;
  ASSERT_TRUE(read_snapshot(archive(blk, nullptr), a, err)) << err;  // no index: rebuilt
  EXPECT_EQ(seqs(a), (std::vector<uint64_t>{1}));
  // An index whose checksum is not the block's last record's is not trusted either.
  std::string stale = index_of(3, 1, 3, std::string(8, '\0'));
  ArchivedStream b;
  ASSERT_TRUE(read_snapshot(archive(blk, &stale), b, err)) << err;
  EXPECT_EQ(seqs(b), (std::vector<uint64_t>{1}));
}

TEST(SnapshotHash, RecordsHashedForAnotherStreamFail) {
  // The key is the stream's name: a block of stream T restored as S matches no record.
  std::string blk = record(1, "s.x", "p", "T-1");
  ArchivedStream a;
  std::string err;
  ASSERT_TRUE(read_snapshot(archive(blk, nullptr), a, err)) << err;
  EXPECT_TRUE(a.msgs.empty());
}

// Known answers from files 2.9.10 wrote (stream KAT, one message "hello" on k.a): its
// meta.sum of meta.inf, and the record of msgs/1.blk with its hash.
TEST(SnapshotHash, MatchesFilesWrittenBy2910) {
  const std::string meta =
      R"({"Created":"2026-12-05T14:07:23.320139746Z","name":"KAT","subjects":["k.\u003e"],"retention":"limits",)"
      R"("max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,)"
      R"("discard":"old","storage":"file","num_replicas":1,"duplicate_window":120000000000,"allow_direct":true,)"
      R"("mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false})";
  util::HighwayHash64 m(util::highway_key_sha256("KAT"));
  m.write(meta);
  EXPECT_EQ(util::highway_hex(m), "0e5f60ccd1057c11");
  // 26000000 | 0100000000000000 | 8a457bb0b760ee18 | 0300 | "k.a" "hello" | hash
  std::string blk = record(1, "k.a", "hello", "KAT-1");
  std::string ts("\x8a\x45\x7b\xb0\xb7\x60\xee\x18", 8);
  blk.replace(12, 8, ts);
  util::HighwayHash64 h(util::highway_key_sha256("KAT-1"));
  h.write(blk.data() + 4, 16);
  h.write("k.a");
  h.write("hello");
  EXPECT_EQ(h.sum_bytes(), std::string("\xa4\xd4\x1a\xac\x94\x90\x6e\xf8", 8));
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
