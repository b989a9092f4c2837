// The snapshot archive layers (snapshot/): the S2 framing and block decoder, the tar reader
// and writer, and the reference's consumer state encoding.
#include <gtest/gtest.h>

#include <algorithm>

#include "jetstream/snapshot/s2_stream.h"
#include "jetstream/snapshot/snapshot_archive.h"
#include "jetstream/snapshot/tar_archive.h"
#include "jetstream/store/crc32c.h"

namespace nats::NATS_TEST_FILE_ID {
namespace {

using namespace nats::jetstream;

TEST(SnapshotS2, Crc32cIsCastagnoli) {
  // The check value of CRC-32C: the framing's checksums must be the standard ones.
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
}

TEST(SnapshotS2, FrameRoundTripsAcrossChunks) {
  std::string data;
  for (int i = 0; i < 200000; ++i) data.push_back(static_cast<char>(i * 7));
  std::string framed = s2::frame(data);
  EXPECT_EQ(framed.substr(0, 10), std::string("\xff\x06\x00\x00S2sTwO", 10));
  std::string out, err;
  ASSERT_TRUE(s2::unframe(framed, out, err)) << err;
  EXPECT_EQ(out, data);
  // A flipped byte fails its chunk's checksum; garbage has no stream identifier.
  framed[framed.size() / 2] ^= 1;
  out.clear();
  EXPECT_FALSE(s2::unframe(framed, out, err));
  out.clear();
  EXPECT_FALSE(s2::unframe("not a snapshot", out, err));
}

// The snapshot is framed piece by piece as it is built: the pieces read back as one stream.
TEST(SnapshotS2, FramedInPiecesReadsAsOne) {
  std::string a(70000, 'a'), b = "bb", c(5, 'c');
  std::string framed = s2::frame_start();
  for (const auto* p : {&a, &b, &c}) s2::append_chunks(framed, *p);
  std::string out, err;
  ASSERT_TRUE(s2::unframe(framed, out, err)) << err;
  EXPECT_EQ(out, a + b + c);
}

TEST(SnapshotS2, DecodesSnappyAndS2Copies) {
  // "abcabcabcabc" as literal "abc" + copy(offset 3, length 9): tag copy-1 = ((9-4)<<2)|1.
  std::string block = std::string("\x0c", 1) + std::string("\x08" "abc", 4) + std::string("\x15\x03", 2);
  std::string out;
  ASSERT_TRUE(s2::decode_block(block, out));
  EXPECT_EQ(out, "abcabcabcabc");
  // S2's repeat: offset 0 reuses the last offset (3): "abc" + copy(3, 4) + repeat(4).
  std::string rep = std::string("\x0b", 1) + std::string("\x08" "abc", 4) + std::string("\x01\x03", 2) +
                    std::string("\x01\x00", 2);
  out.clear();
  ASSERT_TRUE(s2::decode_block(rep, out));
  EXPECT_EQ(out, "abcabcabcab");
  // An offset reaching before the start is corrupt.
  out.clear();
  EXPECT_FALSE(s2::decode_block(std::string("\x05\x15\x09", 3), out));
}

TEST(SnapshotTar, WritesAndReadsFilesWithLongNames) {
  tar::Writer w(1700000000);
  std::string long_name = "obs/" + std::string(150, 'c') + "/meta.inf";
  w.add("meta.inf", "{}");
  w.add(long_name, std::string(1000, 'x'));
  w.add("msgs/1.blk", "");
  std::string t = w.finish();
  EXPECT_EQ(t.size() % 512, 0u);
  std::vector<tar::Entry> entries;
  std::string err;
  ASSERT_TRUE(tar::read(t, entries, err)) << err;
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "meta.inf");
  EXPECT_EQ(entries[1].name, long_name);
  EXPECT_EQ(entries[1].data, std::string(1000, 'x'));
  EXPECT_EQ(entries[2].data, "");
  // A symlink entry is refused (the reference restores regular files only).
  std::string bad = t;
  bad[156] = '2';
  entries.clear();
  EXPECT_FALSE(tar::read(bad, entries, err));
}

// A restore reads its staged upload piece by piece: the S2 and tar readers take a source that
// gives a few bytes at a time, read entry bodies in pieces, and see a truncated archive.
TEST(SnapshotTar, StreamingReadersTakeSmallReadsAndTruncation) {
  tar::Writer w(1700000000);
  std::string big(200000, 'b');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  w.add("meta.inf", "{}");
  w.add("msgs/1.blk", big);
  w.add("obs/" + std::string(120, 'o') + "/o.dat", "state");
  std::string framed = s2::frame(w.finish());
  auto read_all = [](std::string_view in, size_t step, std::vector<tar::Entry>& out) {
    size_t off = 0;
    s2::Unframer u([&](char* dst, size_t n) {
      size_t k = std::min({n, step, in.size() - off});
      std::copy_n(in.data() + off, k, dst);
      off += k;
      return k;
    });
    tar::Reader r([&u](char* dst, size_t n) { return u.read(dst, n); });
    std::string name, err;
    uint64_t size = 0;
    while (r.next(name, size, err)) {
      tar::Entry e{name, {}};
      char piece[777];  // not a multiple of anything
      while (size_t k = r.read_body(piece, sizeof piece)) e.data.append(piece, k);
      if (r.body_left() > 0 || e.data.size() != size) return std::string("short entry");
      out.push_back(std::move(e));
    }
    return u.error().empty() ? err : u.error();
  };
  for (size_t step : {1ul, 3ul, 4096ul, 1ul << 20}) {
    std::vector<tar::Entry> entries;
    ASSERT_EQ(read_all(framed, step, entries), "") << step;
    ASSERT_EQ(entries.size(), 3u) << step;
    EXPECT_EQ(entries[1].name, "msgs/1.blk");
    EXPECT_EQ(entries[1].data, big);
    EXPECT_EQ(entries[2].name, "obs/" + std::string(120, 'o') + "/o.dat");
    EXPECT_EQ(entries[2].data, "state");
  }
  // Cut inside the block's data: an error, never a shorter archive taken as whole.
  std::vector<tar::Entry> entries;
  EXPECT_NE(read_all(std::string_view(framed).substr(0, framed.size() / 2), 4096, entries), "");
}

TEST(SnapshotConsumerState, EncodesAsTheReference) {
  ConsumerSnapshot s;
  s.delivered_cseq = 7;
  s.delivered_sseq = 9;
  s.ack_floor_cseq = 3;
  s.ack_floor_sseq = 4;
  s.pending[6] = PendingAck{5, 1'700'000'010'000'000'000, 0};
  s.pending[9] = PendingAck{7, 1'700'000'020'000'000'000, 0};
  s.redelivered[6] = 2;
  std::string b = encode_consumer_state(s, 1'700'000'030'000'000'000);
  // magic, version 2, then the uvarint floors and delivered.
  EXPECT_EQ(b.substr(0, 6), std::string("\x16\x02\x03\x04\x07\x09", 6));
  ConsumerSnapshot d;
  ASSERT_TRUE(decode_consumer_state(b, d, 30'000'000'000));
  EXPECT_EQ(d.delivered_cseq, 7u);
  EXPECT_EQ(d.delivered_sseq, 9u);
  EXPECT_EQ(d.ack_floor_cseq, 3u);
  EXPECT_EQ(d.ack_floor_sseq, 4u);
  ASSERT_EQ(d.pending.size(), 2u);
  EXPECT_EQ(d.pending[6].cseq, 5u);
  EXPECT_EQ(d.pending[6].deliver_ts, 1'700'000'010'000'000'000);
  EXPECT_EQ(d.pending[6].deadline, 1'700'000'040'000'000'000);
  EXPECT_EQ(d.pending[9].cseq, 7u);
  EXPECT_EQ(d.redelivered[6], 2u);
  EXPECT_FALSE(decode_consumer_state("\x16\x09", d, 0));
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
