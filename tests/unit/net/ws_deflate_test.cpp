// permessage-deflate: what the Deflater makes the decoder's Inflater reads back, whole or
// split anywhere; messages stand alone (no context takeover); bad data is an error; big
// messages reach the sink in bounded chunks.
#include "net/ws_deflate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "net/ws_frame.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::net::ws::NATS_TEST_FILE_ID {
namespace {

struct Collect : FrameSink {
  std::string data;
  size_t biggest = 0;
  size_t stop_after = SIZE_MAX;
  bool on_payload(std::string_view d) override {
    data.append(d);
    biggest = std::max(biggest, d.size());
    return data.size() < stop_after;
  }
  void on_ping(std::string_view) override {}
  void on_pong(std::string_view) override {}
  void on_close(uint16_t, std::string_view) override {}
};

std::string compress(const std::string& s) {
  Deflater d;
  d.add(s.substr(0, s.size() / 2));
  d.add(s.substr(s.size() / 2));
  std::string out;
  EXPECT_TRUE(d.finish(out));
  return out;
}

// An unmasked frame (the decoder is built not to require masks here).
std::string frame(uint8_t first, const std::string& payload) {
  std::string f = frame_header(Opcode::Binary, payload.size());
  f[0] = static_cast<char>(first);
  return f + payload;
}

FrameDecoder::Result decode(std::string bytes, size_t step, Collect& sink) {
  FrameDecoder d(false);
  d.enable_inflate();
  FrameDecoder::Result r = FrameDecoder::Result::Ok;
  for (size_t i = 0; i < bytes.size() && r == FrameDecoder::Result::Ok; i += step)
    r = d.feed(bytes.data() + i, std::min(step, bytes.size() - i), sink);
  return r;
}

TEST(WsDeflate, RoundTripWholeAndSplit) {
  std::string msg1 = "PUB a 5\r\nhello\r\n" + std::string(3000, 'x');
  std::string msg2 = "PING\r\n";
  std::string z1 = compress(msg1), z2 = compress(msg2);
  EXPECT_LT(z1.size(), msg1.size());
  // Message 1 fragmented (RSV1 on its first frame only), then message 2 on its own: the
  // second inflates without the first's window.
  std::string bytes = frame(0x42, z1.substr(0, 7)) + frame(0x00, z1.substr(7, 10)) + frame(0x80, z1.substr(17)) +
                      frame(0xC2, z2) + frame(0x82, "plain");
  for (size_t step : {bytes.size(), size_t{1}, size_t{3}, size_t{64}}) {
    Collect c;
    EXPECT_EQ(decode(bytes, step, c), FrameDecoder::Result::Ok) << step;
    EXPECT_EQ(c.data, msg1 + msg2 + "plain") << step;
  }
}

TEST(WsDeflate, BigMessageArrivesInBoundedChunksAndCanBeStopped) {
  std::string big(4 << 20, '\0');
  std::string z = compress(big);
  EXPECT_LT(z.size(), size_t{64 * 1024});
  Collect c;
  EXPECT_EQ(decode(frame(0xC2, z), z.size() + 14, c), FrameDecoder::Result::Ok);
  EXPECT_EQ(c.data.size(), big.size());
  EXPECT_LE(c.biggest, size_t{32 * 1024});
  Collect stop;
  stop.stop_after = 100000;
  EXPECT_EQ(decode(frame(0xC2, z), z.size() + 14, stop), FrameDecoder::Result::Stopped);
  EXPECT_LT(stop.data.size(), size_t{200000});
}

TEST(WsDeflate, BadDataAndMisplacedBitsAreErrors) {
  Collect c;
  EXPECT_EQ(decode(frame(0xC2, std::string("\xff\xff\xff\xff\xff", 5)), 100, c), FrameDecoder::Result::Error);
  Collect d;
  EXPECT_EQ(decode(frame(0x42, compress("abc")) + frame(0xC0, "x"), 100, d), FrameDecoder::Result::Error);
  Collect e;
  EXPECT_EQ(decode(frame(0xC9, ""), 100, e), FrameDecoder::Result::Error);  // compressed ping
  // Without inflate agreed, RSV1 is an error.
  FrameDecoder plain(false);
  Collect f;
  std::string b = frame(0xC2, compress("abc"));
  EXPECT_EQ(plain.feed(b.data(), b.size(), f), FrameDecoder::Result::Error);
}

TEST(WsDeflate, ServerFrameHeaderMarksCompression) {
  EXPECT_EQ(static_cast<unsigned char>(frame_header(Opcode::Binary, 3, true)[0]), 0xC2);
  EXPECT_EQ(static_cast<unsigned char>(frame_header(Opcode::Binary, 3)[0]), 0x82);
}

}  // namespace
}  // namespace nats::net::ws::NATS_TEST_FILE_ID
